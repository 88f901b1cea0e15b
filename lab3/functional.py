"""The lab's building blocks, for numpy arrays and torch tensors alike.

Each function returns the same kind it was given (numpy in -> numpy out, torch in -> torch out),
so a notebook can put the two side by side and torch autograd can differentiate the torch path.
Batches are rows: ``x`` has shape ``(batch, features)``.
"""

import numpy as np
import torch


def _lib(x):
    """The array library that ``x`` belongs to: ``torch`` for tensors, ``numpy`` otherwise."""
    return torch if isinstance(x, torch.Tensor) else np


def relu(x):
    """``max(0, x)`` elementwise. Any shape.

    At the kink ``x == 0`` we take the slope to be 0, as ``torch.relu``'s autograd does (the lab's
    ``torch.max(zeros, x)`` splits it 0.5/0.5 instead); ``lab3.backprop`` uses the same choice.
    """
    return torch.relu(x) if isinstance(x, torch.Tensor) else np.maximum(x, 0)


def softmax(logits):
    """Row-wise softmax of ``logits`` ``(batch, k)`` (or ``(k,)``): each row sums to 1.

    Subtracting the row maximum first changes nothing mathematically (softmax is invariant to
    adding a constant to every logit) but keeps ``exp`` from overflowing: the lab's version
    returns NaN for logits near 1000, this one returns the right answer.
    """
    lib = _lib(logits)
    # torch accepts numpy's axis=/keepdims= spellings, so one line serves both libraries.
    exp = lib.exp(logits - lib.amax(logits, axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def mse(y, y_hat):
    """Mean squared error over *every* element: ``mean((y - y_hat)**2)``. Shapes must match."""
    if tuple(y.shape) != tuple(y_hat.shape):
        raise ValueError(f"mse needs equal shapes: y has {tuple(y.shape)}, y_hat has {tuple(y_hat.shape)}")
    return ((y - y_hat) ** 2).mean()


def l2_reg(weights, reg=1.0):
    """``reg * sum(||W||_F**2)`` over one weight matrix or a list of them (biases are not passed).

    The lab's ``l2_reg_np(w)`` is ``l2_reg(w)``; its objective adds ``l2_reg([w_1, w_2], 0.001)``.
    """
    matrices = weights if isinstance(weights, (list, tuple)) else [weights]
    return reg * sum((w ** 2).sum() for w in matrices)
