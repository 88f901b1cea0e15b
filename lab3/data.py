"""The lab's training data: points of the plane and their images under a linear map.

Layout (the lab's): ``inputs`` and ``targets`` are ``(d, n)`` tensors, one *column* per sample,
so ``inputs[:, 0]`` is the first sample. Matrices act on *row* vectors, ``y = x @ M``, which is
why the lab can read its learned transform as ``w_1 @ w_2``.
"""

import math

import numpy as np
import torch

from lab3.checks import is_count, is_finite_number, require


def rotation_matrix(degrees=90.0):
    """The ``(2, 2)`` float32 matrix that rotates row vectors counter-clockwise by ``degrees``.

    Row-vector convention: ``[1, 0] @ rotation_matrix(90) == [0, 1]``. Entries are rounded to
    12 decimals first so that multiples of 90 degrees give exact zeros and ones.
    """
    theta = math.radians(degrees)
    cos, sin = round(math.cos(theta), 12), round(math.sin(theta), 12)
    return torch.tensor([[cos, sin], [-sin, cos]], dtype=torch.float32)


def create_linear_training_data(n_samples=1000, matrix=None, noise=0.0, seed=0):
    """Sample ``n_samples`` inputs uniformly from ``[-1, 1)^d`` and map them by ``matrix``.

    Args:
        n_samples: number of samples ``n`` (at least 1).
        matrix: square ``(d, d)`` matrix (tensor, array or nested list); default
            ``rotation_matrix(90)``.
        noise: standard deviation of Gaussian noise added to the targets (0 for exact targets).
        seed: seed of a private generator; the global torch RNG is left alone.

    Returns:
        ``(inputs, targets)``: float32 tensors of shape ``(d, n)`` with
        ``targets.T == inputs.T @ matrix + noise``.
    """
    require(is_count(n_samples), "n_samples", n_samples, "an integer >= 1")
    if matrix is None:
        matrix = rotation_matrix(90)
    matrix = torch.as_tensor(np.asarray(matrix, dtype=np.float32))
    require(matrix.ndim == 2 and matrix.shape[0] == matrix.shape[1] and matrix.shape[0] >= 1,
            "matrix", tuple(matrix.shape), "a square (d, d) matrix")
    require(is_finite_number(noise) and noise >= 0, "noise", noise, "a finite number >= 0")

    generator = torch.Generator().manual_seed(seed)
    d = matrix.shape[0]
    inputs = torch.rand((d, n_samples), generator=generator) * 2 - 1  # (d, n)
    targets = (inputs.T @ matrix).T  # row-vector convention, back to (d, n)
    if noise > 0:
        targets = targets + noise * torch.randn((d, n_samples), generator=generator)
    return inputs.contiguous(), targets.contiguous()

