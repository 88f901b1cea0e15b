"""Shared test settings."""

import os

from hypothesis import settings

# `make test` must pass or fail the same way on every run and machine: the property tests draw
# their examples from a fixed seed. HYPOTHESIS_PROFILE=explore draws fresh examples each run.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
