"""Lesson 1's checked exercises, one layer kind at a time (the whole loop: ``lesson01_network``).

Each check compares the student's function with ``lab3.backprop``'s on cases of every batch size
(1, odd, large). It refuses an answer that calls lab3's backward pass, autograd or finite
differences, and names the classic mistakes (db averaged, dW transposed, a sign, the plain ReLU's
slope copied). ``grading=True`` runs other shapes and values: nbgrader's hidden tests.
"""

import numpy as np

from lab3 import backprop
from lab3.exercises.core import check_function
from lab3.exercises.delegation import AUTOGRAD, FINITE_DIFFERENCES, lab3_version

__all__ = [
    "check_leaky_relu_backward",
    "check_linear_backward",
    "check_relu_backward",
    "check_torch_linear_backward",
    "check_softmax_backward",
]

BY_HAND = "by hand"
_LAB3_BACKWARD = lab3_version(
    "lab3.gradients",
    "lab3.backprop.gradients",
    "lab3.backprop.linear_backward",
    "lab3.backprop.relu_backward",
    "lab3.backprop.softmax_backward",
    "lab3.backprop.mse_backward",
    "lab3.backprop.l2_backward",
)
REFUSED = (_LAB3_BACKWARD, AUTOGRAD, FINITE_DIFFERENCES)
AVERAGED_DB = "your db is exactly 1/B of the expected: sum over the batch, don't average"
TRANSPOSED_DW = (
    "your dW is the transpose of the expected: dW has W's shape, one row per input of the layer"
)
SIGN = "your gradients have the opposite sign of the expected ones"


def _linear_backward(delta, a, W):
    return backprop.linear_backward(delta, (a, W))


def check_linear_backward(candidate, grading=False):
    """Lesson 1: ``candidate(delta, a, W) -> (da, dW, db)`` as ``lab3.backprop.linear_backward``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(102 if grading else 2)
    shapes = (
        [(5, 6, 2), (33, 2, 5), (1, 7, 7), (129, 4, 1)]
        if grading
        else [(8, 3, 2), (1, 2, 3), (7, 4, 6), (64, 3, 3)]
    )
    cases = {}
    for batch, fan_in, fan_out in shapes:
        cases[f"a batch of {batch}, W of shape ({fan_in}, {fan_out})"] = (
            rng.normal(size=(batch, fan_out)),
            rng.normal(size=(batch, fan_in)),
            rng.normal(size=(fan_in, fan_out)),
        )

    def scaled(da=1.0, dW=1.0, db=1.0, transpose=False):
        def wrong(delta, a, W):
            right = _linear_backward(delta, a, W)
            return (
                right[0] * da,
                (right[1].T if transpose else right[1]) * dW,
                right[2] * (db if db != "1/B" else 1 / len(delta)),
            )

        return wrong

    check_function(
        "my_linear_backward",
        candidate,
        _linear_backward,
        cases,
        hint=[
            "each gradient has the shape of what it differentiates: dW like W "
            "(n_in, n_out), db like b (1, n_out), da like a (B, n_in). Which product "
            "of a, W and delta has that shape?",
            "b is added to every row of the batch, so every row's delta flows into "
            "it: sum over the rows, keeping the row dimension (keepdims=True).",
            "each gradient is one matrix product or one sum: dW pairs every input "
            "with every delta (a transposed, on the left), da sends delta back "
            "through W (W transposed, on the right), db adds up the rows of delta.",
        ],
        outputs=("da", "dW", "db"),
        refuse=REFUSED,
        asks=f"derive the linear layer's gradients {BY_HAND}",
        mistakes=[
            (AVERAGED_DB, scaled(db="1/B")),
            (TRANSPOSED_DW, scaled(transpose=True)),
            (SIGN, scaled(-1.0, -1.0, -1.0)),
        ],
    )


def _torch_linear_backward(delta, a, W):
    """``(da, dW, db)`` of ``z = a @ W.T + b`` with ``W`` stored ``(n_out, n_in)``, as
    ``torch.nn.Linear`` stores it."""
    da, dW, db = backprop.linear_backward(delta, (a, W.T))
    return da, dW.T, db


def _copied_from_the_text(delta, a, W, da=False, dW=False):
    """The text's formulas (``W`` stored ``(n_in, n_out)``) used where torch's layout is asked."""
    right = _torch_linear_backward(delta, a, W)
    return (delta @ W.T if da else right[0], a.T @ delta if dW else right[1], right[2])


def check_torch_linear_backward(candidate, grading=False):
    """Lesson 1: ``candidate(delta, a, W) -> (da, dW, db)`` for ``z = a @ W.T + b``, ``W`` of
    shape ``(n_out, n_in)`` as ``torch.nn.Linear`` stores it (the text derives ``a @ W``).

    Square weights come first, so the text's formulas copied as they stand give numbers to
    compare (and a diagnosis) before a shape error could.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(106 if grading else 6)
    shapes = (
        [(5, 4, 4), (33, 2, 5), (1, 7, 3), (129, 4, 1)]
        if grading
        else [(8, 3, 3), (1, 2, 3), (7, 4, 6), (64, 5, 2)]
    )
    cases = {
        f"a batch of {batch}, W of shape ({fan_out}, {fan_in})": (
            rng.normal(size=(batch, fan_out)),
            rng.normal(size=(batch, fan_in)),
            rng.normal(size=(fan_out, fan_in)),
        )
        for batch, fan_in, fan_out in shapes
    }

    def wrong(averaged=False, sign=1.0):
        def answer(delta, a, W):
            da, dW, db = _torch_linear_backward(delta, a, W)
            return sign * da, sign * dW, sign * db / (len(delta) if averaged else 1.0)

        return answer

    check_function(
        "my_torch_linear_backward",
        candidate,
        _torch_linear_backward,
        cases,
        hint=[
            "each gradient has the shape of what it differentiates: dW like W "
            "(n_out, n_in) here, db like b (1, n_out), da like a (B, n_in). Write z in "
            "indices, z_ij = sum_k a_ik W_jk + b_j, and differentiate as section 4.2 does.",
            "W's indices are the other way round from section 4.2's, so dW is the "
            "transpose of what the text found, and da multiplies delta by W itself, "
            "not by its transpose. b is added to every row: sum over the batch.",
            "each gradient is one matrix product or one sum: dW pairs every delta with "
            "every input (delta transposed, on the left), da sends delta back through "
            "W, db adds up the rows of delta.",
        ],
        outputs=("da", "dW", "db"),
        refuse=REFUSED,
        asks=f"derive the gradients of torch's linear layer {BY_HAND}",
        mistakes=[
            (
                "you used the text's formulas as they stand: here z = a W^T + b, so dW "
                "is delta^T a and da is delta W",
                lambda d, a, W: _copied_from_the_text(d, a, W, da=True, dW=True),
            ),
            (
                "your dW is the text's a^T delta, the transpose of this layer's: "
                "W is stored (n_out, n_in) here",
                lambda d, a, W: _copied_from_the_text(d, a, W, dW=True),
            ),
            (
                "your da is the text's delta W^T: here z = a W^T, so da is delta W",
                lambda d, a, W: _copied_from_the_text(d, a, W, da=True),
            ),
            (AVERAGED_DB, wrong(averaged=True)),
            (SIGN, wrong(sign=-1.0)),
        ],
    )


def check_relu_backward(candidate, grading=False):
    """Lesson 1: ``candidate(dout, z) -> dz`` as ``lab3.backprop.relu_backward(dout, z)``;
    ``dout`` and ``z`` must come back unchanged."""
    __tracebackhide__ = True
    rng = np.random.default_rng(101 if grading else 1)
    kink = np.array([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.5]])
    shapes = [(3, 7), (1, 1), (65, 2)] if grading else [(8, 3), (1, 5), (7, 4)]
    cases = {
        f"a random {shape} batch": (rng.normal(size=shape), rng.normal(size=shape))
        for shape in shapes
    }
    if not grading:
        cases["z with entries exactly 0 (the kink)"] = (
            np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
            kink,
        )
    else:
        cases["a (4, 4) z with zeros on the diagonal"] = (
            rng.normal(size=(4, 4)),
            rng.normal(size=(4, 4)) * (1 - np.eye(4)),
        )
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
            "strictly positive z, not z >= 0.",
            "one multiplication: dout times a boolean mask of where z is strictly "
            "positive (a new array; dout itself stays as it is).",
        ],
        asks=f"derive the ReLU's gradient {BY_HAND}",
        refuse=REFUSED,
        mistakes=[
            (
                "your mask lets z == 0 through: at the kink the slope is 0",
                lambda dout, z: dout * (z >= 0),
            ),
            (
                "you return the mask alone: the chain rule multiplies it by dout",
                lambda dout, z: (z > 0) * 1.0,
            ),
        ],
    )


def _leaky_relu_backward(dout, z, alpha):
    """dJ/dz of ``a = max(alpha z, z)``: slope 1 for z > 0, ``alpha`` for z <= 0 (torch's
    ``leaky_relu`` takes ``alpha`` at the kink too)."""
    return np.where(z > 0, dout, alpha * dout)


def check_leaky_relu_backward(candidate, grading=False):
    """Lesson 1: ``candidate(dout, z, alpha) -> dz`` for the leaky ReLU ``max(alpha z, z)``,
    ``0 < alpha < 1``, with slope ``alpha`` at ``z == 0``; ``dout`` and ``z`` come back unchanged.

    The lesson derives the plain ReLU's gradient, not this one: several slopes ``alpha`` (so a
    hard-wired 0.01 fails), every batch size, and a ``z`` with exact zeros.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(105 if grading else 5)
    settings = (
        [((3, 7), 0.05), ((1, 1), 0.3), ((65, 2), 0.2)]
        if grading
        else [((8, 3), 0.1), ((1, 5), 0.01), ((7, 4), 0.3)]
    )
    cases = {
        f"a random {shape} batch, alpha {alpha}": (
            rng.normal(size=shape),
            rng.normal(size=shape),
            alpha,
        )
        for shape, alpha in settings
    }
    cases["z with entries exactly 0 (the kink), alpha 0.2"] = (
        rng.normal(size=(2, 3)) if grading else np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        np.array([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.5]]),
        0.2,
    )
    check_function(
        "my_leaky_relu_backward",
        candidate,
        _leaky_relu_backward,
        cases,
        hint=[
            "dz has the shape of z. The leaky ReLU is a max gate between alpha z and z: "
            "which of the two wins for z > 0, which for z < 0, and what is each one's "
            "slope? The chain rule then multiplies that slope by dout.",
            "where z > 0 the upstream gradient passes unchanged; elsewhere it passes "
            "scaled by alpha, not blocked as in the plain ReLU. At z == 0 exactly take "
            "alpha, as torch's leaky_relu does.",
            "one choice per entry between dout and alpha times dout, made by whether z "
            "is strictly positive (a new array; dout itself stays as it is).",
        ],
        asks=f"derive the leaky ReLU's gradient {BY_HAND}",
        refuse=REFUSED,
        mistakes=[
            (
                "that is the plain ReLU's gradient: for z < 0 the leaky ReLU's slope is "
                "alpha, not 0",
                lambda dout, z, alpha: dout * (z > 0),
            ),
            (
                "alpha is on the wrong side: the slope is 1 for z > 0 and alpha below",
                lambda dout, z, alpha: np.where(z > 0, alpha * dout, dout),
            ),
            (
                "your slope at z == 0 is 1: at the kink take alpha, as torch's leaky_relu",
                lambda dout, z, alpha: np.where(z >= 0, dout, alpha * dout),
            ),
            (
                "you return the slopes alone: the chain rule multiplies them by dout",
                lambda dout, z, alpha: np.where(z > 0, 1.0, alpha),
            ),
            (
                "that is the leaky ReLU itself times dout, not its slope: the slope is 1 "
                "or alpha, whatever the size of z",
                lambda dout, z, alpha: dout * np.maximum(alpha * z, z),
            ),
        ],
    )


def check_softmax_backward(candidate, grading=False):
    """Lesson 1: ``candidate(dout, s) -> dz`` as ``lab3.backprop.softmax_backward(dout, s)``.

    ``s`` is the softmax output ``(B, k)`` and ``dout = dJ/ds``; the result is ``dJ/dz``, row by
    row the vector ``dout`` times the Jacobian ``diag(s) - s^T s`` of that row.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(103 if grading else 3)
    cases = {}
    if not grading:
        cases["one row, s uniform (the lab's worked example)"] = (
            np.array([[0.4, -0.2, 0.4]]),
            np.full((1, 3), 1 / 3),
        )
    for rows, k in [(1, 6), (9, 2), (40, 5)] if grading else [(1, 4), (6, 3), (7, 5), (50, 3)]:
        cases[f"{rows} row(s) of {k} probabilities"] = (
            rng.normal(size=(rows, k)),
            _softmax_rows(rng, rows, k),
        )
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
            "row of dout with that row of s. Sum over the last axis with "
            "keepdims=True, not over the whole batch.",
            "per row, dz is s times (dout minus one number), and that number is "
            "the dot product of the row's dout with the row's s.",
        ],
        asks=f"derive the softmax's gradient {BY_HAND}",
        refuse=REFUSED,
        mistakes=[
            (
                "you kept only the diagonal of the Jacobian: every logit also "
                "moves the other probabilities (the -s_i s_j terms)",
                lambda dout, s: s * dout,
            ),
            (
                "your dot product runs over the whole batch: each row needs its own",
                lambda dout, s: s * (dout - np.sum(dout * s)),
            ),
        ],
    )


def _softmax_rows(rng, rows, k):
    z = rng.normal(size=(rows, k))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
