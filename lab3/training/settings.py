"""The settings of one training run: the knobs of ``lab3.train``, in one frozen value.

``TrainingSettings`` is the one object that carries them. ``lab3.train`` builds it from its
keyword arguments; lesson 07's explorer (``lab3.explore.Controls``) and the training lessons'
papermill parameters (``lab3.experiment.DEFAULTS``) build on it, adding the network and the target
map. Each is checked once, where it enters (``validate_settings`` here, which the others call), and
what is passed inward is an already-valid object: the training loop checks nothing again.
"""

import dataclasses
from dataclasses import dataclass

from lab3 import validation
from lab3.functional import LOSSES
from lab3.validation import (
    is_finite_number,
    is_int,
    require,
    require_count,
    require_nonnegative,
    require_seed,
)

ENGINES = ("autograd", "manual")


@dataclass(frozen=True)
class TrainingSettings:
    """The knobs of one ``lab3.train`` run. Defaults: the lab's single-sample run (lesson 03).

    A value made directly is not checked: ``validate_settings`` checks one (and returns it with
    numbers of the right type), and everything that trains takes what it returned.
    """

    learning_rate: float = 0.1
    epochs: int = 10
    batch_size: int = 1
    reg: float = 0.001
    seed: int = 0  # of the shuffling (and, where a caller makes data or a model, of those)
    n_samples: int = 1000  # the training set's size (for lab3.train: the data's column count)
    engine: str = "autograd"
    shuffle: bool = False
    loss: str = "mse"  # or "cross_entropy" (softmax of the outputs against one-hot targets)

    @property
    def steps_per_epoch(self):
        """``ceil(n_samples / batch_size)``: the last batch is shorter when it does not divide."""
        return -(-self.n_samples // self.batch_size)

    @property
    def total_steps(self):
        """SGD steps of the whole run, if nothing diverges."""
        return self.epochs * self.steps_per_epoch

    def replace(self, **changes):
        """A copy with ``changes`` applied; nothing is checked (``validate_settings`` does that)."""
        return dataclasses.replace(self, **changes)


TRAINING_FIELDS = tuple(f.name for f in dataclasses.fields(TrainingSettings))


def validate_engine(engine):
    """Refuse an engine name that is not one of ``ENGINES``; return it."""
    require(isinstance(engine, str) and engine in ENGINES, "engine", engine, f"one of {ENGINES}")
    return engine


def validate_learning_rate(learning_rate):
    """Refuse a learning rate that is not a finite number > 0; return it."""
    require(
        is_finite_number(learning_rate) and learning_rate > 0,
        "learning_rate",
        learning_rate,
        "a finite number > 0",
    )
    return learning_rate


def validate_loss(loss):
    """Refuse a loss name that is not one of ``LOSSES``; return it."""
    require(isinstance(loss, str) and loss in LOSSES, "loss", loss, f"one of {LOSSES}")
    return loss


def validate_settings(settings):
    """Refuse a ``TrainingSettings`` (or a value built on it) with a knob out of range.

    The message names the knob, its value and what is allowed. The limits of ``lab3.validation``
    apply (``MAX_SAMPLES``, ``MAX_EPOCHS``, and ``MAX_STEPS`` on ``epochs * ceil(n_samples /
    batch_size)``), so a typo is refused at once, before anything is allocated. Returns a copy of
    the same class, its numbers as ``int`` and ``float``; other fields are left to its caller.
    """
    s = settings
    require_count("n_samples", s.n_samples, "MAX_SAMPLES")
    require_count("epochs", s.epochs, "MAX_EPOCHS")
    require(
        is_int(s.batch_size) and 1 <= s.batch_size <= s.n_samples,
        "batch_size",
        s.batch_size,
        f"an integer from 1 to the number of samples ({s.n_samples})",
    )
    validate_learning_rate(s.learning_rate)
    require_nonnegative("reg", s.reg)
    validate_engine(s.engine)
    validate_loss(s.loss)
    require(isinstance(s.shuffle, bool), "shuffle", s.shuffle, "True or False")
    require_seed(s.seed)
    checked = s.replace(
        n_samples=int(s.n_samples),
        epochs=int(s.epochs),
        batch_size=int(s.batch_size),
        learning_rate=float(s.learning_rate),
        reg=float(s.reg),
        seed=int(s.seed),
    )
    require(
        checked.total_steps <= validation.MAX_STEPS,
        "epochs",
        s.epochs,
        f"at most {validation.MAX_STEPS:,} SGD steps in all, but epochs * ceil(n_samples / "
        f"batch_size) = {s.epochs} * {checked.steps_per_epoch} = {checked.total_steps:,}: "
        "fewer epochs or a larger batch_size (or raise lab3.validation.MAX_STEPS)",
    )
    return checked


def training_part(settings):
    """The ``TrainingSettings`` inside a value built on it (the knobs alone, as ``train`` takes)."""
    return TrainingSettings(**{name: getattr(settings, name) for name in TRAINING_FIELDS})
