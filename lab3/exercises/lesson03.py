"""Lesson 3's checked exercises: one single-sample SGD step, and the lab's loop of them (one epoch).

The student's functions work on float64 NumPy arrays, as ``lab3.gradients`` does; each check runs
them and a reference on the same few cases (``lab3.exercises.core.check_function``).
"""

import numpy as np

from lab3.backprop import gradients, objective
from lab3.data import create_linear_training_data
from lab3.exercises.core import check_function
from lab3.mlp import MultiLayerPerceptron

__all__ = ["check_sgd_step", "check_sgd_epoch", "reference_sgd_step", "reference_sgd_epoch"]


def _numpy_parameters(model):
    """A model's ``(weights, biases)`` as lists of float64 arrays."""
    return (
        [w.detach().double().numpy() for w in model.weights],
        [b.detach().double().numpy() for b in model.biases],
    )


def reference_sgd_step(weights, biases, x, y, learning_rate, reg):
    """One SGD step on the objective of ``(x, y)``; returns new ``(weights, biases)`` lists."""
    dW, db = gradients(weights, biases, x, y, reg=reg)
    return (
        [w - learning_rate * g for w, g in zip(weights, dW)],
        [b - learning_rate * g for b, g in zip(biases, db)],
    )


def check_sgd_step(candidate):
    """Lesson 3: ``candidate(weights, biases, x, y, learning_rate, reg) -> (weights, biases)``.

    Cases: the lab's fresh 2-3-2 model on the lab's first sample; a model with zero-mean (He)
    weights, where some hidden units are off for the sample, with and without the L2 penalty.
    """
    __tracebackhide__ = True
    weights, biases = _numpy_parameters(MultiLayerPerceptron(2, [3], 2, seed=0))
    he_weights, he_biases = _numpy_parameters(MultiLayerPerceptron(2, [3], 2, seed=3, init="he"))
    x, y = np.array([[-0.0075, -0.085]]), np.array([[0.085, -0.0075]])
    x2, y2 = np.array([[0.6, -0.9]]), np.array([[-0.9, -0.6]])
    cases = {
        "the lab's fresh model, its first sample, learning rate 0.1, reg 0.001": (
            weights,
            biases,
            x,
            y,
            0.1,
            0.001,
        ),
        "a zero-mean (He) model, another sample, learning rate 0.5, reg 0": (
            he_weights,
            he_biases,
            x2,
            y2,
            0.5,
            0.0,
        ),
        "the same, with reg 0.01": (he_weights, he_biases, x2, y2, 0.5, 0.01),
    }
    check_function(
        "sgd_step",
        candidate,
        reference_sgd_step,
        cases,
        hint=[
            "every weight and every bias moves a little against its own gradient; "
            "the function returns (weights, biases), two lists shaped as they came in.",
            "lab3.gradients(weights, biases, x, y, reg=reg) returns (dW, db), one "
            "gradient per weight matrix and per bias row, the L2 term included.",
            "for each pair: p_new = p - learning_rate * g (minus: downhill), for the "
            "weights with dW and for the biases with db.",
        ],
        outputs=("weights", "biases"),
        reference_name="lab3.gradients + one step",
    )


def reference_sgd_epoch(weights, biases, inputs, targets, learning_rate, reg):
    """One epoch of single-sample SGD, samples in order: ``(weights, biases, losses)``.

    ``losses[i]`` is the mse of sample ``i`` *before* its step (what the lab printed, and
    ``lab3.train``'s ``step_loss``).
    """
    x_all, y_all = np.asarray(inputs, dtype=np.float64).T, np.asarray(targets, dtype=np.float64).T
    losses = []
    for i in range(x_all.shape[0]):
        x, y = x_all[i : i + 1], y_all[i : i + 1]
        losses.append(objective(weights, biases, x, y))
        weights, biases = reference_sgd_step(weights, biases, x, y, learning_rate, reg)
    return weights, biases, np.array(losses)


def check_sgd_epoch(candidate):
    """Lesson 3: ``candidate(weights, biases, inputs, targets, learning_rate, reg)`` returns
    ``(weights, biases, losses)`` after one epoch of single-sample SGD over the columns in order.

    Cases: the lab's fresh model on 200 of the lab's samples (learning rate 0.1, reg 0.001), and
    the same with learning rate 0.5 and no penalty.
    """
    __tracebackhide__ = True
    inputs, targets = create_linear_training_data(200, seed=0)
    weights, biases = _numpy_parameters(MultiLayerPerceptron(2, [3], 2, seed=0))
    cases = {
        "the lab's fresh model, 200 samples, learning rate 0.1, reg 0.001": (
            weights,
            biases,
            inputs,
            targets,
            0.1,
            0.001,
        ),
        "the same, learning rate 0.5, reg 0": (weights, biases, inputs, targets, 0.5, 0.0),
    }
    check_function(
        "sgd_epoch",
        candidate,
        reference_sgd_epoch,
        cases,
        hint=[
            "visit the samples one at a time, in order (the columns of inputs); "
            "for each, record its loss, then take one step. Return (weights, "
            "biases, losses) with one loss per sample.",
            "sample i as a (1, 2) row is inputs[:, i:i+1].T (and the same for "
            "targets); record the loss BEFORE the step, as the lab printed it; "
            "your sgd_step does the step.",
            "for i in range(n): x, y = inputs[:, i:i+1].T, targets[:, i:i+1].T; "
            "losses.append(lab3.backprop.objective(weights, biases, x, y)) (the mse: "
            "reg 0); weights, biases = sgd_step(weights, biases, x, y, "
            "learning_rate, reg).",
        ],
        outputs=("weights", "biases", "losses"),
        reference_name="the lab's loop",
        rtol=1e-6,
        atol=1e-10,
    )
