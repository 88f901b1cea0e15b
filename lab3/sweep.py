"""Run a training notebook over a grid of hyperparameters with papermill: ``make run-all``.

A sweep file (YAML, read with ``yaml.safe_load``) names the sweep, the notebook and the values::

    name: default                          # the runs go to <runs dir>/default/
    notebook: notebooks/04_batched_sgd.ipynb   # relative to the sweep file's project
    grid:                                  # one run per combination (Cartesian product)
      batch_size: [1, 10, 100, 1000]
      learning_rate: [0.01, 0.1, 0.5]
    fixed:                                 # the same in every run
      engine: manual

Command line::

    python -m lab3.sweep sweeps/default.yaml [--jobs N] [--scheduler tcp://host:port]
                                             [--retries K] [--fail-fast]

What it does, in order:

1. **Checks everything before anything runs.** Every grid and fixed name must be a parameter of
   the notebook's ``parameters`` cell (``papermill.inspect_notebook``; papermill itself only logs
   a warning for an unknown name and the run silently uses the default), and every value must
   have the type of that parameter's default (an int is accepted where a float is expected).
   A bad sweep exits with status 2 and no run folder is created.
2. **Runs each grid point in its own process** (a ``ProcessPoolExecutor`` with ``spawn``, or the
   workers of a Dask cluster with ``--scheduler``), each in a fresh ``lab3`` kernel. Each run has
   a folder ``<runs dir>/<sweep name>/<run id>/`` holding ``output.ipynb`` (the executed notebook),
   ``metrics.json`` (written by the notebook itself, last, through ``results_path``) and
   ``kernel.log`` (the kernel's own stdout and stderr). A kernel that fails to start is retried
   (``--retries``, default 2). On a Dask cluster the workers must see the runs folder at the same
   path (a shared disk) and should have one thread each (papermill's ``cwd=`` is process-wide).
3. **Resumes.** A run whose ``metrics.json`` exists, parses, has status ``ok`` or ``diverged`` and
   records the same parameters is not run again; a killed sweep picks up where it stopped.
4. **Isolates failures.** A run that diverges (``lab3.DivergedError``) or fails records
   status ``diverged`` or ``failed``, the error and its ``output.ipynb`` (which shows the failing
   cell) in its ``metrics.json``; the other runs go on (unless ``--fail-fast``). Failed runs are
   run again by the next invocation, diverged ones are not (they would diverge again).
5. **Reports.** One tqdm bar over the runs, then a summary; ``<runs dir>/<sweep>/results.csv``
   has one row per grid point (``load_results`` reads it back with proper types). The exit status
   is 0 when every run is ok, 1 otherwise.

The runs directory is ``$RUNS_DIR`` or ``runs/``. The Python API: ``load_sweep``, ``validate``,
``run_sweep``, ``write_results_csv``, ``load_results`` and ``main``. ``lab3``'s core modules never
import this one (it needs papermill, PyYAML and tqdm).
"""

import argparse
import ast
import concurrent.futures as cf
import csv
import difflib
import hashlib
import io
import itertools
import json
import math
import multiprocessing
import os
import random
import re
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from lab3.checks import is_count, is_int, require
from lab3.files import atomic_write, write_json

KERNEL_NAME = "lab3"
REPORT_NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_sweep_report.ipynb"
RESERVED = "results_path"  # set by the sweep: each run's metrics.json
REQUIRED_KEYS = ("name", "notebook", "grid")
OPTIONAL_KEYS = ("fixed",)
OK, DIVERGED, FAILED, NOT_RUN = "ok", "diverged", "failed", "not run"
DONE = (OK, DIVERGED)  # statuses that a rerun keeps (a diverged run would diverge again)
RESULT_COLUMNS = ("run_id", "status", "final_loss", "matrix_error", "train_seconds", "steps",
                  "error", "output")
_FLOAT_COLUMNS = ("final_loss", "matrix_error", "train_seconds")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class SweepError(ValueError):
    """A sweep file or grid that cannot run; the message says what to change. Nothing has run."""


# ----------------------------------------------------------------------------------------------
# The sweep file
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file.

    ``notebook`` is an absolute path; ``grid`` maps a parameter to its list of values (the runs
    are the Cartesian product, in the file's order); ``fixed`` maps a parameter to its value in
    every run. ``validate`` fills ``defaults`` (the notebook's own parameter values, parsed from
    its ``parameters`` cell) and converts ints given for float parameters to floats.
    """

    name: str
    notebook: Path
    grid: dict
    fixed: dict = field(default_factory=dict)
    source: Path = None
    defaults: dict = None  # None until ``validate``

    def points(self):
        """The explicit parameters of every run (grid values, then the fixed ones), in order."""
        names = list(self.grid)
        return [{**dict(zip(names, values)), **self.fixed}
                for values in itertools.product(*(self.grid[n] for n in names))]


def load_sweep(path):
    """Read a sweep YAML file into a ``Sweep``, or raise ``SweepError`` saying what is wrong.

    Keys: ``name`` (a folder name), ``notebook`` (absolute, or relative to the sweep file's
    folder or the nearest folder above it where that path exists: ``notebooks/...`` in
    ``sweeps/x.yaml`` means the project's ``notebooks/``), ``grid`` (name -> non-empty list of
    distinct values) and, optionally, ``fixed`` (name -> value). Any other key is refused.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise SweepError(f"cannot read the sweep file {path}: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SweepError(f"{path} is not valid YAML: {error}") from None
    allowed = REQUIRED_KEYS + OPTIONAL_KEYS
    if not isinstance(data, dict):
        raise SweepError(f"{path}: a sweep file is a mapping with the keys {', '.join(allowed)}; "
                         f"this one holds a {type(data).__name__}")
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise SweepError(f"{path}: unknown key {unknown[0]!r}{_did_you_mean(unknown[0], allowed)}"
                         f" (a sweep file has the keys {', '.join(allowed)})")
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise SweepError(f"{path}: missing key {missing[0]!r} (a sweep file needs "
                         f"{', '.join(REQUIRED_KEYS)}; {', '.join(OPTIONAL_KEYS)} is optional)")
    name = data["name"]
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise SweepError(f"{path}: name={name!r} is not allowed: it names the sweep's folder, so "
                         "use letters, digits, '.', '_' and '-' (not starting with '.' or '-')")
    grid = _mapping(path, "grid", data["grid"])
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"{path}: grid {key!r} must be a non-empty list of values, got "
                             f"{values!r} (write {key}: [{values!r}], or move it to fixed)")
        seen = []
        for value in values:
            if value in seen:
                raise SweepError(f"{path}: grid {key!r} lists the value {value!r} twice")
            seen.append(value)
    fixed = _mapping(path, "fixed", data.get("fixed"))
    both = [key for key in grid if key in fixed]
    if both:
        raise SweepError(f"{path}: {both[0]!r} is both in grid and in fixed; keep one")
    notebook = _resolve_notebook(path, data["notebook"])
    return Sweep(name=name, notebook=notebook, grid=grid, fixed=fixed, source=path.resolve())


def _mapping(path, key, value):
    if value is None and key == "fixed":
        return {}
    if not isinstance(value, dict):
        raise SweepError(f"{path}: {key} must be a mapping of parameter names to "
                         f"{'lists of values' if key == 'grid' else 'values'}, got {value!r}")
    for name in value:
        if not isinstance(name, str):
            raise SweepError(f"{path}: {key} has the key {name!r}; parameter names are strings")
    return dict(value)


def _resolve_notebook(path, notebook):
    if not isinstance(notebook, str) or not notebook:
        raise SweepError(f"{path}: notebook={notebook!r} is not allowed: the path of a .ipynb file")
    if Path(notebook).is_absolute():
        candidates = [Path(notebook)]
    else:
        folder = path.resolve().parent
        candidates = [base / notebook for base in (folder, *folder.parents)]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    where = (candidates[0] if len(candidates) == 1
             else f"{path.resolve().parent} or a folder above it")
    raise SweepError(f"{path}: notebook {notebook!r} not found (looked in {where})")


def _did_you_mean(word, choices):
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ----------------------------------------------------------------------------------------------
# Validation against the notebook's parameters cell
# ----------------------------------------------------------------------------------------------

_TYPE_NAMES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict,
               "tuple": list}


def notebook_parameters(notebook):
    """``{name: (expected type or None, element type or None, default or missing)}`` of a notebook.

    From ``papermill.inspect_notebook``: the type is the annotation (``x: float = 1``) or the
    ``# type:`` comment when there is one, else the type of the default value (parsed with
    ``ast.literal_eval``; ``None`` when the default is an expression). For a list default whose
    items share one type, the element type too.
    """
    import papermill

    found = {}
    for name, info in papermill.inspect_notebook(str(notebook)).items():
        try:
            default = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            default = _MISSING
        if isinstance(default, tuple):
            default = list(default)
        annotated = re.match(r"\s*(\w+)", info.get("inferred_type_name") or "")
        expected = _TYPE_NAMES.get(annotated.group(1).lower()) if annotated else None
        if expected is None and default is not _MISSING and default is not None:
            expected = type(default) if type(default) in _TYPE_NAMES.values() else None
        element = None
        if expected is list and isinstance(default, list) and default:
            kinds = {type(item) for item in default}
            element = kinds.pop() if len(kinds) == 1 else None
        found[name] = (expected, element, default)
    return found


_MISSING = object()


def validate(sweep):
    """Check a ``Sweep`` against its notebook's ``parameters`` cell; return it ready to run.

    Raises ``SweepError`` listing every problem: a name that is not a notebook parameter (with
    the allowed names), ``results_path`` (the sweep sets it), a value whose type differs from the
    parameter's default (int is fine where a float is expected, bool is not an int), a list item
    of the wrong type. The returned ``Sweep`` has ints for float parameters turned into floats and
    ``defaults`` filled in.
    """
    try:
        known = notebook_parameters(sweep.notebook)
    except Exception as error:  # noqa: BLE001 - a notebook papermill cannot read
        raise SweepError(f"cannot read the parameters of {sweep.notebook}: {error}") from None
    if not known:
        raise SweepError(f"{sweep.notebook} has no cell tagged 'parameters' (or it assigns "
                         "nothing): a sweep can only set the names that cell defines")
    problems, grid, fixed = [], {}, {}
    if RESERVED not in known:
        problems.append(f"the notebook has no {RESERVED!r} parameter: the sweep passes each run's "
                        f"metrics.json path through it{_unparsed_hint(sweep.notebook, RESERVED)}")
    allowed = ", ".join(name for name in known if name != RESERVED)
    for where, given, out in (("grid", sweep.grid, grid), ("fixed", sweep.fixed, fixed)):
        for name, value in given.items():
            if name == RESERVED:
                problems.append(f"{where}: {RESERVED} is set by the sweep (each run's "
                                "metrics.json); remove it")
                continue
            if name in RESULT_COLUMNS:
                problems.append(f"{where}: a parameter named {name!r} would clash with the "
                                "results.csv column of that name")
                continue
            if name not in known:
                problems.append(f"{where}: unknown parameter {name!r}"
                                f"{_did_you_mean(name, known)}; the notebook's parameters are: "
                                f"{allowed}{_unparsed_hint(sweep.notebook, name)}")
                continue
            expected, element, _ = known[name]
            values = value if where == "grid" else [value]
            checked = []
            for item in values:
                ok, item = _check_type(item, expected, element)
                if not ok:
                    problems.append(f"{where}: {name}={item!r} is not allowed: expected "
                                    f"{_describe(expected, element)} like the notebook's default "
                                    f"{known[name][2]!r}{_yaml_hint(item, expected)}")
                checked.append(item)
            out[name] = checked if where == "grid" else checked[0]
    if problems:
        raise SweepError(f"sweep {sweep.name!r} ({sweep.notebook}) cannot run:\n  "
                         + "\n  ".join(problems))
    defaults = {name: default for name, (_, _, default) in known.items()
                if default is not _MISSING and name != RESERVED}
    return replace(sweep, grid=grid, fixed=fixed, defaults=defaults)


def _unparsed_hint(notebook, name):
    """Why papermill may not see a parameter the ``parameters`` cell does assign.

    papermill's parser skips a line with more than one ``=``, so ``epochs = 100  # (>= 1)`` is
    not a parameter for ``inspect_notebook`` (nor for ``papermill --help-notebook``).
    """
    try:
        import nbformat

        cells = nbformat.read(str(notebook), as_version=4).cells
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            for line in cell.source.splitlines():
                if re.match(rf"\s*{re.escape(name)}\s*(:[^=]*)?=", line):
                    return (f" ({name!r} is assigned in the parameters cell, but papermill skips "
                            f"the line {line.strip()!r}: it has more than one '=' (one in its "
                            "comment?); the notebook must drop that '=' for papermill to see it)")
    return ""


def _check_type(value, expected, element):
    """``(ok, value)``, the value converted from int to float where a float is expected."""
    if expected is None:
        return True, value
    if expected is float and type(value) is int:
        return True, float(value)
    if type(value) is not expected:
        return False, value
    if expected is list and element is not None:
        items = []
        for item in value:
            ok, item = _check_type(item, element, None)
            if not ok:
                return False, value
            items.append(item)
        return True, items
    return True, value


def _describe(expected, element):
    if expected is list and element is not None:
        return f"a list of {element.__name__}"
    return {int: "an int", float: "a float (or an int)", str: "a str", bool: "a bool (true/false)",
            list: "a list", dict: "a mapping"}[expected]


def _yaml_hint(value, expected):
    if expected in (int, float) and isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return (" (YAML reads this number as a string: write exponents with a dot and a sign, "
                "e.g. 1.0e-3, or plain decimals)")
    return ""


# ----------------------------------------------------------------------------------------------
# Runs: ids, folders, what is already done
# ----------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class PlannedRun:
    """One grid point: its id, explicit parameters, expected recorded parameters and folder."""

    run_id: str
    parameters: dict  # what the sweep passes (grid + fixed), results_path aside
    expected: dict  # the notebook's defaults overlaid with ``parameters``
    folder: Path

    @property
    def output(self):
        return self.folder / "output.ipynb"

    @property
    def metrics_path(self):
        return self.folder / "metrics.json"


@dataclass
class RunResult:
    """What became of one run: its status and, for an ok run, its metrics.

    ``executed`` is False when a previous invocation's result was reused.
    """

    run_id: str
    parameters: dict
    status: str
    output: str
    error: str = ""
    metrics: dict = field(default_factory=dict)
    executed: bool = False

    def row(self):
        """The results.csv row (parameters first), values still typed."""
        m = self.metrics
        return {**self.parameters, "run_id": self.run_id, "status": self.status,
                "final_loss": m.get("final_loss"), "matrix_error": m.get("matrix_error"),
                "train_seconds": m.get("train_seconds"), "steps": m.get("steps"),
                "error": self.error, "output": self.output}


def plan_runs(sweep, sweep_dir):
    """The ``PlannedRun`` of every grid point of a validated ``sweep``, in grid order."""
    defaults = sweep.defaults or {}
    plans = []
    for point in sweep.points():
        rid = run_id(point, sweep.grid)
        plans.append(PlannedRun(rid, point, {**defaults, **point}, Path(sweep_dir) / rid))
    return plans


def _same(a, b):
    """Equal as JSON values: 1 == 1.0 and lists compare by content, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (isinstance(a, float) and isinstance(b, float)
                          and math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _read_metrics(path):
    """The JSON object in ``path``, or None when it is missing, partial or not an object."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _records(plan, data):
    """Do the metrics ``data`` belong to this run (same parameters)?"""
    recorded = data.get("parameters")
    if not isinstance(recorded, dict):
        return False
    if any(name not in recorded or not _same(recorded[name], value)
           for name, value in plan.parameters.items()):
        return False
    # a notebook default changed since: the old result is not this run's
    return all(_same(recorded[name], value) for name, value in plan.expected.items()
               if name in recorded)


def _result_from_metrics(plan, data, executed):
    status = data.get("status")
    status = status if status in (OK, DIVERGED, FAILED) else FAILED
    error = "" if status == OK else str(data.get("error") or "no error message recorded")
    return RunResult(plan.run_id, plan.parameters, status, str(plan.output), error,
                     data if status == OK else {}, executed)


def finished_result(plan):
    """The ``RunResult`` recorded in the run's metrics.json if it counts as done, else None.

    Done: the file parses, its status is ok or diverged and its parameters are the run's. A
    ``*.tmp`` file (a write cut short) or a truncated file never counts; a failed run never does.
    """
    result = recorded_result(plan)
    return result if result is not None and result.status in DONE else None


def recorded_result(plan):
    """The ``RunResult`` in the run's metrics.json, whatever its status, if it is this run's."""
    data = _read_metrics(plan.metrics_path)
    if data is None or not _records(plan, data):
        return None
    return _result_from_metrics(plan, data, executed=False)


# ----------------------------------------------------------------------------------------------
# Executing one run (in a worker process)
# ----------------------------------------------------------------------------------------------


def execute_run(notebook, folder, parameters, expected=None, kernel_name=KERNEL_NAME, retries=2,
                cwd=None):
    """Execute ``notebook`` once with ``parameters`` into ``folder``; return the run's metrics.

    Runs in a worker process (spawned, or a Dask worker): papermill's ``cwd=`` changes the
    process-wide directory. ``results_path`` is set to ``folder/metrics.json``; the notebook
    writes it last when it finishes. When it does not finish, this function writes that file
    itself: status ``diverged`` (the notebook raised ``DivergedError``) or ``failed``, the error
    (``ename: evalue``), the path of ``output.ipynb`` and ``expected`` as the parameters. A kernel
    that fails to start (or dies) is tried again, up to ``retries`` more times.

    The kernel's own stdout and stderr (start-up warnings, crashes) go to ``folder/kernel.log``.

    Returns the metrics as a dict (also what is in ``metrics.json``) plus ``attempts``.
    """
    import papermill

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    metrics_path, output = folder / "metrics.json", folder / "output.ipynb"
    # a previous attempt's files are never mistaken for this run's
    for stale in [metrics_path, folder / "kernel.log", *folder.glob("*.tmp")]:
        stale.unlink(missing_ok=True)
    cwd = str(cwd or Path(notebook).parent)
    for attempt in range(1, retries + 2):
        try:
            with open(folder / "kernel.log", "ab") as log:
                papermill.execute_notebook(
                    str(notebook), str(output),
                    parameters={**parameters, RESERVED: str(metrics_path.resolve())},
                    kernel_name=kernel_name, progress_bar=False, cwd=cwd,
                    kernel_manager_class=_logging_kernel_manager(log),
                    shutdown_kernel="immediate")  # all outputs are in; metrics.json is synced
        except papermill.PapermillExecutionError as error:
            status = DIVERGED if error.ename == "DivergedError" else FAILED
            return _record_failure(metrics_path, output, expected or parameters, status,
                                   error.ename, error.evalue, attempt)
        except Exception as error:  # noqa: BLE001 - recorded, the other runs go on
            if isinstance(error.__context__, KeyboardInterrupt):
                raise  # Ctrl-C: stop, record nothing (the run is simply not done)
            if kernel_failed_to_start(error) and attempt <= retries:
                time.sleep(0.5 + random.random())  # another kernel may have taken the port
                continue
            return _record_failure(metrics_path, output, expected or parameters, FAILED,
                                   type(error).__name__, str(error) or repr(error), attempt)
        data = _read_metrics(metrics_path)
        if data is None:
            return _record_failure(
                metrics_path, output, expected or parameters, FAILED, "MissingMetrics",
                f"the notebook finished without writing {metrics_path.name} (does it save its "
                "metrics to results_path as its last action?)", attempt)
        return {**data, "attempts": attempt}
    raise AssertionError("unreachable")


def _logging_kernel_manager(log):
    """A kernel manager class whose kernels write their own stdout/stderr to ``log``.

    A kernel inherits the worker's terminal otherwise, and its start-up warnings would be
    printed through the progress bar; in the run's ``kernel.log`` they are kept for debugging.
    """
    from jupyter_client.manager import AsyncKernelManager

    class LoggingKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggingKernelManager


def kernel_failed_to_start(error):
    """True for the errors of a kernel that did not start or died (worth one more try).

    nbclient's ``DeadKernelError``; ``RuntimeError``/``TimeoutError`` about the kernel ("Kernel
    died before replying to kernel_info", "Kernel didn't respond in 60 seconds"); a ZMQ or OS
    error about a port already in use. Never an error raised by the notebook's own code
    (papermill reports those as ``PapermillExecutionError``).
    """
    try:
        from nbclient.exceptions import DeadKernelError
    except ImportError:  # pragma: no cover - nbclient comes with papermill
        DeadKernelError = ()
    if DeadKernelError and isinstance(error, DeadKernelError):
        return True
    text = str(error).lower()
    if "address already in use" in text or "address in use" in text:
        return True
    zmq_error = type(error).__module__.startswith("zmq")
    about_kernel = "kernel" in text
    return about_kernel and (zmq_error or isinstance(error, (RuntimeError, TimeoutError, OSError)))


def _record_failure(metrics_path, output, parameters, status, ename, evalue, attempts):
    data = {"parameters": {k: v for k, v in parameters.items() if k != RESERVED},
            "status": status, "ename": ename, "evalue": evalue,
            "error": f"{ename}: {evalue}", "output": str(output), "attempts": attempts}
    write_json(metrics_path, data)
    return data



# ----------------------------------------------------------------------------------------------
# The sweep
# ----------------------------------------------------------------------------------------------


def run_sweep(sweep, runs_dir, jobs=2, executor=None, retries=2, fail_fast=False, progress=True,
              kernel_name=KERNEL_NAME, log=None):
    """Run every grid point of ``sweep`` not done yet; return a ``RunResult`` per grid point.

    Args:
        sweep: a ``Sweep`` (``load_sweep``); it is validated first, and a ``SweepError`` is
            raised before anything runs (no folder is created) when it is not valid.
        runs_dir: the runs go to ``runs_dir/<sweep.name>/<run id>/``.
        jobs: how many runs at a time (each is one worker process plus one kernel).
        executor: any ``concurrent.futures.Executor`` whose workers can import lab3, e.g.
            ``distributed.Client(address).get_executor(pure=False)`` (give its workers one thread
            each: papermill's ``cwd=`` is process-wide). Default: ``process_pool(jobs)``, shut
            down at the end.
        retries: extra tries for a run whose kernel fails to start.
        fail_fast: after the first run that is not ok, start no new run (the running ones
            finish); the runs never started are reported with status "not run".
        progress: show a tqdm bar over the runs (on stderr).
        kernel_name: the Jupyter kernel every run uses.
        log: where to print the one-line plan (default stderr; ``False``: nowhere).

    Results come back in grid order; ``results.csv`` is (re)written in the sweep's folder, also
    when the sweep stops early.
    """
    require(is_count(jobs), "jobs", jobs, "an integer >= 1")
    require(is_int(retries) and retries >= 0, "retries", retries, "an integer >= 0")
    sweep = validate(sweep)
    sweep_dir = Path(runs_dir).resolve() / sweep.name
    plans = plan_runs(sweep, sweep_dir)
    results = {}
    for plan in plans:
        done = finished_result(plan)
        if done is not None:
            results[plan.run_id] = done
    todo = [plan for plan in plans if plan.run_id not in results]
    if log is not False:
        print(f"sweep {sweep.name}: {len(plans)} runs, {len(plans) - len(todo)} already done, "
              f"{len(todo)} to run ({jobs} at a time) in {sweep_dir}",
              file=log or sys.stderr, flush=True)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    own = executor is None and bool(todo)
    if own:
        executor = process_pool(min(jobs, len(todo)))
    try:
        _drive(executor, todo, results, jobs, retries, fail_fast, progress, kernel_name,
               sweep)
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
        # a run that finished while the sweep was being stopped (Ctrl-C) is on disk already
        ordered = [results.get(plan.run_id) or recorded_result(plan)
                   or RunResult(plan.run_id, plan.parameters, NOT_RUN, str(plan.output))
                   for plan in plans]
        write_results_csv(sweep_dir / "results.csv", ordered, list(sweep.grid) + list(sweep.fixed))
    return ordered


def process_pool(jobs):
    """The default executor: ``jobs`` spawned worker processes (a kernel each, one at a time).

    Spawned, not forked: a forked child inherits the parent's threads and ZMQ state, which
    breaks kernels. papermill's ``cwd=`` changes the working directory of the whole process, so
    each worker process runs one notebook at a time.
    """
    return cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_skip_unused_slow_imports)


def _skip_unused_slow_imports():
    """Keep jsonschema from importing ``rfc3987_syntax`` in the sweep's own processes.

    papermill imports nbformat, which imports jsonschema, which imports the optional
    ``rfc3987_syntax`` whenever it is installed (jupyterlab brings it, with
    ``jsonschema[format-nongpl]``); that module builds a Lark grammar on import, about 2 s of
    CPU in every process. It only serves jsonschema's ``"iri"`` format check, which nbformat
    never makes (it validates without a format checker). Called in the worker processes of
    ``process_pool`` and by ``python -m lab3.sweep``, never on a caller's process.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # its import now raises ImportError


def _drive(executor, todo, results, jobs, retries, fail_fast, progress, kernel_name, sweep):
    """Keep ``jobs`` runs in flight; collect each as it finishes (bounded, so fail-fast stops)."""
    from tqdm import tqdm

    queue = iter(todo)
    in_flight = {}
    stopped = False
    bad = 0
    with tqdm(total=len(todo), desc=f"sweep {sweep.name}", unit="run", disable=not progress,
              file=sys.stderr, dynamic_ncols=True) as bar:
        while True:
            while not stopped and len(in_flight) < jobs:
                plan = next(queue, None)
                if plan is None:
                    break
                future = executor.submit(execute_run, str(sweep.notebook), str(plan.folder),
                                         plan.parameters, plan.expected, kernel_name, retries)
                in_flight[future] = plan
            if not in_flight:
                break
            finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                plan = in_flight.pop(future)
                result = _collect(plan, future)
                results[plan.run_id] = result
                bad += result.status != OK
                bar.set_postfix_str(f"not ok: {bad}" if bad else "", refresh=False)
                bar.update(1)
                if fail_fast and result.status != OK:
                    stopped = True


def _collect(plan, future):
    """The ``RunResult`` of a finished future (a crashed worker counts as a failed run)."""
    try:
        data = future.result()
    except Exception as error:  # noqa: BLE001 - e.g. BrokenProcessPool, a lost Dask worker
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        data = _record_failure(plan.metrics_path, plan.output, plan.expected, FAILED,
                               type(error).__name__, f"the worker running this run failed: "
                               f"{detail}", 1)
    if not plan.metrics_path.exists():  # a cluster whose workers write to another disk
        write_json(plan.metrics_path, {k: v for k, v in data.items() if k != "attempts"})
    return _result_from_metrics(plan, data, executed=True)


# ----------------------------------------------------------------------------------------------
# results.csv
# ----------------------------------------------------------------------------------------------


def write_results_csv(path, results, parameter_names=None):
    """Write ``results`` (``RunResult`` or row dicts) to ``path`` (atomically), one row each.

    Columns: ``parameter_names`` (default: those of the first result, in order), then
    ``RESULT_COLUMNS``. Numbers and lists are written as JSON (``0.1``, ``[3, 3]``), a missing
    value as an empty cell, a string as itself unless it would read back as something else
    (then as JSON, quoted), so that ``load_results`` gives back the same values and types.
    """
    rows = [r.row() if isinstance(r, RunResult) else dict(r) for r in results]
    if parameter_names is None:
        parameter_names = [k for k in (rows[0] if rows else {}) if k not in RESULT_COLUMNS]
    columns = list(parameter_names) + list(RESULT_COLUMNS)

    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(c, row.get(c)) for c in columns})
    path = Path(path)
    if path.exists() and path.read_bytes().decode() == text.getvalue():
        return  # unchanged: keep its time stamp, so make sees nothing new to report
    atomic_write(path, lambda handle: handle.write(text.getvalue()), newline="")


def _cell(column, value):
    if value is None:
        return ""
    if column in ("run_id", "status", "error", "output"):
        return str(value)
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value if value else '""'
        return json.dumps(value)
    return json.dumps(value)


def load_results(sweep_dir):
    """The rows of ``<sweep_dir>/results.csv`` (or of that file given directly) as typed dicts.

    Parameters come back as written (int, float, str, bool, list); ``final_loss``,
    ``matrix_error`` and ``train_seconds`` as floats, ``steps`` as an int (None when the run did
    not finish); ``run_id``, ``status``, ``error`` and ``output`` as strings.
    """
    path = Path(sweep_dir)
    if path.is_dir():
        path = path / "results.csv"
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    typed = []
    for row in rows:
        out = {}
        for column, text in row.items():
            if column in ("run_id", "status", "error", "output"):
                out[column] = text
            elif text == "":
                out[column] = None
            elif column in _FLOAT_COLUMNS:
                out[column] = float(text)
            elif column == "steps":
                out[column] = int(text)
            else:
                try:
                    out[column] = json.loads(text)
                except ValueError:
                    out[column] = text
        typed.append(out)
    return typed


def summarize(results):
    """A few lines for the terminal: counts per status, then every run that is not ok."""
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    executed = sum(r.executed for r in results)
    order = [s for s in (OK, DIVERGED, FAILED, NOT_RUN) if s in counts]
    reused = len(results) - executed - counts.get(NOT_RUN, 0)
    lines = [f"{len(results)} runs ({executed} run now, {reused} reused): "
             + ", ".join(f"{counts[s]} {s}" for s in order)]
    for r in results:
        if r.status in (DIVERGED, FAILED):
            lines.append(f"  {r.status:8} {r.run_id}: {r.error}\n           see {r.output}")
    not_run = counts.get(NOT_RUN, 0)
    if not_run:
        lines.append(f"  {not_run} runs not started (--fail-fast); run the sweep again to do them")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------


def write_report(sweep_dir, notebook=REPORT_NOTEBOOK, kernel_name=KERNEL_NAME):
    """Execute the report notebook on a sweep: ``<sweep_dir>/report.ipynb`` and ``report.html``.

    Papermill runs ``notebook`` with ``sweep_dir`` as its parameter; nbconvert turns the result
    into HTML. Nothing is done when ``report.html`` is newer than ``results.csv`` and the
    notebook (a rerun sweep that ran nothing leaves ``results.csv`` untouched). Returns the
    HTML's path.
    """
    import nbconvert
    import papermill

    sweep_dir = Path(sweep_dir).resolve()
    html = sweep_dir / "report.html"
    sources = [sweep_dir / "results.csv", Path(notebook)]
    if html.exists() and all(html.stat().st_mtime >= p.stat().st_mtime for p in sources):
        return html
    executed = papermill.execute_notebook(
        str(notebook), str(sweep_dir / "report.ipynb"), parameters={"sweep_dir": str(sweep_dir)},
        kernel_name=kernel_name, progress_bar=False, cwd=str(Path(notebook).parent))
    body, _ = nbconvert.HTMLExporter().from_notebook_node(executed)
    atomic_write(html, lambda handle: handle.write(body))
    return html


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def _dask_executor(address):
    """``(client, executor)`` for the Dask scheduler at ``address``."""
    try:
        import distributed
    except ImportError:
        raise SweepError("--scheduler needs Dask's distributed package: pip install -e .[cluster]"
                         ) from None
    try:
        client = distributed.Client(address, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise SweepError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    return client, client.get_executor(pure=False)


def _count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not >= 1")
    return value


def main(argv=None):
    """The command line; returns the exit status (0 all ok, 1 some run not ok, 2 bad sweep)."""
    parser = argparse.ArgumentParser(
        prog="python -m lab3.sweep",
        description="Run a training notebook over a grid of hyperparameters with papermill. "
                    "Runs go to $RUNS_DIR/<sweep name>/<run id>/ (default runs/); finished runs "
                    "are not run again.")
    parser.add_argument("file", help="sweep YAML file (keys: name, notebook, grid, fixed)")
    parser.add_argument("--jobs", type=_positive, default=None, metavar="N",
                        help="runs at a time (default 2; with --scheduler, the cluster's threads)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (pip install -e "
                             ".[cluster]); its workers must see the runs folder at the same path "
                             "and should have one thread each")
    parser.add_argument("--retries", type=_count, default=2, metavar="K",
                        help="extra tries for a kernel that fails to start (default 2)")
    parser.add_argument("--fail-fast", action="store_true",
                        help="start no new run after the first one that is not ok")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--report", action="store_true",
                        help="then execute notebooks/06_sweep_report.ipynb on the results into "
                             "<sweep>/report.ipynb and report.html")
    args = parser.parse_args(argv)
    runs_dir = os.environ.get("RUNS_DIR") or "runs"
    client = executor = None
    try:
        sweep = validate(load_sweep(args.file))
        jobs = args.jobs or 2
        if args.scheduler:
            client, executor = _dask_executor(args.scheduler)
            jobs = args.jobs or max(1, sum(client.nthreads().values()))
        results = run_sweep(sweep, runs_dir, jobs=jobs, executor=executor, retries=args.retries,
                            fail_fast=args.fail_fast, progress=not args.no_progress)
    except SweepError as error:
        print(f"lab3.sweep: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nlab3.sweep: interrupted; finished runs are kept, run the same command again to "
              "do the rest", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    print(summarize(results))
    sweep_dir = Path(runs_dir).resolve() / sweep.name
    print(f"results: {sweep_dir / 'results.csv'}")
    if args.report:
        print(f"report: {write_report(sweep_dir)}")
    return 0 if all(r.status == OK for r in results) else 1


if __name__ == "__main__":
    # Run through the imported module, so that the worker processes (spawned, or on a Dask
    # cluster) find ``execute_run`` as ``lab3.sweep.execute_run`` rather than in ``__main__``.
    from lab3.sweep import _skip_unused_slow_imports, main as _main

    _skip_unused_slow_imports()
    sys.exit(_main())
