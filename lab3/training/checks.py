"""The data ``lab3.train`` takes, checked once where it enters: shapes, finiteness, one-hot.

``validate_data`` returns the training data as float32 ``(d, n)`` and ``(k, n)`` tensors that fit
the model; ``validate_test_data`` does the same for an optional test set (which may be empty), and
``require_one_hot`` refuses targets a cross-entropy loss cannot read as class probabilities.
"""

import torch

from lab3.mlp import MultiLayerPerceptron
from lab3.validation import require

ONE_HOT_TOLERANCE = 1e-4  # a column of class probabilities sums to 1 within float32 rounding


def _as_data(name, value, min_samples=1):
    """``value`` as a 2-D float32 tensor in the lab's ``(d, n)`` layout, or a ``ValueError``."""
    data = torch.as_tensor(value, dtype=torch.float32).detach()
    require(
        data.ndim == 2 and data.shape[1] >= min_samples,
        name,
        tuple(data.shape),
        "a 2-D (d, n) tensor: one row per feature, one column per sample",
    )
    require(
        bool(torch.isfinite(data).all()),
        name,
        tuple(data.shape),
        "finite numbers only, but it holds NaN or infinity",
    )
    return data


def validate_data(model, inputs, targets, names=("inputs", "targets"), min_samples=1):
    """Refuse data whose shapes do not fit each other or the model; return both as tensors.

    Returns ``(inputs, targets)`` as float32 tensors (``(d, n)`` and ``(k, n)``), detached.
    ``names`` are the arguments' names in the messages.
    """
    require(isinstance(model, MultiLayerPerceptron), "model", model, "a lab3 MultiLayerPerceptron")
    x_name, y_name = names
    inputs = _as_data(x_name, inputs, min_samples)
    targets = _as_data(y_name, targets, min_samples)
    require(
        targets.shape[1] == inputs.shape[1],
        y_name,
        tuple(targets.shape),
        f"as many samples (columns) as {x_name}, whose shape is {tuple(inputs.shape)}",
    )
    require(
        inputs.shape[0] == model.num_inputs,
        x_name,
        tuple(inputs.shape),
        f"shape (model.num_inputs={model.num_inputs}, n) in the (d, n) layout "
        "(one column per sample)",
    )
    require(
        targets.shape[0] == model.num_outputs,
        y_name,
        tuple(targets.shape),
        f"shape (model.num_outputs={model.num_outputs}, n) in the (d, n) layout "
        "(one column per sample)",
    )
    return inputs, targets


def validate_test_data(model, test_inputs, test_targets):
    """The test set as float32 tensors, or ``None`` when there is none (both ``None``, or no
    columns: ``lab3.make_task(test_fraction=0)`` gives an empty one). Shapes as ``validate_data``.
    """
    require(
        (test_inputs is None) == (test_targets is None),
        "test_targets" if test_targets is None else "test_inputs",
        None,
        "given together with the other one (both or neither)",
    )
    if test_inputs is None:
        return None
    test = validate_data(model, test_inputs, test_targets, ("test_inputs", "test_targets"), 0)
    return test if test[0].shape[1] > 0 else None


def require_one_hot(name, targets):
    """Refuse ``(k, n)`` targets whose columns are not class probabilities (entries >= 0, each
    column summing to 1): what ``loss="cross_entropy"`` compares the softmax with."""
    sums = targets.sum(dim=0)
    require(
        bool((targets >= 0).all()) and bool(((sums - 1).abs() <= ONE_HOT_TOLERANCE).all()),
        name,
        tuple(targets.shape),
        'one-hot columns (or class probabilities: >= 0, each column summing to 1) for loss="'
        'cross_entropy"; lab3.make_task makes them for its classification tasks',
    )
