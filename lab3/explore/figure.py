"""Lesson 07's picture: the panels of ``lab3.explore.panels`` on one figure, redrawn fast.

``Figure`` lays the panels out once, at fixed positions (no layout engine runs on a redraw).
``Figure.png()`` draws by *blitting*: the parts that change with the data (lines, images,
arrows, titles, the status line) are "animated" artists; everything else (frames, ticks, labels,
colour bars, the landscape's legend) is drawn into a background, kept for its axis limits.
A new slider position then costs restoring that background and drawing the animated artists,
about a third of a full draw. ``draw`` and ``small_multiples`` make ordinary figures for a
notebook (saving a figure always draws everything).
"""

import io

import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from lab3.explore.controls import Controls, describe
from lab3.explore.outcome import Outcome, outcome_of
from lab3.explore.panels import LandscapePanel, LossPanel, MatrixPanel, PlanePanel, square_points
from lab3.validation import is_int, require

ROW_HEIGHT = 2.9  # inches per row of the small multiples
BACKGROUNDS = 8  # backgrounds kept, one per layout (moving a slider back and forth reuses them)
STATUS_COLOURS = {
    "learned": "tab:green",
    "still learning": "tab:orange",
    "stuck": "tab:purple",
    "too large a step": "tab:brown",
    "converged": "tab:blue",
    "diverged": "tab:red",
}


class Figure:
    """The explorer's figure: ``update(outcome)`` changes the data, ``png()`` renders it."""

    def __init__(self, status_line=True, width=13.0, dpi=72):
        height = 7.5 + 0.6 * status_line  # inches; the status lines take the top 0.6
        self.fig = f = MplFigure(figsize=(width, height), dpi=dpi)
        FigureCanvasAgg(f)  # one canvas and renderer for good (savefig would make new ones)

        def axes(left, bottom, w, h):  # left and width: fractions; bottom and height: inches
            return f.add_axes((left, bottom / height, w, h / height))

        self._square = square_points()
        # the live explorer shows these two lines as HTML above the picture (status_line=False)
        self.status = f.text(
            0.01, 1 - 0.2 / height, "", fontsize=13, weight="bold", va="top", visible=status_line
        )
        self.caption = f.text(
            0.01, 1 - 0.5 / height, "", fontsize=10, color="0.3", va="top", visible=status_line
        )
        self.loss = LossPanel(axes(0.065, 4.6, 0.39, 2.4))
        self.landscape = LandscapePanel(axes(0.53, 4.6, 0.24, 2.4), axes(0.78, 4.6, 0.01, 2.4))
        self.before = PlanePanel(axes(0.04, 0.72, 0.22, 2.88), "before training")
        self.after = PlanePanel(axes(0.275, 0.72, 0.22, 2.88), "after", ylabel=False)
        error_bar = axes(0.505, 0.72, 0.01, 2.88)
        f.colorbar(self.before.image, cax=error_bar).set_label("log10 error |f(x) - x M|")
        self.matrices = MatrixPanel(axes(0.62, 0.96, 0.26, 2.0), axes(0.895, 0.96, 0.01, 2.0))
        f.legend(
            handles=PlanePanel.legend_handles(),
            loc="lower left",
            ncol=4,
            fontsize=8,
            bbox_to_anchor=(0.03, 0.0),
            frameon=False,
        )
        self.panels = [
            self.loss.ax,
            self.landscape.ax,
            self.before.ax,
            self.after.ax,
            self.matrices.ax,
        ]
        self._backgrounds = {}  # layout key -> the static parts drawn for it

    def update(self, outcome):
        """Show ``outcome`` (an ``Outcome``); returns the matplotlib figure."""
        self.status.set_text(f"{outcome.status.upper()}: {outcome.reason}")
        self.status.set_color(STATUS_COLOURS[outcome.status])
        self.caption.set_text(caption(outcome))
        self.loss.update(outcome)
        self.before.update(outcome.initial_model, outcome.matrix, outcome.dead_before, self._square)
        self.after.update(outcome.model, outcome.matrix, outcome.dead_after, self._square)
        self.matrices.update(outcome)
        self.landscape.update(outcome.settings)
        return self.fig

    def png(self):
        """The current picture as PNG bytes (blitted; fast compression, it goes to a browser)."""
        canvas = self.fig.canvas
        animated = self._animated()
        layout = self._layout_key()
        if layout not in self._backgrounds:  # new limits or colour scales: draw a background
            canvas.draw()
            if len(self._backgrounds) >= BACKGROUNDS:
                self._backgrounds.pop(next(iter(self._backgrounds)))  # the oldest
            self._backgrounds[layout] = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._backgrounds[layout])
        renderer = canvas.get_renderer()
        for artist in animated:
            artist.draw(renderer)
        image = PIL.Image.frombuffer(
            "RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        ).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _animated(self):
        """Every artist that shows data, marked animated (kept out of the background), in order."""
        artists = [self.status, self.caption]
        for ax in self.panels:
            static = {ax.patch, *ax.spines.values(), ax.xaxis, ax.yaxis, self.landscape.legend}
            children = [a for a in ax.get_children() if a not in static]
            artists += sorted(children, key=lambda a: a.get_zorder())
        for artist in artists:
            artist.set_animated(True)
        return artists

    def _layout_key(self):
        """What the background depends on: limits and colour scales of the panels."""
        return (
            tuple(ax.get_xlim() + ax.get_ylim() for ax in self.panels),
            self.matrices.image.get_clim(),
            self.landscape.image.get_clim(),
        )


def caption(outcome):
    """The settings and the dead-unit count in one line (under the status line)."""
    return (
        f"{describe(outcome.settings)}   |   dead hidden units after training: "
        f"{outcome.dead_count} of {outcome.unit_count}"
    )


def draw_outcome(settings=None):
    """Train ``settings`` (default ``Controls()``; or pass an ``Outcome``); the picture."""
    outcome = settings if isinstance(settings, Outcome) else outcome_of(settings or Controls())
    return Figure().update(outcome)


def small_multiples(learning_rates=(0.01, 0.1, 1.0, 10.0), batch_sizes=(1, 100), base=None):
    """The static fallback: the same panels for each learning rate and batch size, a row each.

    Returns ``(figure, outcomes)``, ``outcomes[(learning_rate, batch_size)]`` an ``Outcome``.
    A row shows the status line, the loss, the input square after training and the landscape
    with its SGD paths (their learning rate is the row's).
    """
    base = base or Controls()
    combos = [(lr, b) for b in batch_sizes for lr in learning_rates]
    fig = MplFigure(figsize=(12.5, ROW_HEIGHT * len(combos) + 0.9), dpi=72)  # a lean PNG
    FigureCanvasAgg(fig)
    outcomes, square = {}, square_points()
    height = (1.0 - 0.9 / fig.get_figheight()) / len(combos)
    for row, (lr, b) in enumerate(combos):
        outcome = outcome_of(base.replace(learning_rate=lr, batch_size=b))
        outcomes[(lr, b)] = outcome
        top = 1.0 - row * height
        fig.text(
            0.01,
            top - 0.03 * height,
            f"learning rate {lr:g}, batch {b}: {outcome.status.upper()}: {outcome.reason}",
            fontsize=10,
            weight="bold",
            va="top",
            color=STATUS_COLOURS[outcome.status],
        )
        bottom, panel = top - 0.86 * height, 0.62 * height
        loss = LossPanel(fig.add_axes((0.06, bottom, 0.36, panel)), legend=False)
        loss.update(outcome)
        PlanePanel(fig.add_axes((0.45, bottom, 0.18, panel)), "after").update(
            outcome.model, outcome.matrix, outcome.dead_after, square
        )
        landscape = LandscapePanel(
            fig.add_axes((0.7, bottom, 0.22, panel)),
            fig.add_axes((0.93, bottom, 0.008, panel)),
            legend_at=None,
            compact=True,
        )
        LandscapePanel.short_labels(landscape.ax)
        landscape.update(outcome.settings)
    handles = (
        [loss.raw, loss.mean, loss.epochs, loss.stop]
        + PlanePanel.legend_handles()
        + landscape.legend_handles()
    )
    fig.legend(
        handles=handles,
        loc="lower left",
        ncol=5,
        fontsize=8,
        bbox_to_anchor=(0.03, 0.0),
        frameon=False,
    )
    return fig, outcomes


class Picture:
    """PNG bytes that a notebook shows as an image (its repr is stable: no address)."""

    def __init__(self, data, size, colours):
        self.data, self.size, self.colours = data, size, colours

    def _repr_png_(self):
        return self.data

    def __repr__(self):
        return f"Picture(PNG, {self.colours} colours)"  # not the size: it depends on the fonts


def lean_png(figure, colours=256):
    """``figure`` (matplotlib's, or a ``Figure`` of this module) as a palette PNG ``Picture``.

    The panels' smooth colour maps make a full-colour PNG large; a palette of 256 colours looks
    nearly the same (colour bars show faint steps) at about a third of the bytes, which keeps the
    committed notebook small.
    """
    require(
        is_int(colours) and 2 <= colours <= 256,
        "colours",
        colours,
        "an integer from 2 to 256 (a PNG palette)",
    )
    fig = figure.fig if isinstance(figure, Figure) else figure
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")  # as Jupyter's inline
    image = PIL.Image.open(buffer).convert("RGB")
    palette = image.quantize(colours, method=PIL.Image.Quantize.FASTOCTREE)  # least banding
    out = io.BytesIO()
    palette.save(out, format="png", optimize=True)
    return Picture(out.getvalue(), image.size, colours)
