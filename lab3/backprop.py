"""Backpropagation by hand, in numpy, one layer kind at a time.

Every layer kind is a pair, as in CS231n's ``layers.py``:

* ``X_forward(...) -> (out, cache)``: compute the output and keep (in ``cache``) exactly what the
  backward pass will need, so nothing is recomputed;
* ``X_backward(dout, cache) -> grads``: given ``dout = d loss / d out`` (same shape as ``out``),
  return the gradient of the loss with respect to each input of the layer, by the chain rule.

``gradients`` chains the pairs for the lab's network: hidden layers ``act(x @ W + b)`` with ``act``
``"relu"`` (the lab's), ``"tanh"``, ``"sigmoid"`` or ``"identity"`` (no activation), as
``lab3.MultiLayerPerceptron`` allows, an output layer ``x @ W + b`` (optionally followed by a
softmax), and the objective ``loss + reg * sum(||W||_F**2)`` (weights only; biases are not
regularised) with ``loss`` the lab's ``mean((y - y_hat)**2)`` or the softmax cross-entropy.

Batches are rows, as everywhere in lab3: ``x`` has shape ``(batch, features)``. Everything is
computed in float64 so that a finite-difference check can tell a wrong formula from rounding.
"""

import numpy as np

from lab3.functional import LOSSES, activation_names, cross_entropy, l2_reg, mse, sigmoid, softmax
from lab3.validation import real_array, require, require_nonnegative

# ----------------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------------


def linear_forward(x, w, b):
    """Affine layer ``out = x @ w + b``.

    Args:
        x: ``(batch, fan_in)`` inputs, one sample per row.
        w: ``(fan_in, fan_out)`` weights.
        b: ``(1, fan_out)`` bias, broadcast over the rows.

    Returns:
        ``(out, cache)`` with ``out`` of shape ``(batch, fan_out)`` and ``cache = (x, w)``.
    """
    return x @ w + b, (x, w)


def linear_backward(dout, cache):
    """Gradients of an affine layer.

    Args:
        dout: ``(batch, fan_out)`` upstream gradient ``d loss / d out``.
        cache: ``(x, w)`` from ``linear_forward``.

    Returns:
        ``(dx, dw, db)`` with the shapes of ``x`` ``(batch, fan_in)``, ``w`` ``(fan_in, fan_out)``
        and ``b`` ``(1, fan_out)``.
    """
    x, w = cache
    dx = dout @ w.T  # out[n, j] = sum_i x[n, i] w[i, j], so d out[n, j] / d x[n, i] = w[i, j]
    dw = x.T @ dout  # ... and d out[n, j] / d w[i, j] = x[n, i], summed over the samples n
    # b is added to every row, so every row's gradient flows into it: sum over the batch.
    db = dout.sum(axis=0, keepdims=True)
    return dx, dw, db


def relu_forward(x):
    """``out = max(0, x)`` elementwise. ``x`` has any shape; ``out`` has the same.

    Returns ``(out, cache)`` with ``cache = x``.
    """
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """Gradient of ReLU: ``dout`` where ``x > 0``, 0 elsewhere. Shapes as ``x``.

    ReLU has no derivative at ``x == 0``; like ``torch.relu``'s autograd we take slope 0 there
    (the mask is ``x > 0``, not ``x >= 0``), so hand and autograd gradients agree exactly.
    """
    x = cache
    return dout * (x > 0)


def tanh_forward(x):
    """``out = tanh(x)`` elementwise, any shape. Returns ``(out, cache)`` with ``cache = out``.

    The derivative ``1 - tanh(x)**2`` is a function of the output, so the output is all the
    backward pass needs.
    """
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """Gradient of tanh: ``dout * (1 - out**2)``, shapes as ``x``."""
    out = cache
    return dout * (1.0 - out * out)


def sigmoid_forward(x):
    """``out = 1 / (1 + exp(-x))`` elementwise, any shape. Returns ``(out, cache = out)``."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    """Gradient of the sigmoid: ``dout * out * (1 - out)`` (``s' = s (1 - s)``), shapes as ``x``."""
    out = cache
    return dout * out * (1.0 - out)


def softmax_forward(logits):
    """Row-wise softmax: ``(batch, k)`` logits -> ``(batch, k)`` probabilities, rows summing to 1.

    Uses ``lab3.functional.softmax``, which subtracts each row's maximum first so that ``exp``
    cannot overflow. Returns ``(s, cache)`` with ``cache = s``: the backward pass needs only the
    output.
    """
    s = softmax(logits)
    return s, s


def softmax_backward(dout, cache):
    """Gradient of a row-wise softmax, ``(batch, k)`` -> ``(batch, k)``.

    Each row's Jacobian is ``d s_i / d z_j = s_i (delta_ij - s_j)``. Multiplying it by ``dout``
    without building the ``k x k`` matrix gives ``s * (dout - sum(dout * s))`` per row: every
    logit pushes on every probability, which is why the row sum appears.
    """
    s = cache
    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))


def mse_forward(y_hat, y):
    """Mean squared error over *every* element: ``mean((y - y_hat)**2)``.

    Args:
        y_hat: ``(batch, k)`` predictions.
        y: ``(batch, k)`` targets.

    Returns:
        ``(loss, cache)``: a scalar loss and ``cache = (y_hat, y)``.
    """
    return mse(y, y_hat), (y_hat, y)


def mse_backward(cache):
    """``d loss / d y_hat = 2 (y_hat - y) / y.size``, shape ``(batch, k)``.

    The loss is the last layer, so there is no ``dout`` (it is 1). The mean divides by the number
    of *elements*, ``batch * k``, so the gradient does too: a larger batch does not make the step
    larger.
    """
    y_hat, y = cache
    return 2 * (y_hat - y) / y.size


def cross_entropy_forward(logits, y):
    """Softmax cross-entropy ``mean_n(-sum_j y[n, j] log softmax(logits)[n, j])``.

    Args:
        logits: ``(batch, k)`` outputs of the last affine layer (no softmax before it).
        y: ``(batch, k)`` one-hot targets.

    Returns:
        ``(loss, cache)``: a scalar loss (computed stably, ``lab3.functional.cross_entropy``) and
        ``cache = (softmax(logits), y)``.
    """
    return cross_entropy(y, logits), (softmax(logits), y)


def cross_entropy_backward(cache):
    """``d loss / d logits = (softmax(logits) - y) / batch``, shape ``(batch, k)``.

    Derivation, for one row with ``sum_j y_j = 1``: ``loss = -sum_j y_j (z_j - log sum_i e^z_i)``,
    so ``d loss / d z_m = -y_m + e^z_m / sum_i e^z_i = s_m - y_m``. The softmax's Jacobian and the
    log's ``1 / s`` cancel, which is why this pair is fused rather than chained through
    ``softmax_backward``. The mean over the batch divides by ``batch`` (not ``batch * k``).
    """
    s, y = cache
    return (s - y) / y.shape[0]


_LOSS_PAIRS = {
    "mse": (mse_forward, mse_backward),
    "cross_entropy": (cross_entropy_forward, cross_entropy_backward),
}


def l2_backward(w, reg):
    """Gradient of ``reg * ||w||_F**2`` with respect to ``w``: ``2 * reg * w``, shape as ``w``.

    Added once to each weight matrix's gradient, whatever the batch size; biases get nothing.
    """
    return 2 * reg * w


# ----------------------------------------------------------------------------------------------
# The network
# ----------------------------------------------------------------------------------------------

OUTPUTS = ("identity", "softmax")  # after the output layer: nothing (the lab's) or a softmax

# Each activation as a (forward, backward) pair; "identity" means no activation at all.
_ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "tanh": (tanh_forward, tanh_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "softmax": (softmax_forward, softmax_backward),
    "identity": (lambda x: (x, None), lambda dout, cache: dout),
}


def as_float64(a, name="array"):
    """``a`` (numpy array, nested list or torch tensor) as a float64 numpy array.

    A torch tensor is detached (and moved to the CPU) first, so tensors that require grad are
    accepted; torch itself is never imported here. Text, complex numbers or ragged lists raise a
    ``ValueError`` naming ``name``. A float64 array comes back as itself, not a copy.
    """
    return real_array(name, a, finite=False).astype(np.float64, copy=False)


def _real(name, index, a):
    return as_float64(a, name if index is None else f"{name}[{index}]")


def _validate_shapes(weights, biases, x, y=None):
    """Raise ``ValueError`` naming both shapes unless the network, ``x`` and ``y`` fit together."""

    def fail(name, shape, other, other_shape, why):
        raise ValueError(f"{name} has shape {shape} but {other} has shape {other_shape}: {why}")

    if len(weights) < 1 or len(weights) != len(biases):
        raise ValueError(
            f"need one bias per weight matrix and at least one layer: "
            f"got {len(weights)} weights and {len(biases)} biases"
        )
    named = [("x", x), ("y", y)] + [(f"weights[{i}]", w) for i, w in enumerate(weights)]
    for name, a in named:
        if a is not None and a.ndim != 2:
            raise ValueError(f"{name} has shape {a.shape} but must be 2-D (rows are samples)")
    if x.shape[1] != weights[0].shape[0]:
        fail(
            "x",
            x.shape,
            "weights[0]",
            weights[0].shape,
            f"x's width must equal weights[0]'s fan_in ({weights[0].shape[0]})",
        )
    for i in range(1, len(weights)):
        if weights[i].shape[0] != weights[i - 1].shape[1]:
            fail(
                f"weights[{i}]",
                weights[i].shape,
                f"weights[{i - 1}]",
                weights[i - 1].shape,
                f"weights[{i}]'s fan_in must equal weights[{i - 1}]'s fan_out "
                f"({weights[i - 1].shape[1]})",
            )
    for i, (w, b) in enumerate(zip(weights, biases)):
        if b.shape != (1, w.shape[1]):
            fail(
                f"biases[{i}]",
                b.shape,
                f"weights[{i}]",
                w.shape,
                f"biases[{i}] must have shape (1, {w.shape[1]}), one entry per output unit",
            )
    if y is not None and y.shape[0] != x.shape[0]:
        fail("y", y.shape, "x", x.shape, "y needs one row (target) per row (sample) of x")
    if y is not None and y.shape[1] != weights[-1].shape[1]:
        last = len(weights) - 1
        fail(
            "y",
            y.shape,
            f"weights[{last}]",
            weights[-1].shape,
            f"y's width must equal the output layer's fan_out ({weights[-1].shape[1]})",
        )


def _prepare(weights, biases, x, y=None):
    """Convert every argument to float64 numpy arrays and validate their shapes."""
    require(
        isinstance(weights, (list, tuple)),
        "weights",
        weights,
        "a list of (fan_in, fan_out) matrices, one per layer",
    )
    require(
        isinstance(biases, (list, tuple)),
        "biases",
        biases,
        "a list of (1, fan_out) rows, one per layer",
    )
    weights = [_real("weights", i, w) for i, w in enumerate(weights)]
    biases = [_real("biases", i, b) for i, b in enumerate(biases)]
    x = _real("x", None, x)
    y = None if y is None else _real("y", None, y)
    _validate_shapes(weights, biases, x, y)
    return weights, biases, x, y


def _validate_network(weights, reg, output, activation, loss="mse"):
    """Refuse a bad ``reg``, ``output`` or ``loss``; return every layer's activation, output
    included."""
    require_nonnegative("reg", reg)
    require(isinstance(output, str) and output in OUTPUTS, "output", output, f"one of {OUTPUTS}")
    require(isinstance(loss, str) and loss in LOSSES, "loss", loss, f"one of {LOSSES}")
    require(
        loss == "mse" or output == "identity",
        "output",
        output,
        '"identity" with loss="cross_entropy" (the loss applies the softmax itself)',
    )
    return [*activation_names(activation, len(weights) - 1), output]


def forward(weights, biases, x, output="identity", activation="relu"):
    """The network's forward pass, keeping every layer's cache for ``gradients``.

    Args:
        weights: list of ``(fan_in, fan_out)`` arrays, one per layer (output layer included).
        biases: list of ``(1, fan_out)`` arrays, one per layer.
        x: ``(batch, d_in)`` inputs.
        output: ``"identity"`` (the output layer is ``x @ W + b``) or ``"softmax"`` (followed by a
            row-wise softmax, as in the lab's worked example).
        activation: the hidden layers' activation, one of ``lab3.functional.HIDDEN_ACTIVATIONS``
            (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"identity"``), or a list with one per hidden
            layer (as ``lab3.MultiLayerPerceptron``'s ``activation``).

    Returns:
        ``(y_hat, caches)``: ``y_hat`` of shape ``(batch, d_out)`` and one
        ``(activation, linear_cache, activation_cache)`` per layer.
    """
    weights, biases, x, _ = _prepare(weights, biases, x)
    return _forward(weights, biases, x, _validate_network(weights, 0.0, output, activation))


def _forward(weights, biases, x, activations):
    """``forward`` on arguments already converted and validated; one activation per layer."""
    h, caches = x, []
    for w, b, activation in zip(weights, biases, activations):
        z, linear_cache = linear_forward(h, w, b)
        h, activation_cache = _ACTIVATIONS[activation][0](z)
        caches.append((activation, linear_cache, activation_cache))
    return h, caches


def objective(weights, biases, x, y, reg=0.0, output="identity", activation="relu", loss="mse"):
    """The objective ``loss(y, y_hat) + reg * sum(||W||_F**2)`` as a float.

    Arguments as for ``forward``, plus ``y`` ``(batch, d_out)`` targets, ``reg``, a finite
    number >= 0, and ``loss``: ``"mse"`` (the lab's ``mean((y - y_hat)**2)``) or
    ``"cross_entropy"`` (softmax cross-entropy of the outputs against one-hot ``y``; needs
    ``output="identity"``).
    """
    weights, biases, x, y = _prepare(weights, biases, x, y)
    layers = _validate_network(weights, reg, output, activation, loss)
    y_hat, _ = _forward(weights, biases, x, layers)
    value, _ = _LOSS_PAIRS[loss][0](y_hat, y)
    return float(value + l2_reg(weights, reg))


def gradients(weights, biases, x, y, reg=0.0, output="identity", activation="relu", loss="mse"):
    """Hand-derived gradients of ``objective`` with respect to every weight and bias.

    Arguments as for ``objective``; numpy arrays, nested lists and torch tensors are accepted.

    Returns:
        ``(dW, db)``: lists of float64 arrays shaped like ``weights`` and ``biases``.
    """
    weights, biases, x, y = _prepare(weights, biases, x, y)
    activations = _validate_network(weights, reg, output, activation, loss)
    y_hat, caches = _forward(weights, biases, x, activations)
    loss_forward, loss_backward = _LOSS_PAIRS[loss]
    _, loss_cache = loss_forward(y_hat, y)
    dout = loss_backward(loss_cache)  # (batch, d_out): where the chain rule starts
    dW, db = [None] * len(weights), [None] * len(biases)
    # Walk the layers backwards: each backward turns d loss / d (its output) into
    # d loss / d (its input), which is the dout of the layer before it.
    for i in reversed(range(len(weights))):
        activation, linear_cache, activation_cache = caches[i]
        dz = _ACTIVATIONS[activation][1](dout, activation_cache)
        dout, dw, db[i] = linear_backward(dz, linear_cache)
        # The penalty depends on W directly, not through the network: add its gradient once.
        dW[i] = dw + l2_backward(weights[i], reg)
    return dW, db
