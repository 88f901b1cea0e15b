"""Pictures for the training lessons: loss curves and the plane before and after training.

Each function draws on a matplotlib ``Axes`` it is given (or a new figure) and returns the figure,
so a notebook can combine them; nothing here trains or changes a model.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch


def plot_losses(histories, per="step", ax=None, title=None, smooth=50):
    """Loss curves on a log scale, one per ``{label: History}``.

    ``per="step"`` plots the batch loss of every SGD step against the number of samples seen so far
    (step * batch size), so runs with different batch sizes line up by compute spent; the raw
    curve is drawn faintly and its running mean over ``smooth`` steps on top. ``per="epoch"``
    plots the training-set loss after each epoch.
    """
    fig, ax = _figure(ax, (7, 4))
    for label, history in histories.items():
        if per == "step":
            seen = np.arange(1, history.steps + 1) * history.batch_size
            raw = ax.plot(seen, history.step_loss, lw=0.5, alpha=0.25)[0]
            window = max(1, min(smooth, history.steps // 20))
            mean = np.convolve(history.step_loss, np.ones(window) / window, mode="valid")
            ax.plot(seen[window - 1:], mean, color=raw.get_color(), lw=1.5,
                    label=f"{label} (mean of {window} steps)" if window > 1 else label)
            ax.set_xlabel("samples seen (steps x batch size)")
        else:
            ax.plot(np.arange(1, len(history.epoch_loss) + 1), history.epoch_loss, marker="o", ms=3, label=label)
            ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.set_ylabel("mse (log scale)")
    ax.set_title(title or f"loss per {per}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_plane(model, matrix, initial_model=None, title="the plane, mapped"):
    """Panels side by side: points of the plane, their images under ``matrix``, and under the network
    before (``initial_model``, if given) and after training (``model``).

    The points are a grid of [-1, 1]^2 and the unit circle, coloured by angle, so a rotation shows as
    the colours turning. ``matrix`` is ``(2, 2)`` and acts on row vectors (``y = x @ M``).
    """
    points, colours = _grid_and_circle()
    panels = [("input x", points),
              ("true transform  x @ M", points @ torch.as_tensor(matrix, dtype=torch.float32))]
    with torch.no_grad():
        if initial_model is not None:
            panels.append(("network before training", initial_model.forward(points)))
        panels.append(("network after training", model.forward(points)))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.9), sharex=True, sharey=True)
    for ax, (name, xy) in zip(axes, panels):
        ax.scatter(xy[:, 0], xy[:, 1], c=colours, cmap="hsv", s=6)
        ax.set_title(name, fontsize=10)
        ax.set_aspect("equal")
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


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
    """``(points, colours)``: a ``steps x steps`` grid of [-1, 1]^2 plus the unit circle, as rows."""
    axis = torch.linspace(-1, 1, steps)
    grid = torch.cartesian_prod(axis, axis)
    angles = torch.linspace(0, 2 * math.pi, circle_points + 1)[:-1]
    circle = torch.stack([angles.cos(), angles.sin()], dim=1)
    points = torch.cat([grid, circle])
    colours = torch.atan2(points[:, 1], points[:, 0]).numpy()
    return points, colours


def _figure(ax, size):
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def plot_sweep_heatmaps(rows, value, x="batch_size", y="learning_rate", by="epochs", log=True):
    """One heatmap of ``value`` over ``x`` by ``y`` per value of ``by``, from a sweep's rows.

    ``rows`` are ``lab3.sweep.load_results`` dicts. A cell whose run is not ``ok`` is grey and
    labelled with its status (``diverged``, ``failed``); the colour scale is logarithmic unless
    ``log=False``.
    """
    from matplotlib import patheffects
    from matplotlib.colors import LogNorm

    panels = sorted({row[by] for row in rows})
    xs, ys = sorted({row[x] for row in rows}), sorted({row[y] for row in rows})
    ok = [row[value] for row in rows if row["status"] == "ok" and row[value] is not None]
    norm = LogNorm(min(ok), max(ok)) if log and ok and min(ok) > 0 else None
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        grid = np.full((len(ys), len(xs)), np.nan)
        labels = {}
        for row in rows:
            if row[by] != panel:
                continue
            cell = (ys.index(row[y]), xs.index(row[x]))
            if row["status"] == "ok":
                grid[cell] = row[value]
                labels[cell] = f"{row[value]:.2g}"
            else:
                labels[cell] = row["status"]
        ax.set_facecolor("lightgray")
        image = ax.imshow(grid, origin="lower", cmap="viridis_r", norm=norm, aspect="auto")
        for (i, j), text in labels.items():
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [str(v) for v in ys])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{value}, {by} = {panel}")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.85)
    return fig
