"""Looking inside a network: the size of its signals and gradients, layer by layer, over training.

``layer_statistics`` measures a model once, on a data set; ``train_with_statistics`` trains it
epoch by epoch with ``lab3.train`` (engine ``"manual"``) and measures it after every epoch;
``lab3.figures.statistics`` draws what they recorded. These are the
numbers the usual training-diagnostics checklist reads: the fraction of active ReLUs (and units
never active: "dead"), the size of each layer's output (does the signal vanish with depth?),
the size of each layer's weight gradient, and how much one epoch changes each weight matrix
relative to its size (the update-to-weight ratio).

This module needs torch and numpy only: a script or a test that only measures never loads
matplotlib.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from lab3.training.loop import train_validated, validate_data
from lab3.training.settings import TrainingSettings, validate_settings
from lab3.validation import require_nonnegative


def layer_statistics(model, inputs, targets, *, reg=0.0):
    """Per layer of ``model``, what it does on the data ``(inputs, targets)``.

    Args:
        model: a ``lab3.MultiLayerPerceptron`` (not changed).
        inputs: ``(num_inputs, n)`` data, one column per sample (the lab's layout).
        targets: ``(num_outputs, n)``.
        reg: weight of the L2 term in the objective whose gradient is measured. The default 0 gives
            the gradient of the mse alone: the part that carries the data's signal, which is what a
            vanishing-gradient diagnosis needs (with ``reg > 0`` the penalty's ``2 * reg * W`` is
            added, as in the gradient ``lab3.train`` steps along).

    Returns:
        A list with one dict per layer, hidden layers first and the output layer last. For layer
        ``i`` with pre-activation ``z_i = h_{i-1} @ W_i + b_i`` ``(n, fan_out)`` and output
        ``h_i`` (``relu(z_i)``, or ``z_i`` itself for an identity layer and the output layer):

        * ``layer`` (1, 2, ...), ``kind`` (``"hidden"`` or ``"output"``), ``units`` (fan_out);
        * ``active_fraction``: fraction of the ``n * fan_out`` entries of ``z_i`` that are > 0
          (``None`` for the output layer and identity layers);
        * ``dead_units``: how many of the layer's units have ``z <= 0`` on *every* sample, so that
          no gradient reaches their incoming weights (``None`` where ``active_fraction`` is);
        * ``activation_rms``: ``sqrt(mean(h_i ** 2))`` over every entry;
        * ``gradient_norm``: Frobenius norm of ``d(mse + reg * sum ||W||^2) / dW_i``, the mse taken
          over the whole data set (as ``lab3.mse``: the mean over every element);
        * ``weight_norm``: Frobenius norm of ``W_i``. A full-batch SGD step with learning rate
          ``lr`` changes ``W_i`` by ``lr * gradient_norm``, so ``lr * gradient_norm / weight_norm``
          is its update-to-weight ratio (``train_with_statistics`` measures it after each epoch).

    All values are Python floats and ints, computed in float64.
    """
    inputs, targets = validate_data(model, inputs, targets)
    require_nonnegative("reg", reg)
    weights = [w.detach().double().requires_grad_(True) for w in model.weights]
    biases = [b.detach().double() for b in model.biases]
    h = inputs.T.double()  # (n, num_inputs)
    kinds = [*model.activations, "output"]
    rows = []
    for i, (w, b, kind) in enumerate(zip(weights, biases, kinds), start=1):
        z = h @ w + b  # (n, fan_out)
        h = torch.relu(z) if kind == "relu" else z
        rows.append(_layer_row(i, kind, z.detach(), h.detach(), w))
    objective = ((h - targets.T.double()) ** 2).mean() + reg * sum((w**2).sum() for w in weights)
    grads = torch.autograd.grad(objective, weights)
    for row, g in zip(rows, grads):
        row["gradient_norm"] = float(torch.linalg.matrix_norm(g))
    return rows


def _layer_row(index, kind, z, h, w):
    """The statistics of one layer that need only its forward values (no gradient yet)."""
    relu = kind == "relu"
    active = z > 0  # (n, fan_out)
    return {
        "layer": index,
        "kind": "output" if kind == "output" else "hidden",
        "units": int(z.shape[1]),
        "active_fraction": float(active.double().mean()) if relu else None,
        "dead_units": int((~active.any(dim=0)).sum()) if relu else None,
        "activation_rms": float(h.pow(2).mean().sqrt()),
        "weight_norm": float(torch.linalg.matrix_norm(w.detach())),
    }


@dataclass
class Trace:
    """What ``train_with_statistics`` recorded; index 0 is the model before training.

    ``loss[e]`` is the training-set mse after epoch ``e`` ((epochs + 1,)); ``statistics[e]`` is
    ``layer_statistics`` then; ``update_ratio[e - 1, i]`` is ``||W_i(e) - W_i(e-1)||_F /
    ||W_i(e-1)||_F``, how much epoch ``e`` changed layer ``i``'s weights ((epochs, layers));
    ``singular_values[e]`` are those of the effective matrix (``model.effective_matrix``) after
    epoch ``e``: for the rotation both should reach 1, and one near 0 means the network maps the
    plane onto a line.
    """

    label: str
    loss: np.ndarray
    statistics: list
    update_ratio: np.ndarray
    singular_values: np.ndarray
    settings: dict = field(default_factory=dict)

    @property
    def epochs(self):
        """``0, 1, ..., epochs`` (0: before training)."""
        return np.arange(len(self.loss))

    def series(self, key):
        """``(epochs + 1, layers)`` float array of one statistic; NaN where it is ``None``."""
        return np.array(
            [
                [np.nan if row[key] is None else row[key] for row in rows]
                for rows in self.statistics
            ],
            dtype=float,
        )


def train_with_statistics(
    model,
    inputs,
    targets,
    *,
    epochs,
    batch_size=1,
    learning_rate=0.1,
    reg=0.001,
    label="",
    statistics_reg=0.0,
):
    """Train ``model`` in place with ``lab3.train`` (engine ``"manual"``, samples in order), one
    epoch per call, and measure it before training and after every epoch; return a ``Trace``.

    The result is the training of one ``lab3.train`` call of ``epochs`` epochs, except that the
    parameters pass through the model's float32 between epochs (the losses agree to about 1e-6
    relative). Samples are visited in order (no shuffling), as in the lab. The
    statistics use ``layer_statistics(..., reg=statistics_reg)`` (default: gradients of the mse
    alone). A ``lab3.DivergedError`` propagates from the epoch that diverged.
    """
    inputs, targets = validate_data(model, inputs, targets)
    knobs = dict(batch_size=batch_size, learning_rate=learning_rate, reg=reg, engine="manual")
    run = validate_settings(TrainingSettings(n_samples=inputs.shape[1], epochs=epochs, **knobs))
    one_epoch = run.replace(epochs=1)  # checked once, above: each epoch trains unchecked
    statistics = [layer_statistics(model, inputs, targets, reg=statistics_reg)]
    loss = [float(((model.forward(inputs.T).detach() - targets.T) ** 2).mean())]
    singular = [torch.linalg.svdvals(model.effective_matrix(inputs)).numpy()]
    ratios = []
    for _ in range(run.epochs):
        before = [w.detach().clone() for w in model.weights]
        history = train_validated(model, inputs, targets, one_epoch)
        ratios.append(
            [
                float(torch.linalg.matrix_norm(w.detach() - b) / torch.linalg.matrix_norm(b))
                for w, b in zip(model.weights, before)
            ]
        )
        loss.append(history.epoch_loss[-1])
        statistics.append(layer_statistics(model, inputs, targets, reg=statistics_reg))
        singular.append(torch.linalg.svdvals(model.effective_matrix(inputs)).numpy())
    settings = {
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "reg": reg,
        "hidden_sizes": list(model.hidden_sizes),
        "init": model.init,
    }
    return Trace(label, np.array(loss), statistics, np.array(ratios), np.array(singular), settings)
