"""Lesson 1's checked exercises: the backward pass, one layer kind at a time, then the whole loop.

Each check compares the student's function with ``lab3.backprop`` on a few cases. Hints come in
tiers (``lab3.exercises.core``): the first failure says what shape and idea to aim for, later
failures get more specific, and only the last tier writes the formula.
"""

import numpy as np

from lab3 import backprop
from lab3.exercises.core import check_function

__all__ = [
    "check_gradients",
    "check_linear_backward",
    "check_relu_backward",
    "check_softmax_backward",
]


def check_linear_backward(candidate):
    """Lesson 1: ``candidate(delta, a, W) -> (da, dW, db)`` as ``lab3.backprop.linear_backward``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(2)
    cases = {}
    for batch, fan_in, fan_out in [(8, 3, 2), (1, 2, 3), (5, 4, 6)]:
        cases[f"a batch of {batch}, W of shape ({fan_in}, {fan_out})"] = (
            rng.normal(size=(batch, fan_out)),
            rng.normal(size=(batch, fan_in)),
            rng.normal(size=(fan_in, fan_out)),
        )
    check_function(
        "my_linear_backward",
        candidate,
        lambda delta, a, W: backprop.linear_backward(delta, (a, W)),
        cases,
        hint=[
            "each gradient has the shape of what it differentiates: dW like W "
            "(n_in, n_out), db like b (1, n_out), da like a (B, n_in). Which product "
            "of a, W and delta has that shape?",
            "b is added to every row of the batch, so every row's delta flows into "
            "it: sum over the rows, keeping the row dimension (keepdims=True).",
            "dW = a.T @ delta, db = delta.sum(axis=0, keepdims=True), da = delta @ W.T.",
        ],
        outputs=("da", "dW", "db"),
        reference_name="lab3.backprop.linear_backward",
    )


def check_relu_backward(candidate):
    """Lesson 1: ``candidate(dout, z) -> dz`` as ``lab3.backprop.relu_backward(dout, z)``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(1)
    kink = np.array([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.5]])
    cases = {
        "a random (8, 3) batch": (rng.normal(size=(8, 3)), rng.normal(size=(8, 3))),
        "z with entries exactly 0 (the kink)": (np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), kink),
    }
    check_function(
        "my_relu_backward",
        candidate,
        backprop.relu_backward,
        cases,
        hint=[
            "dz has the shape of z. Where the unit is active (z > 0) relu is the "
            "identity, so the upstream gradient passes unchanged; elsewhere relu is "
            "flat, so nothing passes. And the chain rule multiplies by dout.",
            "at z == 0 exactly, lab3 (like torch.relu) takes slope 0: the mask is "
            "z > 0, not z >= 0.",
            "dz = dout * (z > 0).",
        ],
        outputs=None,
        reference_name="lab3.backprop.relu_backward",
    )


def check_softmax_backward(candidate):
    """Lesson 1: ``candidate(dout, s) -> dz`` as ``lab3.backprop.softmax_backward(dout, s)``.

    ``s`` is the softmax output ``(B, k)`` and ``dout = dJ/ds``; the result is ``dJ/dz``, row by
    row the vector ``dout`` times the Jacobian ``diag(s) - s^T s`` of that row.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(3)
    uniform = np.full((1, 3), 1 / 3)
    cases = {
        "one row, s uniform (the lab's worked example)": (np.array([[0.4, -0.2, 0.4]]), uniform),
        "one row, s not uniform": (rng.normal(size=(1, 4)), _softmax_rows(rng, 1, 4)),
        "a batch of 6 rows": (rng.normal(size=(6, 3)), _softmax_rows(rng, 6, 3)),
    }
    check_function(
        "my_softmax_backward",
        candidate,
        backprop.softmax_backward,
        cases,
        hint=[
            "dz has the shape of s, (B, k), and each row only involves its own row "
            "of s and dout. Write dz_j = sum_i dout_i ds_i/dz_j with the Jacobian "
            "above and split the sum into the i == j term and the rest.",
            "the sum over i leaves one number per row: the dot product of that "
            "row of dout with that row of s. Sum over axis=-1 with keepdims=True, "
            "not over the whole batch.",
            "dz = s * (dout - np.sum(dout * s, axis=-1, keepdims=True)).",
        ],
        reference_name="lab3.backprop.softmax_backward",
    )


def _softmax_rows(rng, rows, k):
    z = rng.normal(size=(rows, k))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_gradients(candidate):
    """Lesson 1: ``candidate(weights, biases, x, y, reg) -> (dW, db)`` as ``lab3.gradients``.

    The network: ReLU hidden layers, a linear output, the lab's objective
    ``mean((y_hat - y)**2) + reg * sum ||W||^2``. Checked on one layer, the 2-3-2 net and a deeper
    2-8-5-4-2 net, so a loop that only works for one depth fails.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(4)
    cases = {}
    for sizes, batch, reg in [([2, 3, 2], 8, 0.001), ([2, 2], 5, 0.1), ([2, 8, 5, 4, 2], 6, 0.01)]:
        weights = [rng.normal(0, 0.7, (m, n)) for m, n in zip(sizes, sizes[1:])]
        biases = [rng.normal(0, 0.3, (1, n)) for n in sizes[1:]]
        x, y = rng.uniform(-1, 1, (batch, sizes[0])), rng.uniform(-1, 1, (batch, sizes[-1]))
        cases[f"a {'-'.join(map(str, sizes))} network, batch {batch}, reg {reg}"] = (
            weights,
            biases,
            x,
            y,
            reg,
        )
    check_function(
        "my_gradients",
        candidate,
        lambda w, b, x, y, reg: backprop.gradients(w, b, x, y, reg=reg),
        cases,
        hint=[
            "return two lists, one gradient per layer, each shaped like its W or b. "
            "Start from delta = dJ/dz of the output layer (the mse's gradient, "
            "section 4.1), then walk the layers backwards: each layer is the linear "
            "layer of section 4.2, and between layers sits a ReLU (section 4.3).",
            "inside the loop, in this order: dW[l] and db[l] from delta and the "
            "layer's input a[l]; then dJ/da[l] = delta @ W[l].T; then, unless l is "
            "the first layer, through the ReLU of layer l - 1: multiply by "
            "(zs[l - 1] > 0). The penalty adds 2 * reg * W[l] to dW[l], and nothing "
            "to db[l].",
            "delta = 2 * (y_hat - y) / y.size; for l from last to first: "
            "dW[l] = a[l].T @ delta + 2 * reg * weights[l]; "
            "db[l] = delta.sum(axis=0, keepdims=True); "
            "if l > 0: delta = (delta @ weights[l].T) * (zs[l - 1] > 0).",
        ],
        outputs=("dW", "db"),
        reference_name="lab3.gradients",
    )
