"""Lesson 7's checks: power iteration for the sharpness, and learning rates predicted unstable
(checked against runs, not a formula)."""

import numpy as np
import pytest

from lab3 import exercises
from lab3.exercises.core import CheckFailed


def power_iteration(products):
    def top_eigenvalue(hvp, size):
        v = np.random.default_rng(0).standard_normal(size)
        for _ in range(products):
            w = hvp(v)
            v = w / np.linalg.norm(w)
        return float(v @ hvp(v))

    return top_eigenvalue


def test_power_iteration_that_runs_long_enough_is_accepted(capsys):
    exercises.check_top_eigenvalue(power_iteration(2000))
    assert capsys.readouterr().out.startswith("correct: top_eigenvalue")


@pytest.mark.parametrize(
    "wrong",
    [
        power_iteration(20),  # the lab's near-equal top pair: still 0.6% low
        lambda hvp, size: float(np.linalg.norm(hvp(np.ones(size)))),  # one product, no iteration
        power_iteration(0),  # the Rayleigh quotient of a random vector: no iteration
    ],
)
def test_power_iteration_that_stops_early_or_finds_another_eigenvalue_is_refused(wrong):
    with pytest.raises(CheckFailed, match="top_eigenvalue is not right yet"):
        exercises.check_top_eigenvalue(wrong)


def test_the_stability_limit_predicts_the_runs(capsys):
    exercises.check_unstable(lambda rates, top: [r > 2 / top for r in rates])
    assert "correct: unstable" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong",
    [
        lambda rates, top: [r > 1 / top for r in rates],  # forgot the 2
        lambda rates, top: [r < 2 / top for r in rates],  # the other side
        lambda rates, top: [False] * len(rates),
    ],
)
def test_a_wrong_limit_disagrees_with_the_runs(wrong):
    with pytest.raises(CheckFailed, match="unstable is not right yet"):
        exercises.check_unstable(wrong)
