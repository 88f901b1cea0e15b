"""The lab's building blocks, for numpy arrays and torch tensors alike.

Each function returns the same kind it was given (numpy in -> numpy out, torch in -> torch out),
so a notebook can put the two side by side and torch autograd can differentiate the torch path.
Batches are rows: ``x`` has shape ``(batch, features)``.
"""

import numpy as np
import torch

from lab3.validation import require, require_nonnegative

_ARRAY = "a numpy array or torch tensor of real numbers"
HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")  # "identity": no activation, h = z
LOSSES = ("mse", "cross_entropy")  # cross_entropy: softmax of the outputs against one-hot targets


def activation_names(activation, num_hidden):
    """``activation`` as a tuple with one name per hidden layer; refuse unknown names.

    ``activation`` is one of ``HIDDEN_ACTIVATIONS`` (for every hidden layer) or a list of them,
    one per hidden layer. ``lab3.MultiLayerPerceptron`` and ``lab3.gradients`` both read it so.
    """
    names = [activation] * num_hidden if isinstance(activation, str) else activation
    require(
        isinstance(names, (list, tuple))
        and len(names) == num_hidden
        and all(isinstance(a, str) and a in HIDDEN_ACTIVATIONS for a in names),
        "activation",
        activation,
        f"one of {HIDDEN_ACTIVATIONS}, or a list of them with one per hidden layer",
    )
    return tuple(names)


def _lib(x):
    """The array library that ``x`` belongs to: ``torch`` for tensors, ``numpy`` otherwise."""
    return torch if isinstance(x, torch.Tensor) else np


def _require_array(name, x):
    """Refuse anything but a real-valued numpy array or torch tensor (no lists, text, complex).

    Cheap on purpose (a type and a dtype test): the autograd engine calls ``mse`` every step.
    """
    if isinstance(x, torch.Tensor):
        ok = x.is_floating_point() or not (x.is_complex() or x.dtype == torch.bool)
    elif isinstance(x, (np.ndarray, np.generic)):
        ok = x.dtype.kind in "iuf"
    else:
        require(False, name, x, _ARRAY)
    # an array is named by its shape, as everywhere in lab3, and its dtype says what is wrong
    require(ok, name, tuple(x.shape), f"{_ARRAY}, not {x.dtype}")


def relu(x):
    """``max(0, x)`` elementwise. Any shape.

    At the kink ``x == 0`` we take the slope to be 0, as ``torch.relu``'s autograd does (the lab's
    ``torch.max(zeros, x)`` splits it 0.5/0.5 instead); ``lab3.backprop`` uses the same choice.
    """
    _require_array("x", x)
    return torch.relu(x) if isinstance(x, torch.Tensor) else np.maximum(x, 0)


def tanh(x):
    """``tanh(x)`` elementwise, any shape; its slope is ``1 - tanh(x)**2``."""
    _require_array("x", x)
    return torch.tanh(x) if isinstance(x, torch.Tensor) else np.tanh(x)


def sigmoid(x):
    """``1 / (1 + exp(-x))`` elementwise, any shape; its slope is ``s * (1 - s)``.

    numpy's version is written as ``(1 + tanh(x / 2)) / 2`` (the same function), which never
    overflows: ``exp(-x)`` would for ``x`` below about -710.
    """
    _require_array("x", x)
    return torch.sigmoid(x) if isinstance(x, torch.Tensor) else (1.0 + np.tanh(x / 2.0)) / 2.0


def softmax(logits):
    """Row-wise softmax of ``logits`` ``(batch, k)`` (or ``(k,)``): each row sums to 1.

    Subtracting the row maximum first changes nothing mathematically (softmax is invariant to
    adding a constant to every logit) but keeps ``exp`` from overflowing: the lab's version
    returns NaN for logits near 1000, this one returns the right answer.
    """
    _require_array("logits", logits)
    require(
        logits.ndim >= 1 and logits.shape[-1] >= 1,
        "logits",
        tuple(logits.shape),
        "at least one dimension, the last one not empty",
    )
    lib = _lib(logits)
    # torch accepts numpy's axis=/keepdims= spellings, so one line serves both libraries.
    exp = lib.exp(logits - lib.amax(logits, axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def mse(y, y_hat):
    """Mean squared error over *every* element: ``mean((y - y_hat)**2)``.

    ``y`` and ``y_hat`` are both numpy arrays or both torch tensors, of the same shape.
    """
    _require_array("y", y)
    _require_array("y_hat", y_hat)
    require(
        _lib(y) is _lib(y_hat),
        "y_hat",
        type(y_hat).__name__,
        f"the same kind as y ({type(y).__name__})",
    )
    require(
        tuple(y.shape) == tuple(y_hat.shape),
        "y_hat",
        tuple(y_hat.shape),
        f"the shape of y, {tuple(y.shape)}",
    )
    require(
        y.numel() > 0 if isinstance(y, torch.Tensor) else y.size > 0,
        "y",
        tuple(y.shape),
        "at least one element",
    )
    return ((y - y_hat) ** 2).mean()


def _require_pair(y, logits, name="logits"):
    """``y`` and ``logits``: both numpy or both torch, the same ``(batch, k)`` shape, batch >= 1."""
    _require_array("y", y)
    _require_array(name, logits)
    require(
        _lib(y) is _lib(logits),
        name,
        type(logits).__name__,
        f"the same kind as y ({type(y).__name__})",
    )
    require(
        logits.ndim == 2 and logits.shape[0] >= 1 and logits.shape[1] >= 1,
        name,
        tuple(logits.shape),
        "a (batch, k) array with batch >= 1 and k >= 1",
    )
    require(
        tuple(y.shape) == tuple(logits.shape),
        "y",
        tuple(y.shape),
        f"the shape of {name}, {tuple(logits.shape)} (one-hot rows)",
    )


def log_softmax(logits):
    """Row-wise ``log(softmax(logits))`` of ``(batch, k)`` logits, computed without overflow.

    ``z - max(z) - log(sum(exp(z - max(z))))``: after subtracting the row maximum every ``exp``
    is at most 1 and the sum at least 1, so neither overflows nor underflows to ``log(0)``.
    """
    _require_array("logits", logits)
    lib = _lib(logits)
    shifted = logits - lib.amax(logits, axis=-1, keepdims=True)
    return shifted - lib.log(lib.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(y, logits):
    """Softmax cross-entropy, averaged over the batch: ``mean_n(-sum_j y[n, j] log s[n, j])``.

    ``y``: ``(batch, k)`` one-hot targets (any rows of probabilities work); ``logits``:
    ``(batch, k)`` outputs of the network, before any softmax. Stable at any logit size (it uses
    ``log_softmax``): logits of +-1000 give the right, finite answer. Its gradient with respect to
    ``logits`` is ``(softmax(logits) - y) / batch`` (``lab3.backprop.cross_entropy_backward``).
    """
    _require_pair(y, logits)
    return -(y * log_softmax(logits)).sum() / logits.shape[0]


def accuracy(y, logits):
    """Fraction of rows whose largest logit is at the one-hot target's class, a float in [0, 1].

    ``y`` ``(batch, k)`` one-hot targets, ``logits`` ``(batch, k)`` (or probabilities: the
    largest entry is the same). Ties go to the first class, as ``argmax`` does.
    """
    _require_pair(y, logits)
    return float((y.argmax(axis=1) == logits.argmax(axis=1)).sum()) / logits.shape[0]


def l2_reg(weights, reg=1.0):
    """``reg * sum(||W||_F**2)`` over one weight matrix or a list of them (biases are not passed).

    The lab's ``l2_reg_np(w)`` is ``l2_reg(w)``; its objective adds ``l2_reg([w_1, w_2], 0.001)``.
    """
    matrices = weights if isinstance(weights, (list, tuple)) else [weights]
    for i, w in enumerate(matrices):
        _require_array(f"weights[{i}]" if matrices is weights else "weights", w)
    require_nonnegative("reg", reg)
    return reg * sum((w**2).sum() for w in matrices)
