"""The checks test the property, not the example, and name the classic mistakes at tier 1.

One regression test per mistake that used to pass (a missing 2/n_D, a row-min softmax shift, an
in-place change of dout, a NumPy array of dead-unit counts refused), one per classic mistake the
checks now name (db averaged, the penalty twice, dW transposed, a sign), and right answers
written differently (loops, einsum, torch) still accepted.
"""

import numpy as np
import pytest
import torch

from lab3 import exercises
from lab3.exercises import CheckFailed


def first_failure(check, candidate):
    """The message of the first failure (hint tier 1) of ``check(candidate)``."""
    exercises.reset_hints()
    with pytest.raises(CheckFailed) as error:
        check(candidate)
    message = str(error.value)
    assert "Hint: " in message and "Hints:" not in message  # tier 1 only
    return message


# --- the network's gradients (lesson 1) --------------------------------------------------------


def gradients(
    weights, biases, x, y, reg, scale=None, db_mean=False, reg_times=1, transpose=False, sign=1
):
    a, zs = [x], []
    for W, b in zip(weights, biases):
        zs.append(a[-1] @ W + b)
        a.append(np.maximum(zs[-1], 0))
    delta = sign * 2 * (zs[-1] - y) / y.size if scale is None else scale(zs[-1], y)
    dW, db = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        dW[i] = a[i].T @ delta + reg_times * 2 * reg * weights[i]
        dW[i] = dW[i].T if transpose else dW[i]
        db[i] = delta.mean(axis=0, keepdims=True) if db_mean else delta.sum(axis=0, keepdims=True)
        if i > 0:
            delta = delta @ weights[i].T * (zs[i - 1] > 0)
    return dW, db


def gradients_sample_by_sample(weights, biases, x, y, reg):
    """Right, written as a loop over the samples: each adds its own gradient."""
    dW = [2 * reg * W for W in weights]
    db = [np.zeros_like(b) for b in biases]
    for row in range(len(x)):
        g_W, g_b = gradients(weights, biases, x[row : row + 1], y[row : row + 1], 0.0)
        for i in range(len(weights)):
            dW[i] += g_W[i] / len(x)
            db[i] += g_b[i] / len(x)
    return dW, db


MISTAKES = [
    (
        lambda *a: gradients(*a, scale=lambda y_hat, y: (y_hat - y) / len(y)),
        "n_D/2 times the expected",
    ),
    (
        lambda *a: gradients(*a, db_mean=True),
        "your db is exactly 1/B of the expected: sum over the batch, don't average",
    ),
    (lambda *a: gradients(*a, reg_times=2), "the penalty's gradient is in twice"),
    (lambda *a: gradients(*a, transpose=True), "your dW is the transpose of the expected"),
    (lambda *a: gradients(*a, sign=-1), "has the wrong sign"),
]


@pytest.mark.parametrize("wrong, diagnosis", MISTAKES, ids=["2/n_D", "db", "reg", "dW.T", "sign"])
def test_gradients_names_the_classic_mistake_at_the_first_failure(wrong, diagnosis):
    message = first_failure(exercises.check_gradients, wrong)
    assert "Looks like: " in message and diagnosis in message


def test_gradients_a_missing_2_over_n_d_fails_where_n_d_is_not_2():
    message = first_failure(exercises.check_gradients, MISTAKES[0][0])
    assert "in case: a 3-4-3 network" in message  # the first case with n_D != 2


@pytest.mark.parametrize("right", [gradients, gradients_sample_by_sample])
def test_gradients_right_answers_written_differently_pass(right, capsys):
    exercises.check_gradients(right)
    exercises.check_gradients(right, grading=True)
    assert capsys.readouterr().out.count("correct: my_gradients passes") == 2


# --- the linear layer (lesson 1) ---------------------------------------------------------------


def linear_backward_einsum(delta, a, W):
    return (
        np.einsum("bj,kj->bk", delta, W),
        np.einsum("bk,bj->kj", a, delta),
        np.einsum("bj->j", delta)[None, :],
    )


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (
            lambda d, a, W: (d @ W.T, a.T @ d, d.mean(0, keepdims=True)),
            "exactly 1/B of the expected",
        ),
        (lambda d, a, W: (d @ W.T, d.T @ a, d.sum(0, keepdims=True)), "your dW is the transpose"),
        (lambda d, a, W: (-d @ W.T, -a.T @ d, -d.sum(0, keepdims=True)), "the opposite sign"),
    ],
    ids=["db", "dW.T", "sign"],
)
def test_linear_backward_names_the_classic_mistake(wrong, diagnosis):
    assert diagnosis in first_failure(exercises.check_linear_backward, wrong)


def test_linear_backward_einsum_passes(capsys):
    exercises.check_linear_backward(linear_backward_einsum)
    assert capsys.readouterr().out.startswith("correct: ")


# --- ReLU (lesson 1): no change in place --------------------------------------------------------


def relu_backward_in_place(dout, z):
    dout[z <= 0] = 0.0
    return dout


def test_relu_backward_changing_dout_in_place_fails():
    message = first_failure(exercises.check_relu_backward, relu_backward_in_place)
    assert "it changed its argument dout in place" in message


def test_relu_backward_np_where_passes(capsys):
    exercises.check_relu_backward(lambda dout, z: np.where(z > 0, dout, 0.0))
    assert capsys.readouterr().out.startswith("correct: ")


# --- softmax (lesson 2): no overflow, equal rows, row by row -----------------------------------


def softmax_shifted_by(shift):
    def softmax(z):
        e = np.exp(z - shift(z))
        return e / e.sum(axis=-1, keepdims=True)

    return softmax


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_softmax_a_row_min_shift_fails_on_a_small_and_a_huge_logit():
    message = first_failure(
        exercises.check_softmax, softmax_shifted_by(lambda z: z.min(axis=-1, keepdims=True))
    )
    assert "NaN or infinite" in message and "[[0, 1000]]" in message
    assert "shifted each row by its smallest logit" in message


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_softmax_without_a_shift_is_named():
    message = first_failure(exercises.check_softmax, softmax_shifted_by(lambda z: 0.0))
    assert "logits near 1000" in message and "exp overflowed" in message


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_softmax_no_shift_fails_near_minus_1000_too():
    # shifting by +1000 for large logits is not enough: [-1000, -999, -1000] underflows to 0/0
    message = first_failure(
        exercises.check_softmax, softmax_shifted_by(lambda z: np.where(z.max() > 0, z.max(), 0.0))
    )
    assert "logits near -1000" in message


def test_softmax_over_the_whole_batch_is_named():
    wrong = lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert "normalised over the whole batch" in first_failure(exercises.check_softmax, wrong)


def test_softmax_with_torch_passes(capsys):
    exercises.check_softmax(lambda z: torch.softmax(torch.as_tensor(z), dim=-1).numpy())
    assert capsys.readouterr().out.startswith("correct: ")


# --- the objective and dJ/dc (lesson 2) ---------------------------------------------------------


def objective(x, W, b, M, c, y, reg, divide=None, reg_times=1, biases=False):
    z2 = np.maximum(x @ W + b, 0) @ M + c
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    y_hat = e / e.sum(axis=1, keepdims=True)
    mse = ((y_hat - y) ** 2).sum() / (y.size if divide is None else divide(y))
    penalty = (W**2).sum() + (M**2).sum() + ((b**2).sum() + (c**2).sum() if biases else 0)
    return mse + reg_times * reg * penalty


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda *a: objective(*a, divide=lambda y: y.shape[1]), "divides by the number of outputs"),
        (lambda *a: objective(*a, reg_times=2), "the penalty is in twice"),
        (lambda *a: objective(*a, biases=True), "you penalise the biases too"),
    ],
    ids=["mse", "reg", "biases"],
)
def test_objective_names_the_classic_mistake(wrong, diagnosis):
    assert diagnosis in first_failure(exercises.check_objective, wrong)


def dJ_dc(y_hat, y, scale=1.0, rows=np.sum):
    g = scale * 2 * (y_hat - y) / y_hat.size
    return rows(y_hat * (g - np.sum(g * y_hat, axis=1, keepdims=True)), axis=0, keepdims=True)


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda y_hat, y: dJ_dc(y_hat, y, rows=np.mean), "exactly 1/B of the expected"),
        (lambda y_hat, y: dJ_dc(y_hat, y, scale=-1.0), "the wrong sign"),
        (lambda y_hat, y: dJ_dc(y_hat, y, scale=0.5), "the square brings a factor 2"),
    ],
    ids=["mean", "sign", "half"],
)
def test_dJ_dc_names_the_classic_mistake(wrong, diagnosis):
    assert diagnosis in first_failure(exercises.check_dJ_dc, wrong)


# --- an SGD step (lesson 3) and dead units (lesson 5) -------------------------------------------


def test_sgd_step_uphill_is_named():
    import lab3

    def uphill(weights, biases, x, y, learning_rate, reg):
        dW, db = lab3.gradients(weights, biases, x, y, reg=reg)
        return (
            [w + learning_rate * g for w, g in zip(weights, dW)],
            [b + learning_rate * g for b, g in zip(biases, db)],
        )

    assert "your step goes uphill" in first_failure(exercises.check_sgd_step, uphill)


def dead_units_as(container):
    def dead_units(weights, biases, x):
        h, counts = x, []
        for W, b in zip(weights[:-1], biases[:-1]):
            z = h @ W + b
            counts.append((z <= 0).all(axis=0).sum())
            h = np.maximum(z, 0)
        return container(counts)

    return dead_units


@pytest.mark.parametrize("container", [np.array, tuple, list])
def test_dead_units_accepts_any_sequence_of_counts(container, capsys):
    exercises.check_dead_units(dead_units_as(container))
    assert capsys.readouterr().out.startswith("correct: my_dead_units passes")
