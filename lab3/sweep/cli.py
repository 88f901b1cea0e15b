"""The command line: ``python -m lab3.sweep FILE [options]``.

Exit status: 0 every run ok or diverged (a diverged run is a result: the sweep explored a step
too large), 1 some run failed, timed out or was not run (or the sweep was stopped), 2 the sweep
cannot run (a bad file, option or runs folder: one line on stderr, never a traceback), 130
interrupted.
SIGTERM is handled like Ctrl-C: the finished runs are kept and the results are written.
"""

import argparse
import os
import signal
import sys
from pathlib import Path

from lab3.sweep.cluster import WORKER_WAIT, close_client, dask_executor
from lab3.sweep.drive import ExecutorLost, run_sweep
from lab3.sweep.execute import DEFAULT_TIMEOUT
from lab3.sweep.records import DONE
from lab3.sweep.results import summarize
from lab3.sweep.spec import MAX_RUNS, SweepError, load_sweep
from lab3.sweep.validate import validate


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


def _seconds(text):
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds > 0")
    return value


def parser():
    p = argparse.ArgumentParser(
        prog="python -m lab3.sweep",
        description="Run a training notebook over a grid of hyperparameters with papermill. "
        "Runs go to $RUNS_DIR/<sweep name>/<run id>/ (default runs/); finished runs "
        "are not run again.",
    )
    p.add_argument("file", help="sweep YAML file (keys: name, notebook, grid, fixed)")
    p.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="runs at a time (default 2; with --scheduler, the cluster's threads)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (pip install -e "
        ".[cluster]); its workers must see the runs folder at the same path and "
        "should have one thread each",
    )
    p.add_argument(
        "--worker-wait",
        type=_seconds,
        default=WORKER_WAIT,
        metavar="SECONDS",
        help=f"with --scheduler: give up after this long without any worker, keeping "
        f"the finished runs (default {WORKER_WAIT:g}); the sweep says it waits",
    )
    p.add_argument(
        "--retries",
        type=_count,
        default=2,
        metavar="K",
        help="extra tries for a kernel that fails to start (default 2)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop a run after this long and record it as timeout (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument(
        "--max-runs",
        type=_positive,
        default=MAX_RUNS,
        metavar="N",
        help=f"refuse a grid of more runs than this (default {MAX_RUNS})",
    )
    p.add_argument(
        "--fail-fast",
        action="store_true",
        help="start no new run after the first one that is not ok",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--report",
        action="store_true",
        help="then execute notebooks/06_sweep_report.ipynb on the results into "
        "<sweep>/report.ipynb and report.html",
    )
    return p


def main(argv=None):
    """The command line; returns the exit status (see the module's docstring)."""
    args = parser().parse_args(argv)
    runs_dir = os.environ.get("RUNS_DIR") or "runs"
    previous = _terminate_like_ctrl_c()
    client, started = None, False
    try:
        sweep = load_sweep(args.file, max_runs=args.max_runs)
        jobs, executor, health = args.jobs or 2, None, None
        if args.scheduler:  # before validating, which imports torch: a wrong address fails fast
            client, executor, health = dask_executor(args.scheduler, args.worker_wait)
            jobs = args.jobs or max(1, sum(client.nthreads().values()))
        sweep = validate(sweep)
        started = True  # run_sweep writes the results however it ends
        records = run_sweep(
            sweep,
            runs_dir,
            jobs=jobs,
            executor=executor,
            retries=args.retries,
            fail_fast=args.fail_fast,
            progress=not args.no_progress,
            timeout=args.timeout,
            health=health,
        )
    except SweepError as error:
        return _fail(error)
    except OSError as error:  # an unwritable, full or read-only runs folder
        where = f" ({error.filename})" if error.filename else ""
        return _fail(f"{error.strerror}{where}" if error.strerror else error)
    except ExecutorLost as error:
        print(
            f"lab3.sweep: {error}; the finished runs are kept and the rest are recorded as "
            f"'not run' in {Path(runs_dir).resolve() / sweep.name / 'results.csv'}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        results = Path(runs_dir).resolve() / sweep.name / "results.csv" if started else None
        done = (
            f"finished runs are kept ({results} written)"
            if results and results.exists()
            else "no run had started and nothing was written"
        )
        print(
            f"\nlab3.sweep: interrupted; {done}; run the same command again to do the rest",
            file=sys.stderr,
        )
        return 130
    finally:
        if client is not None:
            close_client(client)
        signal.signal(signal.SIGTERM, previous)
    print(summarize(records))
    sweep_dir = Path(runs_dir).resolve() / sweep.name
    print(f"results: {sweep_dir / 'results.csv'} (whole records: results.jsonl)")
    if args.report:
        from lab3.sweep.report import write_report

        print(f"report: {write_report(sweep_dir)}")
    return 0 if all(r.status in DONE for r in records) else 1


def _fail(message):
    text = " ".join(str(message).split()) if "\n" not in str(message) else str(message)
    print(f"lab3.sweep: {text}", file=sys.stderr)
    return 2


def _terminate_like_ctrl_c():
    """SIGTERM raises KeyboardInterrupt in the main thread; returns the previous handler."""
    try:
        return signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread: leave signals alone
        return signal.getsignal(signal.SIGTERM)
