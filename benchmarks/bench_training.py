"""Time the lab's own training loops against ``lab3.train``'s two engines, side by side.

Usage::

    .venv/bin/python benchmarks/bench_training.py [--repeats N]

Two experiments, the lab's settings (1000 samples, hidden [3], learning rate 0.1, reg 0.001):

* single-sample SGD, 10 epochs (10 000 steps);
* mini-batch SGD, batch 100, 100 epochs (1 000 steps).

Each is run by (a) the lab's loop (``lab3.training.original_lab``: the lab's algorithm step for
step, its "did it learn" second forward pass included, its progress prints left out); (b)
``lab3.train(engine="autograd")``; (c) ``lab3.train(engine="manual")``. All three start from the
same initial weights (``MultiLayerPerceptron(seed=0)``) on one compute thread. The table shows the
median wall time over ``--repeats`` runs, the speed-up over the lab's loop, and the largest
difference of the final parameters from the lab's (the engines compute the same thing).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

import lab3  # noqa: E402
from lab3.mlp import MultiLayerPerceptron  # noqa: E402
from lab3.training.loop import train  # noqa: E402
from lab3.training.original_lab import lab_batched, lab_single_sample  # noqa: E402

# ----------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------


def timed(run, repeats):
    """``(median seconds, final parameters of the last run)`` of ``run()`` over ``repeats`` runs."""
    seconds, params = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        params = run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), params


def lab3_run(inputs, targets, engine, **settings):
    """A closure that trains a fresh seed-0 model with ``lab3.train`` and returns its parameters."""

    def run():
        model = MultiLayerPerceptron(seed=0)
        train(model, inputs, targets, engine=engine, **settings)
        return model.parameters()

    return run


def largest_difference(params, reference):
    return max((p - r).abs().max().item() for p, r in zip(params, reference))


def experiment(name, lab_loop, settings, inputs, targets, repeats):
    """Time the three ways of running one experiment; return the table's rows."""
    lab_seconds, lab_params = timed(
        lambda: lab_loop(inputs, targets, MultiLayerPerceptron(seed=0)), repeats
    )
    rows = [(name, "lab's loop (autograd)", lab_seconds, 1.0, 0.0)]
    for engine in ("autograd", "manual"):
        seconds, params = timed(lab3_run(inputs, targets, engine, **settings), repeats)
        rows.append(
            (
                "",
                f'train(engine="{engine}")',
                seconds,
                lab_seconds / seconds,
                largest_difference(params, lab_params),
            )
        )
    return rows


def print_table(rows, repeats):
    print(f"median of {repeats} run(s), 1 thread, torch {torch.__version__}")
    header = f"{'experiment':<26} {'how':<26} {'seconds':>9} {'speed-up':>9} {'max |dp|':>9}"
    print(header)
    print("-" * len(header))
    for name, how, seconds, speedup, diff in rows:
        print(f"{name:<26} {how:<26} {seconds:>9.3f} {speedup:>8.1f}x {diff:>9.1e}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (median)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats={args.repeats} is not allowed: an integer >= 1")
    torch.set_num_threads(1)
    inputs, targets = lab3.create_linear_training_data(n_samples=1000)
    common = dict(learning_rate=0.1, reg=0.001)
    rows = experiment(
        "single-sample, 10 epochs",
        lab_single_sample,
        dict(epochs=10, batch_size=1, **common),
        inputs,
        targets,
        args.repeats,
    )
    rows += experiment(
        "batch 100, 100 epochs",
        lab_batched,
        dict(epochs=100, batch_size=100, **common),
        inputs,
        targets,
        args.repeats,
    )
    print_table(rows, args.repeats)


if __name__ == "__main__":
    main()
