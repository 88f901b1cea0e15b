"""Lesson 3's checked exercises: one single-sample SGD step, and the lab's loop of them (one epoch).

The student's functions work on float64 NumPy arrays, as ``lab3.gradients`` does (which they may
call: the exercise is the step, not the gradient); each check runs them and the exercise's answer
on the same few cases (``lab3.exercises.core.check_function``) and refuses ``lab3.train``.
``grading=True`` runs other models and samples (nbgrader's hidden tests).
"""

import numpy as np

from lab3.backprop import gradients, objective
from lab3.data import create_linear_training_data
from lab3.exercises.core import check_function
from lab3.exercises.delegation import lab3_version
from lab3.mlp import MultiLayerPerceptron

__all__ = ["check_sgd_step", "check_sgd_epoch"]

REFUSED = [lab3_version("lab3.train", "lab3.training.loop.train")]
MAY_CHANGE = (0, 1)  # the weights and biases: updating them in place is fine


def _numpy_parameters(model):
    """A model's ``(weights, biases)`` as lists of float64 arrays."""
    return (
        [w.detach().double().numpy() for w in model.weights],
        [b.detach().double().numpy() for b in model.biases],
    )


def _sgd_step(weights, biases, x, y, learning_rate, reg, direction=-1.0, move_biases=True):
    """One SGD step on the objective of ``(x, y)``; returns new ``(weights, biases)`` lists.
    ``direction=+1`` (uphill) and ``move_biases=False`` are the classic mistakes."""
    dW, db = gradients(weights, biases, x, y, reg=reg)
    bias_rate = learning_rate if move_biases else 0.0
    return (
        [w + direction * learning_rate * g for w, g in zip(weights, dW)],
        [b + direction * bias_rate * g for b, g in zip(biases, db)],
    )


def check_sgd_step(candidate, grading=False):
    """Lesson 3: ``candidate(weights, biases, x, y, learning_rate, reg) -> (weights, biases)``.

    Cases: the lab's fresh 2-3-2 model on the lab's first sample; a model with zero-mean (He)
    weights, where some hidden units are off for the sample, with and without the L2 penalty.
    """
    __tracebackhide__ = True
    if grading:
        cases = {}
        for hidden, seed, rate, reg in [([4, 3], 7, 0.3, 0.02), ([5], 11, 0.05, 0.0)]:
            model = MultiLayerPerceptron(2, hidden, 2, seed=seed, init="he")
            x, y = np.random.default_rng(seed).uniform(-1, 1, (2, 1, 2))
            cases[f"a 2-{'-'.join(map(str, hidden))}-2 model, rate {rate}, reg {reg}"] = (
                *_numpy_parameters(model),
                x,
                y,
                rate,
                reg,
            )
    else:
        weights, biases = _numpy_parameters(MultiLayerPerceptron(2, [3], 2, seed=0))
        he_weights, he_biases = _numpy_parameters(
            MultiLayerPerceptron(2, [3], 2, seed=3, init="he")
        )
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
        _sgd_step,
        cases,
        hint=[
            "every weight and every bias moves a little against its own gradient; "
            "the function returns (weights, biases), two lists shaped as they came in.",
            "lab3.gradients(weights, biases, x, y, reg=reg) returns (dW, db), one "
            "gradient per weight matrix and per bias row, the L2 term included.",
            "each parameter moves by its own gradient times learning_rate, against it "
            "(downhill): the weights with dW, the biases with db.",
        ],
        outputs=("weights", "biases"),
        asks="write the SGD step yourself (lab3.gradients or your my_gradients for the gradients)",
        refuse=REFUSED,
        may_change=MAY_CHANGE,
        mistakes=[
            (
                "your step goes uphill: move against the gradient",
                lambda *a: _sgd_step(*a, direction=1.0),
            ),
            (
                "your biases did not move: they take a step too",
                lambda *a: _sgd_step(*a, move_biases=False),
            ),
            (
                "your step ignores reg: the gradients of the objective include the penalty",
                lambda w, b, x, y, rate, reg: _sgd_step(w, b, x, y, rate, 0.0),
            ),
        ],
    )


def _sgd_epoch(weights, biases, inputs, targets, learning_rate, reg, loss_after=False):
    """One epoch of single-sample SGD, samples in order: ``(weights, biases, losses)``.

    ``losses[i]`` is the mse of sample ``i`` *before* its step (what the lab printed, and
    ``lab3.train``'s ``step_loss``); ``loss_after=True`` is the classic mistake of recording it
    after the step.
    """
    x_all, y_all = np.asarray(inputs, dtype=np.float64).T, np.asarray(targets, dtype=np.float64).T
    losses = []
    for i in range(x_all.shape[0]):
        x, y = x_all[i : i + 1], y_all[i : i + 1]
        if not loss_after:
            losses.append(objective(weights, biases, x, y))
        weights, biases = _sgd_step(weights, biases, x, y, learning_rate, reg)
        if loss_after:
            losses.append(objective(weights, biases, x, y))
    return weights, biases, np.array(losses)


def check_sgd_epoch(candidate, grading=False):
    """Lesson 3: ``candidate(weights, biases, inputs, targets, learning_rate, reg)`` returns
    ``(weights, biases, losses)`` after one epoch of single-sample SGD over the columns in order.

    Cases: the lab's fresh model on 200 of the lab's samples (learning rate 0.1, reg 0.001), and
    the same with learning rate 0.5 and no penalty.
    """
    __tracebackhide__ = True
    n, seed, hidden = (150, 5, [4]) if grading else (200, 0, [3])
    inputs, targets = create_linear_training_data(n, seed=seed)
    weights, biases = _numpy_parameters(MultiLayerPerceptron(2, hidden, 2, seed=seed))
    rates = [(0.2, 0.01), (0.05, 0.0)] if grading else [(0.1, 0.001), (0.5, 0.0)]
    cases = {
        f"a fresh 2-{hidden[0]}-2 model, {n} samples, learning rate {rate}, reg {reg}": (
            weights,
            biases,
            inputs,
            targets,
            rate,
            reg,
        )
        for rate, reg in rates
    }
    check_function(
        "sgd_epoch",
        candidate,
        _sgd_epoch,
        cases,
        hint=[
            "visit the samples one at a time, in order (the columns of inputs); "
            "for each, record its loss, then take one step. Return (weights, "
            "biases, losses) with one loss per sample.",
            "sample i as a (1, 2) row is inputs[:, i:i+1].T (and the same for "
            "targets); record the loss BEFORE the step, as the lab printed it; "
            "your sgd_step does the step.",
            "one loop over the sample indices: slice out sample i, record the mse of "
            "the current weights on it (lab3.backprop.objective with reg 0), then let "
            "your sgd_step replace the weights and biases.",
        ],
        outputs=("weights", "biases", "losses"),
        asks="write the epoch's loop yourself (your sgd_step for each step)",
        refuse=REFUSED,
        may_change=MAY_CHANGE,
        mistakes=[
            (
                "you record each loss after its step: the lab prints it before",
                lambda *args: _sgd_epoch(*args, loss_after=True),
            )
        ],
        rtol=1e-6,
        atol=1e-10,
    )
