"""Planning the runs: their ids and folders, and which of them a previous invocation finished."""

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from lab3.sweep.records import DONE, make_record
from lab3.sweep.spec import SweepError

OWNER = "sweep-file.json"  # in a sweep's runs folder: the sweep file whose runs it holds


def run_id(parameters, names=None):
    """A folder name for a run, stable across processes and reruns, distinct per parameters.

    ``names`` (default: all) are shown, sorted, as ``name=value`` joined by commas (lists as
    ``3-3``, unsafe characters as ``_``, cut at 120 characters); a ``-`` and 8 hex digits of the
    SHA-256 of the canonical JSON of *all* ``parameters`` follow, so two runs never share a folder
    even when their shown parts read the same.
    """
    names = sorted(parameters if names is None else names)
    shown = ",".join(f"{name}={_short(parameters[name])}" for name in names)
    shown = re.sub(r"[^A-Za-z0-9._=,+-]", "_", shown)[:120]
    canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
    return f"{shown}-{digest}" if shown else f"run-{digest}"


def _short(value):
    if isinstance(value, (list, tuple)):
        return "-".join(_short(item) for item in value) or "none"
    return str(value)


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """One grid point: its id, explicit parameters, and the folder it runs in.

    Slotted and sharing ``defaults`` and ``sweep_dir`` with the other runs of its sweep: a plan
    of a million runs holds little more than their parameters.
    """

    run_id: str
    parameters: dict  # what the sweep passes (grid + fixed), results_path aside
    defaults: dict  # the notebook's own parameter values (one dict for the whole sweep)
    sweep_dir: Path

    @property
    def expected(self):
        """Every parameter the run records: the notebook's defaults overlaid with ours."""
        return {**self.defaults, **self.parameters}

    @property
    def folder(self):
        return self.sweep_dir / self.run_id

    @property
    def output(self):
        return self.folder / "output.ipynb"

    @property
    def metrics_path(self):
        return self.folder / "metrics.json"


def plan_runs(sweep, sweep_dir):
    """The ``PlannedRun`` of every grid point of a validated ``sweep``, in grid order."""
    defaults, sweep_dir = sweep.defaults or {}, Path(sweep_dir)
    return [
        PlannedRun(run_id(point, sweep.grid), point, defaults, sweep_dir)
        for point in sweep.points()
    ]


def same(a, b):
    """Equal as JSON values: 1 == 1.0 and lists compare by content, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (
            isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def read_metrics(path):
    """The JSON object in ``path``, or None when it is missing, partial or not an object."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def belongs(plan, data):
    """Do the metrics ``data`` belong to this run (the same parameters, defaults included)?"""
    recorded = data.get("parameters")
    if not isinstance(recorded, dict):
        return False
    # a knob at the notebook's default may go unlisted (lab3.experiment.QUIET_AT_DEFAULT)
    unlisted = {k: v for k, v in plan.defaults.items() if k not in recorded}
    recorded = {**unlisted, **recorded}
    if any(
        name not in recorded or not same(recorded[name], value)
        for name, value in plan.parameters.items()
    ):
        return False
    # a notebook default changed since: the old result is not this run's
    return all(
        same(recorded[name], value) for name, value in plan.expected.items() if name in recorded
    )


def recorded_result(plan):
    """The ``RunRecord`` in the run's metrics.json, whatever its status, if it is this run's."""
    data = read_metrics(plan.metrics_path)
    if data is None or not belongs(plan, data):
        return None
    return make_record(plan, data)


def finished_result(plan):
    """The ``RunRecord`` recorded in the run's metrics.json if it counts as done, else None.

    Done: the file parses, its status is ok or diverged and its parameters are the run's. A
    ``*.tmp`` file (a write cut short) or a truncated file never counts; a failed or timed-out
    run never does.
    """
    data = finished_metrics(plan)
    return None if data is None else make_record(plan, data)


def finished_metrics(plan):
    """The metrics dict behind ``finished_result``: this run's metrics.json, if it is done."""
    data = read_metrics(plan.metrics_path)
    return data if data is not None and belongs(plan, data) and data.get("status") in DONE else None


def claim_folder(sweep_dir, sweep):
    """Make ``sweep_dir`` the runs folder of ``sweep``'s file, or refuse with ``SweepError``.

    Two sweep files with the same ``name:`` would share one runs folder, and the second would
    replace the first one's results.csv and results.jsonl. The folder records the sweep file it
    was made from (``OWNER``); another file that still exists is refused, naming both. A folder
    with no record yet (or whose file is gone: moved or renamed) is claimed. A ``Sweep`` built
    in Python, with no file, claims nothing and is never refused.
    """
    from lab3.files import write_json

    if sweep.source is None:
        return
    owner_path = Path(sweep_dir) / OWNER
    owner = (read_metrics(owner_path) or {}).get("sweep_file")
    mine = Path(sweep.source).resolve()
    if isinstance(owner, str) and owner != str(mine) and _other_file(owner, mine):
        raise SweepError(
            f"the sweep name {sweep.name!r} is taken: {sweep_dir} holds the runs of "
            f"{owner}, and {mine} has the same name; give one of them another "
            "name: (it names the runs folder), or run it with another RUNS_DIR"
        )
    if owner != str(mine):
        write_json(owner_path, {"sweep_file": str(mine), "name": sweep.name})


def _other_file(owner, mine):
    """True when ``owner`` is an existing file that is not ``mine``."""
    try:
        return Path(owner).is_file() and not Path(owner).samefile(mine)
    except OSError:
        return False
