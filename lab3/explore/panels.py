"""The panels of lesson 07's picture, each drawn once on its axes and then updated in place.

Every panel makes its artists in ``__init__`` and only changes their data in ``update``, so a
new slider position costs no new artists (``lab3.explore.figure`` puts them together):

* ``LossPanel``: every step's batch loss (faint), its running mean, the training-set loss after
  each epoch (epoch 0: before training), and a cross where a run diverged;
* ``PlanePanel``: the input square. Each first-layer hidden unit's on/off line
  ``x @ w + b = 0`` with a tick on its "on" side (dead units dashed), the network's output at a
  grid of points as arrows next to the true image ``x @ M``, and the error ``|f(x) - x M|`` as
  the background, so ReLU kinks show as creases and a dead unit as a line that touches nothing;
* ``MatrixPanel``: the learned effective matrix next to the true one, and the matrix error;
* ``LandscapePanel``: the objective over a plane of parameters (``lab3.explore.landscape``)
  with the single-sample, mini-batch and too-large-learning-rate SGD paths.
"""

import numpy as np
import torch
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from lab3.explore import landscape

ERROR_RANGE = (-3.0, 0.5)  # log10 of |f(x) - x M|: the colour scale of the input squares
GRID = 61  # background pixels per side of the input square
ARROWS = np.linspace(-0.8, 0.8, 5)
ARROW_SCALE = 4.0  # an output of length 1 is drawn 0.25 long
MAX_POINTS = 1500  # a loss curve is thinned to this many points before drawing
PATH_COLOURS = ("tab:orange", "tab:cyan", "tab:red")
PLAIN = FuncFormatter(lambda value, _: f"1e{round(np.log10(value))}" if value > 0 else "0")
LONGEST_ARROW = 1.5  # longer outputs (a diverged network's) are drawn this long


def log_axis(axis):
    """A log scale labelled ``1e-4``: mathtext labels would cost most of a redraw."""
    axis._set_axes_scale("log")
    axis.set_major_locator(LogLocator(numticks=7))
    axis.set_major_formatter(PLAIN)
    axis.set_minor_formatter(NullFormatter())


def square_points():
    """``(pixels, anchors)``: the input square's background pixels and arrow anchors, ``(k, 2)``."""
    axis = np.linspace(-1, 1, GRID)
    pixels = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)  # row-major: y, then x
    anchors = np.stack(np.meshgrid(ARROWS, ARROWS), axis=-1).reshape(-1, 2)
    return pixels, anchors


def _thin(x, y):
    """At most ``MAX_POINTS`` evenly spaced points of a curve (a faster draw, the same look)."""
    if len(x) <= MAX_POINTS:
        return x, y
    keep = np.linspace(0, len(x) - 1, MAX_POINTS).astype(int)
    return x[keep], y[keep]


def _decades(values):
    """Log-axis limits: whole decades around the finite, positive ``values`` (few relayouts)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return 1e-3, 1.0
    low, high = np.percentile(values, 1), values.max()
    return 10.0 ** np.floor(np.log10(low)), 10.0 ** np.ceil(np.log10(high) + 1e-9)


def step_epochs(steps, batch_size, n):
    """Where step ``i`` (0-based) ends, in epochs: its epoch plus the share of samples seen."""
    per_epoch = -(-n // batch_size)
    i = np.arange(steps)
    return i // per_epoch + np.minimum((i % per_epoch + 1) * batch_size, n) / n


class LossPanel:
    def __init__(self, ax, legend=True):
        self.ax = ax
        (self.raw,) = ax.plot(
            [], [], lw=0.5, alpha=0.3, color="tab:blue", label="batch loss, each step"
        )
        (self.mean,) = ax.plot([], [], lw=1.6, color="tab:blue", label="its running mean")
        (self.epochs,) = ax.plot(
            [], [], "o-", ms=4, color="black", lw=1, label="training-set loss after each epoch"
        )
        (self.stop,) = ax.plot([], [], "X", ms=11, color="tab:red", label="diverged here")
        log_axis(ax.yaxis)
        ax.set_xlabel("epoch (a step is placed by the samples seen)")
        ax.set_ylabel("mse (log scale)")
        ax.grid(True, alpha=0.3)
        # a fixed corner: "best" searches every point of the 10,000-step curve on each redraw
        self.legend = ax.legend(fontsize=8, loc="upper right") if legend else None

    def update(self, outcome):
        h, s = outcome.history, outcome.settings
        steps = np.asarray(h.step_loss, dtype=float)
        x = step_epochs(steps.size, s.batch_size, s.n_samples)
        window = max(1, min(50, steps.size // 20))
        self.raw.set_data(*_thin(x, steps))
        mean = np.convolve(steps, np.ones(window) / window, mode="valid")
        self.mean.set_data(*_thin(x[window - 1 :], mean))
        losses = [outcome.initial_loss, *h.epoch_loss]
        self.epochs.set_data(np.arange(len(losses)), losses)
        shown = [steps, losses]
        if outcome.diverged is not None:
            at = (x[-1] if x.size else 0.0) + s.batch_size / s.n_samples
            self.stop.set_data([at], [outcome.diverged[2]])
            shown.append([outcome.diverged[2]])
        else:
            self.stop.set_data([], [])
        self.ax.set_ylim(*_decades(np.concatenate([np.ravel(v) for v in shown])))
        # a diverged run is zoomed in on the steps it took (often a handful)
        stop = self.stop.get_xdata()
        self.ax.set_xlim(0, s.epochs if outcome.diverged is None else 1.25 * stop[0])
        self.ax.set_title(
            f"loss: {h.steps} steps of batch {s.batch_size}, {len(h.epoch_loss)} of "
            f"{s.epochs} epochs",
            fontsize=10,
        )
        if self.legend is not None:
            self.legend.texts[1].set_text(f"running mean of {window} step" + "s" * (window > 1))


class PlanePanel:
    """The input square: error background, output arrows, each first-layer unit's on/off line."""

    def __init__(self, ax, title, ylabel=True):
        self.ax, self.title = ax, title
        self.image = ax.imshow(
            np.zeros((GRID, GRID)),
            extent=(-1, 1, -1, 1),
            origin="lower",
            cmap="YlOrRd",
            vmin=ERROR_RANGE[0],
            vmax=ERROR_RANGE[1],
            interpolation="nearest",
        )
        _, anchors = square_points()
        zeros = np.zeros(len(anchors))
        quiver = dict(angles="xy", scale_units="xy", scale=ARROW_SCALE, width=0.008)
        self.true = ax.quiver(*anchors.T, zeros, zeros, color="tab:blue", alpha=0.45, **quiver)
        self.net = ax.quiver(*anchors.T, zeros, zeros, color="black", **quiver)
        self.units = []  # per first-layer unit: (line, tick)
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_xticks([-1, -0.5, 0, 0.5, 1], ["-1", "", "0", "", "1"])
        ax.set_yticks([-1, -0.5, 0, 0.5, 1], ["-1", "", "0", "", "1"])
        ax.set_aspect("equal")
        ax.set_xlabel("input x[0]")
        if ylabel:
            ax.set_ylabel("input x[1]")
        else:
            ax.tick_params(labelleft=False)

    @staticmethod
    def legend_handles():
        return [
            Line2D(
                [],
                [],
                color="tab:green",
                lw=2,
                marker="o",
                markevery=[1],
                label="first-layer unit's on/off line (tick: on side)",
            ),
            Line2D([], [], color="0.45", lw=1.5, ls="--", label="dead unit (off on every sample)"),
            Line2D([], [], color="black", lw=2, label="network output f(x), drawn at x"),
            Line2D([], [], color="tab:blue", lw=2, alpha=0.45, label="true output x @ M"),
        ]

    def update(self, model, matrix, dead, square):
        """Draw ``model`` against ``matrix`` ``(2, 2)``; ``dead``: per layer, as in ``Outcome``."""
        pixels, anchors = square
        m = matrix.double().numpy()
        with torch.no_grad(), np.errstate(all="ignore"):
            out = model.forward(torch.from_numpy(np.vstack([pixels, anchors])).float())
            out = out.double().numpy()
            error = np.log10(np.linalg.norm(out[: len(pixels)] - pixels @ m, axis=1))
        low, high = ERROR_RANGE
        error = np.nan_to_num(error, nan=high, posinf=high, neginf=low)
        self.image.set_data(error.reshape(GRID, GRID))
        arrows = np.nan_to_num(out[len(pixels) :], nan=0.0, posinf=0.0, neginf=0.0)
        length = np.linalg.norm(arrows, axis=1, keepdims=True)
        arrows = arrows * np.minimum(1.0, LONGEST_ARROW / np.maximum(length, 1e-300))
        self.net.set_UVC(*arrows.T)
        self.true.set_UVC(*(anchors @ m).T)
        self._draw_units(model, dead[0] if dead else np.zeros(0, bool))
        total = int(sum(d.sum() for d in dead))
        self.ax.set_title(
            f"{self.title}: {total} of {sum(model.hidden_sizes)} hidden units dead", fontsize=10
        )

    def _draw_units(self, model, dead):
        w = model.weights[0].detach().double().numpy() if model.hidden_sizes else np.zeros((2, 0))
        b = model.biases[0].detach().double().numpy()[0]
        animated = self.image.get_animated()
        while len(self.units) < w.shape[1]:
            colour = f"C{(len(self.units) + 2) % 10}"
            self.units.append(
                (
                    self.ax.plot([], [], color=colour, lw=2, animated=animated)[0],
                    self.ax.plot(
                        [],
                        [],
                        color=colour,
                        lw=2,
                        marker="o",
                        markevery=[1],
                        ms=4,
                        animated=animated,
                    )[0],
                )
            )
        for j, (line, tick) in enumerate(self.units):
            segment = on_off_segment(w[:, j], b[j]) if j < w.shape[1] else None
            if segment is None:  # no such unit, or its line misses the square
                line.set_data([], [])
                tick.set_data([], [])
                continue
            start, end = segment
            middle = (start + end) / 2
            line.set_data(*np.array([start, end]).T)
            tick.set_data(*np.array([middle, middle + 0.15 * w[:, j] / np.linalg.norm(w[:, j])]).T)
            line.set_linestyle("--" if dead[j] else "-")
            for artist in (line, tick):
                artist.set_alpha(0.6 if dead[j] else 1.0)


def on_off_segment(w, b):
    """Where ``x @ w + b = 0`` crosses ``[-1, 1]^2``: two end points ``(2,)``, or ``None``."""
    if not (np.isfinite(w).all() and np.isfinite(b)) or np.abs(w).max() < 1e-12:
        return None
    points = []
    for axis in (0, 1):  # the crossings with the edges x[axis] = -1 and x[axis] = +1
        other = 1 - axis
        if abs(w[other]) < 1e-12:
            continue
        for edge in (-1.0, 1.0):
            t = -(b + w[axis] * edge) / w[other]
            if -1.0 <= t <= 1.0:
                point = np.zeros(2)
                point[axis], point[other] = edge, t
                points.append(point)
    if len(points) < 2:
        return None
    far = max(points, key=lambda p: np.linalg.norm(p - points[0]))
    return points[0], far


class MatrixPanel:
    """``[learned | true]`` as one heat map with the entries written in, and the matrix error."""

    def __init__(self, ax, colour_axes):
        self.ax = ax
        self.image = ax.imshow(np.zeros((2, 5)), cmap="RdBu_r", vmin=-1.0, vmax=1.0, aspect="auto")
        self.texts = [
            [ax.text(j, i, "", ha="center", va="center", fontsize=12) for j in (0, 1, 3, 4)]
            for i in (0, 1)
        ]
        ax.figure.colorbar(self.image, cax=colour_axes).set_label("matrix entry")
        ax.set_xticks([0.5, 3.5], ["learned (effective)", "true M"])
        ax.set_yticks([0, 1], ["row 1", "row 2"])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)

    def update(self, outcome):
        learned = outcome.learned_matrix
        grid = np.full((2, 5), np.nan)
        grid[:, :2] = np.nan if learned is None else learned
        grid[:, 3:] = outcome.matrix.double().numpy()
        limit = np.ceil(2 * max(1.0, float(np.nanmax(np.abs(grid))))) / 2  # steps of 0.5
        self.image.set_data(np.ma.masked_invalid(grid))
        self.image.set_clim(-limit, limit)
        for i in range(2):
            for text, j in zip(self.texts[i], (0, 1, 3, 4)):
                value = grid[i, j]
                text.set_text("n/a" if np.isnan(value) else f"{round(value, 2) + 0.0:.2f}")
                text.set_color("white" if abs(value) > 0.6 * limit else "black")
        error = (
            "n/a (the run diverged)"
            if outcome.matrix_error is None
            else f"{outcome.matrix_error:.3g}"
        )
        self.ax.set_title(
            f"learned vs true matrix\nmatrix error ||learned - M||_F = {error}", fontsize=10
        )


class LandscapePanel:
    """Objective over the slice (image and contour lines, redrawn only when the slice changes)."""

    def __init__(self, ax, colour_axes, legend_at=(1.28, 1.0), compact=False):
        self.ax, self.current, self.contours = ax, None, None
        self.image = ax.imshow(np.zeros((2, 2)), origin="lower", cmap="viridis", aspect="auto")
        ax.figure.colorbar(self.image, cax=colour_axes).set_label("log10 objective")
        self.paths = [
            ax.plot([], [], lw=1.3, color=c, marker=".", ms=3, label=label)[0]
            for c, label in zip(PATH_COLOURS, landscape.PATHS)
        ]
        (self.start,) = ax.plot(
            [], [], "o", ms=8, mfc="white", mec="black", label="start (initial network)"
        )
        (self.ref,) = ax.plot(
            [], [], "*", ms=13, mfc="white", mec="black", label="reference: lab's SGD end"
        )
        ax.set_xlabel("u: towards the start (parameter distance)")
        ax.set_ylabel("v: random orthogonal direction")
        # outside the axes and the same for every setting: drawn once, with the background
        self.legend = (
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=legend_at, framealpha=0.9)
            if legend_at
            else None
        )
        self.compact = compact

    def update(self, settings):
        land = landscape.landscape(settings)
        if land is not self.current:
            self._draw_slice(land)
        for line, path in zip(self.paths, landscape.trajectories(settings).values()):
            line.set_data(*path.T)
        (lr, _), (_, batch), (big, _) = landscape.path_settings(settings).values()
        paths = f"lr {lr:.3g} with batch 1 and {batch}; too large for this plane: lr {big:.3g}"
        if land.sharpness and not self.compact:
            paths += (
                f"\n(the whole network's sharpness at the reference is "
                f"{land.sharpness:.2g}: stable below lr {2 / land.sharpness:.2g})"
            )
        self.ax.set_title(
            f"landscape, {paths}"
            if self.compact
            else f"loss landscape ({landscape.SAMPLES} samples), "
            f"{landscape.STEPS} SGD steps per path:\n{paths}",
            fontsize=10,
        )

    def legend_handles(self):
        return [*self.paths, self.start, self.ref]

    @staticmethod
    def short_labels(ax):
        ax.set_xlabel("u: towards the start")
        ax.set_ylabel("v: random direction")

    def _draw_slice(self, land):
        self.current = land
        logs = np.log10(np.maximum(land.values, 1e-12))
        extent = (land.u[0], land.u[-1], land.v[0], land.v[-1])
        self.image.set_data(logs)
        self.image.set_extent(extent)
        self.image.set_clim(np.floor(logs.min() * 2) / 2, np.ceil(logs.max() * 2) / 2)
        if self.contours is not None:
            self.contours.remove()
        self.contours = self.ax.contour(
            land.u, land.v, logs, levels=12, colors="white", linewidths=0.5, alpha=0.6
        )
        self.contours.set_animated(self.image.get_animated())
        self.start.set_data([land.start[0]], [land.start[1]])
        self.ref.set_data([0.0], [0.0])
        self.ax.set_xlim(extent[:2])
        self.ax.set_ylim(extent[2:])
