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

__all__ = ["check_lr_steps", "check_constant_mse", "reference_lr_steps", "reference_constant_mse"]


def reference_lr_steps(learning_rate, batch_size, epochs, n_samples):
    """``learning_rate * epochs * ceil(n_samples / batch_size)``: every batch is one step, the
    last one of an epoch possibly shorter."""
    return learning_rate * epochs * math.ceil(n_samples / batch_size)


def check_lr_steps(candidate):
    """Lesson 6: ``candidate(learning_rate, batch_size, epochs, n_samples)`` -> a float."""
    __tracebackhide__ = True
    cases = {
        "single-sample SGD, 10 epochs of 1000 samples at 0.01": (0.01, 1, 10, 1000),
        "batches of 100, 50 epochs at 0.5": (0.5, 100, 50, 1000),
        "full batch (1000), 10 epochs at 0.1": (0.1, 1000, 10, 1000),
        "batches of 300: the last batch of each epoch has 100 samples": (0.1, 300, 2, 1000),
    }
    check_function(
        "lr_steps",
        candidate,
        reference_lr_steps,
        cases,
        hint=[
            "one step per batch; count the batches of one epoch, then of all epochs, "
            "then multiply by the step size.",
            "an epoch of n samples in batches of B has ceil(n / B) batches (the last "
            "one may be shorter), so steps = epochs * ceil(n / B).",
            "return learning_rate * epochs * math.ceil(n_samples / batch_size)",
        ],
        reference_name="learning_rate x steps",
        rtol=1e-12,
        atol=0.0,
    )


def reference_constant_mse(targets):
    """The mse of the best constant prediction: each output's mean target, for every sample.

    ``targets`` is ``(d, n)`` (one column per sample, as lab3's data); the mse averages over every
    element, so it is the mean over outputs of each output's variance (``ddof=0``).
    """
    y = np.asarray(targets, dtype=np.float64)
    return float(np.mean((y - y.mean(axis=1, keepdims=True)) ** 2))


def check_constant_mse(candidate):
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
    check_function(
        "constant_mse",
        candidate,
        reference_constant_mse,
        cases,
        hint=[
            "a network that outputs the same vector c for every input makes the "
            "least error with c = the mean target; its mse is then a spread of the "
            "targets.",
            "targets are (2, n), one column per sample: c = targets.mean(axis=1) "
            "(one value per output); the mse averages the squared error over every "
            "element (both outputs, all samples).",
            "c = targets.mean(axis=1, keepdims=True); return float(((targets - c) ** 2).mean())",
        ],
        reference_name="the mean target's mse",
        rtol=1e-6,
        atol=1e-9,
    )
