"""Lesson 5's checked exercises: the forward pass of an MLP of any depth, the effective matrix by
least squares, and counting dead ReLU units.

Every function works on plain numpy arrays in lab3's conventions: ``weights[i]`` is
``(fan_in, fan_out)``, ``biases[i]`` is ``(1, fan_out)``, one per layer with the output layer last;
a batch ``x`` is ``(n, num_inputs)``, one sample per row. Hidden layers are ReLU, the output layer
is linear (as ``lab3.MultiLayerPerceptron``). Each check refuses the model's own method for the
same thing; ``grading=True`` runs other networks and data (nbgrader's hidden tests).
"""

import numpy as np

from lab3.exercises.core import check_function
from lab3.exercises.delegation import lab3_version

__all__ = ["check_dead_units", "check_effective_matrix", "check_mlp_forward"]


def _mlp_forward(weights, biases, x, relu_last=False, with_biases=True):
    """``(n, num_outputs)``: ``relu`` after every hidden layer, nothing after the output layer
    (or a classic mistake: a ReLU on the output too, the biases left out)."""
    h, last = np.asarray(x, dtype=np.float64), len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w + (b if with_biases else 0.0)
        h = np.maximum(h, 0.0) if i < last or relu_last else h
    return h


def _effective_matrix(x, y, shift=True):
    """``A`` ``(d, k)`` of the least-squares fit ``y ~ x @ A + t``; x ``(n, d)``, y ``(n, k)``
    (or the classic mistake of fitting ``y ~ x @ A`` without the shift)."""
    design = np.hstack([x, np.ones((x.shape[0], 1))]) if shift else x  # ones: the shift t
    return np.linalg.lstsq(design, y, rcond=None)[0][: x.shape[1]]


def _dead_units(weights, biases, x, inactive=lambda z: z <= 0, per_unit=True):
    """A list with one int per hidden layer: its units whose pre-activation is <= 0 on every row
    (or a classic mistake: ``inactive`` as ``z < 0``, inactive entries counted, not units)."""
    h, counts = np.asarray(x, dtype=np.float64), []
    for w, b in zip(weights[:-1], biases[:-1]):
        z = h @ w + b  # (n, units)
        off = inactive(z)
        counts.append(int(off.all(axis=0).sum() if per_unit else off.sum()))
        h = np.maximum(z, 0.0)
    return counts


def _network(sizes, rng, init="lab"):
    """Float64 weights and biases of a network with layer widths ``sizes``."""
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        if init == "lab":
            weights.append(rng.uniform(0.0, 0.1, size=(fan_in, fan_out)))
            biases.append(np.zeros((1, fan_out)))
        else:  # zero-mean weights and biases: some units off on part of the data
            weights.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)))
            biases.append(rng.normal(0.0, 0.1, size=(1, fan_out)))
    return weights, biases


def check_mlp_forward(candidate, grading=False):
    """Lesson 5: ``candidate(weights, biases, x) -> y_hat`` ``(n, num_outputs)`` for any depth."""
    __tracebackhide__ = True
    rng = np.random.default_rng(105 if grading else 5)
    x = rng.uniform(-1.0, 1.0, size=(9 if grading else 6, 2))
    cases = {}
    networks = (
        [((2, 6, 2), "he"), ((2, 4, 3, 5, 2), "he"), ((2, 1, 2), "lab")]
        if grading
        else [((2, 3, 2), "lab"), ((2, 2), "he"), ((2, 5, 4, 2), "he"), ((2, 8, 8, 8, 2), "he")]
    )
    for sizes, init in networks:
        weights, biases = _network(sizes, rng, init)
        cases[f"layer widths {'-'.join(map(str, sizes))}, {init} weights"] = (weights, biases, x)
    check_function(
        "my_mlp_forward",
        candidate,
        _mlp_forward,
        cases,
        hint=[
            "the result has shape (n, num_outputs): go through the layers in order; every hidden "
            "layer ends with a ReLU, the output layer has none. The network may have no hidden "
            "layer "
            "at all, or several.",
            "keep one running array h, starting at x (n, d); each layer maps it to (n, fan_out) "
            "with "
            "its W and b (b is (1, fan_out) and broadcasts over the rows); treat the last layer, "
            "weights[-1] and biases[-1], apart.",
            "one loop over every layer but the last (affine, then the ReLU), and the last layer "
            "after the loop (affine only).",
        ],
        asks="write the forward pass yourself, with NumPy",
        refuse=[
            lab3_version(
                "lab3.MultiLayerPerceptron.forward",
                "lab3.backprop.forward",
                "lab3.backprop.objective",
            )
        ],
        mistakes=[
            (
                "the output layer has a ReLU too: it is linear",
                lambda w, b, x: _mlp_forward(w, b, x, relu_last=True),
            ),
            ("the biases are missing", lambda w, b, x: _mlp_forward(w, b, x, with_biases=False)),
        ],
    )


def check_effective_matrix(candidate, grading=False):
    """Lesson 5: ``candidate(x, y) -> A`` ``(d, k)``, the matrix of the least-squares fit
    ``y ~ x @ A + t``, as ``MultiLayerPerceptron.effective_matrix`` computes it."""
    __tracebackhide__ = True
    rng = np.random.default_rng(106 if grading else 6)
    x = rng.uniform(-1.0, 1.0, size=(37 if grading else 50, 2))
    shifted = rng.uniform(0.0, 2.0, size=(40, 2))  # not centred: forgetting the shift shows
    matrix = np.array([[0.0, 1.0], [-1.0, 0.0]])
    weights, biases = _network((2, 5, 2), rng, "he")
    cases = {
        "an exact linear map, y = x @ M": (x, x @ matrix),
        "an affine map with a shift, y = x @ M + t, x not centred": (
            shifted,
            shifted @ matrix + np.array([[0.5, -2.0]]),
        ),
        "the outputs of a ReLU network (not affine: the fit is not exact)": (
            x,
            _mlp_forward(weights, biases, x),
        ),
        "3 inputs and 2 outputs": (rng.normal(size=(30, 3)), rng.normal(size=(30, 2))),
    }
    if grading:
        cases = dict(list(cases.items())[1:3])
        cases["4 inputs and 1 output"] = (rng.normal(size=(25, 4)), rng.normal(size=(25, 1)))
    check_function(
        "my_effective_matrix",
        candidate,
        _effective_matrix,
        cases,
        hint=[
            "A has shape (d, k): one row per input feature, one column per output. It is the "
            "matrix "
            "of the best affine fit y ≈ x @ A + t in the least-squares sense, and the shift t has "
            "to "
            "be fitted too, even though you do not return it.",
            "add a column of ones to x, so that the shift becomes one more row of the unknown: "
            "solve "
            "[x, 1] @ [[A], [t]] ≈ y by least squares, then drop the last row (t).",
            "NumPy's least-squares solver gives the (d + 1, k) solution of the widened system at "
            "once; its last row is t, and the rows above it are A.",
        ],
        asks="fit the matrix yourself, with NumPy's least squares",
        refuse=[
            lab3_version(
                "lab3.MultiLayerPerceptron.effective_matrix",
                "lab3.MultiLayerPerceptron.effective_affine",
            )
        ],
        mistakes=[
            (
                "you fitted y ~ x @ A without the shift t: the best affine fit needs it",
                lambda x, y: _effective_matrix(x, y, shift=False),
            ),
            (
                "your A is transposed: one row per input, one column per output",
                lambda x, y: _effective_matrix(x, y).T,
            ),
        ],
        rtol=1e-6,
        atol=1e-8,
    )


def check_dead_units(candidate, grading=False):
    """Lesson 5: ``candidate(weights, biases, x) -> counts``, one int per hidden layer (a list,
    a NumPy array: any sequence): how many of its units have a pre-activation ``z <= 0`` on
    every sample of ``x``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(107 if grading else 7)
    x = rng.uniform(-1.0, 1.0, size=(150 if grading else 200, 2))
    lab_w, lab_b = _network((2, 3, 2), rng, "lab")
    killed_b = [b.copy() for b in lab_b]
    killed_b[0][0, 1:] = -1.0  # two units switched off for good, as a too-large step leaves them
    zero_w, zero_b = _network((2, 4, 3, 2), rng, "lab")
    zero_w[1][:, 0] = 0.0  # this unit's z is exactly 0 everywhere: as dead as z < 0
    he_w, he_b = _network((2, 8, 8, 8, 2), rng, "he")
    he_b[1][0, :3] = -3.0
    cases = {
        "the lab's 2-3-2 at init (no dead unit)": (lab_w, lab_b, x),
        "the 2-3-2 with two biases at -1": (lab_w, killed_b, x),
        "a unit whose pre-activation is exactly 0 on every sample": (zero_w, zero_b, x),
        "an [8, 8, 8] network with zero-mean weights, three biases at -3": (he_w, he_b, x),
        "no hidden layer (an empty list)": (
            lab_w[1:],
            lab_b[1:],
            rng.uniform(-1.0, 1.0, size=(5, 3)),
        ),
    }
    check_function(
        "my_dead_units",
        candidate,
        _dead_units,
        cases,
        hint=[
            "return a list with one count per hidden layer (an empty list without hidden layers). "
            "A "
            "unit is dead when it is inactive on every sample, not on some: count units, not "
            "entries.",
            "go through the hidden layers keeping each pre-activation z = h @ W + b (n, units); a "
            "unit "
            "is active where z > 0, so z == 0 counts as inactive (the ReLU passes no gradient "
            "there). "
            "The next layer sees relu(z).",
            "per hidden layer: a boolean (n, units) array of the inactive entries, reduced over "
            "the "
            "samples with 'all' (one verdict per unit), then counted; the next layer's input is "
            "the ReLU of this z.",
        ],
        asks="count the dead units yourself, with NumPy",
        refuse=[lab3_version("lab3.layer_statistics", "lab3.training.statistics.layer_statistics")],
        mistakes=[
            (
                "you count z < 0 only: z == 0 is inactive too (the ReLU passes nothing there)",
                lambda w, b, x: _dead_units(w, b, x, inactive=lambda z: z < 0),
            ),
            (
                "you count inactive entries, not units: a unit is dead when it is inactive on "
                "every sample",
                lambda w, b, x: _dead_units(w, b, x, per_unit=False),
            ),
        ],
    )
