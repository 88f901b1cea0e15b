"""Lesson 5's exercises: right answers pass; slips and the stub fail kindly, vaguely first."""

import numpy as np
import pytest
import torch
from exercise_checks import (
    assert_hints_widen,
    assert_right_answer_passes,
    assert_stub_is_not_done,
    failure_messages,
    slips,
)

import lab3
from lab3.exercises import lesson05


def forward_with_relu_on_the_output(weights, biases, x):
    h = x
    for w, b in zip(weights, biases):
        h = np.maximum(h @ w + b, 0.0)
    return h


def forward_without_biases(weights, biases, x):
    h = x
    for w in weights[:-1]:
        h = np.maximum(h @ w, 0.0)
    return h @ weights[-1]


def forward_of_one_hidden_layer_only(weights, biases, x):
    return np.maximum(x @ weights[0] + biases[0], 0.0) @ weights[1] + biases[1]


def matrix_without_the_shift(x, y):
    return np.linalg.lstsq(x, y, rcond=None)[0]


def matrix_transposed(x, y):
    return np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)[0][:-1].T


def dead_where_negative(weights, biases, x):
    h, counts = x, []
    for w, b in zip(weights[:-1], biases[:-1]):
        z = h @ w + b
        counts.append(int((z < 0).all(axis=0).sum()))
        h = np.maximum(z, 0.0)
    return counts


def inactive_entries(weights, biases, x):
    h, counts = x, []
    for w, b in zip(weights[:-1], biases[:-1]):
        z = h @ w + b
        counts.append(int((z <= 0).sum()))
        h = np.maximum(z, 0.0)
    return counts


def right_forward(weights, biases, x):
    h = x
    for w, b in zip(weights[:-1], biases[:-1]):
        h = np.maximum(h @ w + b, 0)
    return h @ weights[-1] + biases[-1]


def right_matrix(x, y):
    solution = np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)[0]
    return solution[:2] if x.shape[1] == 2 else solution[:-1]


def right_dead_units(weights, biases, x):
    h, counts = torch.as_tensor(x), []
    for w, b in zip(weights[:-1], biases[:-1]):
        z = h @ torch.as_tensor(w) + torch.as_tensor(b)
        counts.append(int((z.max(dim=0).values <= 0).sum()))
        h = torch.relu(z)
    return counts


CHECKS = {
    "check_mlp_forward": (
        right_forward,
        [forward_with_relu_on_the_output, forward_without_biases, forward_of_one_hidden_layer_only],
    ),
    "check_effective_matrix": (right_matrix, [matrix_without_the_shift, matrix_transposed]),
    "check_dead_units": (right_dead_units, [dead_where_negative, inactive_entries]),
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_a_right_answer_written_differently_passes(check, capsys):
    assert_right_answer_passes(check, CHECKS[check][0], capsys, start="correct: my_")


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_stub_is_not_done_yet(check):
    assert_stub_is_not_done(check)


@pytest.mark.parametrize("check, wrong", slips(CHECKS), ids=lambda v: getattr(v, "__name__", v))
def test_a_typical_slip_fails_with_the_vague_hint_first_and_the_formula_last(check, wrong):
    messages = failure_messages(check, wrong)
    assert "is not right yet" in messages[0] or " raised " in messages[0]
    assert "in case: " in messages[0]
    if wrong is not forward_of_one_hidden_layer_only:  # it raises: no value to recognise
        assert "Looks like: " in messages[0]  # the classic mistake, named at the first failure
    assert_hints_widen(messages, formula="np.")
    assert "  3. " in messages[2]


def test_the_dead_units_reference_agrees_with_layer_statistics():
    inputs, targets = lab3.create_linear_training_data(1000, seed=0)
    model = lab3.MultiLayerPerceptron(2, [3], 2, seed=0)
    lab3.train(model, inputs, targets, epochs=20, batch_size=10, learning_rate=1.0, engine="manual")
    weights = [w.detach().double().numpy() for w in model.weights]
    biases = [b.detach().double().numpy() for b in model.biases]
    expected = [row["dead_units"] for row in lab3.layer_statistics(model, inputs, targets)[:-1]]
    assert lesson05._dead_units(weights, biases, inputs.T.double().numpy()) == expected
    assert expected == [2]  # the lesson's learning-rate-1 run: two of its three units die


def test_the_effective_matrix_reference_agrees_with_the_model():
    inputs, _ = lab3.create_linear_training_data(100, seed=0)
    model = lab3.MultiLayerPerceptron(2, [5], 2, seed=0, init="he")
    with torch.no_grad():
        outputs = model.forward(inputs.T).double().numpy()
    got = lesson05._effective_matrix(inputs.T.double().numpy(), outputs)
    np.testing.assert_allclose(got, model.effective_matrix(inputs).numpy(), atol=1e-5)
