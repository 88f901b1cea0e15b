"""Lesson 4's checked exercises: the mini-batch loop, and the learning-rate finder's loop.

Each check refuses lab3's own version (``lab3.train``, ``lab3.find_learning_rate``); both loops
may update the weights in place. ``grading=True`` runs other models, data and settings
(nbgrader's hidden tests).
"""

import numpy as np
import torch

from lab3.backprop import gradients, objective
from lab3.data import create_linear_training_data
from lab3.exercises.core import check_function
from lab3.exercises.delegation import lab3_version
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import train

__all__ = ["check_minibatch_sgd", "check_lr_finder"]

MAY_CHANGE = (0, 1)  # the weights and biases: both loops update them in place


def _float64_parameters(model):
    """A model's ``(weights, biases)`` as lists of float64 numpy arrays."""
    return (
        [w.detach().double().numpy() for w in model.weights],
        [b.detach().double().numpy() for b in model.biases],
    )


def _minibatch_sgd(weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg):
    """``lab3.train`` (engine ``"manual"``, in order) from these float64 parameters.

    Returns ``(weights, biases)`` after training, as lists of float64 numpy arrays. The model is
    float32, so the parameters pass through float32 on the way (exact for a fresh model's).
    """
    sizes = [w.shape[0] for w in weights] + [weights[-1].shape[1]]
    model = MultiLayerPerceptron(sizes[0], sizes[1:-1], sizes[-1])
    with torch.no_grad():
        for p, value in zip(model.weights + model.biases, list(weights) + list(biases)):
            p.copy_(torch.as_tensor(np.asarray(value)))
    train(
        model,
        inputs,
        targets,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        reg=reg,
        engine="manual",
        shuffle=False,
    )
    as_numpy = lambda ps: [p.detach().double().numpy() for p in ps]
    return as_numpy(model.weights), as_numpy(model.biases)


def check_minibatch_sgd(candidate, grading=False):
    """Lesson 4: ``candidate(weights, biases, inputs, targets, epochs, batch_size, learning_rate,
    reg)``
    must return ``(weights, biases)`` as ``lab3.train`` leaves them.

    Run from the lab's fresh 2-3-2 model (float64 copies) on the lab's 1000 samples, with the lab's
    learning rate and reg; once with batches of 100 and once with batches of 300, whose last batch
    is shorter (100 samples).
    """
    __tracebackhide__ = True
    n, seed, hidden = (600, 3, [4]) if grading else (1000, 0, [3])
    inputs, targets = create_linear_training_data(n, seed=seed)
    weights, biases = _float64_parameters(MultiLayerPerceptron(2, hidden, 2, seed=seed))
    if grading:
        runs = {
            "2 epochs of batches of 64 (the last has 24)": (2, 64, 0.2, 0.01),
            "1 epoch of batches of 7": (1, 7, 0.05, 0.0),
        }
    else:
        runs = {
            "2 epochs of batches of 100": (2, 100, 0.1, 0.001),
            "1 epoch of batches of 300 (the last batch has 100 samples)": (1, 300, 0.1, 0.001),
        }
    cases = {label: (weights, biases, inputs, targets, *run) for label, run in runs.items()}
    check_function(
        "minibatch_sgd",
        candidate,
        _minibatch_sgd,
        cases,
        hint=[
            "every epoch walks through all the samples in consecutive batches, the "
            "last one possibly shorter; each batch gives one step of every weight "
            "and every bias. Return (weights, biases).",
            "the batches are x = inputs[:, s:s+B].T (samples as rows, (B, 2)) for "
            "s = 0, B, 2B, ... up to n (range(0, n, B) keeps the short last batch); "
            "lab3.gradients(weights, biases, x, y, reg=reg) gives (dW, db).",
            "update in place, after computing all the gradients of the batch: an "
            "augmented assignment on each array changes the list's array, while a plain "
            "assignment to the loop variable only rebinds the name.",
        ],
        outputs=("weights", "biases"),
        asks="write the mini-batch loop yourself (lab3.gradients for the gradients)",
        refuse=[lab3_version("lab3.train", "lab3.training.loop.train")],
        may_change=MAY_CHANGE,
        rtol=1e-5,
        atol=1e-7,
    )


def _lr_finder(
    weights, biases, inputs, targets, start, stop, steps, batch_size, reg, spacing="geometric"
):
    """``lab3.find_learning_rate``'s algorithm in float64 NumPy with ``lab3.gradients``.

    Returns ``(learning_rates, losses)``; the parameters are not changed (it works on copies).
    ``spacing="linear"`` is the classic mistake of ``np.linspace`` rates.
    """
    weights, biases = (
        [np.array(w, dtype=np.float64) for w in weights],
        [np.array(b, dtype=np.float64) for b in biases],
    )
    x_all, y_all = np.asarray(inputs, dtype=np.float64).T, np.asarray(targets, dtype=np.float64).T
    n = x_all.shape[0]
    rates = (
        start * (stop / start) ** (np.arange(steps) / (steps - 1))
        if spacing == "geometric"
        else np.linspace(start, stop, steps)
    )
    best, losses = objective(weights, biases, x_all, y_all), []
    for i, rate in enumerate(rates):
        batch = np.arange(i * batch_size, (i + 1) * batch_size) % n
        dW, db = gradients(weights, biases, x_all[batch], y_all[batch], reg=reg)
        for p, g in zip(weights + biases, dW + db):
            p -= rate * g
        with np.errstate(over="ignore", invalid="ignore"):
            loss = objective(weights, biases, x_all, y_all)
        losses.append(loss)
        if not np.isfinite(loss) or loss > 4 * best:
            break
        best = min(best, loss)
    return rates[: len(losses)], np.array(losses)


def check_lr_finder(candidate, grading=False):
    """Lesson 4: ``candidate(weights, biases, inputs, targets, start, stop, steps, batch_size,
    reg)``
    must return ``(learning_rates, losses)`` as ``lab3.find_learning_rate`` computes them.

    From the lab's fresh 2-3-2 model (float64 copies) on 200 of the lab's samples: once with rates
    too small to diverge, once up to 1000, where the loss blows up and the loop must stop.
    """
    __tracebackhide__ = True
    n, seed = (150, 4) if grading else (200, 0)
    inputs, targets = create_linear_training_data(n, seed=seed)
    weights, biases = _float64_parameters(MultiLayerPerceptron(2, [3], 2, seed=seed))
    if grading:
        runs = {
            "40 steps from 0.0005 to 0.5, batches of 16": (5e-4, 0.5, 40, 16, 0.01),
            "200 steps from 0.05 to 500, batches of 3 (it diverges)": (0.05, 500, 200, 3, 0.0),
        }
    else:
        runs = {
            "30 steps from 0.001 to 0.3, batches of 10 (nothing diverges)": (
                1e-3,
                0.3,
                30,
                10,
                0.001,
            ),
            "300 steps from 0.01 to 1000, batches of 1 (it diverges: stop there)": (
                1e-2,
                1e3,
                300,
                1,
                0.001,
            ),
        }
    cases = {label: (weights, biases, inputs, targets, *run) for label, run in runs.items()}
    check_function(
        "lr_finder",
        candidate,
        _lr_finder,
        cases,
        hint=[
            "one run, one SGD step per learning rate; the rates grow by the same "
            "factor every step, and after each step record the loss on all the data. "
            "Stop after the first loss that is more than 4 times the best so far "
            "(the loss before any step counts) or not finite, keeping that one.",
            "the rates are geometric: start times the ratio stop / start raised to "
            "0, 1/(steps - 1), ..., 1 (not np.linspace); step i uses the samples "
            "i*B ... (i+1)*B - 1, modulo n; "
            "the loss is lab3.backprop.objective(weights, biases, inputs.T, targets.T) "
            "(reg 0: the mse).",
            "in the loop, the order matters: the step with this rate, then the loss on "
            "all the data appended, then the test against 4 times the best (leave the "
            "loop right after appending a diverged loss), and only then the best "
            "updated; return as many rates as losses.",
        ],
        outputs=("learning_rates", "losses"),
        asks="write the learning-rate finder's loop yourself (lab3.gradients for the gradients)",
        refuse=[lab3_version("lab3.find_learning_rate", "lab3.training.lr_finder")],
        mistakes=[
            (
                "your rates are evenly spaced: they must grow by the same factor each step",
                lambda *args: _lr_finder(*args, spacing="linear"),
            )
        ],
        may_change=MAY_CHANGE,
        rtol=1e-6,
        atol=1e-10,
    )
