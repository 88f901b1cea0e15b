"""The explorer's state: every knob of a training run in one small value, and what the run did.

The flow is ``Settings`` (the value of every control) -> ``run`` (train with ``engine="manual"``)
-> ``Outcome`` (the trained network, its history, the status) -> a picture
(``lab3.explore.panels``). The widgets (``lab3.explore.widgets``) only turn slider positions into
``Settings`` and show the picture; all of this module runs, and is tested, without a browser.

A run never raises for a bad *outcome*: divergence is a status like the others ("diverged",
"stuck", "still learning", "learned"), with the losses recorded up to the stop. Bad *settings*
raise the ``ValueError`` that ``lab3.train`` (or ``MultiLayerPerceptron``) would raise for them,
word for word, because ``validate`` calls the same checks.
"""

import ast
import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from lab3.checks import is_finite_number, require
from lab3.data import create_linear_training_data, rotation_matrix
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import DivergedError, History, train, validate_settings

TRANSFORMS = ("rotation", "shear", "stretch", "reflection")
LEARNED_MATRIX_ERROR = 0.1  # "learned" when ||effective matrix - true matrix||_F is below this
PLATEAU = 0.01  # "stuck" when the last epoch lowered the loss by less than 1%...
BARELY = 0.1  # ... and "barely moved" when the loss is still within 10% of where it started
CHUNK_STEPS = 20_000  # a run longer than this trains in chunks: progress shown, can be abandoned


@dataclass(frozen=True)
class Settings:
    """The value of every control. Defaults: the lab's single-sample run (lesson 03).

    ``transform`` and ``amount`` pick the target map: ``"rotation"`` by ``angle`` degrees, or
    first a shear ``x0 += amount * x1``, a stretch ``x0 *= amount`` or the reflection
    ``x1 -> -x1``, then the rotation (``amount`` is unused by rotation and reflection).
    """

    learning_rate: float = 0.1
    batch_size: int = 1
    hidden_sizes: tuple = (3,)
    init: str = "lab"
    init_scale: float = 1.0
    angle: float = 90.0
    transform: str = "rotation"
    amount: float = 1.0
    reg: float = 0.001
    epochs: int = 10
    shuffle: bool = False
    seed: int = 0
    n_samples: int = 1000

    def replace(self, **changes):
        """A copy with ``changes`` applied (nothing is checked here: see ``validate``)."""
        if isinstance(changes.get("hidden_sizes"), list):
            changes["hidden_sizes"] = tuple(changes["hidden_sizes"])
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(Settings))


def validate(settings):
    """Raise the ``ValueError`` that training these settings would raise; return ``settings``.

    Training knobs go through ``lab3.training.validate_settings`` and the network's through
    ``MultiLayerPerceptron`` itself, so the message is the one ``lab3.train`` gives.
    """
    s = settings
    validate_settings(
        s.n_samples, s.epochs, s.batch_size, s.learning_rate, s.reg, "manual", s.shuffle, s.seed
    )
    MultiLayerPerceptron(
        2, _as_list(s.hidden_sizes), 2, seed=s.seed, init=s.init, init_scale=s.init_scale
    )
    require(is_finite_number(s.angle), "angle", s.angle, "a finite number of degrees")
    require(s.transform in TRANSFORMS, "transform", s.transform, f"one of {TRANSFORMS}")
    require(
        is_finite_number(s.amount) and (s.transform != "stretch" or s.amount > 0),
        "amount",
        s.amount,
        "a finite number (> 0 for a stretch)",
    )
    return settings


def _as_list(sizes):
    """Tuples become lists (what ``MultiLayerPerceptron`` shows in its message); others as typed."""
    return list(sizes) if isinstance(sizes, tuple) else sizes


def parse_typed(text, settings):
    """``settings`` with the ``name=value, ...`` pairs typed in ``text``; checked by ``validate``.

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
        try:
            changes[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            changes[keyword.arg] = ast.get_source_segment(f"f({text})", keyword.value)
    return validate(settings.replace(**changes))


def target_matrix(settings):
    """The ``(2, 2)`` float32 map to learn (row vectors: ``y = x @ M``)."""
    k = float(settings.amount)
    first = {
        "rotation": [[1.0, 0.0], [0.0, 1.0]],
        "shear": [[1.0, 0.0], [k, 1.0]],
        "stretch": [[k, 0.0], [0.0, 1.0]],
        "reflection": [[1.0, 0.0], [0.0, -1.0]],
    }
    return torch.tensor(first[settings.transform]) @ rotation_matrix(settings.angle)


@dataclass
class Outcome:
    """What one run did. Arrays are numpy float64 unless said otherwise.

    ``initial_loss`` is the training-set mse before the first step; ``dead_before`` and
    ``dead_after`` hold one boolean array per hidden layer (True: the unit is off on every
    sample). ``diverged`` is ``None`` or ``(epoch, step, loss)``; ``learned_matrix`` and
    ``matrix_error`` are ``None`` after a divergence.
    """

    settings: Settings
    inputs: torch.Tensor  # (2, n)
    targets: torch.Tensor  # (2, n)
    matrix: torch.Tensor  # (2, 2)
    initial_model: MultiLayerPerceptron
    model: MultiLayerPerceptron
    history: History
    initial_loss: float
    diverged: tuple = None
    learned_matrix: np.ndarray = None  # (2, 2)
    matrix_error: float = None
    dead_before: list = None
    dead_after: list = None
    status: str = ""
    reason: str = ""

    @property
    def dead_count(self):
        """Dead hidden units after training, all layers together."""
        return int(sum(d.sum() for d in self.dead_after))

    @property
    def unit_count(self):
        return int(sum(self.model.hidden_sizes))


def run(settings, *, stop=None, progress=None):
    """Train a fresh network on ``settings`` (checked first); return an ``Outcome``.

    A run of at most ``CHUNK_STEPS`` steps is one ``lab3.train`` call (the default is lesson 03's
    run, number for number). A longer one trains in chunks of whole epochs, each a ``lab3.train``
    call (with ``shuffle``, chunk ``c`` shuffles with seed ``seed + first epoch of c``); after
    each chunk ``progress(epochs_done, epochs)`` is called, and when ``stop()`` is true the run
    is abandoned and ``None`` returned (a newer setting has arrived).
    """
    s = validate(settings)
    matrix = target_matrix(s)
    inputs, targets = create_linear_training_data(s.n_samples, matrix, seed=s.seed)
    model = MultiLayerPerceptron(
        2, list(s.hidden_sizes), 2, seed=s.seed, init=s.init, init_scale=s.init_scale
    )
    initial = model.copy()
    history, diverged = _train_in_chunks(model, inputs, targets, s, stop, progress)
    if history is None:
        return None
    outcome = Outcome(
        s,
        inputs,
        targets,
        matrix,
        initial,
        model,
        history,
        initial_loss=_loss(initial, inputs, targets),
        diverged=diverged,
    )
    x = inputs.T.double().numpy()
    outcome.dead_before = dead_units(initial, x)
    outcome.dead_after = dead_units(model, x)
    if diverged is None and all(np.isfinite(p.detach().numpy()).all() for p in model.parameters()):
        outcome.learned_matrix = model.effective_matrix(inputs).double().numpy()
        error = outcome.learned_matrix - matrix.double().numpy()
        outcome.matrix_error = float(np.linalg.norm(error))
    outcome.status, outcome.reason = classify(outcome)
    return outcome


def _train_in_chunks(model, inputs, targets, s, stop, progress):
    """``(History, diverged)`` of the whole run, or ``(None, None)`` when ``stop()`` said so."""
    settings = validate_settings(
        s.n_samples, s.epochs, s.batch_size, s.learning_rate, s.reg, "manual", s.shuffle, s.seed
    )
    chunk = (
        s.epochs
        if settings.total_steps <= CHUNK_STEPS
        else max(1, CHUNK_STEPS // settings.steps_per_epoch)
    )
    merged = History(settings)
    done, diverged = 0, None
    while done < s.epochs and diverged is None:
        epochs = min(chunk, s.epochs - done)
        try:
            part = train(
                model,
                inputs,
                targets,
                epochs=epochs,
                batch_size=s.batch_size,
                learning_rate=s.learning_rate,
                reg=s.reg,
                engine="manual",
                shuffle=s.shuffle,
                seed=s.seed + done,
            )
        except DivergedError as error:  # a drawn outcome, not a failure
            part, diverged = error.history, (done + error.epoch, error.step, error.loss)
        if chunk == s.epochs:
            merged = part  # one call: lab3.train's own History
        else:
            _extend(merged, part)
        done += epochs
        if progress is not None:
            progress(done, s.epochs)
        if stop is not None and stop():
            return None, None
    return merged, diverged


def _extend(history, part):
    history.step_loss.extend(part.step_loss)
    history.epoch_loss.extend(part.epoch_loss)
    history.epoch_objective.extend(part.epoch_objective)
    history.train_seconds += part.train_seconds


def _loss(model, inputs, targets):
    with torch.no_grad():
        return float(((model.forward(inputs.T) - targets.T) ** 2).mean())


def pre_activations(model, x):
    """Each hidden layer's ``z = h @ W + b`` for the rows ``x`` ``(n, 2)``: list of ``(n, width)``.

    Numpy float64; a unit is on where its ``z > 0`` (ReLU passes it), off elsewhere.
    """
    zs, h = [], x
    with np.errstate(all="ignore"):  # a diverged network may overflow: its units are then NaN
        for w, b, name in zip(model.weights, model.biases, model.activations):
            z = h @ w.detach().double().numpy() + b.detach().double().numpy()
            zs.append(z)
            h = np.maximum(z, 0.0) if name == "relu" else z
    return zs


def dead_units(model, x):
    """Per hidden layer, a boolean array: True for a ReLU unit that is off on every row of ``x``."""
    return [
        (~(z > 0)).all(axis=0) & (name == "relu")
        for z, name in zip(pre_activations(model, x), model.activations)
    ]


def classify(outcome):
    """``(status, reason)``: "diverged", "stuck", "still learning" or "learned", and why.

    learned: the effective matrix is within ``LEARNED_MATRIX_ERROR`` of the true one. stuck: a
    whole hidden layer is dead (the output cannot depend on the input), or the last epoch lowered
    the loss by less than ``PLATEAU`` (barely moved from the start, or a plateau further on).
    Otherwise it is still learning: more epochs would help.
    """
    o, s = outcome, outcome.settings
    if o.diverged is not None:
        epoch, step, loss = o.diverged
        return "diverged", (
            f"the loss passed 1e12 at epoch {epoch}, step {step} "
            f"(loss {loss:.3g}): learning_rate={s.learning_rate:g} is too large "
            "here"
        )
    losses = [o.initial_loss, *o.history.epoch_loss]
    final, change = losses[-1], losses[-1] / losses[-2] - 1.0 if losses[-2] > 0 else 0.0
    dead = f"; {o.dead_count} of {o.unit_count} hidden units dead" if o.dead_count else ""
    if o.matrix_error < LEARNED_MATRIX_ERROR:
        return "learned", (
            f"matrix error {o.matrix_error:.3g} < {LEARNED_MATRIX_ERROR:g} after "
            f"{s.epochs} epochs (loss {final:.3g}){dead}"
        )
    for layer, d in enumerate(o.dead_after, start=1):
        if d.all():
            return "stuck", (
                f"all {d.size} units of hidden layer {layer} are dead (off on every "
                f"sample), so the output no longer depends on the input "
                f"(loss {final:.3g})"
            )
    if change > -PLATEAU and final > (1 - BARELY) * o.initial_loss:
        return "stuck", (
            f"the loss has barely moved in {s.epochs} epochs ({o.initial_loss:.3g} "
            f"-> {final:.3g}): steps too small for this start; a larger "
            f"learning rate or more epochs{dead}"
        )
    if change > -PLATEAU:
        return "stuck", (
            f"the loss stopped falling ({change:+.1%} in the last epoch) at "
            f"{final:.3g}, matrix error {o.matrix_error:.3g}{dead}"
        )
    return "still learning", (
        f"the loss fell {-change:.1%} in the last epoch (now {final:.3g}, "
        f"matrix error {o.matrix_error:.3g}){dead}: more epochs or a "
        "larger learning rate"
    )


def summary(outcome):
    """One line: the status and its reason (what the explorer's status line shows)."""
    return f"{outcome.status}: {outcome.reason}"


def describe(settings):
    """The settings in a few words, e.g. ``lr 0.1, batch 1, hidden [3], 10 epochs``."""
    s = settings
    target = f"{s.transform} {s.angle:g} deg" + (
        f" (amount {s.amount:g})" if s.transform in ("shear", "stretch") else ""
    )
    return (
        f"lr {s.learning_rate:.3g}, batch {s.batch_size}, hidden {list(s.hidden_sizes)}, "
        f"init {s.init} x{s.init_scale:g}, {s.epochs} epochs, reg {s.reg:g}, {target}"
        + (", shuffled" if s.shuffle else "")
        + f", seed {s.seed}"
    )
