"""The original lab's two training loops, re-expressed as a reference to test and time against.

``docs/the-original-lab.md`` describes the lab. Its two loops train the 2-3-2 network with torch
autograd, and this module does what they do, step for step:

1. forward: ``relu(x @ W1 + b1) @ W2 + b2``, with the lab's ReLU ``max(0, z)`` taken against a
   tensor of zeros (at exactly 0 its autograd splits the slope 0.5/0.5, ``torch.relu`` gives 0);
2. objective: ``mean((y - y_hat)**2) + reg * (||W1||**2 + ||W2||**2)``, then ``backward()``;
3. update, in the lab's order ``W1, W2, b1, b2``: ``p -= learning_rate * p.grad``, zero the grad;
4. the lab's "did it learn" pass: the same forward on the same batch, whose loss it printed.

Single-sample SGD feeds one column ``inputs[:, s]`` (a 1-D tensor) at a time; mini-batch SGD
feeds the rows ``inputs[:, s:s + B].T``. Both start from a given model's initial weights (the lab
drew its own, unseeded), return the final ``[W1, b1, W2, b2]``, and write the lab's progress
lines to ``log`` (a file; nothing by default). Tests check that ``lab3.train`` ends at the same
weights; ``benchmarks/bench_training.py`` times these loops against ``lab3.train``'s engines, so
step 4 stays although it changes no parameter: it is part of what the lab paid for every step.
"""

import torch

from lab3.validation import require


def _relu(z):
    return torch.max(torch.zeros_like(z), z)


def _forward(x, w_1, b_1, w_2, b_2):
    return _relu(x @ w_1 + b_1) @ w_2 + b_2


def _mse(y, y_hat):
    return torch.mean((y - y_hat) ** 2)


def _initial(model):
    """``[W1, b1, W2, b2]``: fresh leaf copies of a 2-3-2 model's parameters, requiring grad."""
    require(
        len(model.weights) == 2 and model.activations == ("relu",),
        "model",
        model,
        "a network with one ReLU hidden layer, as the lab's (e.g. hidden_sizes=[3])",
    )
    return [p.detach().clone().requires_grad_(True) for p in model.parameters()]


def _sgd(batches, params, epochs, learning_rate, reg, log, show):
    """The lab's loop over ``epochs`` passes of ``batches()``; returns ``params`` trained.

    ``batches()`` yields ``(start, x, y)``; ``show(start)`` says when to print, as the lab did.
    """
    w_1, b_1, w_2, b_2 = params
    update_order = (w_1, w_2, b_1, b_2)
    for _ in range(epochs):
        for start, x, y in batches():
            loss = _mse(y, _forward(x, w_1, b_1, w_2, b_2))
            penalty = reg * torch.sum(torch.square(w_1)) + reg * torch.sum(torch.square(w_2))
            objective = loss + penalty
            objective.backward()
            for p in update_order:
                p.data -= learning_rate * p.grad
                p.grad.zero_()
            after = _mse(y, _forward(x, w_1, b_1, w_2, b_2))  # the lab's check: no update
            if log is not None and show(start):
                print(f"Loss after forward pass: {loss}\nLoss after update: {after}", file=log)
    return [w_1, b_1, w_2, b_2]


def lab_single_sample(inputs, targets, model, epochs=10, learning_rate=0.1, reg=0.001, log=None):
    """The lab's first loop: one SGD step per sample (a column of ``inputs``), in order.

    Args:
        inputs, targets: ``(2, n)`` tensors, one column per sample (the lab's layout).
        model: a ``lab3.MultiLayerPerceptron`` with one ReLU hidden layer; only its initial
            parameters are read (copied), never changed.
        epochs, learning_rate, reg: the lab's 10, 0.1 and 0.001 by default.
        log: a file to print the lab's progress lines to (every 500th sample), or None.

    Returns:
        ``[W1, b1, W2, b2]``: the trained parameters, leaf tensors that require grad.
    """

    def batches():
        for s in range(inputs.shape[1]):
            yield s, inputs[:, s], targets[:, s]

    return _sgd(batches, _initial(model), epochs, learning_rate, reg, log, lambda s: s % 500 == 0)


def lab_batched(
    inputs, targets, model, epochs=100, batch_size=100, learning_rate=0.1, reg=0.001, log=None
):
    """The lab's second loop: one SGD step per consecutive slice of ``batch_size`` samples.

    Arguments and result as ``lab_single_sample``; ``log`` gets the first batch of each epoch.
    """

    def batches():
        for s in range(0, inputs.shape[1], batch_size):
            yield s, inputs[:, s : s + batch_size].T, targets[:, s : s + batch_size].T

    return _sgd(batches, _initial(model), epochs, learning_rate, reg, log, lambda s: s % 1000 == 0)
