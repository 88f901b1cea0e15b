"""The explorer's controls: every knob of a training run, the network and the target map.

``Controls`` builds on ``lab3.training.settings.TrainingSettings`` (the knobs of ``lab3.train``)
and adds the network (``hidden_sizes``, ``init``, ``init_scale``) and the map to learn
(``transform``, ``angle``, ``amount``). ``validate_controls`` checks them where they enter (a
slider, the typed field, a notebook's call), with the messages ``lab3.train`` and
``MultiLayerPerceptron`` give, word for word: it calls the same checks. What it returns is what
``lab3.explore.outcome`` trains, unchecked.

No matplotlib, no widgets here.
"""

import ast
import dataclasses
from dataclasses import dataclass

import torch

from lab3.data import rotation_matrix
from lab3.mlp import validate_init, validate_sizes
from lab3.training.settings import TrainingSettings, validate_settings
from lab3.validation import is_finite_number, require

TRANSFORMS = ("rotation", "shear", "stretch", "reflection")
MAX_ANGLE = 360  # degrees either way: a larger angle is the same rotation, or a typo


@dataclass(frozen=True)
class Controls(TrainingSettings):
    """The value of every control. Defaults: the lab's single-sample run (lesson 03).

    The training knobs and their defaults are ``TrainingSettings``'s, except the engine: the
    explorer trains with the fast ``"manual"`` one. ``transform`` and ``amount`` pick the target
    map: ``"rotation"`` by ``angle`` degrees, or first a shear ``x0 += amount * x1``, a stretch
    ``x0 *= amount`` or the reflection ``x1 -> -x1``, then the rotation (``amount`` is unused by
    rotation and reflection).
    """

    engine: str = "manual"
    hidden_sizes: tuple = (3,)
    init: str = "lab"
    init_scale: float = 1.0
    angle: float = 90.0
    transform: str = "rotation"
    amount: float = 1.0

    def replace(self, **changes):
        """A copy with ``changes`` applied; nothing is checked (``validate_controls`` does that)."""
        if isinstance(changes.get("hidden_sizes"), list):
            changes["hidden_sizes"] = tuple(changes["hidden_sizes"])
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(Controls))


def validate_controls(controls):
    """Raise the ``ValueError`` that training with these controls would raise; return them checked.

    The training knobs go through ``lab3.training.settings.validate_settings`` and the network's
    through the checks ``MultiLayerPerceptron`` makes, so the message is the one ``lab3.train``
    (or the network) gives.
    """
    c = validate_settings(controls)
    require(  # the explorer's task is a map of the plane, a regression: no classes to score
        c.loss == "mse",
        "loss",
        c.loss,
        "'mse': lesson 07's explorer learns a linear map (the classification tasks and their "
        "cross-entropy are in lab3.playground)",
    )
    validate_sizes(2, _as_list(c.hidden_sizes), 2)
    validate_init(c.init, c.init_scale)
    require(
        is_finite_number(c.angle) and -MAX_ANGLE <= c.angle <= MAX_ANGLE,
        "angle",
        c.angle,
        f"a number of degrees from {-MAX_ANGLE} to {MAX_ANGLE}",
    )
    require(c.transform in TRANSFORMS, "transform", c.transform, f"one of {TRANSFORMS}")
    require(
        is_finite_number(c.amount) and (c.transform != "stretch" or c.amount > 0),
        "amount",
        c.amount,
        "a finite number (> 0 for a stretch)",
    )
    return c


def _as_list(sizes):
    """Tuples become lists (what ``MultiLayerPerceptron`` shows in its message); others as typed."""
    return list(sizes) if isinstance(sizes, tuple) else sizes


def parse_typed(text, controls):
    """``controls`` with the ``name=value, ...`` pairs typed in ``text``, checked (as
    ``validate_controls`` checks them).

    Values are Python literals (``0.05``, ``7``, ``[8, 4]``, ``True``, ``"he"``); anything else is
    kept as the text typed, so ``learning_rate=abc`` is refused the way ``lab3.train`` refuses
    ``learning_rate='abc'``. Raises ``ValueError`` naming what is wrong.
    """
    example = "name=value pairs separated by commas, e.g. learning_rate=0.05, batch_size=7"
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        call = None
    require(
        isinstance(call, ast.Call)
        and not call.args
        and text.strip()
        and all(k.arg for k in call.keywords),
        "typed",
        text,
        example,
    )
    changes = {}
    for keyword in call.keywords:
        require(keyword.arg in FIELDS, "parameter", keyword.arg, f"one of {list(FIELDS)}")
        require(
            keyword.arg not in changes,
            "typed",
            text,
            f"each name once, but {keyword.arg} is typed twice",
        )
        try:
            changes[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            changes[keyword.arg] = ast.get_source_segment(f"f({text})", keyword.value)
    return validate_controls(controls.replace(**changes))


def target_matrix(controls):
    """The ``(2, 2)`` float32 map to learn (row vectors: ``y = x @ M``)."""
    k = float(controls.amount)
    first = {
        "rotation": [[1.0, 0.0], [0.0, 1.0]],
        "shear": [[1.0, 0.0], [k, 1.0]],
        "stretch": [[k, 0.0], [0.0, 1.0]],
        "reflection": [[1.0, 0.0], [0.0, -1.0]],
    }
    return torch.tensor(first[controls.transform]) @ rotation_matrix(controls.angle)


def describe(controls):
    """The controls in a few words, e.g. ``lr 0.1, batch 1, hidden [3], 10 epochs``."""
    s = controls
    target = f"{s.transform} {s.angle:g} deg" + (
        f" (amount {s.amount:g})" if s.transform in ("shear", "stretch") else ""
    )
    return (
        f"lr {s.learning_rate:.3g}, batch {s.batch_size}, hidden {list(s.hidden_sizes)}, "
        f"init {s.init} x{s.init_scale:g}, {s.epochs} epochs, reg {s.reg:g}, {target}"
        + (", shuffled" if s.shuffle else "")
        + f", seed {s.seed}"
    )
