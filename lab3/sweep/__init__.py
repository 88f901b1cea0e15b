"""Run a training notebook over a grid of hyperparameters with papermill: ``make run-all``.

``python -m lab3.sweep sweeps/default.yaml [--jobs N] [--scheduler ADDRESS] [--timeout S]
[--worker-wait S] [--retries K] [--max-runs N] [--fail-fast] [--report]``. One module per
responsibility:

* ``spec``: the sweep file (``load_sweep``, ``Sweep``, ``SweepError``) and its shape;
* ``validate``: the values against the notebook's parameters and its own rules, once;
* ``plan``: run ids, folders, and which runs a previous invocation finished (resume);
* ``records``: the run record (statuses, ``RunRecord``, the ``learned`` threshold);
* ``execute``: one run in a worker (papermill, lock, timeout, kernel retries with tenacity);
* ``drive``: the pool (``run_sweep``), stopping cleanly;
* ``cluster``: Dask: connecting with a deadline, a lost scheduler, no workers (``--worker-wait``);
* ``results``: ``results.jsonl`` (the source of truth) and its ``results.csv`` export;
* ``figures`` and ``report``: notebook 06's tables and figures, and ``report.html``;
* ``cli``: the command line.

Importing this package loads neither torch, matplotlib, papermill nor nbconvert: the sweep
process and its workers start fast, and each module imports its heavy tools where it uses them.
"""

from lab3.sweep.cli import main
from lab3.sweep.drive import ExecutorLost, process_pool, run_sweep
from lab3.sweep.execute import DEFAULT_TIMEOUT, KERNEL_NAME, execute_run, kernel_failed_to_start
from lab3.sweep.plan import PlannedRun, finished_result, plan_runs, recorded_result, run_id
from lab3.sweep.records import DIVERGED, FAILED, LEARNED_BELOW, NOT_RUN, OK, TIMEOUT, RunRecord
from lab3.sweep.report import EXAMPLE_RECORDS, REPORT_NOTEBOOK, sweep_folder, write_report
from lab3.sweep.results import (
    load_records,
    load_results,
    summarize,
    write_results,
    write_results_csv,
)
from lab3.sweep.spec import MAX_RUNS, Sweep, SweepError, load_sweep
from lab3.sweep.validate import notebook_parameters, validate

__all__ = [
    "DEFAULT_TIMEOUT",
    "DIVERGED",
    "EXAMPLE_RECORDS",
    "ExecutorLost",
    "FAILED",
    "KERNEL_NAME",
    "LEARNED_BELOW",
    "MAX_RUNS",
    "NOT_RUN",
    "OK",
    "PlannedRun",
    "REPORT_NOTEBOOK",
    "RunRecord",
    "Sweep",
    "SweepError",
    "TIMEOUT",
    "execute_run",
    "finished_result",
    "kernel_failed_to_start",
    "load_records",
    "load_results",
    "load_sweep",
    "main",
    "notebook_parameters",
    "plan_runs",
    "process_pool",
    "recorded_result",
    "run_id",
    "run_sweep",
    "summarize",
    "sweep_folder",
    "validate",
    "write_report",
    "write_results",
    "write_results_csv",
]
