"""What each hidden unit of a 2-input network computes, drawn over the plane.

``unit_activations(model, grid)`` evaluates every hidden layer on a grid of points and returns
each unit's activation; ``plot_units`` draws the first hidden layer's units as small images, one
per unit, and ``plot_decision`` draws the network's output (for two classes: the probability of
class 1, softmax of the outputs) with the data's points on top. A ReLU unit is a ramp: zero on one
side of a line, growing on the other; the network's output is built from such ramps.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

from lab3.mlp import ACTIVATIONS
from lab3.validation import require

GRID_STEPS = 101  # per axis: a smooth picture that stays cheap (10,201 points)


def plane_grid(limit=1.2, steps=GRID_STEPS):
    """``(xs, ys, points)``: the axes' ``(steps,)`` coordinates and the ``(steps * steps, 2)`` grid
    points of ``[-limit, limit]^2`` as rows (row ``i * steps + j`` is ``(xs[j], ys[i])``)."""
    require(limit > 0, "limit", limit, "a positive number")
    require(isinstance(steps, int) and 2 <= steps <= 1000, "steps", steps, "an integer, 2 to 1000")
    xs = np.linspace(-limit, limit, steps)
    gx, gy = np.meshgrid(xs, xs)
    return xs, xs, np.column_stack([gx.ravel(), gy.ravel()])


def unit_activations(model, points):
    """One ``(n, width)`` float64 array per hidden layer: each unit's activation on ``points``
    ``(n, num_inputs)`` (rows), as ``model.forward`` computes them on its way to the output."""
    require(
        model.num_inputs == np.shape(points)[1],
        "points",
        np.shape(points),
        f"(n, {model.num_inputs}) rows",
    )
    h, layers = torch.as_tensor(np.asarray(points), dtype=torch.float32), []
    with torch.no_grad():
        for w, b, name in zip(model.weights, model.biases, model.activations):
            h = ACTIVATIONS[name](h @ w + b)
            layers.append(h.double().numpy())
    return layers


def class_probability(model, points):
    """``(n,)``: softmax of the outputs on ``points`` ``(n, 2)``, the probability of class 1."""
    with torch.no_grad():
        return torch.softmax(model.forward(points).double(), dim=1)[:, 1].numpy()


def plot_units(model, layer=0, limit=1.2, columns=8, title=None):
    """Each unit of hidden layer ``layer`` (0: the first) as an image over the plane; returns the
    figure. The colour scale is each unit's own: black is its smallest value, 0 for a ReLU unit
    switched off, near -1 for a saturated tanh unit."""
    require(
        0 <= layer < len(model.hidden_sizes),
        "layer",
        layer,
        f"a hidden layer, 0 to {len(model.hidden_sizes) - 1}",
    )
    xs, ys, points = plane_grid(limit)
    values = unit_activations(model, points)[layer]
    width = values.shape[1]
    cols = min(columns, width)
    rows = -(-width // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows + 0.3), squeeze=False)
    for unit, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if unit >= width:
            ax.axis("off")
            continue
        ax.imshow(
            values[:, unit].reshape(len(ys), len(xs)),
            origin="lower",
            cmap="magma",
            extent=(-limit, limit, -limit, limit),
        )
        ax.set_title(f"unit {unit + 1}", fontsize=8)
    fig.suptitle(title or f"hidden layer {layer + 1}: each unit over the plane", fontsize=10)
    fig.tight_layout()
    return fig


def plot_decision(model, inputs, targets, limit=1.2, ax=None, title="output over the plane"):
    """The probability of class 1 over the plane with the points ``inputs`` ``(2, n)`` coloured by
    their one-hot ``targets`` ``(2, n)``; the 0.5 contour is the decision boundary. Returns the
    axes."""
    xs, ys, points = plane_grid(limit)
    p = class_probability(model, points).reshape(len(ys), len(xs))
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.4))
    ax.imshow(
        p,
        origin="lower",
        cmap="coolwarm",
        vmin=0,
        vmax=1,
        extent=(-limit, limit, -limit, limit),
        alpha=0.8,
    )
    ax.contour(xs, ys, p, levels=[0.5], colors="k", linewidths=1)
    x = np.asarray(inputs)
    labels = np.asarray(targets).argmax(axis=0)
    ax.scatter(
        x[0], x[1], c=labels, cmap="coolwarm", vmin=0, vmax=1, s=8, edgecolors="k", linewidths=0.3
    )
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), title=title, aspect="equal")
    return ax
