"""Shared test settings and fixtures."""

import os
import sys

import matplotlib
import pytest
from hypothesis import settings

# One compute thread, as `make` sets it: the same digits on every machine, and no oversubscribed
# cores when pytest-xdist runs a worker per core. Set before any test module imports torch; the
# kernels that tests start inherit it too (as they do from `make`). Nothing else may be set here
# that a kernel would inherit and the committed outputs were not made with (MPLBACKEND, say,
# would take the figures out of every notebook that nbval runs in the same worker).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

# `make test` must pass or fail the same way on every run and machine: the property tests draw
# their examples from a fixed seed. HYPOTHESIS_PROFILE=explore draws fresh examples each run.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Figures drawn by tests are only inspected, never shown: no display is needed. This sets the
# backend of this process only (the kernels nbval starts keep the inline backend).
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _fresh_hints():
    """Every test starts at the first (vague) hint tier of every exercise check."""
    from lab3 import exercises  # imported here: a test session that checks no exercise pays nothing

    exercises.reset_hints()


@pytest.fixture(autouse=True)
def close_figures():
    """Every figure a test opened is closed after it (matplotlib keeps them all otherwise)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")  # a test that drew nothing imports nothing
    if pyplot is not None:
        pyplot.close("all")
