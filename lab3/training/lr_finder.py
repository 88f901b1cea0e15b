"""A learning-rate finder: one short run whose learning rate grows geometrically, step by step.

The idea (Smith 2017, "Cyclical learning rates"; fast.ai's ``lr_find``): instead of training once
per learning rate, train once and multiply the learning rate by the same factor after every step.
While the rate is too small the loss hardly moves; then it falls; past the largest rate the
network tolerates it shoots up. The loss plotted against the rate (log x) shows that window in a
fraction of a second; a good learning rate sits well inside the falling part, below the minimum.

The finder trains a *copy* of the model: the model passed in is left as it was.
"""

import numpy as np
import torch

from lab3 import validation
from lab3.functional import mse
from lab3.training.loop import autograd_sgd_step, validate_data
from lab3.validation import is_count, is_finite_number, is_int, require, require_nonnegative

DIVERGENCE_FACTOR = 4.0  # the finder stops once the loss exceeds this many times the best so far


def find_learning_rate(
    model, inputs, targets, *, start=1e-4, stop=10.0, steps=100, batch_size=1, reg=0.001
):
    """Train a copy of ``model`` for up to ``steps`` SGD steps with a geometrically growing rate.

    Step ``i`` (from 0) uses ``learning_rates[i] = start * (stop / start) ** (i / (steps - 1))``, so
    the rates run from ``start`` to ``stop``, each ``(stop / start) ** (1 / (steps - 1))`` times
    the one before. Its batch is the next ``batch_size`` samples in order (columns of ``inputs``),
    wrapping round to the first sample when the data runs out. After the step, ``losses[i]`` is
    the mse on *all* of ``inputs`` (not the batch's, which would be as noisy as one sample), so
    the curve shows what each rate did to the network.

    Divergence: the finder stops after the first step whose loss is not finite or is more than
    ``DIVERGENCE_FACTOR`` (4) times the smallest loss seen so far (the loss before the first step
    included). That step is kept, so the curve ends on its way up; the arrays are then shorter
    than ``steps``.

    Args:
        model: a ``lab3.MultiLayerPerceptron``; it is copied (``model.copy()``) and not changed.
        inputs: ``(num_inputs, n)`` tensor, one column per sample (the lab's layout).
        targets: ``(num_outputs, n)`` tensor.
        start, stop: the first and the last learning rate, ``0 < start < stop``, both finite.
        steps: the number of steps (and of rates) if nothing diverges, an integer >= 2.
        batch_size: samples per step, 1 to n.
        reg: weight of the L2 penalty in the objective (>= 0), as in ``lab3.train``.

    Returns:
        ``(learning_rates, losses)``: float64 numpy arrays of the same length (at most ``steps``).

    Raises:
        ValueError: a bad argument; the message names it, its value and what is allowed.
    """
    inputs, targets = validate_data(model, inputs, targets)
    n = inputs.shape[1]
    _validate_range_test(n, start, stop, steps, batch_size, reg)
    rates = start * (stop / start) ** (np.arange(steps) / (steps - 1))
    net = model.copy()
    params = net.parameters()
    x_all, y_all = inputs.T, targets.T  # (n, d): one sample per row
    best = _full_loss(net, x_all, y_all)
    losses = []
    for i, rate in enumerate(rates):
        batch = torch.arange(i * batch_size, (i + 1) * batch_size) % n  # in order, wrapping round
        autograd_sgd_step(net, params, x_all[batch], y_all[batch], float(rate), reg)
        loss = _full_loss(net, x_all, y_all)
        losses.append(loss)
        if not np.isfinite(loss) or loss > DIVERGENCE_FACTOR * best:
            break
        best = min(best, loss)
    return rates[: len(losses)].copy(), np.array(losses, dtype=np.float64)


def _validate_range_test(n, start, stop, steps, batch_size, reg):
    """Refuse each bad setting by name (``n``: the number of samples)."""
    require(is_finite_number(start) and start > 0, "start", start, "a finite learning rate > 0")
    require(
        is_finite_number(stop) and stop > start,
        "stop",
        stop,
        f"a finite learning rate larger than start ({start:g})",
    )
    require(
        is_count(steps) and 2 <= steps <= validation.MAX_STEPS,
        "steps",
        steps,
        f"an integer from 2 to {validation.MAX_STEPS:,}",
    )
    require(
        is_int(batch_size) and 1 <= batch_size <= n,
        "batch_size",
        batch_size,
        f"an integer from 1 to the number of samples ({n})",
    )
    require_nonnegative("reg", reg)


def _full_loss(net, x_all, y_all):
    """The mse over every sample, as a float (``inf`` or ``nan`` once the weights have blown up)."""
    with torch.no_grad():
        return float(mse(y_all, net.forward(x_all)))
