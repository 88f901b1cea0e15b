"""The report's tables and figures, from ``load_records`` dicts (one per run).

Every function copes with what a real sweep produces: runs that did not finish (drawn grey and
labelled with their status), records with missing values, a grid over any parameters (the ones
not on a heatmap's axes become facets, one panel per combination, so no two runs share a cell),
one run, and no ok run at all. A figure these records cannot give raises ``NothingToDraw``, whose
message says why in one line; ``show`` prints that line instead of a figure.
matplotlib is imported inside the functions: importing ``lab3.sweep`` stays light.
"""

import itertools
import math
from dataclasses import dataclass

from lab3.sweep.records import OK

PREFERRED_AXES = ("batch_size", "learning_rate")
MAX_ANNOTATED_CELLS = 60  # more cells per panel than this: colours only, no numbers in them


def number(value):
    """``value`` as a finite float, or None (missing, None, NaN, infinite, not a number)."""
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def ok_runs(records, value=None):
    """The ok records (with a finite ``value``, when given)."""
    return [
        r
        for r in records
        if r.get("status") == OK and (value is None or number(r.get(value)) is not None)
    ]


def varying(records):
    """The parameters the sweep set that take more than one value, in the sweep's order."""
    names = []
    for record in records:
        for name in record.get("swept") or []:
            if name not in names:
                names.append(name)
    return [n for n in names if len({_key(r.get(n)) for r in records}) > 1]


def describe(record, names):
    """``"batch_size=10, learning_rate=0.1"``: the record's values of ``names``."""
    return ", ".join(f"{n}={_text(record.get(n))}" for n in names) or "the only run"


def status_line(records):
    """``"24 runs: 22 ok (20 learned the map), 2 diverged"``."""
    counts = {}
    for r in records:
        counts[r.get("status")] = counts.get(r.get("status"), 0) + 1
    parts = []
    for status, count in counts.items():
        part = f"{count} {status}"
        if status == OK:
            learned = sum(r.get("learned") is True for r in records)
            tasks = {r.get("task", "linear") for r in records}
            part += f" ({learned} learned {'the map' if tasks == {'linear'} else 'their task'})"
        parts.append(part)
    return f"{len(records)} runs: " + ", ".join(parts) if records else "no runs recorded"


# columns a sweep of issue 22's tasks adds, shown only when some run has them (the lab's sweeps
# print the table they always did): (heading, metric, format)
_TASK_COLUMNS = (
    ("test loss", "test_loss", ".3g"),
    ("train acc", "final_accuracy", ".3f"),
    ("test acc", "test_accuracy", ".3f"),
)


def table(records, names, sort_by="matrix_error"):
    """Text table of the ok runs (sorted by ``sort_by``) then one line per other run.

    Runs with a test set add a test-loss column, cross-entropy runs the accuracies (training and
    test) and call the loss "final loss" rather than "final mse"."""
    extra = [c for c in _TASK_COLUMNS if any(r.get(c[1]) is not None for r in records)]
    classify = any(r.get("final_accuracy") is not None for r in records)
    loss_heading = "final loss" if classify else "final mse"
    # the matrix error compares with the lab's linear map: meaningless on another task
    matrix = any(r.get("task", "linear") == "linear" for r in records)
    headings = [*names, "steps", loss_heading, *(c[0] for c in extra)]
    headings += ["matrix error", "learned"] if matrix else ["learned"]
    width = max([len(c) for c in headings] + [9]) + 2
    lines = ["".join(f"{c:>{width}}" for c in headings)]
    done = sorted(ok_runs(records), key=lambda r: number(r.get(sort_by)) or math.inf)
    for r in done:
        cells = [_text(r.get(n)) for n in names] + [
            _text(r.get("steps")),
            _fmt(r.get("final_loss"), ".3g"),
            *(_fmt(r.get(key), spec) for _, key, spec in extra),
            *([_fmt(_matrix_error(r), ".4f")] if matrix else []),
            _text(r.get("learned")),
        ]
        lines.append("".join(f"{c:>{width}}" for c in cells))
    for r in records:
        if r.get("status") != OK:
            lines.append(f"{describe(r, names)}: {r.get('status')}: {r.get('error') or ''}")
    return "\n".join(lines)


def _matrix_error(record):
    """The run's matrix error where its task is the lab's linear map, else None (blank)."""
    return record.get("matrix_error") if record.get("task", "linear") == "linear" else None


class NothingToDraw(ValueError):
    """A figure that these records cannot give; the message says why, in one line."""


def show(plot, records, *args, **kwargs):
    """Draw ``plot(records, *args, **kwargs)`` and show it, or print in one line why it cannot
    be drawn (``NothingToDraw``): a report cell never fails on a sweep it was not written for."""
    import matplotlib.pyplot as plt

    try:
        plot(records, *args, **kwargs)
    except NothingToDraw as reason:
        print(f"{_plot_name(plot)}: nothing to draw: {reason}")
        return
    plt.show()


def _plot_name(plot):
    return getattr(plot, "__name__", "figure").removeprefix("plot_").replace("_", " ")


def plot_loss_curves(records, ax=None):
    """Training mse after every epoch of every ok run with a loss curve, against the SGD steps
    taken so far (log scale), labelled by every varying parameter; colour follows the first of
    them, line style the second.

    Runs of different batch sizes are compared by steps, not epochs (lesson 4: an epoch of batch
    1 takes 100 times the steps of an epoch of batch 100). A run's steps per epoch are its
    ``steps`` over its number of epochs, or ``ceil(n_samples / batch_size)`` without ``steps``
    (``n_samples`` defaults to the lab's 1000); when a run has neither, every curve is drawn
    against epochs and the axis says so.

    Raises ``NothingToDraw`` when no ok run has a loss curve.
    """
    import matplotlib.pyplot as plt

    runs = [r for r in ok_runs(records) if r.get("epoch_loss")]
    if not runs:
        raise NothingToDraw(f"no run finished ok with a loss curve ({status_line(records)})")
    names = varying(records)
    if ax is None:
        # the legend goes under the axes, in columns: it never covers a curve or squeezes them
        _, ax = plt.subplots(
            figsize=(10, 4.5 + 0.16 * math.ceil(len(runs) / 3)), layout="constrained"
        )
    colour_of = _index(runs, names[0]) if names else {}
    style_of = _index(runs, names[1]) if len(names) > 1 else {}
    styles = ["-", "--", ":", "-."]
    per_epoch = [_steps_per_epoch(r) for r in runs]
    by_steps = all(per_epoch)
    for r, steps in zip(runs, per_epoch):
        losses = [number(v) for v in r["epoch_loss"]]
        ax.plot(
            [(k * steps if by_steps else k) for k in range(1, len(losses) + 1)],
            [math.nan if v is None else v for v in losses],
            color=f"C{colour_of.get(_key(r.get(names[0])), 0) % 10}" if names else "C0",
            ls=styles[style_of.get(_key(r.get(names[1])), 0) % 4] if len(names) > 1 else "-",
            lw=1.2,
            label=describe(r, names),
        )
    ax.set_yscale("log")
    if by_steps:
        ax.set_xscale("log")
        ax.set_xlabel("SGD steps (log scale): one point per epoch")
    else:
        ax.set_xlabel("epoch (a run without its batch size or steps: not comparable by steps)")
    ax.set_ylabel("training mse (log scale)")
    ax.set_title(f"loss curves of the {len(runs)} ok runs")
    ax.legend(
        fontsize=7,
        ncol=min(3, len(runs)),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        borderaxespad=0,
        frameon=False,
    )
    return ax.figure


def _steps_per_epoch(record):
    """SGD steps per epoch of ``record`` (a float), or None when it cannot be told."""
    epochs = len(record.get("epoch_loss") or [])
    steps = number(record.get("steps"))
    if steps and epochs:
        return steps / epochs
    size = number(record.get("batch_size"))
    if size and size >= 1:
        return math.ceil((number(record.get("n_samples")) or 1000) / size)
    return None


@dataclass(frozen=True)
class _HeatmapLayout:
    """What a set of heatmap panels shows: the axes' parameters and levels, the facets."""

    value: str
    x: str
    y: str
    xs: list
    ys: list
    facets: list
    panels: list  # one tuple of facet values per panel

    @property
    def annotated(self):
        return len(self.xs) * len(self.ys) <= MAX_ANNOTATED_CELLS


def plot_heatmaps(records, value, x=None, y=None, log=True):
    """Heatmaps of ``value`` over ``x`` by ``y``, one panel per combination of the other
    varying parameters; a shared, labelled colour bar.

    ``x`` and ``y`` default to batch_size and learning_rate when they vary, else the first
    varying parameters; with one varying parameter the panel is one row. A run that is not ok (or
    misses ``value``) is a grey cell named by its status; a combination no run has is left blank.
    Raises ``NothingToDraw`` when no ok run has a ``value`` or nothing varies.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm, Normalize

    values = [number(r.get(value)) for r in ok_runs(records, value)]
    if not values:
        raise NothingToDraw(f"no run finished ok with a {value} ({status_line(records)})")
    layout = _heatmap_layout(records, value, x, y)
    use_log = log and min(values) > 0
    norm = LogNorm(min(values), max(values)) if use_log else Normalize(min(values), max(values))
    cols = min(len(layout.panels), 3)
    rows = math.ceil(len(layout.panels) / cols)
    cell = 0.9 if layout.annotated else 0.55
    fig, axes = plt.subplots(
        rows,
        cols,
        squeeze=False,
        layout="constrained",
        figsize=(
            max(3.6, 1.3 + cell * len(layout.xs)) * cols + 1.2,
            max(2.8, 1.2 + 0.6 * len(layout.ys)) * rows,
        ),
    )
    for ax, panel in zip(axes.flat, layout.panels):
        image = _draw_panel(ax, records, layout, panel, norm)
    for ax in axes.flat[len(layout.panels) :]:
        ax.remove()  # no empty panels
    bar = fig.colorbar(
        image, ax=axes[0, -1] if rows == 1 and cols == 1 else axes.ravel().tolist(), shrink=0.9
    )
    bar.set_label(f"{value}{' (log scale)' if use_log else ''}; grey: no value")
    fig.suptitle(
        f"{value} over {layout.x} x {layout.y or '-'}"
        + (f", one panel per {' x '.join(layout.facets)}" if layout.facets else ""),
        fontsize=10,
    )
    return fig


def _heatmap_layout(records, value, x, y):
    names = varying(records)
    if not names:
        raise NothingToDraw(
            "nothing varies in this sweep; a heatmap needs a parameter with two values or more"
        )
    x, y = _axes(names, x, y)
    facets = [n for n in names if n not in (x, y)]
    panels = list(itertools.product(*[_levels(records, n) for n in facets])) or [()]
    return _HeatmapLayout(value, x, y, _levels(records, x), _levels(records, y), facets, panels)


def _draw_panel(ax, records, layout, panel, norm):
    """One heatmap panel: the runs whose facet values are ``panel``; returns its image."""
    grid = [[math.nan] * len(layout.xs) for _ in layout.ys]
    labels = {}
    for r in records:
        if any(_key(r.get(n)) != _key(v) for n, v in zip(layout.facets, panel)):
            continue
        i, j = layout.ys.index(_key(r.get(layout.y))), layout.xs.index(_key(r.get(layout.x)))
        v = number(r.get(layout.value)) if r.get("status") == OK else None
        if v is not None:
            grid[i][j] = v
        labels[i, j] = f"{v:.2g}" if v is not None else _missing_label(r)
    ax.set_facecolor("lightgray")
    image = ax.imshow(grid, origin="lower", cmap="viridis_r", norm=norm, aspect="auto")
    if layout.annotated:
        _annotate(ax, labels)
    ax.set_xticks(
        range(len(layout.xs)),
        [_text(v) for v in layout.xs],
        rotation=45 if len(layout.xs) > 5 else 0,
        fontsize=8,
    )
    ax.set_yticks(range(len(layout.ys)), [_text(v) for v in layout.ys], fontsize=8)
    ax.set_xlabel(layout.x)
    ax.set_ylabel(layout.y or "")
    ax.set_title(
        ", ".join(f"{n}={_text(v)}" for n, v in zip(layout.facets, panel)) or layout.value,
        fontsize=9,
    )
    return image


def _missing_label(record):
    return record.get("status") if record.get("status") != OK else "missing"


def _annotate(ax, labels):
    from matplotlib import patheffects

    for (i, j), text in labels.items():
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=7,
            path_effects=[patheffects.withStroke(linewidth=2, foreground="white")],
        )


def _axes(names, x, y):
    """The heatmap's ``(x, y)``: the given ones, else batch_size and learning_rate when they
    vary, else the first varying parameters. ``x`` is always set; ``y`` is None (one row) when
    only one parameter varies."""
    free = [n for n in PREFERRED_AXES if n in names] + [n for n in names if n not in PREFERRED_AXES]
    free = [n for n in free if n not in (x, y)]
    if x is None:
        x = free.pop(0) if free else None
    if y is None:
        y = free.pop(0) if free else None
    return (x, y) if x is not None else (y, None)


def _levels(records, name):
    """The distinct values of ``name``, sorted (numbers by value, then the rest as text)."""
    if name is None:
        return [None]
    found = {}
    for r in records:
        found.setdefault(_key(r.get(name)), r.get(name))
    return sorted(found, key=lambda k: (number(found[k]) is None, number(found[k]) or 0, str(k)))


def _key(value):
    """A hashable, comparable stand-in for a parameter value (lists become tuples)."""
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    return value


def _index(records, name):
    return {k: i for i, k in enumerate(_levels(records, name))}


def _text(value):
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _fmt(value, spec):
    value = number(value)
    return "-" if value is None else format(value, spec)
