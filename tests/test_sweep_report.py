"""The sweep report: its figures on awkward records (no kernel), the shipped example records,
and report.html built offline (one kernel, slow)."""

import json
import math
import os
import re
import stat
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from lab3.sweep import (
    EXAMPLE_RECORDS,
    LEARNED_BELOW,
    figures,
    load_records,
    sweep_folder,
    write_report,
)

plt.switch_backend("Agg")

SWEPT = ["reg", "learning_rate", "batch_size"]


def record(status="ok", **values):
    base = {
        "status": status,
        "swept": SWEPT,
        "run_id": "r",
        "error": "" if status == "ok" else f"{status}: something",
        "output": "o",
        "epochs": 5,
    }
    if status == "ok":
        base.update(
            final_loss=0.01,
            matrix_error=0.05,
            learned=True,
            steps=50,
            epoch_loss=[0.3, 0.1, 0.05, 0.02, 0.01],
        )
    return {**base, **values}


def grid_records():
    """reg x learning_rate x batch_size, 2 x 2 x 3 = 12 runs: one diverged, one with missing
    metrics (an ok run whose notebook wrote no numbers)."""
    records = []
    for reg in (0.0, 0.01):
        for lr in (0.1, 0.5):
            for batch in (1, 10, 100):
                loss = (reg + 0.001) * lr * batch
                records.append(
                    record(
                        reg=reg,
                        learning_rate=lr,
                        batch_size=batch,
                        final_loss=loss,
                        matrix_error=math.sqrt(loss),
                    )
                )
    records[0] = record("diverged", reg=0.0, learning_rate=0.1, batch_size=1)
    missing = records[5]
    for key in ("final_loss", "matrix_error", "epoch_loss", "steps", "learned"):
        missing.pop(key)
    return records


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_every_extra_dimension_gets_its_own_panel_so_no_cell_is_overwritten():
    records = grid_records()
    fig = figures.plot_heatmaps(records, "final_loss")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert sorted(ax.get_title() for ax in panels) == ["reg=0", "reg=0.01"]
    for ax in panels:
        assert ax.get_xlabel() == "batch_size" and ax.get_ylabel() == "learning_rate"
        assert len(ax.texts) == 6  # every run of the panel is a cell of its own
    labels = texts(fig)
    assert "diverged" in labels and "missing" in labels
    colorbar = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert colorbar and "final_loss" in colorbar[0].get_ylabel()
    plt.close(fig)


def test_loss_curve_legend_names_every_varying_parameter_and_skips_missing_curves():
    records = grid_records()
    fig = figures.plot_loss_curves(records)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 10  # 12 runs, one diverged, one without its curve
    assert all(
        re.fullmatch(r"reg=[\d.]+, learning_rate=[\d.]+, batch_size=\d+", t) for t in labels
    ), labels
    assert len(set(labels)) == len(labels)
    plt.close(fig)


def test_loss_curves_compare_runs_by_sgd_steps_not_epochs():
    # lesson 4's rule: batch 1 takes 1000 steps an epoch, batch 100 ten; drawn where they happen
    records = [
        record(batch_size=1, learning_rate=0.1, steps=5000),
        record(batch_size=100, learning_rate=0.1, steps=50),
        record(batch_size=10, learning_rate=0.5),  # no steps: ceil(1000 / 10) = 100 a epoch
    ]
    for r in records[2:]:
        r.pop("steps")
    fig = figures.plot_loss_curves(records)
    ax = fig.axes[0]
    xs = {line.get_label(): list(line.get_xdata()) for line in ax.get_lines()}
    assert xs["learning_rate=0.1, batch_size=1"] == [1000, 2000, 3000, 4000, 5000]
    assert xs["learning_rate=0.1, batch_size=100"] == [10, 20, 30, 40, 50]
    assert xs["learning_rate=0.5, batch_size=10"] == [100, 200, 300, 400, 500]
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("SGD steps")
    plt.close(fig)
    unplaceable = [record(learning_rate=0.1, batch_size=None, steps=None)]
    fig = figures.plot_loss_curves(unplaceable + records)  # one run without either: by epoch
    assert fig.axes[0].get_xlabel().startswith("epoch") and fig.axes[0].get_xscale() == "linear"
    plt.close(fig)


def test_no_labels_overlap_in_a_crowded_heatmap():
    records = [
        record(
            learning_rate=lr, batch_size=b, final_loss=lr * b, swept=["learning_rate", "batch_size"]
        )
        for lr in [0.001 * 2**i for i in range(12)]
        for b in range(1, 13)
    ]
    fig = figures.plot_heatmaps(records, "final_loss")
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        boxes = [t.get_window_extent(renderer) for t in ticks if t.get_text()]
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert not ax.texts  # 144 cells: colours only, no numbers crammed in
    plt.close(fig)


def test_with_no_ok_run_there_is_nothing_to_draw_and_the_text_says_why():
    records = [record("failed", learning_rate=lr, batch_size=1, reg=0.0) for lr in (0.1, 0.5)]
    with pytest.raises(figures.NothingToDraw, match="no run finished ok with a final_loss"):
        figures.plot_heatmaps(records, "final_loss")
    with pytest.raises(figures.NothingToDraw, match=r"no run finished ok .*\(2 runs: 2 failed\)"):
        figures.plot_loss_curves(records)
    assert figures.status_line(records) == "2 runs: 2 failed"
    table = figures.table(records, figures.varying(records))
    assert "learning_rate=0.1: failed: failed: something" in table


def test_show_prints_one_line_saying_why_a_figure_cannot_be_drawn(capsys):
    plt.close("all")  # a test of another file in this worker may have left figures open
    records = [record(learning_rate=0.1, batch_size=1, reg=0.0)]  # one run: nothing varies
    figures.show(figures.plot_heatmaps, records, "final_loss")
    out = capsys.readouterr().out
    assert out == (
        "heatmaps: nothing to draw: nothing varies in this sweep; a heatmap needs a "
        "parameter with two values or more\n"
    )
    assert not plt.get_fignums()  # no half-drawn figure left behind
    figures.show(figures.plot_loss_curves, records)  # one run has a curve: drawn, not explained
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("varying_name", ["learning_rate", "batch_size", "epochs", "reg"])
def test_a_heatmap_over_one_varying_parameter_is_one_row_labelled_with_it(varying_name):
    records = [
        record(
            **{"learning_rate": 0.1, "batch_size": 10, "reg": 0.0, varying_name: v},
            swept=[varying_name],
            final_loss=0.1 * (i + 1),
        )
        for i, v in enumerate((1, 2, 3))
    ]
    fig = figures.plot_heatmaps(records, "final_loss")
    (panel,) = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert panel.get_xlabel() == varying_name and panel.get_ylabel() == ""
    assert sorted(texts(fig)) == ["0.1", "0.2", "0.3"]
    plt.close(fig)


def test_the_shipped_example_is_the_default_sweep_and_retrains_to_its_numbers():
    from lab3 import experiment

    records = load_records(sweep_folder(""))
    assert sweep_folder("") == EXAMPLE_RECORDS
    assert len(records) == 24 and figures.varying(records) == [
        "batch_size",
        "learning_rate",
        "epochs",
    ]
    for r in records:
        assert r["status"] == "ok" and r["learned"] is (r["matrix_error"] < LEARNED_BELOW)
        assert not Path(r["output"]).is_absolute()
    # the numbers are what the code gives today (a cheap subset; every run trains in < 1 s)
    for r in [r for r in records if r["steps"] <= 10_000][::4]:
        parameters = {k: r[k] for k in experiment.DEFAULTS if k in r}
        run = experiment.run({**parameters, "results_path": ""})
        assert run.history.epoch_loss[-1] == pytest.approx(r["final_loss"], rel=1e-6)
        assert run.history.steps == r["steps"]


def test_sweep_folder_resolves_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert sweep_folder("sweeps") == (Path(__file__).resolve().parents[1] / "sweeps")
    (tmp_path / "mine").mkdir()
    assert sweep_folder("mine") == tmp_path / "mine"


@pytest.mark.slow
def test_the_report_renders_offline_titled_with_code_hidden_even_with_no_ok_run(tmp_path):
    sweep_dir = tmp_path / "runs" / "nothing-ok"
    sweep_dir.mkdir(parents=True)
    lines = [
        json.dumps(
            {
                "run_id": f"r{i}",
                "status": "failed",
                "learned": None,
                "parameters": {"learning_rate": lr, "batch_size": 10, "epochs": 1},
                "swept": ["learning_rate"],
                "error": "ValueError: boom",
                "output": "o",
            }
        )
        for i, lr in enumerate((0.1, 0.5))
    ]
    (sweep_dir / "results.jsonl").write_text("\n".join(lines) + "\n")
    html = write_report(sweep_dir).read_text()
    assert "<title>nothing-ok</title>" in html
    assert "no run finished ok" in html
    assert "Traceback" not in html  # (papermill would have raised on a failing cell)
    assert not re.search(r"<script[^>]+src=\"https?://", html)  # nothing from the internet
    assert 'src="../mathjax/MathJax.js' in html
    assert (tmp_path / "runs" / "mathjax" / "MathJax.js").is_file()
    assert "sweep.load_records" not in html  # the code is hidden
    assert "Teaching notes" not in html and "Exercises" not in html  # the lesson's own
    umask = os.umask(0)
    os.umask(umask)
    for name in ("report.html", "report.ipynb"):  # the umask's mode, not 0600
        assert stat.S_IMODE((sweep_dir / name).stat().st_mode) == 0o666 & ~umask
    from lab3.handouts.chromium import dump_dom, find_chromium

    if find_chromium():  # the math is typeset with no network (Chromium resolves no host)
        assert 'class="MathJax"' in dump_dom(find_chromium(), sweep_dir / "report.html")
