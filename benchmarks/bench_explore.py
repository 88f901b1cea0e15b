"""Lesson 07's explorer: from a slider's release to the new picture (retrain + redraw).

Moves one control at a time, as a student does, starting from the lab's default (single-sample,
hidden [3], 10 epochs, 1000 samples, learning rate 0.1), and times what the explorer's worker
does for each new position: ``lab3.explore.outcome_of`` (train with ``engine="manual"``), then
``Figure.update`` and ``Figure.png`` (the PNG the browser gets), all in this one process on one
compute thread. The first picture (imports, the first full draw) is timed apart: it happens once,
when the lesson's cell runs. The goal: a median of at most 250 ms.

    .venv/bin/python benchmarks/bench_explore.py   # prints, last: median retrain+redraw: N ms
"""

import statistics
import time

import lab3
from lab3 import explore
from lab3.explore.figure import Figure

# Slider positions, each a change from the previous one (the slider's own steps).
POSITIONS = [
    *({"learning_rate": 10**e} for e in (-0.75, -0.5, -1.25, -1.5, -1.0, -0.25, 0.0, -1.0)),
    *({"batch_size": b} for b in (2, 5, 10, 1)),
    {"epochs": 5},
    {"epochs": 20},
    {"epochs": 10},
    {"hidden_sizes": (4,)},
    {"hidden_sizes": (2,)},
    {"hidden_sizes": (3,)},
    {"init": "he"},
    {"init_scale": 10**0.25},
    {"init_scale": 1.0},
    {"init": "lab"},
    {"angle": 75.0},
    {"angle": 90.0},
    {"transform": "shear"},
    {"transform": "rotation"},
    {"reg": 0.01},
    {"reg": 0.001},
    {"shuffle": True},
    {"shuffle": False},
    {"seed": 1},
    {"seed": 0},
    {"learning_rate": 10**1.25},
    {"learning_rate": 0.1},
]


def measure(positions=POSITIONS, base=None):
    """``(first, [(changes, seconds), ...])``: the first picture, then each position in turn.

    Each time is ``explore.outcome_of`` + ``Figure.update`` + ``Figure.png`` for one position, as
    the explorer's worker does it.
    """
    settings = base or explore.Controls()
    figure = Figure(status_line=False)  # as the explorer makes it: its status line is HTML

    def retrain_and_redraw(s):
        start = time.perf_counter()
        figure.update(explore.outcome_of(s))
        figure.png()
        return time.perf_counter() - start

    first = retrain_and_redraw(settings)
    times = []
    for changes in positions:
        settings = settings.replace(**changes)
        times.append((changes, retrain_and_redraw(settings)))
    return first, times


def main():
    lab3.make_reproducible(threads=1)
    first, times = measure()
    print(f"first picture (imports, full draw): {1000 * first:.0f} ms")
    for changes, seconds in times:
        ((name, value),) = changes.items()
        shown = f"{value:.3g}" if isinstance(value, float) else value
        print(f"  {name:>13} -> {shown!s:<8} {1000 * seconds:6.0f} ms")
    values = sorted(seconds for _, seconds in times)
    print(
        f"{len(values)} positions: fastest {1000 * values[0]:.0f} ms, slowest "
        f"{1000 * values[-1]:.0f} ms, 90th percentile "
        f"{1000 * values[int(0.9 * (len(values) - 1))]:.0f} ms"
    )
    print(f"median retrain+redraw: {1000 * statistics.median(values):.0f} ms")


if __name__ == "__main__":
    main()
