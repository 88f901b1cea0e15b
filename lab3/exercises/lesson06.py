"""Lesson 6's checked exercises: reading a sweep as a statement about learning.

* ``check_lr_steps``: the "distance travelled" of SGD, learning rate x number of steps, which
  puts runs of different batch sizes on one curve while the learning rate is small;
* ``check_constant_mse``: the loss of a network that outputs a constant (the best one: the mean
  target), the level a dead network sits at.
"""

import math

import numpy as np

from lab3.data import create_linear_training_data, rotation_matrix
from lab3.exercises.core import check_function

__all__ = ["check_lr_steps", "check_constant_mse"]


def _lr_steps(learning_rate, batch_size, epochs, n_samples, batches=math.ceil):
    """``learning_rate * epochs * ceil(n_samples / batch_size)``: every batch is one step, the
    last one of an epoch possibly shorter (``batches=math.floor``: the classic mistake)."""
    return learning_rate * epochs * batches(n_samples / batch_size)


def check_lr_steps(candidate, grading=False):
    """Lesson 6: ``candidate(learning_rate, batch_size, epochs, n_samples)`` -> a float."""
    __tracebackhide__ = True
    cases = {
        "single-sample SGD, 10 epochs of 1000 samples at 0.01": (0.01, 1, 10, 1000),
        "batches of 100, 50 epochs at 0.5": (0.5, 100, 50, 1000),
        "full batch (1000), 10 epochs at 0.1": (0.1, 1000, 10, 1000),
        "batches of 300: the last batch of each epoch has 100 samples": (0.1, 300, 2, 1000),
    }
    if grading:
        cases = {
            "batches of 64 of 600 samples, 3 epochs at 0.2": (0.2, 64, 3, 600),
            "batches of 7 of 50 samples, 1 epoch at 0.05": (0.05, 7, 1, 50),
            "one batch larger than the data": (0.3, 500, 4, 120),
        }
    check_function(
        "lr_steps",
        candidate,
        _lr_steps,
        cases,
        hint=[
            "one step per batch; count the batches of one epoch, then of all epochs, "
            "then multiply by the step size.",
            "an epoch of n samples in batches of B has ceil(n / B) batches (the last "
            "one may be shorter), so steps = epochs * ceil(n / B).",
            "the product of three numbers: the step size, the number of epochs and "
            "the rounded-up number of batches per epoch.",
        ],
        asks="count the steps yourself",
        mistakes=[
            (
                "the short last batch of each epoch is a step too: round the number of batches up",
                lambda *a: _lr_steps(*a, batches=math.floor),
            ),
            (
                "you count samples, not batches: one step per batch",
                lambda rate, batch, epochs, n: rate * epochs * n,
            ),
        ],
        rtol=1e-12,
        atol=0.0,
    )


def _constant_mse(targets):
    """The mse of the best constant prediction: each output's mean target, for every sample.

    ``targets`` is ``(d, n)`` (one column per sample, as lab3's data); the mse averages over every
    element, so it is the mean over outputs of each output's variance (``ddof=0``).
    """
    y = np.asarray(targets, dtype=np.float64)
    return float(np.mean((y - y.mean(axis=1, keepdims=True)) ** 2))


def check_constant_mse(candidate, grading=False):
    """Lesson 6: ``candidate(targets)`` -> the mse of the best constant network, a float.

    ``targets`` are numpy arrays, as the lesson passes them (``targets.numpy()``).
    """
    __tracebackhide__ = True
    shear = np.array([[1.0, 0.0], [1.5, 1.0]], dtype=np.float32)
    cases = {
        "the lab's rotation, 1000 samples": (create_linear_training_data(1000, seed=0)[1].numpy(),),
        "a rotation by 30 degrees, 200 samples": (
            create_linear_training_data(200, rotation_matrix(30.0), seed=1)[1].numpy(),
        ),
        "a shear, 500 samples (the outputs have different spreads)": (
            create_linear_training_data(500, shear, seed=2)[1].numpy(),
        ),
    }
    if grading:
        cases = {
            "a rotation by 75 degrees, 300 samples": (
                create_linear_training_data(300, rotation_matrix(75.0), seed=8)[1].numpy(),
            ),
            "a shear, 41 samples": (create_linear_training_data(41, shear.T, seed=9)[1].numpy(),),
        }
    check_function(
        "constant_mse",
        candidate,
        _constant_mse,
        cases,
        hint=[
            "a network that outputs the same vector c for every input makes the "
            "least error with c = the mean target; its mse is then a spread of the "
            "targets.",
            "targets are (2, n), one column per sample, so the best c has one value per "
            "output, taken over the samples; the mse averages the squared error over every "
            "element (both outputs, all samples).",
            "subtract each output's own mean (over the samples) from its row, then "
            "average the squares over everything.",
        ],
        asks="compute the mse of the best constant yourself",
        mistakes=[
            (
                "you used one mean for both outputs: each output has its own",
                lambda t: float(np.mean((t - np.mean(t)) ** 2)),
            ),
            (
                "that is the mse of predicting 0: the best constant is the mean target",
                lambda t: float(np.mean(np.asarray(t) ** 2)),
            ),
        ],
        rtol=1e-6,
        atol=1e-9,
    )
