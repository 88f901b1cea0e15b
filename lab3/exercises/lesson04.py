"""Lesson 4's checked exercises."""

import numpy as np
import torch

from lab3.data import create_linear_training_data
from lab3.exercises.core import check_function
from lab3.mlp import MultiLayerPerceptron
from lab3.training import train
def reference_minibatch_sgd(weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg):
    """``lab3.train`` (engine ``"manual"``, in order) from these float64 parameters.

    Returns ``(weights, biases)`` after training, as lists of float64 numpy arrays. The model is
    float32, so the parameters pass through float32 on the way (exact for a fresh model's).
    """
    sizes = [w.shape[0] for w in weights] + [weights[-1].shape[1]]
    model = MultiLayerPerceptron(sizes[0], sizes[1:-1], sizes[-1])
    with torch.no_grad():
        for p, value in zip(model.weights + model.biases, list(weights) + list(biases)):
            p.copy_(torch.as_tensor(np.asarray(value)))
    train(model, inputs, targets, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
          reg=reg, engine="manual", shuffle=False)
    as_numpy = lambda ps: [p.detach().double().numpy() for p in ps]
    return as_numpy(model.weights), as_numpy(model.biases)


def check_minibatch_sgd(candidate):
    """Lesson 4: ``candidate(weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg)``
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
        "1 epoch of batches of 300 (the last batch has 100 samples)":
            (weights, biases, inputs, targets, 1, 300, 0.1, 0.001),
    }
    check_function("minibatch_sgd", candidate, reference_minibatch_sgd, cases,
                   hint="batches are consecutive slices with samples as rows, x = inputs[:, s:s+B].T "
                        "for s = 0, B, 2B, ... (the last batch may be shorter); after "
                        "lab3.gradients, every weight and every bias takes its step "
                        "p -= learning_rate * g; the function returns (weights, biases).",
                   outputs=("weights", "biases"), reference_name="lab3.train",
                   rtol=1e-5, atol=1e-7)
