"""lab3.figures.curves.plot_lr_steps: final loss against learning_rate x steps, by batch size."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lab3.figures.curves import plot_lr_steps

RECORDS = [
    {"learning_rate": lr, "steps": steps, "batch_size": b, "final_loss": loss}
    for b, steps, losses in [(1, 10000, [5e-3, 1e-4, None]), (10, 1000, [5e-3, 1e-3, 2e-4])]
    for lr, loss in zip([0.003, 0.03, 0.3], losses)
]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def drawn_points(ax):
    """(x, y) of every marker drawn in data coordinates (the finite losses)."""
    return sorted(
        (float(x), float(y))
        for line in ax.get_lines()
        if line.get_transform() == ax.transData
        for x, y in line.get_xydata()
    )


def test_points_are_placed_at_lr_times_steps_with_one_legend_entry_per_batch_size():
    fig = plot_lr_steps(RECORDS)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "learning_rate x steps" in ax.get_xlabel() and "mse" in ax.get_ylabel()
    finite = [r for r in RECORDS if r["final_loss"] is not None]
    expected = sorted((r["learning_rate"] * r["steps"], r["final_loss"]) for r in finite)
    assert np.allclose(drawn_points(ax), expected)
    texts = legend_texts(ax)
    assert texts[:2] == ["batch size 1", "batch size 10"]
    assert "no final loss (diverged or failed): 1" in texts


@pytest.mark.parametrize("missing", [None, float("nan"), "absent", float("inf")])
def test_a_run_without_a_final_loss_is_marked_not_drawn_as_a_point(missing):
    diverged = {"learning_rate": 2.0, "steps": 10000, "batch_size": 1, "final_loss": missing}
    if missing == "absent":
        del diverged["final_loss"]
    ok = {"learning_rate": 0.1, "steps": 10000, "batch_size": 1, "final_loss": 1e-3}
    ax = plot_lr_steps([ok, diverged]).axes[0]
    assert drawn_points(ax) == [(1000.0, 1e-3)]
    marks = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == 20000.0
    assert "no final loss (diverged or failed): 1" in legend_texts(ax)


def test_a_diverged_sweep_row_without_steps_is_placed_at_its_planned_steps():
    row = {
        "learning_rate": 10.0,
        "steps": None,
        "batch_size": 100,
        "epochs": 10,
        "final_loss": None,
    }
    ax = plot_lr_steps([row]).axes[0]  # only a diverged run: still a figure, no crash
    marks = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert marks[0].get_xdata()[0] == pytest.approx(10.0 * 10 * math.ceil(1000 / 100))


def test_unplaceable_records_are_counted_in_the_legend_and_it_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    out = plot_lr_steps(
        RECORDS + [{"learning_rate": 0.1, "batch_size": 1, "final_loss": 1e-3}], ax=right
    )
    assert out is fig and right.get_legend() is not None and left.get_legend() is None
    assert "not drawn (no learning rate, batch size or steps): 1" in legend_texts(right)


def test_no_records_is_refused_by_name():
    with pytest.raises(ValueError, match=r"records=\[\] is not allowed: at least one run"):
        plot_lr_steps([])
