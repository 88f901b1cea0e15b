"""What one explorer run did: train a fresh network on ``Controls``, judge how it went.

The flow is ``Controls`` (``lab3.explore.controls``, the value of every control) ->
``outcome_of`` (a fresh network, trained) -> ``Outcome`` (the network, its history, the status)
-> a picture (``lab3.explore.figure``). No matplotlib, no widgets here: all of it runs, and is
tested, without a browser.

A run never raises for a bad *outcome*: divergence is a status like the others ("diverged",
"stuck", "still learning", "learned"), with the losses recorded up to the stop. Bad *controls*
are refused by ``validate_controls`` where they enter, with the message ``lab3.train`` gives.
"""

import functools
from dataclasses import dataclass

import numpy as np
import torch

from lab3.curvature import sharpness, stability_limit
from lab3.data import create_linear_training_data
from lab3.explore.controls import Controls, target_matrix, validate_controls
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import DivergedError, History, TrainingStopped, train, train_validated
from lab3.training.settings import training_part

LEARNED_MATRIX_ERROR = 0.1  # "learned" when ||effective matrix - true matrix||_F is below this
LEARNED_LOSS = 0.01  # ... and the loss is below 1% of the targets' mean square
FALLING = 0.001  # "still learning" while the last quarter of the epochs lowered the loss by 0.1%+
PLATEAU = 0.05  # ... "on a plateau" when by less than 5%, far above the loss of the map
BARELY = 0.1  # "barely moved": the loss is still within 10% of where it started
RISE = 1.02  # "too large a step" when the loss ends 2% or more above where it started
STEP_MARGIN = 0.9  # "too large a step" at 90% of the stability limit and above
SAFE_SHARE = 0.25  # a 4x larger learning rate is advised only if it stays under 1/4 of the limit
REG_SHARE = 0.1  # "converged" (reg) when the penalty is more than 10% of the final loss...
CONVERGING = 0.1  # ... and the last quarter of the epochs lowered the loss by less than 10%
MAX_CURVATURE_PARAMETERS = 5_000  # the sharpness of larger networks is not computed (seconds)
REFERENCE = {"learning_rate": 0.1, "batch_size": 1, "epochs": 10}  # the lab's single-sample run
REFERENCE_SAMPLES = 200  # the reference (and the landscape) use the first 200 training samples


@dataclass(frozen=True)
class Reference:
    """A network that learned the problem: the lab's single-sample run from the same start.

    ``trained`` is None when that run diverged; ``sharpness`` is ``lab3.sharpness`` at it on the
    same samples (None when unknown): the curvature that SGD meets once the map is learned, so
    ``2 / sharpness`` is the learning rate a run of this problem must stay under in the end.
    """

    start: MultiLayerPerceptron
    trained: MultiLayerPerceptron
    inputs: torch.Tensor  # (2, m)
    targets: torch.Tensor  # (2, m)
    sharpness: float


def problem_key(settings):
    """The settings a problem is made of (not the learning rate, batch size, epochs, shuffle)."""
    s = settings
    return (
        s.hidden_sizes,
        s.init,
        s.init_scale,
        s.seed,
        s.transform,
        s.angle,
        s.amount,
        s.reg,
        min(REFERENCE_SAMPLES, s.n_samples),
    )


@functools.lru_cache(maxsize=8)
def reference(key):
    """The ``Reference`` of the problem ``problem_key(controls)`` (cached per problem)."""
    hidden_sizes, init, init_scale, seed, transform, angle, amount, reg, m = key
    matrix = target_matrix(Controls(transform=transform, angle=angle, amount=amount))
    inputs, targets = create_linear_training_data(m, matrix, seed=seed)
    start = MultiLayerPerceptron(
        2, list(hidden_sizes), 2, seed=seed, init=init, init_scale=init_scale
    )
    trained = start.copy()
    try:
        train(trained, inputs, targets, reg=reg, engine="manual", **REFERENCE)
    except DivergedError:
        return Reference(start, None, inputs, targets, None)
    return Reference(
        start, trained, inputs, targets, _affordable_sharpness(trained, inputs, targets, reg)
    )


def _affordable_sharpness(model, inputs, targets, reg):
    """``lab3.sharpness`` of ``model`` on the data, or None for a network too large for it."""
    if sum(p.numel() for p in model.parameters()) > MAX_CURVATURE_PARAMETERS:
        return None
    value = sharpness(
        model.weights, model.biases, inputs.T, targets.T, reg, list(model.activations)
    )
    return value if np.isfinite(value) else None


@dataclass
class Outcome:
    """What one run did. Arrays are numpy float64 unless said otherwise.

    ``initial_loss`` is the training-set mse before the first step; ``dead_before`` and
    ``dead_after`` hold one boolean array per hidden layer (True: the unit is off on every
    sample). ``diverged`` is ``None`` or ``(epoch, step, loss)``; ``learned_matrix`` and
    ``matrix_error`` are ``None`` after a divergence.
    """

    settings: Controls
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
    baseline: float = None  # the targets' mean square: the loss of a network that outputs 0
    reg_cost: float = 0.0  # reg * sum ||W||^2 of the trained network
    sharpness: float = None  # lambda_max of the objective's Hessian (``lab3.sharpness``), or None
    status: str = ""
    reason: str = ""

    @property
    def dead_count(self):
        """Dead hidden units after training, all layers together."""
        return int(sum(d.sum() for d in self.dead_after))

    @property
    def unit_count(self):
        return int(sum(self.model.hidden_sizes))


def outcome_of(controls, *, stop=None, progress=None):
    """Train a fresh network on ``controls`` (checked first); return an ``Outcome``.

    The run is the one ``lab3.train`` makes, number for number (the default is lesson 03's).
    While it trains, every ``lab3.training.loop.POLL_SECONDS`` or so (between two steps, however
    large the network), ``progress(steps_done, total_steps)`` is called, and when ``stop()`` is
    true the run is abandoned and ``None`` returned (a newer setting has arrived).
    """
    return outcome_of_validated(validate_controls(controls), stop=stop, progress=progress)


def outcome_of_validated(controls, *, stop=None, progress=None):
    """``outcome_of`` for ``controls`` that ``validate_controls`` returned: nothing is checked."""
    c = controls
    matrix = target_matrix(c)
    inputs, targets = create_linear_training_data(c.n_samples, matrix, seed=c.seed)
    model = MultiLayerPerceptron(
        2, list(c.hidden_sizes), 2, seed=c.seed, init=c.init, init_scale=c.init_scale
    )
    initial = model.copy()
    history, diverged = _train(model, inputs, targets, c, stop, progress)
    if history is None:
        return None
    outcome = Outcome(
        c,
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
    outcome.baseline = float((targets.double() ** 2).mean())
    if diverged is None and all(np.isfinite(p.detach().numpy()).all() for p in model.parameters()):
        outcome.learned_matrix = model.effective_matrix(inputs).double().numpy()
        error = outcome.learned_matrix - matrix.double().numpy()
        outcome.matrix_error = float(np.linalg.norm(error))
        weights = [w.detach().double() for w in model.weights]
        outcome.reg_cost = c.reg * sum(float((w**2).sum()) for w in weights)
    outcome.sharpness = _sharpness_for_the_verdict(outcome)
    outcome.status, outcome.reason = classify(outcome)
    return outcome


def _sharpness_for_the_verdict(outcome):
    """``lab3.sharpness`` of the trained network (of the initial one after a divergence), where
    a verdict needs it: not for a run that learned, nor for a network too large to afford it."""
    o = outcome
    learned = (
        o.matrix_error is not None
        and o.matrix_error < LEARNED_MATRIX_ERROR
        and (o.history.epoch_loss[-1] < LEARNED_LOSS * o.baseline)
    )
    if learned:
        return None
    network = o.initial_model if o.diverged is not None else o.model
    return _affordable_sharpness(network, o.inputs, o.targets, o.settings.reg)


def _train(model, inputs, targets, controls, stop, progress):
    """``(History, diverged)`` of the whole run, or ``(None, None)`` when ``stop()`` said so."""
    settings = training_part(controls)  # already checked: trained unchecked

    def poll(steps_done):
        if progress is not None:
            progress(steps_done, settings.total_steps)
        return stop is not None and stop()

    try:
        history = train_validated(model, inputs, targets, settings, poll=poll)
    except DivergedError as error:  # a drawn outcome, not a failure
        return error.history, (error.epoch, error.step, error.loss)
    except TrainingStopped:
        return None, None
    return history, None


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
    """``(status, reason)``: what the run did, why, and advice that helps when tried.

    The statuses, in the order they are tested:

    * ``diverged``: the loss passed ``DIVERGENCE_BOUND`` (named with the stability limit, or
      with reg when ``reg`` alone makes every step grow the weights);
    * ``learned``: the effective matrix is within ``LEARNED_MATRIX_ERROR`` of the true one *and*
      the loss is under ``LEARNED_LOSS`` of the targets' mean square (an affine fit of a wild
      network can be close while its outputs are not);
    * ``too large a step``: the loss ended above where it started, or it oscillates with the
      learning rate at or above the stability limit ``2 / λ_max`` of the trained network;
    * ``stuck``: a whole hidden layer is dead (its output no longer depends on the input), or
      the loss stopped falling short of the map;
    * ``converged``: the loss stopped falling at the optimum of mse + reg, with reg large
      enough to keep the map from being learned;
    * ``still learning``: the loss still falls: more epochs help (the verdicts are checked
      against runs four times longer in ``tests/test_explore_verdicts.py``).
    """
    o, s = outcome, outcome.settings
    if o.diverged is not None:
        return "diverged", _diverged_reason(o)
    losses = [o.initial_loss, *o.history.epoch_loss]
    final = losses[-1]
    if o.matrix_error < LEARNED_MATRIX_ERROR and final < LEARNED_LOSS * o.baseline:
        return "learned", (
            f"matrix error {o.matrix_error:.3g} < {LEARNED_MATRIX_ERROR:g} and loss {final:.3g} "
            f"after {s.epochs} epochs{_dead_note(o)}"
        )
    limit = stability_limit(o.sharpness) if o.sharpness is not None else None
    if final > RISE * losses[0]:
        return "too large a step", (
            f"the loss rose from {losses[0]:.3g} to {final:.3g}{_dead_note(o)}: "
            f"learning_rate={s.learning_rate:g} is too large{_limit_note(o, limit)}"
        )
    recent = _recent_change(losses)
    if limit is not None and s.learning_rate >= STEP_MARGIN * limit:
        return "too large a step", (
            f"the loss {_wobble(losses)}: learning_rate={s.learning_rate:g} is at or above "
            f"the stability limit{_limit_note(o, limit)}"
        )
    for layer, dead in enumerate(o.dead_after, start=1):
        if dead.all():
            return "stuck", _dead_layer_reason(o, layer, dead, final)
    if o.reg_cost > REG_SHARE * final and recent > -CONVERGING:
        return "converged", (
            f"the objective stopped falling at the optimum of mse + reg * sum ||W||^2 for "
            f"reg={s.reg:g}: the penalty ({o.reg_cost:.3g}) keeps the weights small, so the "
            f"map is only partly learned (loss {final:.3g}, matrix error {o.matrix_error:.3g}); "
            f"a smaller reg, e.g. reg={s.reg / 10:g}, learns it"
        )
    if recent <= -FALLING or final > (1 - BARELY) * losses[0]:
        return "still learning", _still_learning_reason(o, losses, recent, limit)
    return "stuck", (
        f"the loss stopped falling ({100 * recent:+.2f}% over the last {_tail(losses)} epochs) "
        f"at {final:.3g}, matrix error {o.matrix_error:.3g}{_dead_note(o)}"
    )


def _tail(losses):
    """How many epochs the recent change spans: the last quarter of the run, at least one."""
    return max(1, (len(losses) - 1) // 4)


def _recent_change(losses):
    """The relative change of the loss over the last quarter of the epochs (-0.1: fell 10%)."""
    before = losses[-1 - _tail(losses)]
    return losses[-1] / before - 1.0 if before > 0 else 0.0


def _wobble(losses):
    shown = " -> ".join(f"{v:.3g}" for v in losses[-4:])
    return f"oscillates ({shown})" if _recent_change(losses) > -FALLING else f"falls ({shown})"


def _limit_note(outcome, limit):
    """The sharpness behind a too-large step, and the advice it gives: stay under the limit of
    this network and of one that has learned the map (sharpness grows as a network learns)."""
    learned = reference(problem_key(outcome.settings)).sharpness
    notes, limits = [], []
    if limit is not None:
        notes.append(
            f"this network's sharpness is lambda_max = {outcome.sharpness:.3g}, "
            f"stable below 2 / lambda_max = {limit:.2g}"
        )
        limits.append(limit)
    if learned is not None:
        notes.append(
            f"a network that learned this map has lambda_max = {learned:.3g}, "
            f"stable below {stability_limit(learned):.2g}"
        )
        limits.append(stability_limit(learned))
    if not limits:
        return ""
    return f" ({'; '.join(notes)}): try a learning rate below {min(limits):.2g}"


def _dead_note(outcome):
    return (
        f"; {outcome.dead_count} of {outcome.unit_count} hidden units dead"
        if (outcome.dead_count)
        else ""
    )


def _dead_layer_reason(outcome, layer, dead, final):
    s = outcome.settings
    if outcome.dead_before[layer - 1].all():
        cause = (
            f"they were dead from the start (init={s.init!r}): the signal fades through the "
            "layers; init='he' keeps it alive"
        )
    else:
        cause = (
            f"a step too large for them pushed every input below zero: a smaller learning rate, "
            f"e.g. learning_rate={s.learning_rate / 4:g}"
        )
    return (
        f"all {dead.size} units of hidden layer {layer} are dead (off on every sample), so the "
        f"output no longer depends on the input (loss {final:.3g}); {cause}"
    )


def _still_learning_reason(outcome, losses, recent, limit):
    s = outcome.settings
    if losses[-1] > (1 - BARELY) * losses[0]:
        where = f"barely moved from {losses[0]:.3g}, steps too small for this start: "
    elif losses[-1] > 0.5 * losses[0] and recent > -PLATEAU:
        where = "on a plateau: "
    else:
        where = ""
    advice = f"more epochs, e.g. epochs={4 * s.epochs}"
    if limit is not None and 4 * s.learning_rate <= SAFE_SHARE * limit:
        advice += (
            f", or a larger learning rate, e.g. learning_rate={4 * s.learning_rate:g} (far "
            f"below the stability limit {limit:.2g})"
        )
    return (
        f"{where}the loss fell {-100 * recent:.2g}% over the last {_tail(losses)} epochs (now "
        f"{losses[-1]:.3g}, matrix error {outcome.matrix_error:.3g}){_dead_note(outcome)}: "
        f"{advice}"
    )


def _diverged_reason(outcome):
    s = outcome.settings
    epoch, step, loss = outcome.diverged
    where = f"the loss passed 1e12 at epoch {epoch}, step {step} (loss {loss:.3g}): "
    if s.learning_rate * s.reg >= 1.0:
        return where + (
            f"reg={s.reg:g} is too large for learning_rate={s.learning_rate:g}: each step "
            f"multiplies every weight by 1 - 2 * learning_rate * reg = "
            f"{1 - 2 * s.learning_rate * s.reg:.3g}, which grows them whatever the data; "
            f"try reg below {1 / s.learning_rate:.3g}"
        )
    limit = stability_limit(outcome.sharpness) if outcome.sharpness is not None else None
    note = (
        f" (the network's sharpness at the start is lambda_max = {outcome.sharpness:.3g}, "
        f"stability limit 2 / lambda_max = {limit:.2g}; it grows as the network learns)"
        if limit is not None
        else ""
    )
    return where + f"learning_rate={s.learning_rate:g} is too large here{note}"


def summary(outcome):
    """One line: the status and its reason (what the explorer's status line shows)."""
    return f"{outcome.status}: {outcome.reason}"
