"""Pictures for the training lessons: loss curves and the plane before and after training.

Each function draws on a matplotlib ``Axes`` it is given (or a new figure) and returns the figure,
so a notebook can combine them; nothing here trains or changes a model.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from lab3.checks import require


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
            ax.plot(
                seen[window - 1 :],
                mean,
                color=raw.get_color(),
                lw=1.5,
                label=f"{label} (mean of {window} steps)" if window > 1 else label,
            )
            ax.set_xlabel("samples seen (steps x batch size)")
        else:
            ax.plot(
                np.arange(1, len(history.epoch_loss) + 1),
                history.epoch_loss,
                marker="o",
                ms=3,
                label=label,
            )
            ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.set_ylabel("mse (log scale)")
    ax.set_title(title or f"loss per {per}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


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


def _figure(ax, size):
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def plot_lr_steps(records, ax=None):
    """Final mse against ``learning_rate * steps`` (log-log), one colour per batch size.

    ``records`` is an iterable of dicts (a sweep's ``load_results`` rows, or a pandas DataFrame)
    with the keys ``learning_rate``, ``steps``, ``batch_size`` and ``final_loss``. For small
    learning rates SGD moves the weights about ``learning_rate * steps`` along the mean gradient,
    whatever the batch size, so those runs fall on one curve; a run that leaves it shows where the
    batch size starts to matter. Points of the same batch size and number of steps (a learning-rate
    sweep) are joined by a thin line.

    A run with no finite, positive ``final_loss`` (missing, ``None``, NaN: a diverged or failed
    run) is drawn as an ``x`` at the top of the axes, in its batch size's colour, and the legend
    says so. Without ``steps`` it is placed at its planned number of steps,
    ``epochs * ceil(n_samples / batch_size)``, when the record has ``epochs`` (``n_samples``
    defaults to the lab's 1000); a record with no learning rate, batch size or steps to place it
    is skipped and counted in the legend.

    Returns the figure (drawn on ``ax`` if given).
    """
    from matplotlib.lines import Line2D

    rows = records.to_dict("records") if hasattr(records, "to_dict") else list(records)
    require(
        len(rows) > 0,
        "records",
        rows,
        "at least one run (a dict with learning_rate, steps, batch_size and final_loss)",
    )
    points, skipped = [], 0
    for row in rows:
        point = _lr_steps_point(row)
        if point is None:
            skipped += 1
        else:
            points.append(point)
    fig, ax = _figure(ax, (7, 4.5))
    sizes = sorted({p["batch_size"] for p in points})
    colours = dict(zip(sizes, plt.cm.viridis(np.linspace(0, 0.85, max(len(sizes), 1)))))
    handles = []
    for size in sizes:
        mine = [p for p in points if p["batch_size"] == size]
        for steps in sorted({p["steps"] for p in mine if p["loss"] is not None}):
            line = sorted(
                (p["x"], p["loss"]) for p in mine if p["steps"] == steps and p["loss"] is not None
            )
            ax.plot(*zip(*line), color=colours[size], lw=0.8, alpha=0.6, marker="o", ms=5)
        handles.append(
            Line2D([], [], color=colours[size], marker="o", lw=0.8, label=f"batch size {size}")
        )
    failed = [p for p in points if p["loss"] is None]
    if failed:
        # x in data coordinates, y just below the top of the axes, whatever the loss scale
        top = ax.get_xaxis_transform()
        for p in failed:
            ax.plot(
                p["x"],
                0.96,
                marker="x",
                ms=9,
                mew=2,
                color=colours[p["batch_size"]],
                transform=top,
                clip_on=False,
            )
        handles.append(
            Line2D(
                [],
                [],
                color="gray",
                marker="x",
                mew=2,
                lw=0,
                label=f"no final loss (diverged or failed): {len(failed)}",
            )
        )
    if skipped:
        handles.append(
            Line2D(
                [], [], lw=0, label=f"not drawn (no learning rate, batch size or steps): {skipped}"
            )
        )
    ax.set_xscale("log")
    if any(p["loss"] is not None for p in points):
        ax.set_yscale("log")
    ax.set_xlabel("learning_rate x steps (log scale)")
    ax.set_ylabel("final mse (log scale)")
    ax.set_title("final loss against learning rate x number of steps")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(handles=handles, fontsize=8)
    return fig


def _lr_steps_point(row):
    """``{x, loss, batch_size, steps}`` for one record, ``loss`` None when there is no usable one;
    ``None`` when the record cannot be placed on the learning-rate x steps axis."""
    lr, size = _number(row.get("learning_rate")), _number(row.get("batch_size"))
    steps = _number(row.get("steps"))
    if steps is None and size and _number(row.get("epochs")):
        n = _number(row.get("n_samples")) or 1000
        steps = _number(row.get("epochs")) * math.ceil(n / size)
    if not (lr and size and steps) or lr <= 0 or size <= 0 or steps <= 0:
        return None
    loss = _number(row.get("final_loss"))
    return {
        "x": lr * steps,
        "loss": loss if loss and loss > 0 else None,
        "batch_size": int(size),
        "steps": int(steps),
    }


def _number(value):
    """``value`` as a finite float, or ``None`` (missing, None, NaN, infinite, not a number)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
