"""Lesson 5's checked exercises: the forward pass of an MLP of any depth, the effective matrix by
least squares, and counting dead ReLU units.

Every function works on plain numpy arrays in lab3's conventions: ``weights[i]`` is
``(fan_in, fan_out)``, ``biases[i]`` is ``(1, fan_out)``, one per layer with the output layer last;
a batch ``x`` is ``(n, num_inputs)``, one sample per row. Hidden layers are ReLU, the output layer
is linear (as ``lab3.MultiLayerPerceptron``).
"""

import numpy as np

from lab3.exercises.core import check_function

__all__ = [
    "check_dead_units",
    "check_effective_matrix",
    "check_mlp_forward",
    "reference_dead_units",
    "reference_effective_matrix",
    "reference_mlp_forward",
]


def reference_mlp_forward(weights, biases, x):
    """``(n, num_outputs)``: ``relu`` after every hidden layer, nothing after the output layer."""
    h = np.asarray(x, dtype=np.float64)
    for w, b in zip(weights[:-1], biases[:-1]):
        h = np.maximum(h @ w + b, 0.0)
    return h @ weights[-1] + biases[-1]


def reference_effective_matrix(x, y):
    """``A`` ``(d, k)`` of the least-squares fit ``y ~ x @ A + t``; x ``(n, d)``, y ``(n, k)``."""
    design = np.hstack([x, np.ones((x.shape[0], 1))])  # the ones column fits the shift t
    return np.linalg.lstsq(design, y, rcond=None)[0][:-1]


def reference_dead_units(weights, biases, x):
    """A list with one int per hidden layer: its units whose pre-activation is <= 0 on every row."""
    h, counts = np.asarray(x, dtype=np.float64), []
    for w, b in zip(weights[:-1], biases[:-1]):
        z = h @ w + b  # (n, units)
        counts.append(int((z <= 0).all(axis=0).sum()))
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


def check_mlp_forward(candidate):
    """Lesson 5: ``candidate(weights, biases, x) -> y_hat`` ``(n, num_outputs)`` for any depth."""
    __tracebackhide__ = True
    rng = np.random.default_rng(5)
    x = rng.uniform(-1.0, 1.0, size=(6, 2))
    cases = {}
    for sizes, init in [
        ((2, 3, 2), "lab"),
        ((2, 2), "he"),
        ((2, 5, 4, 2), "he"),
        ((2, 8, 8, 8, 2), "he"),
    ]:
        weights, biases = _network(sizes, rng, init)
        cases[f"layer widths {'-'.join(map(str, sizes))}, {init} weights"] = (weights, biases, x)
    check_function(
        "my_mlp_forward",
        candidate,
        reference_mlp_forward,
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
            "h = x; for W, b in zip(weights[:-1], biases[:-1]): h = np.maximum(h @ W + b, 0); "
            "then return h @ weights[-1] + biases[-1].",
        ],
        reference_name="lab3's forward pass",
    )


def check_effective_matrix(candidate):
    """Lesson 5: ``candidate(x, y) -> A`` ``(d, k)``, the matrix of the least-squares fit
    ``y ~ x @ A + t``, as ``MultiLayerPerceptron.effective_matrix`` computes it."""
    __tracebackhide__ = True
    rng = np.random.default_rng(6)
    x = rng.uniform(-1.0, 1.0, size=(50, 2))
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
            reference_mlp_forward(weights, biases, x),
        ),
        "3 inputs and 2 outputs": (rng.normal(size=(30, 3)), rng.normal(size=(30, 2))),
    }
    check_function(
        "my_effective_matrix",
        candidate,
        reference_effective_matrix,
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
            "design = np.hstack([x, np.ones((len(x), 1))]); "
            "return np.linalg.lstsq(design, y, rcond=None)[0][:-1].",
        ],
        reference_name="the least-squares fit",
        rtol=1e-6,
        atol=1e-8,
    )


def check_dead_units(candidate):
    """Lesson 5: ``candidate(weights, biases, x) -> counts``, a list with one int per hidden layer:
    how many of its units have a pre-activation ``z <= 0`` on every sample of ``x``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(7)
    x = rng.uniform(-1.0, 1.0, size=(200, 2))
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
        reference_dead_units,
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
            "for each hidden layer: z = h @ W + b; counts.append(int((z <= 0).all(axis=0).sum())); "
            "h = np.maximum(z, 0).",
        ],
        reference_name="lab3.layer_statistics' dead_units",
    )
