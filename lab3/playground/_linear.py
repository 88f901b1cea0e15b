"""The linear task alone, in the shape of ``lab3.tasks`` (issue 22's agreed API), for as long as
``lab3.tasks`` is not in this checkout: the playground then offers the lab's map only.

``make_task("linear", n, noise, test_fraction, seed)`` is ``lab3.create_linear_training_data``
split as ``lab3.tasks`` splits: the last ``round(test_fraction * n)`` samples of a seeded
permutation are the test set. Delete this module once ``lab3.tasks`` has landed.
"""

from dataclasses import dataclass

import torch

from lab3.data import create_linear_training_data
from lab3.validation import (
    is_finite_number,
    require,
    require_count,
    require_nonnegative,
    require_seed,
)

TASKS = ("linear",)


@dataclass(frozen=True)
class TaskSettings:
    name: str = "linear"
    n_samples: int = 1000
    noise: float = 0.0
    test_fraction: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Task:
    name: str
    kind: str
    loss: str
    train_inputs: torch.Tensor
    train_targets: torch.Tensor
    test_inputs: torch.Tensor
    test_targets: torch.Tensor
    num_outputs: int
    settings: TaskSettings

    @property
    def n_train(self):
        return self.train_inputs.shape[1]

    @property
    def n_test(self):
        return self.test_inputs.shape[1]


def validate_task(name, n_samples, noise, test_fraction, seed):
    require(isinstance(name, str) and name in TASKS, "name", name, f"one of {TASKS}")
    require_count("n_samples", n_samples, "MAX_SAMPLES")
    require_nonnegative("noise", noise)
    require(
        is_finite_number(test_fraction) and 0 <= test_fraction <= 0.9,
        "test_fraction",
        test_fraction,
        "a number from 0 to 0.9 (the share of samples kept for testing)",
    )
    require_seed(seed)
    return TaskSettings(name, int(n_samples), float(noise), float(test_fraction), int(seed))


def make_task(name="linear", n_samples=1000, noise=0.0, test_fraction=0.0, seed=0):
    s = validate_task(name, n_samples, noise, test_fraction, seed)
    inputs, targets = create_linear_training_data(s.n_samples, noise=s.noise, seed=s.seed)
    n_test = round(s.test_fraction * s.n_samples)
    order = torch.randperm(s.n_samples, generator=torch.Generator().manual_seed(s.seed))
    train, test = (
        order[: s.n_samples - n_test].sort().values,
        order[s.n_samples - n_test :].sort().values,
    )
    return Task(
        "linear",
        "regression",
        "mse",
        inputs[:, train],
        targets[:, train],
        inputs[:, test],
        targets[:, test],
        2,
        s,
    )
