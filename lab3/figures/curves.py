"""Loss curves of the training lessons and of a sweep: loss per step or epoch, and final loss
against learning rate x steps.

Each function draws on a matplotlib ``Axes`` it is given (or a new figure) and returns the figure,
so a notebook can combine them; nothing here trains or changes a model.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from lab3.validation import require


def plot_losses(histories, per="step", ax=None, title=None, smooth=50):
    """Loss curves on a log scale, one per ``{label: History}``.

    ``per="step"`` plots the batch loss of every SGD step against the number of samples seen so far
    (step * batch size), so runs with different batch sizes line up by compute spent; the raw
    curve is drawn faintly and its running mean over ``smooth`` steps on top. ``per="epoch"``
    plots the training-set loss after each epoch.
    """
    fig, ax = figure_and_axes(ax, (7, 4))
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


def figure_and_axes(ax, size):
    """``(figure, ax)``: ``ax``'s figure, or a new figure of ``size`` inches with one Axes."""
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
    rows = records.to_dict("records") if hasattr(records, "to_dict") else list(records)
    require(
        len(rows) > 0,
        "records",
        rows,
        "at least one run (a dict with learning_rate, steps, batch_size and final_loss)",
    )
    placed = [_lr_steps_point(row) for row in rows]
    points = [p for p in placed if p is not None]
    fig, ax = figure_and_axes(ax, (7, 4.5))
    sizes = sorted({p["batch_size"] for p in points})
    colours = dict(zip(sizes, plt.cm.viridis(np.linspace(0, 0.85, max(len(sizes), 1)))))
    handles = [_lr_steps_lines(ax, points, size, colours[size]) for size in sizes]
    failed = [p for p in points if p["loss"] is None]
    if failed:
        handles.append(_lr_steps_failures(ax, failed, colours))
    skipped = len(placed) - len(points)
    if skipped:
        label = f"not drawn (no learning rate, batch size or steps): {skipped}"
        handles.append(Line2D([], [], lw=0, label=label))
    ax.set_xscale("log")
    if any(p["loss"] is not None for p in points):
        ax.set_yscale("log")
    ax.set_xlabel("learning_rate x steps (log scale)")
    ax.set_ylabel("final mse (log scale)")
    ax.set_title("final loss against learning rate x number of steps")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(handles=handles, fontsize=8)
    return fig


def _lr_steps_lines(ax, points, size, colour):
    """Draw the runs of one batch size, one line per number of steps; return its legend handle."""
    mine = [p for p in points if p["batch_size"] == size and p["loss"] is not None]
    for steps in sorted({p["steps"] for p in mine}):
        line = sorted((p["x"], p["loss"]) for p in mine if p["steps"] == steps)
        ax.plot(*zip(*line), color=colour, lw=0.8, alpha=0.6, marker="o", ms=5)
    return Line2D([], [], color=colour, marker="o", lw=0.8, label=f"batch size {size}")


def _lr_steps_failures(ax, failed, colours):
    """Draw runs without a final loss as an x at the top of the axes; return the legend handle."""
    # x in data coordinates, y just below the top of the axes, whatever the loss scale
    top = ax.get_xaxis_transform()
    for p in failed:
        colour = colours[p["batch_size"]]
        ax.plot(p["x"], 0.96, marker="x", ms=9, mew=2, color=colour, transform=top, clip_on=False)
    label = f"no final loss (diverged or failed): {len(failed)}"
    return Line2D([], [], color="gray", marker="x", mew=2, lw=0, label=label)


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
