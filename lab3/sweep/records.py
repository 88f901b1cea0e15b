"""The run record: what became of one grid point, built here and only here.

A run ends in one of these statuses:

* ``ok``: the notebook finished and wrote its metrics (``final_loss``, ``matrix_error``, ...);
* ``diverged``: training stopped with ``lab3.DivergedError`` (kept: it would diverge again);
* ``failed``: the notebook raised, its kernel died, or it wrote no metrics (run again next time);
* ``timeout``: it ran past ``--timeout`` and was stopped (run again next time);
* ``not run``: never started (``--fail-fast``, Ctrl-C, SIGTERM, a lost Dask scheduler).

The same record is written three ways: the run's ``metrics.json`` (by the notebook when it
finishes, by the worker when it does not), one line of ``results.jsonl`` (the whole record, the
source of truth the report reads) and one row of ``results.csv`` (an export for spreadsheets).
"""

import math
from dataclasses import dataclass, field

OK, DIVERGED, FAILED, TIMEOUT, NOT_RUN = "ok", "diverged", "failed", "timeout", "not run"
STATUSES = (OK, DIVERGED, FAILED, TIMEOUT, NOT_RUN)
DONE = (OK, DIVERGED)  # kept by a rerun; the others are run again
RESERVED = "results_path"  # set by the sweep: each run's metrics.json

# A run "learned" the map when its least-squares effective matrix is this close (Frobenius norm)
# to the true one. A network that outputs a constant has effective matrix 0, so its error is
# ||M||_F = sqrt(2) = 1.41 for a rotation; 0.1 is 7 % of that (README, "Sweeps").
LEARNED_BELOW = 0.1
# A classification run learned its task when it classifies this share of its test set right (of
# its training set when it has no test set): lesson 08's bar for circle and XOR.
LEARNED_ACCURACY = 0.95

# results.csv: the parameters, then these columns, in this order
RESULT_COLUMNS = (
    "run_id",
    "status",
    "final_loss",
    "matrix_error",
    "learned",
    "train_seconds",
    "steps",
    "error",
    "output",
)
METRIC_NAMES = (
    "final_loss",
    "matrix_error",
    "train_seconds",
    "steps",
    "effective_matrix",
    "true_matrix",
    "epoch_loss",
    "test_loss",  # only in runs with a test set
    "epoch_test_loss",
    "final_accuracy",  # only in cross-entropy runs
    "test_accuracy",
)


@dataclass
class RunRecord:
    """One grid point's outcome.

    ``parameters`` are the sweep's explicit values (grid and fixed); ``recorded`` every parameter
    the run used (the notebook's defaults overlaid), when known. ``metrics`` holds the notebook's
    numbers for an ok run (``METRIC_NAMES``), nothing otherwise. ``executed`` is False when a
    previous invocation's result was reused; ``attempts`` counts kernel starts.
    """

    run_id: str
    parameters: dict
    status: str
    output: str
    error: str = ""
    metrics: dict = field(default_factory=dict)
    recorded: dict = field(default_factory=dict)
    executed: bool = False
    attempts: int = 0

    @property
    def learned(self):
        """True/False for an ok run, None otherwise (and for a task with no such test).

        The lab's linear map: matrix error under ``LEARNED_BELOW``. A classification task:
        accuracy (test, else training) at least ``LEARNED_ACCURACY``. Another regression task
        (the swirl) has no matrix to compare, so None.
        """
        if self.status != OK:
            return None
        m = self.metrics
        accuracy = m.get("test_accuracy", m.get("final_accuracy"))
        if accuracy is not None:
            return accuracy >= LEARNED_ACCURACY if _finite(accuracy) else None
        task = {**self.recorded, **self.parameters}.get("task", "linear")
        error = m.get("matrix_error")
        if task != "linear" or not _finite(error):
            return None
        return error < LEARNED_BELOW

    def row(self):
        """The results.csv row: the parameters, then ``RESULT_COLUMNS`` (values still typed)."""
        m = self.metrics
        return {
            **self.parameters,
            "run_id": self.run_id,
            "status": self.status,
            "final_loss": m.get("final_loss"),
            "matrix_error": m.get("matrix_error"),
            "learned": self.learned,
            "train_seconds": m.get("train_seconds"),
            "steps": m.get("steps"),
            "error": self.error,
            "output": self.output,
        }

    def to_json(self):
        """The whole record as one JSON object (a line of results.jsonl)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "learned": self.learned,
            "parameters": {**self.recorded, **self.parameters},
            "swept": list(self.parameters),
            **{k: self.metrics[k] for k in METRIC_NAMES if k in self.metrics},
            "error": self.error,
            "output": self.output,
        }


def make_record(plan, data, executed=False):
    """The ``RunRecord`` of ``plan`` from a metrics dict (what ``metrics.json`` holds), or None.

    ``data`` is either the notebook's own metrics (status ok) or what ``failure_data`` wrote;
    an unknown status counts as failed. ``None`` data gives a ``not run`` record.
    """
    if data is None:
        return RunRecord(plan.run_id, plan.parameters, NOT_RUN, str(plan.output))
    status = data.get("status")
    status = status if status in (OK, DIVERGED, FAILED, TIMEOUT) else FAILED
    error = "" if status == OK else str(data.get("error") or "no error message recorded")
    metrics = {k: data[k] for k in METRIC_NAMES if k in data} if status == OK else {}
    recorded = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    return RunRecord(
        plan.run_id,
        plan.parameters,
        status,
        str(plan.output),
        error,
        metrics,
        recorded,
        executed,
        int(data.get("attempts") or 0),
    )


def not_run(plan, reason=""):
    """The record of a run that never finished in this invocation (``reason`` says why)."""
    return RunRecord(plan.run_id, plan.parameters, NOT_RUN, str(plan.output), reason)


def failure_data(parameters, status, ename, evalue, output, attempts):
    """What the worker writes to ``metrics.json`` for a run that did not finish ok."""
    return {
        "parameters": {k: v for k, v in parameters.items() if k != RESERVED},
        "status": status,
        "ename": ename,
        "evalue": evalue,
        "error": f"{ename}: {evalue}",
        "output": str(output),
        "attempts": attempts,
    }


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
