"""The loss-landscape panel of lesson 07: the objective over a 2-D slice of parameter space.

All parameters of the network form one flat vector ``theta`` (per layer ``[[W], [b]]``, row by
row). The slice is the plane ``theta = ref + u * e1 + v * e2`` through two points:

* ``ref``: where the lab's SGD (single-sample, learning rate 0.1, 10 epochs) ends from the same
  initial network, on the landscape's samples;
* the initial network itself, at ``(u, v) = (D, 0)``: ``e1`` is the unit vector from ``ref`` to
  it and ``D`` their distance; ``e2`` is a random unit vector orthogonal to ``e1``.

``u`` and ``v`` are distances in parameter space. The trajectories are SGD *restricted to the
plane*: each step takes the gradient of the objective with respect to ``theta``, keeps its
components along ``e1`` and ``e2``, and moves by ``learning_rate`` times that. With orthonormal
``e1, e2`` this is plain SGD in the two coordinates, so the paths and the contours agree
exactly, and the learning rate means what it means in ``lab3.train``.

The contours depend only on the problem (data, network, init, seed, reg) and are cached per
problem; the trajectories are cached per problem, learning rate and batch size. The reference
(``lab3.explore.reference``) carries the sharpness there, ``lab3.sharpness``: the largest
eigenvalue of the whole objective's Hessian, not of this slice; ``2 / sharpness`` is the
stability limit of gradient descent near the learned map. The paths, confined to the plane, meet
only the plane's curvature (``slice_curvature``, smaller): their too-large learning rate is
twice the plane's limit, which the whole network could not take.
"""

import functools
from dataclasses import dataclass

import numpy as np

from lab3.explore.reference import REFERENCE_SAMPLES, problem_key, reference
from lab3.training.manual_engine import augmented

SAMPLES = REFERENCE_SAMPLES  # the objective is on the reference's samples (the first 200)
GRID = 41  # grid points per axis
STEPS = 100  # SGD steps per trajectory
MINI_BATCH = 32  # the mini-batch path's batch size when the setting's is 1
PATHS = ("single-sample SGD", "mini-batch SGD", "too large a learning rate")  # in this order
TOO_LARGE = 4.0  # the too-large path: lr = 4 / slice curvature, twice the plane's own limit
FAR = 100.0  # a path stops this many plot widths away from the reference (it diverges)


@dataclass
class Landscape:
    """A slice: ``values[i, j]`` is the objective at ``(u[j], v[i])``; ``start`` is ``(D, 0)``."""

    u: np.ndarray  # (GRID,)
    v: np.ndarray  # (GRID,)
    values: np.ndarray  # (GRID, GRID)
    start: tuple
    slice_curvature: float  # the largest eigenvalue of the Hessian *within this plane* (u, v)
    sharpness: float  # lambda_max of the objective's whole Hessian at the reference, or None
    note: str  # how the reference was found


def landscape(settings):
    """The ``Landscape`` of ``settings``' problem (cached: moving the learning rate reuses it)."""
    return _slice(problem_key(settings)).landscape


def trajectories(settings):
    """``{"name: numbers": (k, 2) array of (u, v)}``: the ``PATHS``, in order.

    Each runs ``STEPS`` steps from the initial network over the landscape's samples in order
    (shuffled each pass with ``settings.shuffle``); a path that diverges stops ``FAR`` plot widths
    away. Cached per problem, learning rate, batch size and shuffle.
    """
    return _paths(
        problem_key(settings), settings.learning_rate, settings.batch_size, settings.shuffle
    )


class _Net:
    """The problem's data and network shapes, with ``theta`` as one flat vector (numpy float64)."""

    def __init__(self, model, inputs, targets, reg):
        self.shapes = [(w.shape[0] + 1, w.shape[1]) for w in model.weights]
        self.relu = [a == "relu" for a in model.activations]
        self.x = augmented(inputs.T.double().numpy())  # (m, 3): [x, 1], as ManualNet's
        self.y = targets.T.double().numpy()  # (m, 2)
        self.reg = reg
        self.is_weight = np.concatenate(
            [np.r_[np.ones(r - 1), 0.0].repeat(c) for r, c in self.shapes]
        )  # 1 on weights, 0 on biases

    def flat(self, model):
        return np.concatenate(
            [
                np.vstack([w.detach().double().numpy(), b.detach().double().numpy()]).ravel()
                for w, b in zip(model.weights, model.biases)
            ]
        )

    def layers(self, theta):
        """``theta`` ``(..., P)`` -> per layer ``(..., fan_in + 1, fan_out)`` views."""
        out, offset = [], 0
        for rows, cols in self.shapes:
            piece = theta[..., offset : offset + rows * cols]
            out.append(piece.reshape(*theta.shape[:-1], rows, cols))
            offset += rows * cols
        return out

    def objective(self, thetas):
        """mse + reg * sum of squared weights, for each row of ``thetas`` ``(k, P)`` -> ``(k,)``."""
        h = self.x
        layers = self.layers(thetas)
        with np.errstate(all="ignore"):
            for a, relu in zip(layers[:-1], self.relu):
                z = np.matmul(h, a)  # (k, m, fan_out)
                h = np.concatenate(
                    [np.maximum(z, 0) if relu else z, np.ones((*z.shape[:-1], 1))], axis=-1
                )
            residual = np.matmul(h, layers[-1]) - self.y
            return (residual**2).mean(axis=(-2, -1)) + self.reg * (thetas**2) @ self.is_weight

    def gradient(self, theta, rows):
        """d objective / d theta ``(P,)`` on the samples ``rows`` (the lab's backprop, by hand)."""
        x, y = self.x[rows], self.y[rows]
        layers = self.layers(theta)
        inputs, zs, h = [], [], x
        for a, relu in zip(layers[:-1], self.relu):
            inputs.append(h)
            z = h @ a
            zs.append(z)
            h = np.hstack([np.maximum(z, 0) if relu else z, np.ones((len(rows), 1))])
        inputs.append(h)
        dz = 2.0 * (h @ layers[-1] - y) / y.size  # d mse / d y_hat
        grads = [None] * len(layers)
        for i in range(len(layers) - 1, -1, -1):
            grads[i] = inputs[i].T @ dz  # [[dW], [db]]
            if i:
                dz = (dz @ layers[i][:-1].T) * ((zs[i - 1] > 0) if self.relu[i - 1] else 1.0)
        return np.concatenate([g.ravel() for g in grads]) + 2.0 * self.reg * theta * self.is_weight


@dataclass
class _Slice:
    net: _Net
    ref: np.ndarray
    e1: np.ndarray
    e2: np.ndarray
    landscape: Landscape


@functools.lru_cache(maxsize=8)
def _slice(key):
    found = reference(key)
    net = _Net(found.start, found.inputs, found.targets, key[7])
    start = net.flat(found.start)
    rng = np.random.default_rng(key[3])
    if found.trained is not None:
        ref, note = net.flat(found.trained), "reference: where the lab's SGD ends"
    else:
        ref, note = start, "reference = start (the lab's SGD diverged)"
    distance = np.linalg.norm(start - ref)
    e1 = (start - ref) / distance if distance > 1e-9 else _unit(rng.standard_normal(start.size))
    e2 = rng.standard_normal(start.size)
    e2 = _unit(e2 - (e2 @ e1) * e1)
    extent = max(distance, 0.5)
    u = np.linspace(-0.5 * extent, 1.5 * extent, GRID)
    v = np.linspace(-extent, extent, GRID)
    values = np.stack([net.objective(ref + np.outer(u, e1) + vi * e2) for vi in v])
    curvature = _slice_curvature(net, ref, e1, e2, extent)
    land = Landscape(u, v, values, (float(distance), 0.0), curvature, found.sharpness, note)
    return _Slice(net, ref, e1, e2, land)


def _unit(vector):
    return vector / np.linalg.norm(vector)


def _slice_curvature(net, ref, e1, e2, extent):
    """The largest eigenvalue of the 2x2 Hessian of the objective in (u, v) at ``ref``, by
    differences: the curvature the paths, confined to the plane, meet. The whole network's
    Hessian curves more (``Landscape.sharpness``): a plane through two points misses its
    sharpest direction."""
    h = 1e-3 * extent
    offsets = [(0, 0), (h, 0), (-h, 0), (0, h), (0, -h), (h, h), (-h, -h), (h, -h), (-h, h)]
    f = net.objective(np.array([ref + a * e1 + b * e2 for a, b in offsets]))
    huu = (f[1] - 2 * f[0] + f[2]) / h**2
    hvv = (f[3] - 2 * f[0] + f[4]) / h**2
    huv = (f[5] + f[6] - f[7] - f[8]) / (4 * h**2)
    return float(np.linalg.eigvalsh(np.array([[huu, huv], [huv, hvv]])).max())


def path_settings(settings):
    """``{name: (learning_rate, batch_size)}`` of the three ``PATHS``.

    The mini-batch path uses the setting's batch size (``MINI_BATCH`` when that is 1); the
    too-large one that batch size and ``TOO_LARGE / slice_curvature``: twice the limit within the
    plane, where the paths are confined (10 times the setting's learning rate where the plane
    curves down at the reference).
    """
    key = problem_key(settings)
    return _plan(
        _slice(key).landscape.slice_curvature, key[-1], settings.learning_rate, settings.batch_size
    )


def _plan(curvature, m, learning_rate, batch_size):
    batch = min(m, batch_size if batch_size > 1 else MINI_BATCH)
    big = TOO_LARGE / curvature if curvature > 0 else 10.0 * learning_rate
    return dict(zip(PATHS, [(learning_rate, 1), (learning_rate, batch), (big, batch)]))


@functools.lru_cache(maxsize=32)
def _paths(key, learning_rate, batch_size, shuffle):
    piece = _slice(key)
    plan = _plan(piece.landscape.slice_curvature, key[-1], learning_rate, batch_size)
    return {name: _sgd(piece, lr, batch, shuffle) for name, (lr, batch) in plan.items()}


def _sgd(piece, learning_rate, batch, shuffle):
    """``STEPS`` steps of SGD restricted to the slice, from the start; ``(k, 2)`` points (u, v)."""
    net, ref, e1, e2 = piece.net, piece.ref, piece.e1, piece.e2
    m = net.x.shape[0]
    rng = np.random.default_rng(0)
    order = np.arange(m)
    point = np.array(piece.landscape.start)
    far = FAR * (piece.landscape.u[-1] - piece.landscape.u[0])
    path = [point.copy()]
    with np.errstate(all="ignore"):
        for step in range(STEPS):
            s = (step * batch) % m
            if shuffle and s < batch:
                order = rng.permutation(m)
            grad = net.gradient(ref + point[0] * e1 + point[1] * e2, order[s : s + batch])
            point = point - learning_rate * np.array([grad @ e1, grad @ e2])
            path.append(point.copy())
            if not np.abs(point).max() <= far:  # diverging (or NaN): off the picture for good
                break
    return np.array(path)
