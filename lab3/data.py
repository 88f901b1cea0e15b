"""The lab's training data: points of the plane and their images under a linear map.

Layout (the lab's): ``inputs`` and ``targets`` are ``(d, n)`` tensors, one *column* per sample,
so ``inputs[:, 0]`` is the first sample. Matrices act on *row* vectors, ``y = x @ M``, which is
why the lab can read its learned transform as ``w_1 @ w_2``.
"""

import math

import numpy as np
import torch

from lab3.validation import (
    is_finite_number,
    real_array,
    require,
    require_count,
    require_nonnegative,
    require_seed,
)


def rotation_matrix(degrees=90.0):
    """The ``(2, 2)`` float32 matrix that rotates row vectors counter-clockwise by ``degrees``.

    Row-vector convention: ``[1, 0] @ rotation_matrix(90) == [0, 1]``. Entries are rounded to
    12 decimals first so that multiples of 90 degrees give exact zeros and ones.
    """
    require(is_finite_number(degrees), "degrees", degrees, "a finite number of degrees")
    theta = math.radians(degrees)
    cos, sin = round(math.cos(theta), 12), round(math.sin(theta), 12)
    return torch.tensor([[cos, sin], [-sin, cos]], dtype=torch.float32)


def create_linear_training_data(n_samples=1000, matrix=None, noise=0.0, seed=0):
    """Sample ``n_samples`` inputs uniformly from ``[-1, 1)^d`` and map them by ``matrix``.

    Args:
        n_samples: number of samples ``n``, 1 to ``lab3.validation.MAX_SAMPLES``.
        matrix: square ``(d, d)`` matrix of finite real numbers (tensor, array or nested list);
            default ``rotation_matrix(90)``.
        noise: standard deviation of Gaussian noise added to the targets (0 for exact targets).
        seed: seed of a private generator (an integer in ``lab3.validation.SEED_RANGE``); the global
            torch RNG is left alone.

    Returns:
        ``(inputs, targets)``: float32 tensors of shape ``(d, n)`` with
        ``targets.T == inputs.T @ matrix + noise``.
    """
    require_count("n_samples", n_samples, "MAX_SAMPLES")
    if matrix is None:
        matrix = rotation_matrix(90)
    matrix = real_array("matrix", matrix)
    require(
        matrix.ndim == 2 and matrix.shape[0] == matrix.shape[1] and matrix.shape[0] >= 1,
        "matrix",
        matrix.shape,
        "a square (d, d) matrix",
    )
    require_count("matrix width", matrix.shape[0], "MAX_WIDTH")
    matrix = torch.as_tensor(matrix.astype(np.float32))
    require_nonnegative("noise", noise)
    require_seed(seed)

    generator = torch.Generator().manual_seed(seed)
    d = matrix.shape[0]
    inputs = torch.rand((d, n_samples), generator=generator) * 2 - 1  # (d, n)
    targets = (inputs.T @ matrix).T  # row-vector convention, back to (d, n)
    if noise > 0:
        targets = targets + noise * torch.randn((d, n_samples), generator=generator)
    return inputs.contiguous(), targets.contiguous()
