"""The playground's knobs: one frozen ``PlaygroundSettings``, checked once where it enters.

Three groups, by what a change does to the run (``Session.apply``):

* ``DATA_FIELDS`` (task, n_samples, noise, test_fraction, seed): new data, a new network,
  epoch 0;
* ``NETWORK_FIELDS`` (width, depth, activation): a new network on the same data, epoch 0;
* ``TRAINING_FIELDS`` (learning_rate, batch_size, reg): the network keeps its weights and the
  next epochs train with the new values, as in TensorFlow Playground.

The sliders offer the values of ``CHOICES``; ``settings_from`` also takes any other valid value
(a message from the browser, a test), and refuses a bad one with the ``ValueError`` that names
it, its value and what is allowed.
"""

import dataclasses
from dataclasses import dataclass

from lab3.functional import HIDDEN_ACTIVATIONS
from lab3.tasks import TASKS, validate_task
from lab3.training.settings import validate_learning_rate
from lab3.validation import is_count, is_int, require, require_nonnegative

MAX_WIDTH = 16  # units per hidden layer: each one is a thumbnail on the page
MAX_DEPTH = 6  # hidden layers
MAX_PLAYGROUND_SAMPLES = 5000  # a picture per epoch must stay quick
MAX_REG = 10.0

CHOICES = {  # what the page's sliders and selectors offer
    "task": TASKS,
    "n_samples": (100, 200, 500, 1000, 2000),
    "noise": tuple(round(0.05 * i, 2) for i in range(11)),
    "test_fraction": tuple(round(0.1 * i, 1) for i in range(1, 10)),
    "seed": tuple(range(10)),
    "learning_rate": (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "batch_size": (1, 2, 5, 10, 20, 50, 100),
    "reg": (0.0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1),
    "width": tuple(range(1, 9)),
    "depth": tuple(range(0, 5)),
    "activation": HIDDEN_ACTIVATIONS,
}


@dataclass(frozen=True)
class PlaygroundSettings:
    """One state of the knobs. Defaults: the lab's linear map, a 2-4-4-2 ReLU network."""

    task: str = "linear"
    n_samples: int = 500
    noise: float = 0.0
    test_fraction: float = 0.5
    seed: int = 0
    learning_rate: float = 0.03
    batch_size: int = 10
    reg: float = 0.0
    width: int = 4
    depth: int = 2
    activation: str = "relu"

    @property
    def hidden_sizes(self):
        """``(width,) * depth``: every hidden layer as wide (``()`` is the affine network)."""
        return (self.width,) * self.depth

    @property
    def n_train(self):
        """Samples in the training set (``make_task``'s split)."""
        return self.n_samples - round(self.test_fraction * self.n_samples)

    def replace(self, **changes):
        """A copy with ``changes``; nothing is checked (``validate_playground`` does that)."""
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(PlaygroundSettings))
DATA_FIELDS = ("task", "n_samples", "noise", "test_fraction", "seed")
NETWORK_FIELDS = ("width", "depth", "activation")
TRAINING_FIELDS = ("learning_rate", "batch_size", "reg")


def validate_playground(settings):
    """Refuse settings with a bad knob (``ValueError`` naming it); return them checked and typed.

    The data's knobs go through ``lab3.tasks.validate_task``; the network is at most
    ``MAX_DEPTH`` layers of ``MAX_WIDTH`` units (each unit is a thumbnail), the data at most
    ``MAX_PLAYGROUND_SAMPLES`` points (each epoch is a picture).
    """
    s = settings
    task = validate_task(s.task, s.n_samples, s.noise, s.test_fraction, s.seed)
    require(
        task.n_samples <= MAX_PLAYGROUND_SAMPLES,
        "n_samples",
        s.n_samples,
        f"an integer from 1 to {MAX_PLAYGROUND_SAMPLES} (the playground redraws every epoch)",
    )
    require(
        is_count(s.width) and s.width <= MAX_WIDTH,
        "width",
        s.width,
        f"an integer from 1 to {MAX_WIDTH} (units per hidden layer)",
    )
    require(
        (is_count(s.depth) or (is_int(s.depth) and s.depth == 0)) and s.depth <= MAX_DEPTH,
        "depth",
        s.depth,
        f"an integer from 0 (the affine network) to {MAX_DEPTH} (hidden layers)",
    )
    require(
        isinstance(s.activation, str) and s.activation in HIDDEN_ACTIVATIONS,
        "activation",
        s.activation,
        f"one of {HIDDEN_ACTIVATIONS}",
    )
    validate_learning_rate(s.learning_rate)
    require_nonnegative("reg", s.reg)
    require(s.reg <= MAX_REG, "reg", s.reg, f"a number from 0 to {MAX_REG:g}")
    checked = PlaygroundSettings(
        task=task.name,
        n_samples=task.n_samples,
        noise=task.noise,
        test_fraction=task.test_fraction,
        seed=task.seed,
        learning_rate=float(s.learning_rate),
        batch_size=s.batch_size,
        reg=float(s.reg),
        width=int(s.width),
        depth=int(s.depth),
        activation=s.activation,
    )
    require(
        is_count(s.batch_size) and s.batch_size <= checked.n_train,
        "batch_size",
        s.batch_size,
        f"an integer from 1 to the number of training samples ({checked.n_train})",
    )
    return checked.replace(batch_size=int(s.batch_size))


def settings_from(values, current=None):
    """``current`` (default: the defaults) with the knobs of the dict ``values`` changed, checked.

    An unknown name is refused like a bad value: a message from the page that does not fit is
    an error to show, not something to ignore.
    """
    require(isinstance(values, dict), "settings", values, "a dict of knob names to values")
    for name in values:
        require(name in FIELDS, "settings", name, f"knob names among {FIELDS}")
    return validate_playground((current or PlaygroundSettings()).replace(**values))


def changed_group(old, new):
    """What a change from ``old`` to ``new`` resets: ``"data"``, ``"network"``, ``"training"``
    (nothing: the run goes on with the new values) or ``None`` (no change)."""
    differs = [name for name in FIELDS if getattr(old, name) != getattr(new, name)]
    for group, fields in (
        ("data", DATA_FIELDS),
        ("network", NETWORK_FIELDS),
        ("training", TRAINING_FIELDS),
    ):
        if any(name in fields for name in differs):
            return group
    return None
