"""What one explorer run did: train a fresh network on ``Controls``, judge how it went.

The flow is ``Controls`` (``lab3.explore.controls``, the value of every control) ->
``outcome_of`` (a fresh network, trained) -> ``Outcome`` (the network, its history, the status)
-> a picture (``lab3.explore.figure``). No matplotlib, no widgets here: all of it runs, and is
tested, without a browser.

A run never raises for a bad *outcome*: divergence is a verdict like the others
(``lab3.explore.verdict``), with the losses recorded up to the stop. Bad *controls*
are refused by ``validate_controls`` where they enter, with the message ``lab3.train`` gives.
"""

from dataclasses import dataclass

import numpy as np
import torch

from lab3.data import create_linear_training_data
from lab3.explore.controls import Controls, target_matrix, validate_controls
from lab3.explore.reference import affordable_sharpness
from lab3.explore.verdict import classify, learned
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import DivergedError, History, TrainingStopped, train_validated
from lab3.training.settings import training_part


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
    if learned(o):
        return None
    network = o.initial_model if o.diverged is not None else o.model
    return affordable_sharpness(network, o.inputs, o.targets, o.settings.reg)


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


def summary(outcome):
    """One line: the status and its reason (what the explorer's status line shows)."""
    return f"{outcome.status}: {outcome.reason}"
