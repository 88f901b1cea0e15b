"""Lesson 1's last checked exercise: the backward pass of a whole network, ``my_gradients``.

The check compares the student's loop with ``lab3.backprop.gradients`` on depths 1 to 4, batches
of 1, odd and large, and outputs other than 2 (where a missing ``2 / n_D`` would go unnoticed),
refuses what the layer checks refuse (``lesson01``), and names the classic mistakes: db averaged,
the penalty twice or missing, dW transposed, a sign. ``grading=True`` runs other networks.
"""

import numpy as np

from lab3 import backprop
from lab3.exercises.core import check_function
from lab3.exercises.lesson01 import AVERAGED_DB, BY_HAND, REFUSED, SIGN, TRANSPOSED_DW

__all__ = ["check_gradients"]


def _gradients(weights, biases, x, y, reg, data=1.0, db=1.0, penalty=1.0, transpose=False):
    """lab3's gradients, or a classic mistake: the loss's part scaled by ``data``, db by ``db``,
    the penalty's part by ``penalty``, every dW transposed."""
    dW, dbs = backprop.gradients(weights, biases, x, y, reg=0.0)
    dW = [g * data + penalty * 2 * reg * w for g, w in zip(dW, weights)]
    return [g.T if transpose else g for g in dW], [g * data * db for g in dbs]


def _mistake(**change):
    return lambda w, b, x, y, reg: _gradients(w, b, x, y, reg, **change)


def check_gradients(candidate, grading=False):
    """Lesson 1: ``candidate(weights, biases, x, y, reg) -> (dW, db)`` as ``lab3.gradients``.

    The network: ReLU hidden layers, a linear output, the lab's objective
    ``mean((y_hat - y)**2) + reg * sum ||W||^2``. Checked on depths 1 to 4, batches of 1, odd and
    large, and 1, 2 or 3 outputs, so a loop that only works for one depth, or a ``2 / n_D`` that
    only happens to be right for two outputs, fails.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(104 if grading else 4)
    networks = (
        [
            ([3, 5, 4], 9, 0.02),
            ([1, 3, 1], 1, 0.1),
            ([5, 7, 6, 2], 33, 0.003),
            ([2, 4, 4], 100, 0.05),
        ]
        if grading
        else [
            ([2, 3, 2], 8, 0.001),
            ([2, 2], 5, 0.1),
            ([2, 8, 5, 4, 2], 6, 0.01),
            ([3, 4, 3], 1, 0.01),
            ([2, 5, 1], 7, 0.02),
            ([4, 6, 3], 64, 0.005),
        ]
    )
    cases = {}
    for sizes, batch, reg in networks:
        weights = [rng.normal(0, 0.7, (m, n)) for m, n in zip(sizes, sizes[1:])]
        biases = [rng.normal(0, 0.3, (1, n)) for n in sizes[1:]]
        x, y = rng.uniform(-1, 1, (batch, sizes[0])), rng.uniform(-1, 1, (batch, sizes[-1]))
        cases[f"a {'-'.join(map(str, sizes))} network, batch {batch}, reg {reg}"] = (
            weights,
            biases,
            x,
            y,
            reg,
        )
    check_function(
        "my_gradients",
        candidate,
        _gradients,
        cases,
        hint=[
            "return two lists, one gradient per layer, each shaped like its W or b. "
            "Start from delta = dJ/dz of the output layer (the mse's gradient, "
            "section 4.1), then walk the layers backwards: each layer is the linear "
            "layer of section 4.2, and between layers sits a ReLU (section 4.3).",
            "inside the loop, in this order: dW[l] and db[l] from delta and the "
            "layer's input a[l]; then dJ/da[l] = delta @ W[l].T; then, unless l is "
            "the first layer, through the ReLU of layer l - 1: multiply by "
            "(zs[l - 1] > 0). The penalty adds 2 * reg * W[l] to dW[l], and nothing "
            "to db[l].",
            "the first delta is twice the error divided by the number of entries "
            "of y (all B x n_D of them: the mse averages them all); dW[l] pairs the "
            "layer's input with delta, plus the penalty's gradient once; db[l] adds "
            "up delta's rows.",
        ],
        outputs=("dW", "db"),
        asks=f"derive the network's backward pass {BY_HAND}",
        refuse=REFUSED,
        mistakes=[
            (AVERAGED_DB, lambda w, b, x, y, reg: _gradients(w, b, x, y, reg, db=1 / len(x))),
            (
                "your gradient of the loss is n_D/2 times the expected (right only when "
                "there are 2 outputs): the mse averages all B x n_D numbers, and the "
                "square brings a factor 2",
                lambda w, b, x, y, reg: _gradients(w, b, x, y, reg, data=y.shape[1] / 2),
            ),
            (
                "the penalty's gradient is in twice: add it once per weight matrix",
                _mistake(penalty=2.0),
            ),
            ("the penalty is missing from dW", _mistake(penalty=0.0)),
            (TRANSPOSED_DW, _mistake(transpose=True)),
            (
                "the loss's part of your gradients has the wrong sign: the error is "
                "y_hat - y, not y - y_hat",
                _mistake(data=-1.0),
            ),
            (SIGN, _mistake(data=-1.0, penalty=-1.0)),
        ],
    )
