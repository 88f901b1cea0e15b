"""Driving the pool: keep ``jobs`` runs in flight, collect each as it ends, stop cleanly.

``run_sweep`` is the Python API behind ``python -m lab3.sweep``. It plans the runs, reuses what a
previous invocation finished, submits the rest to an executor (spawned processes, or a Dask
cluster), and always writes ``results.jsonl`` and ``results.csv`` at the end: also after Ctrl-C,
SIGTERM, ``--fail-fast`` or a lost Dask scheduler, with the runs that did not finish recorded as
``not run``; runs still executing on a cluster's workers then are waited for briefly, so that the
results agree with their ``metrics.json``.
"""

import concurrent.futures as cf
import multiprocessing
import sys
import time
import traceback
from collections import deque
from pathlib import Path

from lab3.sweep.execute import (
    BUSY,
    DEFAULT_TIMEOUT,
    KERNEL_NAME,
    execute_run,
    record_failure,
    run_in_progress,
    worker_setup,
)
from lab3.sweep.plan import claim_folder, finished_result, plan_runs, recorded_result
from lab3.sweep.records import FAILED, OK, failure_data, make_record, not_run
from lab3.sweep.results import write_results
from lab3.sweep.validate import validate
from lab3.validation import is_count, is_int, require

POLL_SECONDS = 1.0  # how often a waiting sweep asks whether its executor is still alive
# A stopped sweep waits this long for runs still executing on Dask workers (which go on without
# their scheduler), so that results.csv records them as they end; a default run takes ~5 s.
LATE_RUNS_SECONDS, LATE_RUNS_POLL = 15.0, 0.2


class ExecutorLost(RuntimeError):
    """The executor can run nothing more (e.g. the Dask scheduler is gone)."""


def run_sweep(
    sweep,
    runs_dir,
    jobs=2,
    executor=None,
    retries=2,
    fail_fast=False,
    progress=True,
    kernel_name=KERNEL_NAME,
    log=None,
    timeout=DEFAULT_TIMEOUT,
    health=None,
):
    """Run every grid point of ``sweep`` not done yet; return a ``RunRecord`` per grid point.

    Args:
        sweep: a ``Sweep`` (``load_sweep``); validated here unless it already is, and a
            ``SweepError`` is raised before anything runs (no folder is made) when it is not valid.
        runs_dir: the runs go to ``runs_dir/<sweep.name>/<run id>/``.
        jobs: how many runs at a time (each is one worker process plus one kernel).
        executor: any ``concurrent.futures.Executor`` whose workers can import lab3, e.g.
            ``distributed.Client(address).get_executor(pure=False)`` (one thread per worker:
            papermill's ``cwd=`` is process-wide). Default: ``process_pool(jobs)``.
        retries: extra tries for a run whose kernel fails to start.
        fail_fast: after the first run that is not ok, start no new run.
        progress: a tqdm bar over the runs (on stderr).
        kernel_name: the Jupyter kernel every run uses.
        log: where to print the one-line plan (default stderr; ``False``: nowhere).
        timeout: seconds a run may take; past it, it is stopped and recorded as ``timeout``.
        health: a callable returning None while the executor works, else why it cannot
            (``ExecutorLost`` is raised with that message, after the results are written).

    Raises ``OSError`` when the runs folder cannot be written, ``SweepError`` when it holds the
    runs of another sweep file with the same name (nothing has run then).
    """
    require(is_count(jobs), "jobs", jobs, "an integer >= 1")
    require(is_int(retries) and retries >= 0, "retries", retries, "an integer >= 0")
    require(
        isinstance(timeout, (int, float)) and timeout > 0,
        "timeout",
        timeout,
        "a number of seconds > 0",
    )
    sweep = validate(sweep)
    sweep_dir = Path(runs_dir).resolve() / sweep.name
    plans = plan_runs(sweep, sweep_dir)
    records = {plan.run_id: done for plan in plans if (done := finished_result(plan))}
    todo = [plan for plan in plans if plan.run_id not in records]
    validate_writable(sweep_dir)
    claim_folder(sweep_dir, sweep)
    if log is not False:
        print(
            f"sweep {sweep.name}: {len(plans)} runs, {len(plans) - len(todo)} already done, "
            f"{len(todo)} to run ({jobs} at a time) in {sweep_dir}",
            file=log or sys.stderr,
            flush=True,
        )
    own = executor is None and bool(todo)
    if own:
        executor = process_pool(min(jobs, len(todo)))
    stop_reason, finished = "stopped before this run finished", False
    try:
        stopped = _drive(
            executor,
            todo,
            records,
            jobs,
            fail_fast,
            progress,
            sweep,
            dict(kernel_name=kernel_name, retries=retries, timeout=timeout),
            health,
        )
        finished = True
        if stopped:
            stop_reason = "not started: --fail-fast stopped the sweep after a run that was not ok"
    except ExecutorLost as error:
        stop_reason = str(error)
        raise
    except KeyboardInterrupt:
        stop_reason = "interrupted (Ctrl-C or SIGTERM) before this run finished"
        raise
    finally:
        if own:  # stopped early: end the workers now, their kernels follow
            _stop_pool(executor, wait=finished)

        def summary(executing=()):  # a run that finished while stopping is on disk already
            ordered = [
                records.get(plan.run_id)
                or recorded_result(plan)
                or not_run(plan, _why_not_run(plan, executing, stop_reason))
                for plan in plans
            ]
            write_results(sweep_dir, ordered, list(sweep.grid) + list(sweep.fixed))
            return ordered

        ordered = summary()
        if not finished and not own:  # our own workers were ended; a cluster's go on
            late = [plan for plan in todo if plan.run_id not in records]
            ordered = _record_late_runs(late, summary, log) or ordered
    return ordered


def _why_not_run(plan, executing, stop_reason):
    if plan.run_id in executing:
        return f"still executing on a worker when the sweep stopped ({stop_reason})"
    return stop_reason


def _record_late_runs(late, summary, log):
    """Wait up to ``LATE_RUNS_SECONDS`` for runs still executing elsewhere, rewriting the results
    as each finishes; return the last summary (None when no run was executing).

    A Dask worker goes on with its run after the sweep lost its scheduler or was interrupted,
    and writes its metrics.json minutes later: results.csv would then say "not run" for an ok
    run. A run holds its lock while it executes, so the sweep knows which ones to wait for.
    A second Ctrl-C stops the wait; the runs still executing are recorded as not run (the next
    invocation records them as they are by then).
    """
    executing = {plan.run_id: plan for plan in late if run_in_progress(plan.folder)}
    if not executing:
        return None
    say = (
        (lambda text: None)
        if log is False
        else (lambda text: print(f"lab3.sweep: {text}", file=log or sys.stderr, flush=True))
    )
    say(
        f"waiting up to {LATE_RUNS_SECONDS:g} s for {len(executing)} run(s) still executing on "
        "a worker (Ctrl-C stops waiting); results.csv is rewritten as they finish"
    )
    deadline = time.monotonic() + LATE_RUNS_SECONDS
    try:
        while executing and time.monotonic() < deadline:
            time.sleep(LATE_RUNS_POLL)
            finished = [rid for rid, plan in executing.items() if not run_in_progress(plan.folder)]
            for rid in finished:
                del executing[rid]
            if finished:
                summary(executing)
    except KeyboardInterrupt:
        pass
    if executing:
        say(
            f"{len(executing)} run(s) still executing, recorded as 'not run'; run the sweep "
            "again to record them"
        )
    return summary(executing)


def validate_writable(sweep_dir):
    """Make ``sweep_dir`` and write a file there, or raise ``OSError`` saying which folder."""
    sweep_dir = Path(sweep_dir)
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        probe = sweep_dir / ".write-test.tmp"
        with open(probe, "w") as handle:
            handle.write("lab3")
            handle.flush()
        probe.unlink()
    except OSError as error:
        raise OSError(
            error.errno, f"cannot write in the runs folder {sweep_dir}: {error.strerror or error}"
        ) from None


def process_pool(jobs):
    """The default executor: ``jobs`` spawned worker processes (a kernel each, one at a time).

    Spawned, not forked: a forked child inherits the parent's threads and ZMQ state, which
    breaks kernels. papermill's ``cwd=`` changes the working directory of the whole process, so
    each worker runs one notebook at a time. Workers exit when the sweep dies (``worker_setup``).
    """
    return cf.ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=worker_setup
    )


def _stop_pool(executor, wait):
    """Shut the pool down; when stopping early, end the workers (their kernels follow)."""
    if not wait:
        for process in list(getattr(executor, "_processes", {}).values()):
            process.terminate()
    executor.shutdown(wait=wait, cancel_futures=True)


def _drive(executor, todo, records, jobs, fail_fast, progress, sweep, options, health):
    """Keep ``jobs`` runs in flight; collect each as it finishes (bounded, so fail-fast stops).

    A run whose lock another sweep holds comes back ``busy``: it goes to the end of the queue
    and is then waited for (the other sweep's result is reused, not run again).
    """
    from tqdm import tqdm

    queue = deque((plan, False) for plan in todo)
    in_flight = {}
    stopped = False
    bad = 0
    with tqdm(
        total=len(todo),
        desc=f"sweep {sweep.name}",
        unit="run",
        disable=not (progress and todo),
        file=sys.stderr,
        dynamic_ncols=True,
    ) as bar:
        while True:
            while not stopped and queue and len(in_flight) < jobs:
                plan, wait = queue.popleft()
                future = executor.submit(
                    execute_run, plan, str(sweep.notebook), wait=wait, **options
                )
                in_flight[future] = plan
            if not in_flight:
                break
            finished, _ = cf.wait(in_flight, timeout=POLL_SECONDS, return_when=cf.FIRST_COMPLETED)
            if not finished and health is not None and (problem := health()):
                raise ExecutorLost(problem)
            for future in finished:
                plan = in_flight.pop(future)
                if future.cancelled() and health is not None and (problem := health()):
                    raise ExecutorLost(problem)  # a lost scheduler cancels what it ran
                data = _outcome(plan, future)
                if data.get("status") == BUSY:
                    queue.append((plan, True))
                    continue
                record = make_record(plan, data, executed=not data.get("reused"))
                records[plan.run_id] = record
                bad += record.status != OK
                bar.set_postfix_str(f"not ok: {bad}" if bad else "", refresh=False)
                bar.update(1)
                if fail_fast and record.status != OK:
                    stopped = True
    return stopped


def _outcome(plan, future):
    """The metrics dict of a finished future (a crashed worker counts as a failed run)."""
    from lab3.files import write_json

    try:
        data = future.result()
    except Exception as error:  # noqa: BLE001 - e.g. BrokenProcessPool, a lost Dask worker
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        data = failure_data(
            plan.expected,
            FAILED,
            type(error).__name__,
            f"the worker running this run failed: {detail}",
            plan.output,
            1,
        )
        plan.folder.mkdir(exist_ok=True)
        record_failure(plan.metrics_path, data)
        return data
    if data.get("status") != BUSY and not plan.metrics_path.exists():
        plan.folder.mkdir(exist_ok=True)  # a cluster whose workers write to another disk
        write_json(plan.metrics_path, data)
    return data
