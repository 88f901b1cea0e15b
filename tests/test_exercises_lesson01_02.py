"""Lessons 1 and 2's checks: right answers pass, usual mistakes fail kindly, stubs are not done."""

import numpy as np
import pytest

from lab3 import exercises
from lab3.exercises import CheckFailed


def stub(*args):
    raise NotImplementedError("fill in the cell above")


def fails(check, candidate, *fragments):
    """Run ``check(candidate)``, expect ``CheckFailed``, and return its message."""
    with pytest.raises(CheckFailed) as error:
        check(candidate)
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


# ----------------------------------------------------------------------------------------------
# Lesson 1
# ----------------------------------------------------------------------------------------------


def softmax_backward(dout, s):
    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))


def test_softmax_backward_check(capsys):
    exercises.check_softmax_backward(softmax_backward)
    exercises.check_softmax_backward(  # the whole Jacobian, row by row, is right too
        lambda dout, s: np.stack(
            [row_g @ (np.diag(row_s) - np.outer(row_s, row_s)) for row_g, row_s in zip(dout, s)]
        )
    )
    assert capsys.readouterr().out.count("correct: my_softmax_backward passes all 5 cases\n") == 2
    fails(exercises.check_softmax_backward, stub, "not done yet")
    first = fails(
        exercises.check_softmax_backward,
        lambda dout, s: s * dout,  # the diagonal only
        "my_softmax_backward is not right yet",
        "in case: one row, s uniform",
    )
    assert "np.sum(dout * s" not in first  # no formula at the first failure
    # the sum over the whole batch instead of each row: right for one row, wrong for a batch
    fails(
        exercises.check_softmax_backward,
        lambda dout, s: s * (dout - np.sum(dout * s)),
        "in case: 6 row(s) of 3 probabilities",
        "each row needs its own",
    )
    no_s = lambda dout, s: dout - np.sum(dout * s, axis=-1, keepdims=True)
    fails(exercises.check_softmax_backward, no_s, "differs from the expected values")


def gradients(weights, biases, x, y, reg, mask=True, penalty=True, scale=None):
    a, zs = [x], []
    for W, b in zip(weights, biases):
        zs.append(a[-1] @ W + b)
        a.append(np.maximum(zs[-1], 0))
    delta = 2 * (zs[-1] - y) / (y.size if scale is None else scale(y))
    dW, db = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        dW[i] = a[i].T @ delta + (2 * reg * weights[i] if penalty else 0)
        db[i] = delta.sum(axis=0, keepdims=True)
        if i > 0:
            delta = delta @ weights[i].T * ((zs[i - 1] > 0) if mask else 1)
    return dW, db


def test_gradients_check(capsys):
    exercises.check_gradients(gradients)
    assert capsys.readouterr().out == "correct: my_gradients passes all 6 cases\n"
    fails(exercises.check_gradients, stub, "my_gradients is not done yet")
    first = fails(
        exercises.check_gradients,
        lambda *a: gradients(*a, mask=False),
        "dW[0] differs",
        "in case: a 2-3-2 network",
    )
    assert "Hint: return two lists" in first and "delta = 2 * (y_hat - y)" not in first
    second = fails(exercises.check_gradients, lambda *a: gradients(*a, penalty=False), "dW[")
    assert "(hint 2 of 3" in second and "2 * reg * W[l]" in second
    third = fails(exercises.check_gradients, lambda *a: gradients(*a, scale=lambda y: len(y)))
    assert "twice the error divided by the number of entries" in third  # the idea, not the code
    fails(
        exercises.check_gradients,
        lambda w, b, x, y, reg: (gradients(w, b, x, y, reg)[0], None),
        "db should be a list of",
    )
    # a loop written for exactly two layers breaks on the deeper network
    two_layers = lambda w, b, x, y, reg: gradients(w[:2], b[:2], x, y, reg)
    fails(exercises.check_gradients, two_layers, "my_gradients raised ValueError")


def test_the_lesson01_checks_still_take_the_right_answers(capsys):
    exercises.check_relu_backward(lambda dout, z: dout * (z > 0))
    exercises.check_linear_backward(lambda d, a, W: (d @ W.T, a.T @ d, d.sum(0, keepdims=True)))
    assert capsys.readouterr().out.count("correct:") == 2
    first = fails(exercises.check_relu_backward, lambda dout, z: dout * (z >= 0), "the kink")
    assert "dout * (z > 0)" not in first


def torch_linear_backward_einsum(delta, a, W):  # a correct answer, differently written
    return (
        np.einsum("ij,jk->ik", delta, W),
        np.einsum("ij,ik->jk", delta, a),
        np.einsum("ij->j", delta)[None, :],
    )


def test_the_torch_linear_check_agrees_with_torch_autograd_and_takes_right_answers(capsys):
    import torch

    from lab3.exercises.lesson01 import _torch_linear_backward

    rng = np.random.default_rng(0)
    for batch, fan_in, fan_out in [(1, 2, 3), (9, 4, 4), (5, 3, 1)]:
        a, W = rng.normal(size=(batch, fan_in)), rng.normal(size=(fan_out, fan_in))
        b, delta = rng.normal(size=(1, fan_out)), rng.normal(size=(batch, fan_out))
        layer = torch.nn.Linear(fan_in, fan_out).double()
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(W))
            layer.bias.copy_(torch.tensor(b[0]))
        a_t = torch.tensor(a, requires_grad=True)
        layer(a_t).backward(torch.tensor(delta))
        expected = (a_t.grad, layer.weight.grad, layer.bias.grad[None, :])
        for mine, theirs in zip(_torch_linear_backward(delta, a, W), expected):
            np.testing.assert_allclose(mine, theirs.numpy())
    exercises.check_torch_linear_backward(torch_linear_backward_einsum)
    exercises.check_torch_linear_backward(torch_linear_backward_einsum, grading=True)
    assert capsys.readouterr().out.count("correct: my_torch_linear_backward passes all 4") == 2


@pytest.mark.parametrize(
    ("wrong", "diagnosis"),
    [
        (lambda d, a, W: (d @ W.T, a.T @ d, d.sum(0, keepdims=True)), "the text's formulas"),
        (lambda d, a, W: (d @ W, a.T @ d, d.sum(0, keepdims=True)), "your dW is the text's"),
        (lambda d, a, W: (d @ W.T, d.T @ a, d.sum(0, keepdims=True)), "your da is the text's"),
        (lambda d, a, W: (d @ W, d.T @ a, d.mean(0, keepdims=True)), "exactly 1/B"),
        (lambda d, a, W: (-d @ W, -d.T @ a, -d.sum(0, keepdims=True)), "opposite sign"),
    ],
)
def test_the_torch_linear_check_names_the_classic_mistake(wrong, diagnosis):
    exercises.reset_hints()
    fails(exercises.check_torch_linear_backward, wrong, "Looks like: ", diagnosis)


def leaky_relu_backward_loop(dout, z, alpha):  # a correct answer, one entry at a time
    dz = np.empty_like(dout)
    for index in np.ndindex(z.shape):
        dz[index] = dout[index] if z[index] > 0 else alpha * dout[index]
    return dz


def test_the_leaky_relu_check_agrees_with_torch_autograd_and_takes_right_answers(capsys):
    import torch

    from lab3.exercises.lesson01 import _leaky_relu_backward

    rng = np.random.default_rng(0)
    for shape, alpha in [((1, 1), 0.3), ((7, 3), 0.01), ((4, 4), 0.2)]:
        z = rng.normal(size=shape) * (rng.uniform(size=shape) > 0.3)  # exact zeros too
        dout = rng.normal(size=shape)
        z_t = torch.tensor(z, requires_grad=True)
        torch.nn.functional.leaky_relu(z_t, alpha).backward(torch.tensor(dout))
        np.testing.assert_allclose(_leaky_relu_backward(dout, z, alpha), z_t.grad.numpy())
    exercises.check_leaky_relu_backward(leaky_relu_backward_loop)
    exercises.check_leaky_relu_backward(lambda dout, z, alpha: dout * np.where(z > 0, 1, alpha))
    exercises.check_leaky_relu_backward(leaky_relu_backward_loop, grading=True)
    assert capsys.readouterr().out.count("correct: my_leaky_relu_backward passes all 4") == 3


@pytest.mark.parametrize(
    ("wrong", "diagnosis"),
    [
        (lambda dout, z, alpha: dout * (z > 0), "the plain ReLU's gradient"),
        (lambda dout, z, alpha: np.where(z > 0, alpha * dout, dout), "on the wrong side"),
        (lambda dout, z, alpha: np.where(z >= 0, dout, alpha * dout), "slope at z == 0 is 1"),
        (lambda dout, z, alpha: np.where(z > 0, 1.0, alpha), "the slopes alone"),
        (lambda dout, z, alpha: dout * np.maximum(alpha * z, z), "the leaky ReLU itself"),
    ],
)
def test_the_leaky_relu_check_names_the_classic_mistake(wrong, diagnosis):
    exercises.reset_hints()
    fails(exercises.check_leaky_relu_backward, wrong, "Looks like: ", diagnosis)


def test_the_leaky_relu_check_refuses_a_hard_wired_slope_and_an_in_place_change():
    fails(
        exercises.check_leaky_relu_backward,
        lambda dout, z, alpha: np.where(z > 0, dout, 0.01 * dout),
        "is not right yet",
    )

    def in_place(dout, z, alpha):
        dout[z <= 0] *= alpha
        return dout

    fails(exercises.check_leaky_relu_backward, in_place, "changed its argument dout in place")
    fails(exercises.check_leaky_relu_backward, stub, "not done yet")


# ----------------------------------------------------------------------------------------------
# Lesson 2
# ----------------------------------------------------------------------------------------------


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def labs_softmax(z):  # the lab's: no axis, no shift
    e = np.exp(z)
    return e / np.sum(e)


def test_softmax_check(capsys):
    exercises.check_softmax(softmax)
    out = capsys.readouterr().out
    assert out == "correct: my_softmax passes all 6 cases\n"
    fails(exercises.check_softmax, stub, "my_softmax is not done yet")
    with np.errstate(over="ignore", invalid="ignore"):  # unshifted: overflows
        unshifted = lambda z: np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)
        first = fails(exercises.check_softmax, unshifted, "logits near 1000", "NaN or infinite")
    assert "z.max(axis=-1" not in first
    exercises.reset_hints()
    with np.errstate(over="ignore", invalid="ignore"):
        fails(
            exercises.check_softmax,
            lambda z: labs_softmax(z - z.max()),
            "in case: a batch of 4 rows",
        )
    fails(exercises.check_softmax, lambda z: softmax(z)[0], "has shape (3,), expected (1, 3)")


def objective(x, W, b, M, c, y, reg, mse_divides_by=None, penalise_biases=False, relu=True):
    z1 = x @ W + b
    y_hat = softmax((np.maximum(z1, 0) if relu else z1) @ M + c)
    squared = (y_hat - y) ** 2
    mse = squared.mean() if mse_divides_by is None else squared.sum() / mse_divides_by(y)
    biases = np.sum(b**2) + np.sum(c**2) if penalise_biases else 0
    penalty = reg * (np.sum(W**2) + np.sum(M**2) + biases)
    return mse + penalty


def test_objective_check(capsys):
    exercises.check_objective(objective)
    assert capsys.readouterr().out == "correct: my_objective passes all 5 cases\n"
    fails(exercises.check_objective, stub, "my_objective is not done yet")
    # the lab's mse_np divides by y.shape[1]: right for one sample, wrong for a batch
    labs_mse = lambda *a: objective(*a, mse_divides_by=lambda y: y.shape[1])
    first = fails(exercises.check_objective, labs_mse, "in case: a batch of 5 samples")
    assert "np.mean((y_hat - y) ** 2)" not in first
    fails(
        exercises.check_objective,
        lambda *a: objective(*a, penalise_biases=True),
        "the lab's worked example",
    )
    fails(
        exercises.check_objective,
        lambda x, W, b, M, c, y, reg: objective(x, W, b, M, c, y, 0.0),
        "you return 0.3333",
        "expected 207.333",
    )


def dJ_dc(y_hat, y):
    g = 2 * (y_hat - y) / y_hat.size
    return (y_hat * (g - np.sum(g * y_hat, axis=1, keepdims=True))).sum(axis=0, keepdims=True)


def test_dJ_dc_check(capsys):
    exercises.check_dJ_dc(dJ_dc)
    assert capsys.readouterr().out == "correct: my_dJ_dc passes all 5 cases\n"
    fails(exercises.check_dJ_dc, stub, "my_dJ_dc is not done yet")
    # forgetting the softmax: the mse's gradient passed on as if softmax were the identity
    no_softmax = lambda y_hat, y: (2 * (y_hat - y) / y_hat.size).sum(0, keepdims=True)
    first = fails(exercises.check_dJ_dc, no_softmax, "worked example", "you return -0.444444")
    assert "dz2 = y_hat *" not in first
    fails(
        exercises.check_dJ_dc,
        lambda y_hat, y: dJ_dc(y_hat, y) * len(y),
        "4 sample(s)",
        "divides by 3 only",
    )
    fails(
        exercises.check_dJ_dc,
        lambda y_hat, y: dJ_dc(y_hat, y)[0],
        "has shape (3,), expected (1, 3)",
    )


def test_objective_check_catches_a_forgotten_relu_on_the_random_batches():
    # every z1 of the worked example is 31, so only the random batches can tell
    fails(
        exercises.check_objective,
        lambda *a: objective(*a, relu=False),
        "in case: a batch of 5 samples",
    )


def test_the_hints_point_at_sections_lesson_1_has():
    # A hint that sends the student to "section 3.1" is worse than none when 3.1 is elsewhere.
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    cells = json.loads((root / "notebooks" / "01_derivation.ipynb").read_text())["cells"]
    headings = {
        m.group(1): m.group(2)
        for c in cells
        if c["cell_type"] == "markdown"
        for m in re.finditer(r"^#+ (\d+\.\d+) (.*)$", "".join(c["source"]), re.M)
    }
    topic = {"4.1": "loss", "4.2": "linear", "4.3": "ReLU", "4.4": "Softmax"}
    cited = set()
    for module in ("lesson01.py", "lesson01_network.py", "lesson02.py"):
        cited |= set(
            re.findall(r"section (\d+\.\d+)", (root / "lab3" / "exercises" / module).read_text())
        )
    assert cited, "the hints cite no section of lesson 1"
    for number in cited:
        assert topic[number] in headings.get(number, ""), (number, headings)
