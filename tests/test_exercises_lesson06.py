"""Lesson 6's exercises: right answers pass; slips and the stub fail kindly, vaguely first."""

import math

import numpy as np
import pytest
from exercise_checks import (
    assert_hints_widen,
    assert_right_answer_passes,
    assert_stub_is_not_done,
    failure_messages,
    slips,
)

import lab3
from lab3.exercises import lesson06


def right_lr_steps(learning_rate, batch_size, epochs, n_samples):
    return learning_rate * epochs * -(-n_samples // batch_size)  # ceil by floor division


def lr_steps_dropping_the_short_batch(learning_rate, batch_size, epochs, n_samples):
    return learning_rate * epochs * (n_samples // batch_size)


def lr_times_samples(learning_rate, batch_size, epochs, n_samples):
    return learning_rate * epochs * n_samples


def right_constant_mse(targets):
    return float(np.var(targets, axis=1).mean())


def one_mean_for_both_outputs(targets):
    return float(((targets - targets.mean()) ** 2).mean())


def predicting_zero(targets):
    return float((np.asarray(targets) ** 2).mean())


CHECKS = {
    "check_lr_steps": (right_lr_steps, [lr_steps_dropping_the_short_batch, lr_times_samples]),
    "check_constant_mse": (right_constant_mse, [one_mean_for_both_outputs, predicting_zero]),
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_a_right_answer_written_differently_passes(check, capsys):
    assert_right_answer_passes(check, CHECKS[check][0], capsys)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_stub_is_not_done_yet(check):
    assert_stub_is_not_done(check)


@pytest.mark.parametrize("check, wrong", slips(CHECKS), ids=lambda v: getattr(v, "__name__", v))
def test_a_typical_slip_fails_with_the_vague_hint_first_and_the_formula_last(check, wrong):
    messages = failure_messages(check, wrong)
    assert "Looks like: " in messages[0]  # the classic mistake, named at the first failure
    assert_hints_widen(messages, formula="return")
    assert "  3. " in messages[2] and "hint 3 of" not in messages[2]


def test_lr_steps_counts_the_steps_lab3_train_takes():
    inputs, targets = lab3.create_linear_training_data(70, seed=0)
    history = lab3.train(
        lab3.MultiLayerPerceptron(seed=0),
        inputs,
        targets,
        epochs=2,
        batch_size=30,
        learning_rate=0.1,
        engine="manual",
    )
    assert lesson06._lr_steps(0.1, 30, 2, 70) == pytest.approx(0.1 * history.steps)
    assert history.steps == 2 * math.ceil(70 / 30)
