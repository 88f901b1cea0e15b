"""Lesson 07's live explorer: ipywidgets controls that retrain the network and redraw the picture.

``Explorer()`` shows one slider (or toggle) per knob of ``lab3.explore.Controls``, a field for
typing exact values, a status line, a progress bar and the picture. Moving a control makes new
``Controls``; a single worker thread trains them (``lab3.explore.outcome_of``) and redraws
(``lab3.explore.figure.Figure``), so the kernel stays free to take the next move: a setting
that arrives while another is training makes that run stop between two of its steps and be dropped
(only the newest setting is ever drawn). Sliders have ``continuous_update=False``: a run starts
when the slider is released, not for every pixel of a drag.

Sliders only offer valid values. Text typed into the field goes through ``parse_typed``,
so a bad value is refused with the message ``lab3.train`` gives for it; the message shows in the
status line and the picture stays as it was.
"""

import html
import math
import threading
import time

import ipywidgets as w
from matplotlib.colors import to_hex

from lab3.explore.controls import TRANSFORMS, Controls, describe, parse_typed, validate_controls
from lab3.explore.figure import STATUS_COLOURS, Figure, caption
from lab3.explore.outcome import outcome_of_validated

LEARNING_RATES = (-3.0, 1.5)  # log10 range of the learning-rate slider
BATCH_SIZES = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
EPOCHS = [1, 2, 5, 10, 20, 50, 100, 200]
REGS = [0.0, 1e-4, 1e-3, 1e-2, 1e-1]
SHOW_PROGRESS_AFTER = 0.5  # seconds: a run still training then shows a progress bar
STYLE = {"description_width": "95px"}
COLOURS = {status: to_hex(colour) for status, colour in STATUS_COLOURS.items()}  # for HTML


def _controls(s):
    """One widget per knob, set to the settings ``s``: ``{name: widget}``."""
    slider = dict(continuous_update=False, style=STYLE)
    width, depth = (s.hidden_sizes[0] if s.hidden_sizes else 1), len(s.hidden_sizes)
    return {
        "learning_rate": w.FloatLogSlider(
            value=s.learning_rate,
            base=10,
            min=LEARNING_RATES[0],
            max=LEARNING_RATES[1],
            step=0.25,
            readout_format=".3g",
            description="learning rate",
            **slider,
        ),
        "batch_size": w.SelectionSlider(
            options=_with(BATCH_SIZES, s.batch_size),
            value=s.batch_size,
            description="batch size",
            **slider,
        ),
        "epochs": w.SelectionSlider(
            options=_with(EPOCHS, s.epochs), value=s.epochs, description="epochs", **slider
        ),
        "reg": w.SelectionSlider(
            options=_with(REGS, s.reg), value=s.reg, description="reg", **slider
        ),
        "width": w.IntSlider(
            value=width, min=1, max=max(16, width), description="hidden width", **slider
        ),
        "depth": w.IntSlider(
            value=depth, min=1, max=max(4, depth), description="hidden layers", **slider
        ),
        "init": w.ToggleButtons(
            options=[("lab U[0, 0.1)", "lab"), ("He N(0, 2/fan_in)", "he")],
            value=s.init,
            description="init",
            style=STYLE,
        ),
        "init_scale": w.FloatLogSlider(
            value=s.init_scale,
            base=10,
            min=-2,
            max=2,
            step=0.25,
            readout_format=".3g",
            description="init scale",
            **slider,
        ),
        "transform": w.Dropdown(
            options=TRANSFORMS, value=s.transform, description="target", style=STYLE
        ),
        "angle": w.FloatSlider(
            value=s.angle, min=-180, max=180, step=15, description="angle (deg)", **slider
        ),
        "amount": w.FloatSlider(
            value=s.amount, min=0.25, max=3.0, step=0.25, description="shear/stretch", **slider
        ),
        "shuffle": w.Checkbox(value=s.shuffle, description="shuffle each epoch", style=STYLE),
        "seed": w.IntSlider(value=s.seed, min=0, max=max(20, s.seed), description="seed", **slider),
    }


def _with(options, value):
    """``options`` with ``value`` added in order (a typed value the slider did not offer)."""
    return sorted({*options, value})


class Explorer:
    """The live lesson. ``Explorer(settings)``; display it (the cell's last line) to use it.

    Attributes a test or a curious student can read: ``settings`` (what the picture shows, or is
    about to), ``outcome`` (the last drawn ``lab3.explore.Outcome``), ``seconds`` (how long its
    retrain + redraw took), ``controls`` (``{name: widget}``), ``typed``, ``status``, ``image``.
    """

    def __init__(self, settings=None):
        self.settings = validate_controls(settings or Controls())
        self.outcome, self.seconds, self.error = None, None, None
        self.controls = _controls(self.settings)
        self.typed = w.Text(
            placeholder="or type exact values, e.g. learning_rate=0.05, "
            "batch_size=7, hidden_sizes=[8, 4]   (Enter)",
            continuous_update=False,
            layout=w.Layout(width="98%"),
        )
        self.status = w.HTML()
        self.progress = w.FloatProgress(
            min=0.0, max=1.0, description="training", layout=w.Layout(visibility="hidden")
        )
        self.image = w.Image(format="png", layout=w.Layout(max_width="1040px", width="100%"))
        c = self.controls
        columns = [
            ["learning_rate", "batch_size", "epochs", "reg"],
            ["width", "depth", "init", "init_scale"],
            ["transform", "angle", "amount", "shuffle", "seed"],
        ]
        self.widget = w.VBox(
            [
                w.HBox([w.VBox([c[name] for name in names]) for names in columns]),
                self.typed,
                w.HBox([self.status]),
                self.progress,
                self.image,
            ]
        )
        self._figure = Figure(status_line=False)  # the status is HTML here: less to redraw
        self._changed = threading.Condition()
        self._pending, self._generation, self._busy, self._syncing = None, 0, False, False
        # The first picture is drawn here, in the caller's thread: a kernel's main thread must
        # not wait for the worker (the worker's widget messages may need that thread).
        self._draw(self.settings, self._generation)
        threading.Thread(target=self._work, daemon=True, name="lab3-explorer").start()
        for name, control in c.items():
            control.observe(
                lambda change, name=name: self._on_control(name, change["new"]), names="value"
            )
        self.typed.observe(lambda change: self._on_typed(change["new"]), names="value")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # --- from the controls to settings ------------------------------------------------------

    def _on_control(self, name, value):
        if self._syncing:
            return
        if name in ("width", "depth"):
            changes = {
                "hidden_sizes": (self.controls["width"].value,) * self.controls["depth"].value
            }
        else:
            changes = {name: value}
        self._try(lambda: validate_controls(self.settings.replace(**changes)))

    def _on_typed(self, text):
        if text.strip():
            self._try(lambda: parse_typed(text, self.settings), sync=True)

    def _try(self, make_settings, sync=False):
        """New settings from ``make_settings()``, or its ``ValueError`` in the status line."""
        try:
            settings = make_settings()
        except ValueError as error:  # the picture stays: it still shows self.outcome
            self.error = str(error)
            self.status.value = (
                f"<b style='color:{COLOURS['diverged']}'>refused: "
                f"{html.escape(self.error)}</b> (the picture still shows the "
                "last accepted setting)"
            )
            return
        self.error = None
        if sync:
            self._show_in_controls(settings)
        self._submit(settings)

    def _show_in_controls(self, s):
        """Move the controls to the typed settings (widening a range or adding an option)."""
        c = self.controls
        self._syncing = True
        try:
            for name in ("batch_size", "epochs", "reg"):
                c[name].options = _with(c[name].options, getattr(s, name))
            for name in ("learning_rate", "init_scale"):
                exponent = math.log10(getattr(s, name))
                c[name].min, c[name].max = min(c[name].min, exponent), max(c[name].max, exponent)
            if s.hidden_sizes and len(set(s.hidden_sizes)) == 1:
                c["width"].max = max(c["width"].max, s.hidden_sizes[0])
                c["depth"].max = max(c["depth"].max, len(s.hidden_sizes))
                c["width"].value, c["depth"].value = s.hidden_sizes[0], len(s.hidden_sizes)
            c["seed"].max = max(c["seed"].max, s.seed)
            for name in (
                "learning_rate",
                "batch_size",
                "epochs",
                "reg",
                "init",
                "init_scale",
                "transform",
                "angle",
                "amount",
                "shuffle",
                "seed",
            ):
                c[name].value = getattr(s, name)
        finally:
            self._syncing = False

    # --- the worker: train, draw, show the newest setting only ------------------------------

    def _submit(self, settings):
        with self._changed:
            self.settings = settings
            self._pending = settings
            self._generation += 1
            self._changed.notify_all()

    def wait(self, timeout=60.0):
        """Block until the newest setting is drawn; False if ``timeout`` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def _work(self):
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending is not None)
                settings, generation = self._pending, self._generation
                self._pending, self._busy = None, True
            try:
                self._draw(settings, generation)
            except Exception as error:  # noqa: BLE001 -- shown, not lost in a dead thread
                self.status.value = (
                    f"<b style='color:red'>the explorer failed: {html.escape(repr(error))}</b>"
                )
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _draw(self, settings, generation):
        start = time.perf_counter()
        self.started = (generation, start)  # when the newest setting's run began (tests read it)
        stale = lambda: self._generation != generation  # noqa: E731 -- a newer setting came
        # The status line says what is being trained until the new picture is on screen, and
        # its verdict follows the picture: widget messages arrive in order, so a picture never
        # sits under the verdict of another run (the old picture sits under "retraining").
        self.status.value = (
            f"<span style='color:gray'>retraining: {html.escape(describe(settings))}...</span>"
        )
        self.progress.value = 0.0
        self.progress.layout.visibility = "hidden"

        def progress(done, total):
            self.progress.value = done / total
            if time.perf_counter() - start > SHOW_PROGRESS_AFTER:
                self.progress.layout.visibility = "visible"  # a long run shows how far it got

        outcome = outcome_of_validated(settings, stop=stale, progress=progress)
        if outcome is None or stale():
            return
        self._figure.update(outcome)
        png = self._figure.png()
        if stale():
            return
        self.outcome, self.seconds = outcome, time.perf_counter() - start
        colour = COLOURS[outcome.status]
        self.progress.layout.visibility = "hidden"
        self.image.value = png
        self.status.value = (
            f"<b style='color:{colour}; font-size:115%'>{outcome.status.upper()}"
            f": {html.escape(outcome.reason)}</b><br><span style='color:gray'>"
            f"{html.escape(caption(outcome))} (retrained and drawn in "
            f"{1000 * self.seconds:.0f} ms)</span>"
        )
        self.progress.layout.visibility = "hidden"
