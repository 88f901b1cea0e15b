"""Lesson 7's checked exercises: the stability limit, measured and then predicted.

* ``check_top_eigenvalue``: power iteration for the largest eigenvalue of a symmetric operator
  given only as ``v -> H v`` (the Hessian of the lab's objective, in the lesson);
* ``check_unstable``: which learning rates make full-batch gradient descent leave a minimum,
  predicted from the sharpness and checked against the runs themselves.
"""

import functools

import numpy as np

from lab3.curvature import Curvature, sharpness, stability_limit
from lab3.data import create_linear_training_data
from lab3.exercises.core import check_function
from lab3.exercises.delegation import lab3_version
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import DivergedError, train

__all__ = ["check_top_eigenvalue", "check_unstable"]


# what exercise 6 asks students to write themselves, and exercise 7 to predict without running
REFUSED_SHARPNESS = [
    lab3_version("lab3.sharpness", "lab3.curvature.sharpness", "lab3.curvature.Curvature.largest")
]


def _curvatures(grading=False):
    """``{description: Curvature}``: the lab's fresh and trained networks, and a small other one
    (for grading: other networks and data the visible cases never show)."""
    if grading:
        inputs, targets = create_linear_training_data(300, seed=7)
        deep = MultiLayerPerceptron(2, [4, 3], 2, seed=5, init="he")
        return {
            "a 2-4-3-2 network with He's init on 300 samples": Curvature(
                deep.weights, deep.biases, inputs.T, targets.T, 0.01
            )
        }
    trained, inputs, targets = _trained_lab_network()
    fresh = MultiLayerPerceptron(2, [3], 2, seed=0)
    wide = MultiLayerPerceptron(2, [5], 2, seed=3, init="he")
    small, small_targets = create_linear_training_data(50, seed=4)
    return {
        "the lab's fresh 2-3-2 network (two almost equal top eigenvalues)": Curvature(
            fresh.weights, fresh.biases, inputs.T, targets.T, 0.001
        ),
        "the lab's network after its 10 epochs": Curvature(
            trained.weights, trained.biases, inputs.T, targets.T, 0.001
        ),
        "a 2-5-2 network with He's init on 50 samples, reg 0.1": Curvature(
            wide.weights, wide.biases, small.T, small_targets.T, 0.1
        ),
    }


def check_top_eigenvalue(candidate, grading=False):
    """Lesson 7: ``candidate(hvp, size)`` -> the largest eigenvalue (a float) of the symmetric
    operator ``hvp`` (a function taking and returning a numpy vector of ``size`` numbers)."""
    __tracebackhide__ = True
    # np.dot bound to each Hessian: the student's code calls numpy, nothing of lab3.exercises
    cases = {
        label: (functools.partial(np.dot, c.dense()), c.size)
        for label, c in _curvatures(grading).items()
    }
    check_function(
        "top_eigenvalue",
        candidate,
        lambda hvp, size: float(np.linalg.eigvalsh(_dense(hvp, size))[-1]),
        cases,
        hint=[
            "start from a random vector; applying H again and again turns it towards the "
            "eigenvector whose eigenvalue is largest in size.",
            "normalise the vector after every product (or it over- or underflows), and read "
            "the eigenvalue off as the Rayleigh quotient v . (H v) of a unit vector v.",
            "two top eigenvalues that are almost equal make the vector turn slowly: keep "
            "iterating until the quotient stops changing (a thousand products is cheap here).",
        ],
        asks="write power iteration yourself",
        may_change=(0,),  # hvp is a function: nothing in it to change, nor to compare
        refuse=REFUSED_SHARPNESS,
        mistakes=[
            (
                "that is the eigenvalue largest in size of -H, or the smallest one: the top one is "
                "the largest",
                lambda hvp, size: float(np.linalg.eigvalsh(_dense(hvp, size))[0]),
            ),
        ],
        rtol=1e-3,
        atol=1e-9,
    )


def _trained_lab_network():
    """The lab's 2-3-2 network after its 10 single-sample epochs, with its data."""
    inputs, targets = create_linear_training_data(1000, seed=0)
    model = MultiLayerPerceptron(2, [3], 2, seed=0)
    train(
        model,
        inputs,
        targets,
        epochs=10,
        batch_size=1,
        learning_rate=0.1,
        reg=0.001,
        engine="manual",
    )
    return model, inputs, targets


def _leaves_the_minimum(trained, inputs, targets, learning_rate, epochs=300):
    """Does full-batch gradient descent from ``trained`` (left as it is), at this learning
    rate, leave its minimum (the loss grows a hundredfold, or training diverges)? A run decides."""
    try:
        history = train(
            trained.copy(),
            inputs,
            targets,
            epochs=epochs,
            batch_size=1000,
            learning_rate=learning_rate,
            reg=0.001,
            engine="manual",
        )
    except DivergedError:
        return True
    return max(history.epoch_loss) > 100 * history.epoch_loss[0]


def _dense(hvp, size):
    return np.column_stack([hvp(e) for e in np.eye(size)])


def check_unstable(candidate, grading=False):
    """Lesson 7: ``candidate(learning_rates, top_eigenvalue)`` -> one bool per learning rate:
    True where full-batch gradient descent from the trained lab network leaves its minimum.

    ``top_eigenvalue`` is that network's sharpness. The expected answers are not computed from a
    formula: each learning rate is *run* (300 epochs of full-batch gradient descent from it).
    """
    __tracebackhide__ = True
    model, inputs, targets = _trained_lab_network()
    top_eigenvalue = sharpness(model.weights, model.biases, inputs.T, targets.T, 0.001)
    limit = stability_limit(top_eigenvalue)
    factors = (0.6, 0.9, 0.97, 1.1, 1.5, 3.0) if grading else (0.5, 0.8, 0.95, 1.05, 1.2, 2.0)
    rates = [round(limit * factor, 4) for factor in factors]
    runs = {rate: _leaves_the_minimum(model, inputs, targets, rate) for rate in rates}
    cases = {
        "six learning rates around the trained network's stability limit": (rates, top_eigenvalue),
        "the same rates, largest first": (rates[::-1], top_eigenvalue),
    }
    check_function(
        "unstable",
        candidate,
        lambda learning_rates, _: [runs[rate] for rate in learning_rates],
        cases,
        hint=[
            "along the sharpest direction one step multiplies the error by 1 - lr * "
            "lambda_max: when does that factor have a size above 1?",
            "the error shrinks while |1 - lr * lambda_max| < 1, that is for learning rates "
            "between 0 and a limit you can write with lambda_max alone.",
            "one comparison per learning rate: is it above that limit? The answer is a list of "
            "bools, in the order of the learning rates given.",
        ],
        asks="predict from the sharpness, without training",
        refuse=[lab3_version("lab3.train", "lab3.training.loop.train")],
        mistakes=[
            (
                "you use 1 / lambda_max: the error factor 1 - lr * lambda_max leaves [-1, 1] at "
                "2 / lambda_max",
                lambda rates, top: [r > 1 / top for r in rates],
            ),
        ],
        rtol=0.0,
        atol=0.0,
    )
