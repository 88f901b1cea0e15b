"""Lesson 2's checked exercises: a softmax that works for batches, the 4-5-3 forward pass, dJ/dc.

Each check runs the lab's worked example *and* a batch of several samples: the lab's own softmax
and mse give the right numbers for one sample and wrong ones for more, and these checks say so.
Hints come in tiers (``lab3.exercises.core``): the formula only after repeated failures.
"""

import numpy as np

from lab3 import backprop
from lab3.exercises.core import check_function
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


def check_softmax(candidate):
    """Lesson 2: ``candidate(z) -> s``, the row-wise softmax of ``(B, k)`` logits."""
    __tracebackhide__ = True
    rng = np.random.default_rng(5)
    cases = {
        "the worked example's logits [[280, 280, 280]]": (np.full((1, 3), 280.0),),
        "a batch of 4 rows of logits": (rng.normal(size=(4, 3)),),
        "logits near 1000 [[1000, 1000, 999]]": (np.array([[1000.0, 1000.0, 999.0]]),),
        "a batch of 2 rows, one of them large": (
            np.array([[1.0, 2.0, 3.0], [800.0, 790.0, 801.0]]),
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
            "and subtract each row's maximum before np.exp: the result does not "
            "change (shift invariance) and exp can no longer overflow.",
            "e = np.exp(z - z.max(axis=-1, keepdims=True)); "
            "return e / e.sum(axis=-1, keepdims=True).",
        ],
        reference_name="lab3.softmax",
    )


def _objective(x, W, b, M, c, y, reg):
    return backprop.objective([W, M], [b, c], x, y, reg=reg, output="softmax")


def check_objective(candidate):
    """Lesson 2: ``candidate(x, W, b, M, c, y, reg) -> J``, the lab's objective for a batch.

    ``J = mean((softmax(relu(x W + b) M + c) - y)**2) + reg * (||W||^2 + ||M||^2)``, as
    ``lab3.backprop.objective(..., output="softmax")``; a float (or 0-d array).
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(6)
    cases = {
        "the lab's worked example, reg 1": (*_worked_example(), 1.0),
        "a batch of 5 samples, reg 0.001": (*_random_batch(rng, 5), 0.001),
        "a batch of 2 samples, reg 0": (*_random_batch(rng, 2), 0.0),
    }
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
            "a1 = np.maximum(x @ W + b, 0); y_hat = my_softmax(a1 @ M + c); "
            "return np.mean((y_hat - y) ** 2) "
            "+ reg * (np.sum(W ** 2) + np.sum(M ** 2)).",
        ],
        reference_name="lab3.backprop.objective",
    )


def _dJ_dc(y_hat, y):
    d_y_hat = backprop.mse_backward((y_hat, y))
    return backprop.softmax_backward(d_y_hat, y_hat).sum(axis=0, keepdims=True)


def check_dJ_dc(candidate):
    """Lesson 2: ``candidate(y_hat, y) -> dJ/dc``, ``(1, k)``, for the softmax + mse output.

    ``y_hat`` is the softmax output ``(B, k)``, ``y`` the targets; ``c`` is the output bias, so
    ``dJ/dc`` is ``dJ/dz2`` summed over the batch. The penalty does not involve ``c``.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(7)

    def softmax_rows(rows):
        return softmax(rng.normal(size=(rows, 3)))

    cases = {
        "the lab's worked example (y_hat uniform, y = [1, 0, 1])": (
            np.full((1, 3), 1 / 3),
            np.array([[1.0, 0, 1]]),
        ),
        "one sample, y_hat not uniform": (softmax_rows(1), rng.uniform(0, 1, (1, 3))),
        "a batch of 4 samples": (softmax_rows(4), rng.uniform(0, 1, (4, 3))),
    }
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
            "g = 2 * (y_hat - y) / y_hat.size; "
            "dz2 = y_hat * (g - np.sum(g * y_hat, axis=1, keepdims=True)); "
            "return dz2.sum(axis=0, keepdims=True).",
        ],
        reference_name="lab3's backward pass (mse, softmax, bias)",
    )
