"""Lesson 8's checks: the cross-entropy gradient, the accuracy and a split without leakage. Right
answers pass; each classic mistake fails with a message that names it; autograd, finite
differences and lab3's own versions are judged independently of the checks' references."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lab3 import exercises
from lab3.exercises.core import CheckFailed
from lab3.exercises.lesson08 import _accuracy, _cross_entropy_gradient, _normalise_split
from tests.exercise_checks import assert_right_answer_passes, assert_stub_is_not_done


def ce_gradient(onehot, logits):
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return (s - onehot) / len(logits)


def accuracy(onehot, logits):
    return float(np.mean(logits.argmax(axis=1) == onehot.argmax(axis=1)))


def normalise_split(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0)
    return (train - mean) / std, (test - mean) / std


RIGHT = {
    "check_cross_entropy_gradient": ce_gradient,
    "check_accuracy": accuracy,
    "check_normalise_split": normalise_split,
}


@pytest.mark.parametrize("check", sorted(RIGHT))
@pytest.mark.parametrize("grading", [False, True])
def test_right_answers_pass(check, grading, capsys):
    getattr(exercises, check)(RIGHT[check], grading=grading)
    assert capsys.readouterr().out.startswith("correct: ")


@pytest.mark.parametrize("check", sorted(RIGHT))
def test_untouched_stubs_are_not_done(check):
    assert_stub_is_not_done(check)


def all_data(train, test):
    both = np.vstack([train, test])
    mean, std = both.mean(axis=0), both.std(axis=0)
    return (train - mean) / std, (test - mean) / std


def _overflowing(onehot, logits):
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return (s - onehot) / len(logits)


@pytest.mark.parametrize(
    ("check", "wrong", "named"),
    [
        ("check_cross_entropy_gradient", lambda y, z: ce_gradient(y, z) * len(z), "batch size B"),
        ("check_cross_entropy_gradient", lambda y, z: -ce_gradient(y, z), "sign is flipped"),
        ("check_cross_entropy_gradient", _overflowing, "exp overflowed"),
        ("check_accuracy", lambda y, z: accuracy(y, z) * len(z), "divide by B"),
        (
            "check_accuracy",
            lambda y, z: float(np.mean(z.argmax(axis=0) == y.argmax(axis=0))),
            "axis 0",
        ),
        (
            "check_normalise_split",
            all_data,
            "leaked",
        ),
        (
            "check_normalise_split",
            lambda a, b: (normalise_split(a, a)[0], normalise_split(b, b)[0]),
            "its own statistics",
        ),
    ],
)
def test_classic_mistakes_are_named(check, wrong, named):
    with pytest.raises(CheckFailed, match=named):
        getattr(exercises, check)(wrong)


def test_lab3s_own_accuracy_is_refused():
    from lab3.functional import accuracy as lab3_accuracy

    with pytest.raises(CheckFailed, match="lab3's own version"):
        exercises.check_accuracy(lambda y, z: lab3_accuracy(y, z))


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 9),
    k=st.integers(2, 6),
    scale=st.sampled_from([0.1, 1.0, 50.0]),
    seed=st.integers(0, 10_000),
)
def test_the_gradient_reference_is_autograds(batch, k, scale, seed):
    rng = np.random.default_rng(seed)
    onehot = np.eye(k)[rng.integers(0, k, size=batch)]
    logits = rng.normal(0, scale, size=(batch, k))
    z = torch.tensor(logits, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(z, torch.tensor(onehot.argmax(axis=1)))
    loss.backward()
    np.testing.assert_allclose(_cross_entropy_gradient(onehot, logits), z.grad.numpy(), atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 9), k=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_the_accuracy_reference_counts_right_rows(batch, k, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=batch)
    logits = rng.normal(size=(batch, k))
    right = sum(int(np.argmax(row) == c) for row, c in zip(logits, labels))
    assert _accuracy(np.eye(k)[labels], logits) == right / batch


@settings(max_examples=30, deadline=None)
@given(n_train=st.integers(2, 12), n_test=st.integers(1, 5), d=st.integers(1, 4))
def test_the_split_reference_uses_the_train_statistics_only(n_train, n_test, d):
    rng = np.random.default_rng(n_train * 100 + n_test * 10 + d)
    train, test = rng.normal(size=(n_train, d)), rng.normal(size=(n_test, d))
    a, b = _normalise_split(train, test)
    np.testing.assert_allclose(a.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(a.std(axis=0), 1, atol=1e-9)
    _, b_other = _normalise_split(train, test + 1.0)  # the test set moves, the statistics do not
    np.testing.assert_allclose(b_other - b, 1.0 / train.std(axis=0) * np.ones_like(b), atol=1e-9)


def test_right_answer_helper_still_passes(capsys):
    assert_right_answer_passes("check_accuracy", accuracy, capsys)
