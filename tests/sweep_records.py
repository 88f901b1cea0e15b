"""Sweep records made in-process, the way a sweep records them, without a kernel per run.

The report tests need many small sweeps: each run here trains with ``lab3.experiment.run`` in
this process (what the notebook's cells call), and its outcome goes through the sweep's own
``plan_runs``, ``make_record`` and ``write_results``, so ``results.jsonl`` is what
``python -m lab3.sweep`` would write for the same grid.
"""

from pathlib import Path

from lab3 import DivergedError, experiment
from lab3.sweep.plan import plan_runs
from lab3.sweep.records import DIVERGED, RESERVED, failure_data, make_record
from lab3.sweep.results import write_results
from lab3.sweep.spec import Sweep
from lab3.sweep.validate import validate

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_batched_sgd.ipynb"


def write_sweep_records(runs_dir, name, grid, fixed=None, notebook=NOTEBOOK):
    """Train every point of ``grid`` (and ``fixed``) in-process; write the sweep's results files
    under ``runs_dir/name/`` and return that folder."""
    sweep = validate(
        Sweep(
            name=name, notebook=Path(notebook), grid=grid, fixed={"demos": False, **(fixed or {})}
        )
    )
    sweep_dir = Path(runs_dir) / name
    sweep_dir.mkdir(parents=True, exist_ok=True)
    records = [
        make_record(plan, _outcome(plan), executed=True) for plan in plan_runs(sweep, sweep_dir)
    ]
    write_results(sweep_dir, records, list(sweep.grid) + list(sweep.fixed))
    return sweep_dir


def _outcome(plan):
    parameters = {k: v for k, v in plan.expected.items() if k != RESERVED}
    try:
        return experiment.metrics(experiment.run({**parameters, RESERVED: ""}))
    except DivergedError as error:
        return failure_data(plan.expected, DIVERGED, "DivergedError", str(error), plan.output, 1)
