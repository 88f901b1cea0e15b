"""Lesson 07's explorer: move a slider, train a fresh network, see what the run did.

The flow, one module per floor (each imports only the ones above it):

* ``controls``: ``Controls`` (the value of every control: ``lab3.train``'s settings, the network
  and the target map) and ``validate_controls``, the one check where they enter;
* ``reference``: the problem's reference, the lab's run from the same start, and its sharpness;
* ``verdict``: ``classify``, what a run did, why, and advice that helps when tried;
* ``outcome``: ``outcome_of`` trains a fresh network on them -> ``Outcome`` (the network, its
  history, its verdict); no matplotlib, no widgets;
* ``landscape``: the objective over a plane of parameters, and SGD paths restricted to it;
* ``panels``: the four matplotlib panels (loss, plane, matrix, landscape), each updated in place;
* ``figure``: the panels put together, drawn off-screen to a PNG;
* ``widgets``: ``Explorer``, the sliders that make ``Controls`` and show the figure.

The names below are the explorer's public face, what lesson 07 and the tests use.
"""

from lab3.explore.controls import (
    TRANSFORMS,
    Controls,
    describe,
    parse_typed,
    target_matrix,
    validate_controls,
)
from lab3.explore.figure import Figure, draw_outcome, lean_png, small_multiples
from lab3.explore.outcome import Outcome, outcome_of, summary
from lab3.explore.verdict import classify
from lab3.explore.widgets import Explorer

__all__ = [
    "TRANSFORMS",
    "Controls",
    "Explorer",
    "Figure",
    "Outcome",
    "classify",
    "describe",
    "draw_outcome",
    "lean_png",
    "outcome_of",
    "parse_typed",
    "small_multiples",
    "summary",
    "target_matrix",
    "validate_controls",
]
