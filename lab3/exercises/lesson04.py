"""Lesson 4's checked exercises: the mini-batch loop, and the learning-rate finder's loop."""

import numpy as np
import torch

from lab3.backprop import gradients, objective
from lab3.data import create_linear_training_data
from lab3.exercises.core import check_function
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import train

__all__ = [
    "check_minibatch_sgd",
    "check_lr_finder",
    "reference_minibatch_sgd",
    "reference_lr_finder",
]


def reference_minibatch_sgd(
    weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg
):
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


def check_minibatch_sgd(candidate):
    """Lesson 4: ``candidate(weights, biases, inputs, targets, epochs, batch_size, learning_rate,
    reg)``
    must return ``(weights, biases)`` as ``lab3.train`` leaves them.

    Run from the lab's fresh 2-3-2 model (float64 copies) on the lab's 1000 samples, with the lab's
    learning rate and reg; once with batches of 100 and once with batches of 300, whose last batch
    is shorter (100 samples).
    """
    __tracebackhide__ = True
    inputs, targets = create_linear_training_data(1000, seed=0)
    model = MultiLayerPerceptron(2, [3], 2, seed=0)
    weights = [w.detach().double().numpy() for w in model.weights]
    biases = [b.detach().double().numpy() for b in model.biases]
    cases = {
        "2 epochs of batches of 100": (weights, biases, inputs, targets, 2, 100, 0.1, 0.001),
        "1 epoch of batches of 300 (the last batch has 100 samples)": (
            weights,
            biases,
            inputs,
            targets,
            1,
            300,
            0.1,
            0.001,
        ),
    }
    check_function(
        "minibatch_sgd",
        candidate,
        reference_minibatch_sgd,
        cases,
        hint=[
            "every epoch walks through all the samples in consecutive batches, the "
            "last one possibly shorter; each batch gives one step of every weight "
            "and every bias. Return (weights, biases).",
            "the batches are x = inputs[:, s:s+B].T (samples as rows, (B, 2)) for "
            "s = 0, B, 2B, ... up to n (range(0, n, B) keeps the short last batch); "
            "lab3.gradients(weights, biases, x, y, reg=reg) gives (dW, db).",
            "update in place, after computing all the gradients of the batch: "
            "for p, g in zip(weights + biases, dW + db): p -= learning_rate * g "
            "(p = p - ... only rebinds the loop variable).",
        ],
        outputs=("weights", "biases"),
        reference_name="lab3.train",
        rtol=1e-5,
        atol=1e-7,
    )


def reference_lr_finder(weights, biases, inputs, targets, start, stop, steps, batch_size, reg):
    """``lab3.find_learning_rate``'s algorithm in float64 NumPy with ``lab3.gradients``.

    Returns ``(learning_rates, losses)``; the parameters are not changed (it works on copies).
    """
    weights, biases = (
        [np.array(w, dtype=np.float64) for w in weights],
        [np.array(b, dtype=np.float64) for b in biases],
    )
    x_all, y_all = np.asarray(inputs, dtype=np.float64).T, np.asarray(targets, dtype=np.float64).T
    n = x_all.shape[0]
    rates = start * (stop / start) ** (np.arange(steps) / (steps - 1))
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


def check_lr_finder(candidate):
    """Lesson 4: ``candidate(weights, biases, inputs, targets, start, stop, steps, batch_size,
    reg)``
    must return ``(learning_rates, losses)`` as ``lab3.find_learning_rate`` computes them.

    From the lab's fresh 2-3-2 model (float64 copies) on 200 of the lab's samples: once with rates
    too small to diverge, once up to 1000, where the loss blows up and the loop must stop.
    """
    __tracebackhide__ = True
    inputs, targets = create_linear_training_data(200, seed=0)
    model = MultiLayerPerceptron(2, [3], 2, seed=0)
    weights = [w.detach().double().numpy() for w in model.weights]
    biases = [b.detach().double().numpy() for b in model.biases]
    cases = {
        "30 steps from 0.001 to 0.3, batches of 10 (nothing diverges)": (
            weights,
            biases,
            inputs,
            targets,
            1e-3,
            0.3,
            30,
            10,
            0.001,
        ),
        "300 steps from 0.01 to 1000, batches of 1 (it diverges: stop there)": (
            weights,
            biases,
            inputs,
            targets,
            1e-2,
            1e3,
            300,
            1,
            0.001,
        ),
    }
    check_function(
        "lr_finder",
        candidate,
        reference_lr_finder,
        cases,
        hint=[
            "one run, one SGD step per learning rate; the rates grow by the same "
            "factor every step, and after each step record the loss on all the data. "
            "Stop after the first loss that is more than 4 times the best so far "
            "(the loss before any step counts) or not finite, keeping that one.",
            "rates = start * (stop / start) ** (np.arange(steps) / (steps - 1)) "
            "(not np.linspace); step i uses the samples i*B ... (i+1)*B - 1, modulo n; "
            "the loss is lab3.backprop.objective(weights, biases, inputs.T, targets.T) "
            "(reg 0: the mse).",
            "for i, rate in enumerate(rates): batch = np.arange(i*B, (i+1)*B) % n; "
            "dW, db = lab3.gradients(weights, biases, x[batch], y[batch], reg=reg); "
            "p -= rate * g for every pair; append the loss; if it is not finite or "
            "> 4 * best: break; best = min(best, loss). Return rates[:len(losses)], "
            "np.array(losses).",
        ],
        outputs=("learning_rates", "losses"),
        reference_name="lab3.find_learning_rate",
        rtol=1e-6,
        atol=1e-10,
    )
