"""The curvature of the objective: its sharpness, and the largest learning rate it allows.

Near a minimum the objective is close to a quadratic, ``J(θ* + d) ≈ J* + ½ dᵀ H d``, and one step
of gradient descent maps the error ``d`` to ``(I - η H) d``. Along an eigenvector of the Hessian
``H`` with eigenvalue λ it is multiplied by ``1 - η λ`` each step, so it shrinks only while
``η < 2 / λ``. The largest eigenvalue ``λ_max``, the **sharpness**, sets the **stability limit**
``2 / λ_max`` of full-batch gradient descent at that point: above it the steps overshoot, and
the error along the sharpest direction grows. A negative eigenvalue means the objective curves
*down* along some direction: a saddle, which gradient descent leaves, slowly (a plateau).

``Curvature`` gives Hessian-vector products ``H v`` without forming ``H`` (``P x P`` numbers for
``P`` parameters): torch's autograd differentiates the gradient once more. ReLU's slope at its
kink is 0, as in ``lab3.gradients``, whose objective this is (``tests/test_curvature.py`` ties
the two together). The extreme eigenvalues come from power iteration on a small block of vectors
(subspace iteration): the lab's problem has two almost equal top eigenvalues (a rotation has no
preferred direction), on which single-vector power iteration crawls, while a block of four
converges in a few dozen products.
"""

import numpy as np
import torch

from lab3.backprop import _prepare
from lab3.functional import activation_names, l2_reg, mse
from lab3.mlp import ACTIVATIONS

BLOCK = 4  # vectors iterated together: more than the lab's near-degenerate top pair
MAX_ITERATIONS = 2000
TOLERANCE = 1e-12  # relative change of the extreme Ritz value that ends the iteration


class Curvature:
    """The Hessian ``H`` of ``lab3.objective`` at one point, as an operator.

    Arguments as for ``lab3.gradients``: ``weights`` (``(fan_in, fan_out)`` arrays or tensors),
    ``biases`` (``(1, fan_out)``), ``x`` ``(batch, d_in)``, ``y`` ``(batch, d_out)`` (the lab's
    ``inputs.T`` and ``targets.T``), ``reg`` and the hidden ``activation``; checked once, here.
    The objective is the full-batch one over every row of ``x``. Parameters are ordered as one
    flat vector: per layer ``W`` row by row, then ``b``.
    """

    def __init__(self, weights, biases, x, y, reg=0.0, activation="relu"):
        weights, biases, x, y = _prepare(weights, biases, x, y)
        activations = activation_names(activation, len(weights) - 1)
        flat = np.concatenate(
            [np.concatenate([w.ravel(), b.ravel()]) for w, b in zip(weights, biases)]
        )
        self.theta = torch.tensor(flat, requires_grad=True)  # float64, as the arrays
        value = _objective(
            self.theta,
            [w.shape for w in weights],
            activations,
            torch.from_numpy(x),
            torch.from_numpy(y),
            reg,
        )
        (self._gradient,) = torch.autograd.grad(value, self.theta, create_graph=True)
        self.size = self.theta.numel()

    def hvp(self, v):
        """``H v`` for ``v`` ``(P,)``, as a float64 numpy array."""
        v = torch.as_tensor(np.asarray(v, dtype=np.float64))
        (product,) = torch.autograd.grad(self._gradient, self.theta, v, retain_graph=True)
        return product.numpy()

    def dense(self):
        """The whole ``(P, P)`` Hessian, one ``hvp`` per column (for small nets and tests)."""
        return np.column_stack([self.hvp(e) for e in np.eye(self.size)])

    def largest(self, seed=0):
        """``λ_max``, the largest eigenvalue of ``H`` (by block power iteration)."""
        return _largest_eigenvalue(self.hvp, self.size, seed)

    def smallest(self, seed=0):
        """``λ_min``, the smallest eigenvalue of ``H`` (negative at a saddle)."""
        return -_largest_eigenvalue(lambda v: -self.hvp(v), self.size, seed)


def _objective(theta, shapes, activations, x, y, reg):
    """``lab3.objective`` (mse + reg * sum ||W||²) at the flat parameter vector ``theta``."""
    weights, biases, offset = [], [], 0
    for fan_in, fan_out in shapes:
        weights.append(theta[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out))
        offset += fan_in * fan_out
        biases.append(theta[offset : offset + fan_out].reshape(1, fan_out))
        offset += fan_out
    h = x
    for w, b, name in zip(weights, biases, activations):
        h = ACTIVATIONS[name](h @ w + b)
    return mse(y, h @ weights[-1] + biases[-1]) + l2_reg(weights, reg)


def sharpness(weights, biases, x, y, reg=0.0, activation="relu"):
    """``λ_max``: the largest eigenvalue of the Hessian of ``lab3.objective`` at this point.

    Arguments as for ``lab3.gradients`` (see ``Curvature``). ``stability_limit(λ_max)`` is the
    learning rate above which full-batch gradient descent overshoots there. On the lab's data
    with reg 0.001 it is about 1.0 at the lab's fresh 2-3-2 network and grows as it trains.
    """
    return Curvature(weights, biases, x, y, reg, activation).largest()


def stability_limit(top_eigenvalue):
    """``2 / λ_max``: the largest learning rate at which gradient descent does not blow up along
    the sharpest direction (``inf`` where the objective does not curve up at all)."""
    return 2.0 / top_eigenvalue if top_eigenvalue > 0 else float("inf")


def _largest_eigenvalue(hvp, size, seed):
    """The largest (algebraic) eigenvalue of the symmetric operator ``hvp`` on ``R^size``.

    Block power iteration finds the eigenvalue largest in *size*, ``ρ``. When it is positive it
    is the answer; otherwise the spectrum is shifted up by ``ρ`` (every eigenvalue of
    ``H + ρ I`` lies in ``[0, 2ρ]``, the top one largest) and iterated again.
    """
    dominant = _top_ritz_value(hvp, size, seed, key=abs)
    spread = abs(dominant)
    if dominant >= 0 or not np.isfinite(dominant):
        return dominant
    return _top_ritz_value(lambda v: hvp(v) + spread * v, size, seed, key=None) - spread


def _top_ritz_value(hvp, size, seed, key):
    """The eigenvalue of ``hvp`` largest in size (``key=abs``) or largest (``key=None``), by
    subspace iteration on a block of ``BLOCK`` vectors; the block's other Ritz values may still
    be mixed, but the extreme one converges."""
    rng = np.random.default_rng(seed)
    vectors, _ = np.linalg.qr(rng.standard_normal((size, min(BLOCK, size))))
    previous, value = None, 0.0
    for _ in range(MAX_ITERATIONS):
        images = np.column_stack([hvp(v) for v in vectors.T])
        ritz = np.linalg.eigvalsh((vectors.T @ images + images.T @ vectors) / 2)
        value = float(max(ritz, key=key) if key else ritz[-1])
        if not np.isfinite(value):
            return value
        if previous is not None and abs(value - previous) <= TOLERANCE * max(abs(value), 1e-300):
            return value
        previous = value
        vectors, _ = np.linalg.qr(images)
    return value
