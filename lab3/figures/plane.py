"""The plane before and after training: where a network sends a grid and a circle of points,
beside where the true map sends them, and the learned matrix printed next to the true one.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch


def plot_plane(model, matrix, initial_model=None, title="the plane, mapped"):
    """Panels side by side: points of the plane, their images under ``matrix``, and under the
    network before (``initial_model``, if given) and after training (``model``).

    The points are a grid of [-1, 1]^2 and the unit circle, coloured by angle, so a rotation shows
    as the colours turning. ``matrix`` is ``(2, 2)`` and acts on row vectors (``y = x @ M``).
    """
    points, colours = _grid_and_circle()
    panels = [
        ("input x", points),
        ("true transform  x @ M", points @ torch.as_tensor(matrix, dtype=torch.float32)),
    ]
    with torch.no_grad():
        if initial_model is not None:
            panels.append(("network before training", initial_model.forward(points)))
        panels.append(("network after training", model.forward(points)))
    fig, axes = plt.subplots(1, len(panels), figsize=_plane_size(panels), sharex=True, sharey=True)
    for ax, (name, xy) in zip(axes, panels):
        ax.scatter(xy[:, 0], xy[:, 1], c=colours, cmap="hsv", s=6)
        ax.set_title(name, fontsize=10)
        ax.set_aspect("equal")
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
    for ax in axes:
        ax.set_xlabel("coordinate 1")
    axes[0].set_ylabel("coordinate 2")
    fig.suptitle(title)
    # the colours need a key, but a colour bar would add an Axes: a line of text instead
    fig.text(
        0.5,
        0.005,
        "colour: the angle of the input point, so each point keeps its colour in every panel",
        ha="center",
        va="bottom",
        fontsize=9,
    )
    # room for the line of text below the panels: 0.4 inch, whatever the height
    fig.tight_layout(rect=(0, 0.4 / fig.get_figheight(), 1, 1))
    return fig


def _plane_size(panels, panel_width=3.6):
    """Figure size ``(width, height)`` in inches for the plane's panels, side by side.

    The panels keep equal axes, so a wide image (a shear, a stretch) would leave empty bands above
    and below square panels: the height follows the data's height-to-width ratio instead (kept
    between 0.4 and 1.5), plus room for the titles and the line of text below.
    """
    xy = torch.cat([torch.as_tensor(points, dtype=torch.float32) for _, points in panels])
    width, height = (xy.max(dim=0).values - xy.min(dim=0).values).tolist()
    ratio = min(max(height / max(width, 1e-9), 0.4), 1.5)
    return panel_width * len(panels), 0.8 * panel_width * ratio + 1.1


def format_matrices(learned, true, names=("learned", "true")):
    """The learned ``(2, 2)`` matrix printed next to the true one, rounded to 4 decimals."""
    rows_learned, rows_true = np.asarray(learned, dtype=float), np.asarray(true, dtype=float)
    width = 20
    lines = [f"{names[0]:<{width}}{names[1]}"]
    for a, b in zip(rows_learned, rows_true):
        lines.append(f"{_row(a):<{width}}{_row(b)}")
    return "\n".join(lines)


def _row(values):
    # `+ 0.0` turns -0.0 into 0.0, so a rounded zero prints the same on every machine
    return "[" + " ".join(f"{round(v, 4) + 0.0:7.4f}" for v in values) + "]"


def _grid_and_circle(steps=11, circle_points=120):
    """``(points, colours)``: a ``steps x steps`` grid of [-1, 1]^2 and the unit circle, as rows."""
    axis = torch.linspace(-1, 1, steps)
    grid = torch.cartesian_prod(axis, axis)
    angles = torch.linspace(0, 2 * math.pi, circle_points + 1)[:-1]
    circle = torch.stack([angles.cos(), angles.sin()], dim=1)
    points = torch.cat([grid, circle])
    colours = torch.atan2(points[:, 1], points[:, 0]).numpy()
    return points, colours
