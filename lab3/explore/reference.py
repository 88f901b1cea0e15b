"""The reference of a problem: a network that learned it, and the sharpness it has there.

A problem is what the controls make apart from the training knobs: the network, its init, the
target map, reg and the data (``problem_key``). Its reference is the lab's own single-sample run
from the same start, on the first ``REFERENCE_SAMPLES`` samples: the loss landscape draws a plane
through it, and the verdicts quote its stability limit, ``2 / sharpness``, the learning rate a run
of this problem must stay under once it has learned the map (sharpness grows as a network learns).
"""

import functools
from dataclasses import dataclass

import numpy as np
import torch

from lab3.curvature import sharpness
from lab3.data import create_linear_training_data
from lab3.explore.controls import Controls, target_matrix
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import DivergedError, train

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
        start, trained, inputs, targets, affordable_sharpness(trained, inputs, targets, reg)
    )


def affordable_sharpness(model, inputs, targets, reg):
    """``lab3.sharpness`` of ``model`` on the data, or None for a network too large for it."""
    if sum(p.numel() for p in model.parameters()) > MAX_CURVATURE_PARAMETERS:
        return None
    value = sharpness(
        model.weights, model.biases, inputs.T, targets.T, reg, list(model.activations)
    )
    return value if np.isfinite(value) else None
