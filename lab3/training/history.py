"""What a training run did (``History``) and the two ways it can end early (the exceptions).

``lab3.train`` fills a ``History``; ``DivergedError`` and ``TrainingStopped`` carry the history
of the run up to where it stopped.
"""

from dataclasses import asdict, dataclass, field, fields

from lab3.training.settings import TrainingSettings


class TrainingStopped(Exception):
    """A run's ``poll`` callback asked it to stop. ``history`` holds what was done until then;
    the model keeps the parameters of the last completed step."""

    def __init__(self, history):
        super().__init__(f"training stopped by its poll callback after {history.steps} steps")
        self.history = history


class DivergedError(ArithmeticError):
    """Training diverged: a step's loss was NaN, infinite or above
    ``lab3.training.loop.DIVERGENCE_BOUND``.

    Attributes ``epoch`` and ``step`` (both counted from 1, the step within its epoch), ``loss``,
    ``learning_rate`` and ``history`` (what was recorded up to that step) say where it happened.
    The model keeps the parameters that produced that loss.
    """

    def __init__(self, epoch, step, loss, learning_rate, history):
        reg = history.settings.reg
        if learning_rate * reg >= 1.0:  # the penalty alone: w <- (1 - 2 lr reg) w grows |w|
            advice = (
                f"reg={reg:g} is too large for learning_rate={learning_rate:g}: each step "
                f"multiplies every weight by 1 - 2 * learning_rate * reg = "
                f"{1 - 2 * learning_rate * reg:.3g}; try reg below {1 / learning_rate:.3g}"
            )
        else:
            advice = f"try a smaller learning_rate than {learning_rate:g}"
        super().__init__(
            f"training diverged at epoch {epoch}, step {step} (loss={loss:.3g}): {advice}"
        )
        self.epoch, self.step, self.loss = epoch, step, loss
        self.learning_rate, self.history = learning_rate, history


@dataclass
class History:
    """What ``train`` did: the ``TrainingSettings`` it ran with and the losses it saw.

    ``step_loss[i]`` is the loss (``settings.loss``: mse or cross-entropy) of the batch of step
    ``i`` *before* its update (the lab's "loss after forward pass"); ``epoch_loss[e]`` is the loss
    over the whole training set after epoch ``e`` and ``epoch_objective[e]`` adds
    ``reg * sum(||W||_F**2)`` to it. ``test_loss[e]`` is the loss over the test set after epoch
    ``e`` ([] when the run had none). With ``loss="cross_entropy"``, ``epoch_accuracy[e]`` and
    ``test_accuracy[e]`` are the fractions of training and test samples classified right (the
    largest output at the one-hot target's class); [] for mse. Each setting can also be read
    directly (``history.batch_size`` is ``history.settings.batch_size``).
    """

    settings: TrainingSettings
    step_loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    epoch_objective: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    epoch_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    train_seconds: float = 0.0

    @property
    def steps(self):
        """Number of SGD steps taken: ``epochs * ceil(n_samples / batch_size)`` after a full run."""
        return len(self.step_loss)

    def to_dict(self):
        """Plain dict (JSON-ready): every setting, every result, ``steps`` included."""
        results = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "settings"}
        return {**asdict(self.settings), **results, "steps": self.steps}


def _setting(name):
    return property(lambda self: getattr(self.settings, name), doc=f"``settings.{name}``")


for _field in fields(
    TrainingSettings
):  # read-only shortcuts: history.epochs, history.batch_size...
    setattr(History, _field.name, _setting(_field.name))
