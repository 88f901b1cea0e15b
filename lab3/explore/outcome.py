"""What one explorer run did: train a fresh network on ``Controls``, judge how it went.

The flow is ``Controls`` (``lab3.explore.controls``, the value of every control) ->
``outcome_of`` (a fresh network, trained) -> ``Outcome`` (the network, its history, the status)
-> a picture (``lab3.explore.figure``). No matplotlib, no widgets here: all of it runs, and is
tested, without a browser.

A run never raises for a bad *outcome*: divergence is a status like the others ("diverged",
"stuck", "still learning", "learned"), with the losses recorded up to the stop. Bad *controls*
are refused by ``validate_controls`` where they enter, with the message ``lab3.train`` gives.
"""

from dataclasses import dataclass

import numpy as np
import torch

from lab3.data import create_linear_training_data
from lab3.explore.controls import Controls, target_matrix, validate_controls
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import DivergedError, History, train_validated
from lab3.training.settings import training_part

LEARNED_MATRIX_ERROR = 0.1  # "learned" when ||effective matrix - true matrix||_F is below this
PLATEAU = 0.01  # "stuck" when the last epoch lowered the loss by less than 1%...
BARELY = 0.1  # ... and "barely moved" when the loss is still within 10% of where it started
CHUNK_STEPS = 20_000  # a run longer than this trains in chunks: progress shown, can be abandoned


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

    A run of at most ``CHUNK_STEPS`` steps is trained in one go, as ``lab3.train`` trains it (the
    default is lesson 03's run, number for number). A longer one trains in chunks of whole epochs
    (with ``shuffle``, chunk ``c`` shuffles with seed ``seed + first epoch of c``); after each
    chunk ``progress(epochs_done, epochs)`` is called, and when ``stop()`` is true the run is
    abandoned and ``None`` returned (a newer setting has arrived).
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
    history, diverged = _train_in_chunks(model, inputs, targets, c, stop, progress)
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
    if diverged is None and all(np.isfinite(p.detach().numpy()).all() for p in model.parameters()):
        outcome.learned_matrix = model.effective_matrix(inputs).double().numpy()
        error = outcome.learned_matrix - matrix.double().numpy()
        outcome.matrix_error = float(np.linalg.norm(error))
    outcome.status, outcome.reason = classify(outcome)
    return outcome


def _train_in_chunks(model, inputs, targets, controls, stop, progress):
    """``(History, diverged)`` of the whole run, or ``(None, None)`` when ``stop()`` said so."""
    settings = training_part(controls)  # already checked: the chunks are trained unchecked
    epochs = settings.epochs
    chunk = (
        epochs
        if settings.total_steps <= CHUNK_STEPS
        else max(1, CHUNK_STEPS // settings.steps_per_epoch)
    )
    merged = History(settings)
    done, diverged = 0, None
    while done < epochs and diverged is None:
        # a shorter run (fewer epochs) of valid settings is valid; the seed wraps into its range
        part_settings = settings.replace(
            epochs=min(chunk, epochs - done), seed=(settings.seed + done) % 2**32
        )
        try:
            part = train_validated(model, inputs, targets, part_settings)
        except DivergedError as error:  # a drawn outcome, not a failure
            part, diverged = error.history, (done + error.epoch, error.step, error.loss)
        if chunk == epochs:
            merged = part  # one piece: the History lab3.train would return
        else:
            _extend(merged, part)
        done += part_settings.epochs
        if progress is not None:
            progress(done, epochs)
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
