"""Time the default sweep against its floor, measured in the same run.

Usage::

    .venv/bin/python benchmarks/bench_sweep.py [--jobs N] [--sweep FILE] [--notebook PATH]

Every run of a sweep starts a fresh ``lab3`` kernel and imports the project (torch included)
before it trains; no sweep of independent kernels can beat that. The floor is therefore

    floor = (median time to papermill-execute a notebook that only does
             ``import lab3.experiment``, what every training run must import: torch)
            * number of runs / jobs

(median of ``--repeats`` executions, one at a time, before the sweep). The sweep itself runs with
``lab3.sweep.run_sweep`` into a temporary runs directory, nothing reused, and its wall time is
compared with the floor (the last line prints ``wall/floor = X.XX``): the excess is what the sweep
machinery (worker processes, papermill, writing notebooks) and the training itself add. Goal: at
most 1.3.

``--notebook`` runs the sweep's grid against another notebook that follows the same parameters
contract (e.g. ``tests/data/sweep_fixture.ipynb``).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from lab3 import sweep as lab3_sweep  # noqa: E402
from lab3.sweep.execute import logging_kernel_manager  # noqa: E402

# papermill and nbformat are imported in the functions: the sweep's spawned worker processes
# re-run this file's top level, and should not pay for imports they do not use.


def import_time(folder, repeats, kernel_name):
    """Median seconds to papermill-execute a one-cell ``import lab3.experiment`` notebook."""
    import nbformat
    import papermill

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": kernel_name,
        "display_name": kernel_name,
        "language": "python",
    }
    # lab3 is lazy: a training run needs lab3.experiment, which imports torch
    notebook.cells = [nbformat.v4.new_code_cell("import lab3.experiment")]
    path = Path(folder) / "import_lab3.ipynb"
    nbformat.write(notebook, path)
    times = []
    with open(os.devnull, "wb") as log:
        for _ in range(repeats):
            start = time.perf_counter()
            papermill.execute_notebook(
                str(path),
                str(Path(folder) / "import_lab3.out.ipynb"),
                kernel_name=kernel_name,
                progress_bar=False,
                cwd=str(ROOT / "notebooks"),
                kernel_manager_class=logging_kernel_manager(log),
            )
            times.append(time.perf_counter() - start)
    return statistics.median(times), times


def run_durations(results):
    """Seconds papermill recorded for each executed run (``metadata.papermill.duration``)."""
    import nbformat

    durations = []
    for result in results:
        try:
            notebook = nbformat.read(result.output, as_version=4)
        except (OSError, ValueError):
            continue
        duration = notebook.metadata.get("papermill", {}).get("duration")
        if duration:
            durations.append(float(duration))
    return durations


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument(
        "--sweep",
        default=str(ROOT / "sweeps" / "default.yaml"),
        help="sweep file (default sweeps/default.yaml)",
    )
    parser.add_argument("--notebook", help="run the sweep's grid on this notebook instead")
    parser.add_argument(
        "--repeats", type=int, default=3, help="executions of the import-only notebook (default 3)"
    )
    args = parser.parse_args(argv)

    sweep = lab3_sweep.load_sweep(args.sweep)
    if args.notebook:
        sweep = replace(sweep, notebook=Path(args.notebook).resolve())
    sweep = lab3_sweep.validate(sweep)
    n_runs = sweep.size
    print(
        f"sweep {sweep.name!r}: {n_runs} runs of {os.path.relpath(sweep.notebook, ROOT)}, "
        f"--jobs {args.jobs}, {os.cpu_count()} CPUs",
        flush=True,
    )

    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        one, times = import_time(tmp, args.repeats, lab3_sweep.KERNEL_NAME)
        print(
            "kernel start + import lab3.experiment: "
            + ", ".join(f"{t:.2f}" for t in times)
            + f" s (median {one:.2f} s)",
            flush=True,
        )
        start = time.perf_counter()
        results = lab3_sweep.run_sweep(sweep, Path(tmp) / "runs", jobs=args.jobs)
        wall = time.perf_counter() - start
        durations = run_durations(results)

    floor = one * n_runs / args.jobs
    ratio = wall / floor
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    trained = sum(r.metrics.get("train_seconds") or 0.0 for r in results)
    print()
    print(
        f"{'runs':>6} {'jobs':>5} {'wall s':>8} {'floor s':>8} {'wall/floor':>11} "
        f"{'train s':>8}  statuses"
    )
    print(
        f"{n_runs:>6} {args.jobs:>5} {wall:>8.1f} {floor:>8.1f} {ratio:>11.2f} {trained:>8.1f}  "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    )
    print(
        f"floor = {one:.2f} s (kernel start + import lab3.experiment) x {n_runs} runs / "
        f"{args.jobs} jobs; "
        f"goal wall/floor <= 1.3 ({'met' if ratio <= 1.3 else 'NOT met'}); "
        "train s = the runs' training time, summed"
    )
    if durations:
        mean = statistics.mean(durations)
        busy = sum(durations) / args.jobs
        print(
            f"where the time goes: a run takes {mean:.2f} s on average (papermill's own timing: "
            f"kernel start, every cell, shutdown), {mean / one:.2f} x the import-only notebook; "
            f"the runs back to back on {args.jobs} jobs make {busy:.1f} s, so the sweep's own "
            f"machinery (worker processes, scheduling, result files) adds {wall / busy:.2f} x"
        )
    print(f"wall/floor = {ratio:.2f}")
    return 1 if counts.get(lab3_sweep.FAILED) else 0


if __name__ == "__main__":
    sys.exit(main())
