"""Lesson 07's explorer: move a slider, train a fresh network, see what the run did.

The flow, one module per floor (each imports only the ones above it):

* ``state``: ``Settings`` (the value of every control) -> ``run`` -> ``Outcome`` (the trained
  network, its history, its status); no matplotlib, no widgets;
* ``landscape``: the objective over a plane of parameters, and SGD paths restricted to it;
* ``panels``: the four matplotlib panels (loss, plane, matrix, landscape), each updated in place;
* ``figure``: the panels put together, drawn off-screen to a PNG;
* ``widgets``: ``Explorer``, the sliders that make ``Settings`` and show the figure.

The names below are the explorer's public face, what lesson 07 and the tests use.
"""

from lab3.explore.figure import Figure, draw, lean_png, small_multiples
from lab3.explore.state import (
    TRANSFORMS,
    Outcome,
    Settings,
    classify,
    describe,
    parse_typed,
    run,
    summary,
    target_matrix,
    validate,
)
from lab3.explore.widgets import Explorer

__all__ = [
    "TRANSFORMS",
    "Explorer",
    "Figure",
    "Outcome",
    "Settings",
    "classify",
    "describe",
    "draw",
    "lean_png",
    "parse_typed",
    "run",
    "small_multiples",
    "summary",
    "target_matrix",
    "validate",
]
