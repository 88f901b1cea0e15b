"""Make a notebook print the same thing on every run, on every machine.

Results differ in their last digits across thread counts and CPU instruction sets, so the
notebooks fix the seeds, use one compute thread and print rounded numbers; nbval then compares
what a fresh kernel prints with what is committed.
"""

import os
import random

import numpy as np
import torch

from lab3.validation import is_count, is_int, require, require_seed

PRINT_DECIMALS = 4


def make_reproducible(seed=0, threads=1, decimals=PRINT_DECIMALS):
    """Seed Python, NumPy and torch, pin ``threads`` compute threads and round printed arrays.

    ``seed``: an integer in ``lab3.validation.SEED_RANGE``; ``threads``: an integer >= 1;
    ``decimals``: an integer from 0 to 16.
    """
    require_seed(seed)
    require(is_count(threads), "threads", threads, "an integer >= 1")
    require(
        is_int(decimals) and 0 <= decimals <= 16, "decimals", decimals, "an integer from 0 to 16"
    )
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(threads))  # for libraries loaded after this call
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    np.set_printoptions(precision=decimals, suppress=True)
    torch.set_printoptions(precision=decimals, sci_mode=False)
