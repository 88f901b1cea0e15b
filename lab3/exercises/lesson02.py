"""Lesson 2's checked exercises: a softmax that works for batches, the 4-5-3 forward pass, dJ/dc.

Each check runs the lab's worked example *and* batches of one, an odd number and many samples:
the lab's own softmax and mse give the right numbers for one sample and wrong ones for more, and
these checks say so. The softmax is also tried where it can overflow (logits near +-1000, in one
row with small ones) and on a row of equal logits. ``grading=True`` runs other shapes and values
(nbgrader's hidden tests).
"""

import numpy as np

from lab3 import backprop
from lab3.exercises.core import check_function
from lab3.exercises.delegation import AUTOGRAD, FINITE_DIFFERENCES, lab3_version
from lab3.functional import softmax

__all__ = ["check_dJ_dc", "check_objective", "check_softmax"]


def _worked_example():
    """The lab's 4-5-3 example as float64 arrays: ``(x, W, b, M, c, y)``.

    ``x`` (1, 4) = [1, 2, 3, 4]; ``W`` (4, 5) has rows of 1, 2, 3, 4; ``b`` (1, 5) ones; ``M``
    (5, 3) has rows of 1, 2, 3, 1, 2; ``c`` (1, 3) ones; the target ``y`` (1, 3) = [1, 0, 1].
    """
    x = np.array([[1.0, 2, 3, 4]])
    W = np.repeat([[1.0], [2], [3], [4]], 5, axis=1)
    M = np.repeat([[1.0], [2], [3], [1], [2]], 3, axis=1)
    return x, W, np.ones((1, 5)), M, np.ones((1, 3)), np.array([[1.0, 0, 1]])


def _random_batch(rng, batch):
    """A batch of ``batch`` inputs and targets, and random 4-5-3 parameters, for the checks."""
    return (
        rng.uniform(-1, 1, (batch, 4)),
        rng.normal(0, 0.8, (4, 5)),
        rng.normal(0, 0.3, (1, 5)),
        rng.normal(0, 0.8, (5, 3)),
        rng.normal(0, 0.3, (1, 3)),
        rng.uniform(0, 1, (batch, 3)),
    )


def _softmax_over_the_batch(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_shifted_by(shift):
    """A row-wise softmax that subtracts ``shift(z)``: the classic mistakes shift by the row's
    minimum, which leaves the largest exponent unbounded, or by nothing at all (lesson 8's
    cross-entropy check uses the latter too)."""

    def softmax_shifted(z):
        z = np.asarray(z, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(z - shift(z))
            return e / e.sum(axis=-1, keepdims=True)

    return softmax_shifted


def check_softmax(candidate, grading=False):
    """Lesson 2: ``candidate(z) -> s``, the row-wise softmax of ``(B, k)`` logits."""
    __tracebackhide__ = True
    rng = np.random.default_rng(105 if grading else 5)
    if grading:
        cases = {
            "a row of 5 equal logits at -300": (np.full((1, 5), -300.0),),
            "3 rows of 2, one of them [-1000, 1000]": (
                np.array([[1.0, -1.0], [-1000.0, 1000.0], [0.5, 0.5]]),
            ),
            "33 rows of 4 logits of spread 50": (rng.normal(0, 50, size=(33, 4)),),
        }
    else:
        cases = {
            "the worked example's logits [[280, 280, 280]] (equal)": (np.full((1, 3), 280.0),),
            "a batch of 4 rows of logits": (rng.normal(size=(4, 3)),),
            "logits near 1000 [[1000, 1000, 999]]": (np.array([[1000.0, 1000.0, 999.0]]),),
            "logits near -1000 [[-1000, -999, -1000]]": (np.array([[-1000.0, -999.0, -1000.0]]),),
            "one row [[0, 1000]]: a small and a huge logit": (np.array([[0.0, 1000.0]]),),
            "a batch of 7 rows, one of them large": (
                np.vstack([rng.normal(size=(6, 3)), [[800.0, 790.0, 801.0]]]),
            ),
        }
    check_function(
        "my_softmax",
        candidate,
        softmax,
        cases,
        hint=[
            "s has the shape of z, and each row of s must sum to 1 on its own: a "
            "sample's probabilities do not depend on the other samples in the batch.",
            "sum over the last axis with keepdims=True (not over the whole array), "
            "and shift each row before exponentiating: the result does not change "
            "(shift invariance), but exp can overflow on large logits.",
            "shift each row so that its largest logit becomes 0 (every exponent is "
            "then <= 0: no overflow, and at least one term of the sum is 1), then "
            "divide each row by its own sum.",
        ],
        asks="write the row-wise softmax yourself, with NumPy",
        refuse=[
            lab3_version("lab3.softmax", "lab3.functional.softmax", "lab3.backprop.softmax_forward")
        ],
        mistakes=[
            (
                "each row must sum to 1 on its own: you normalised over the whole batch",
                _softmax_over_the_batch,
            ),
            (  # before the unshifted one: on [[0, 1000]] the two overflow alike
                "you shifted each row by its smallest logit: the largest exponent is then as big "
                "as the row's spread and overflows; shift by the row's largest logit",
                softmax_shifted_by(lambda z: z.min(axis=-1, keepdims=True)),
            ),
            (
                "exp overflowed (or underflowed to 0 / 0): shift each row by its largest logit "
                "before exponentiating",
                softmax_shifted_by(lambda z: 0.0),
            ),
        ],
    )


def _objective(x, W, b, M, c, y, reg, mse_by=None, reg_scale=1.0, biases=False):
    """lab3's objective, or a classic mistake: the squared errors' sum divided by ``mse_by(y)``
    instead of their number, the penalty scaled by ``reg_scale``, the biases penalised too."""
    y_hat = softmax(np.maximum(x @ W + b, 0) @ M + c)
    loss = backprop.objective([W, M], [b, c], x, y, reg=0.0, output="softmax")
    if mse_by is not None:
        loss = float(np.sum((y_hat - y) ** 2) / mse_by(y))
    penalty = np.sum(W**2) + np.sum(M**2) + (np.sum(b**2) + np.sum(c**2) if biases else 0)
    return loss + reg_scale * reg * penalty


def check_objective(candidate, grading=False):
    """Lesson 2: ``candidate(x, W, b, M, c, y, reg) -> J``, the lab's objective for a batch.

    ``J = mean((softmax(relu(x W + b) M + c) - y)**2) + reg * (||W||^2 + ||M||^2)``, as
    ``lab3.backprop.objective(..., output="softmax")``; a float (or 0-d array).
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(106 if grading else 6)
    batches = (
        [(1, 0.3), (9, 0.002), (200, 0.0)]
        if grading
        else [(5, 0.001), (2, 0.0), (7, 0.01), (64, 0.001)]
    )
    cases = {} if grading else {"the lab's worked example, reg 1": (*_worked_example(), 1.0)}
    for batch, reg in batches:
        cases[f"a batch of {batch} samples, reg {reg}"] = (*_random_batch(rng, batch), reg)
    check_function(
        "my_objective",
        candidate,
        _objective,
        cases,
        hint=[
            "return one number. Four steps: linear 1, relu, linear 2, softmax; then "
            "the mse against y, plus the penalty on the two weight matrices (never "
            "the biases). Every intermediate has one row per sample.",
            "for a batch, both the softmax and the mean must work row by row: the "
            "softmax normalises each row on its own, and the mse divides by the "
            "number of elements, B * 3, not by 3 (the lab's mse_np divides by "
            "y.shape[1] only).",
            "the mean of the squared errors runs over every entry of the (B, 3) "
            "array; the penalty is reg times the sum of the squares of W and of M, "
            "the biases left out.",
        ],
        asks="write the forward pass and the objective yourself, with NumPy",
        refuse=[lab3_version("lab3.backprop.objective", "lab3.backprop.forward")],
        mistakes=[
            (
                "your mse divides by the number of outputs only: average over all B x 3 numbers",
                lambda *a: _objective(*a, mse_by=lambda y: y.shape[1]),
            ),
            (
                "your mse divides by the number of samples only: average over all B x 3 numbers",
                lambda *a: _objective(*a, mse_by=len),
            ),
            ("the penalty is in twice", lambda *a: _objective(*a, reg_scale=2.0)),
            ("the penalty is missing", lambda *a: _objective(*a, reg_scale=0.0)),
            (
                "you penalise the biases too: the penalty is on W and M only",
                lambda *a: _objective(*a, biases=True),
            ),
        ],
    )


def _dJ_dc(y_hat, y, scale=1.0, softmax_too=True, rows="sum"):
    """dJ/dc, or a classic mistake: scaled by ``scale``, the softmax skipped, the rows averaged."""
    d_y_hat = backprop.mse_backward((y_hat, y)) * scale
    dz2 = backprop.softmax_backward(d_y_hat, y_hat) if softmax_too else d_y_hat
    return dz2.sum(axis=0, keepdims=True) / (len(y) if rows == "mean" else 1)


def check_dJ_dc(candidate, grading=False):
    """Lesson 2: ``candidate(y_hat, y) -> dJ/dc``, ``(1, k)``, for the softmax + mse output.

    ``y_hat`` is the softmax output ``(B, k)``, ``y`` the targets; ``c`` is the output bias, so
    ``dJ/dc`` is ``dJ/dz2`` summed over the batch. The penalty does not involve ``c``.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(107 if grading else 7)

    def softmax_rows(rows):
        return softmax(rng.normal(size=(rows, 3)))

    cases = (
        {}
        if grading
        else {
            "the lab's worked example (y_hat uniform, y = [1, 0, 1])": (
                np.full((1, 3), 1 / 3),
                np.array([[1.0, 0, 1]]),
            )
        }
    )
    for rows in [2, 11, 150] if grading else [1, 4, 7, 50]:
        cases[f"{rows} sample(s), y_hat not uniform"] = (
            softmax_rows(rows),
            rng.uniform(0, 1, (rows, 3)),
        )
    check_function(
        "my_dJ_dc",
        candidate,
        _dJ_dc,
        cases,
        hint=[
            "dJ/dc has the shape of c, (1, 3). Walk the circuit backwards from J: "
            "through the mse (dJ/dy_hat), through the softmax (dJ/dz2), through the "
            "+ c (a bias added to every row collects the gradient of every row).",
            "dJ/dy_hat = 2 (y_hat - y) / (B * 3) (the mse averages B * 3 numbers); "
            "the softmax does not pass it on unchanged: multiply by its Jacobian "
            "diag(s) - s^T s row by row (lesson 1, section 4.4); then sum over the "
            "rows with keepdims=True.",
            "three steps, each one line: the mse's gradient (over all B x 3 "
            "numbers), then your softmax backward of lesson 1 applied to it row by "
            "row, then the sum of the rows.",
        ],
        asks="derive dJ/dc by hand",
        refuse=[
            lab3_version(
                "lab3.gradients",
                "lab3.backprop.gradients",
                "lab3.backprop.softmax_backward",
                "lab3.backprop.mse_backward",
            ),
            AUTOGRAD,
            FINITE_DIFFERENCES,
        ],
        mistakes=[
            (
                "the softmax is missing: its Jacobian is not the identity",
                lambda y_hat, y: _dJ_dc(y_hat, y, softmax_too=False),
            ),
            (
                "your dJ/dc is exactly 1/B of the expected: sum over the batch, don't average",
                lambda y_hat, y: _dJ_dc(y_hat, y, rows="mean"),
            ),
            (
                "your dJ/dc has the wrong sign: the error is y_hat - y",
                lambda y_hat, y: _dJ_dc(y_hat, y, scale=-1.0),
            ),
            (
                "your dJ/dc is half the expected: the square brings a factor 2",
                lambda y_hat, y: _dJ_dc(y_hat, y, scale=0.5),
            ),
            (
                "your mse's gradient divides by 3 only: the mse averages all B x 3 numbers",
                lambda y_hat, y: _dJ_dc(y_hat, y, scale=len(y)),
            ),
        ],
    )
