"""The main job off its defaults: exit status with diverged runs, sweep files outside the
project, two sweeps with one name, huge grids validated whole, a run on a full disk, a busy
JupyterLab port. Tests that start kernels are marked slow; the rest run in-process."""

import concurrent.futures as cf
import errno
import json
import os
import socket
import subprocess
import sys
import tracemalloc
from pathlib import Path

import papermill
import pytest
from test_sweep import FIXTURE, LESSON, ROOT, write_sweep

from lab3.sweep import (
    DIVERGED,
    FAILED,
    NOT_RUN,
    OK,
    TIMEOUT,
    RunRecord,
    SweepError,
    execute_run,
    load_sweep,
    main,
    plan_runs,
    run_sweep,
    validate,
)
from lab3.sweep import cli as cli_module

# ----------------------------------------------------------------------------------------------
# Exit status: a diverged run is a result
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([OK, OK], 0),
        ([DIVERGED, DIVERGED], 0),
        ([OK, DIVERGED], 0),
        ([OK, FAILED], 1),
        ([DIVERGED, TIMEOUT], 1),
        ([OK, NOT_RUN], 1),
    ],
)
def test_the_sweep_exits_0_when_every_run_is_ok_or_diverged(
    tmp_path, monkeypatch, capsys, statuses, expected
):
    records = [
        RunRecord(
            f"r{i}",
            {"learning_rate": 0.1 * (i + 1)},
            status,
            "o",
            "" if status == OK else f"{status}: why",
        )
        for i, status in enumerate(statuses)
    ]
    monkeypatch.setattr(cli_module, "run_sweep", lambda *args, **kwargs: records)
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "runs"))
    path = write_sweep(tmp_path, {"epochs": [1, 2]})
    assert main([str(path), "--no-progress"]) == expected
    summary = capsys.readouterr().out
    if DIVERGED in statuses:  # still counted in the summary
        assert f"{statuses.count(DIVERGED)} diverged" in summary


# ----------------------------------------------------------------------------------------------
# A sweep file anywhere
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", ["04_batched_sgd.ipynb", "notebooks/04_batched_sgd.ipynb"])
def test_a_sweep_file_outside_the_project_finds_the_lessons_notebook(tmp_path, notebook):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    path = outside / "mine.yaml"
    path.write_text(f"name: mine\nnotebook: {notebook}\ngrid:\n  learning_rate: [0.1, 0.5]\n")
    assert not path.resolve().is_relative_to(ROOT)
    assert load_sweep(path).notebook == LESSON.resolve()


def test_a_notebook_found_nowhere_says_what_to_write(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nnotebook: 04_batch_sgd.ipynb\ngrid:\n  epochs: [1]\n")
    with pytest.raises(
        SweepError,
        match=r"not found \(looked in .* and in .*notebooks\): write "
        r"a lesson's file name such as 04_batched_sgd.ipynb",
    ):
        load_sweep(path)


# ----------------------------------------------------------------------------------------------
# Two sweeps never share a runs folder by accident
# ----------------------------------------------------------------------------------------------


class _Instant(cf.Executor):
    """Every run is ok at once (the results files are real; no kernel starts)."""

    def submit(self, fn, plan, notebook, **options):
        future = cf.Future()
        future.set_result({"parameters": plan.expected, "status": OK, "final_loss": 0.5})
        return future


def test_a_second_sweep_file_with_the_same_name_is_refused_naming_both(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_sweep(tmp_path / "a", {"epochs": [1, 2]}, name="same")
    second = write_sweep(tmp_path / "b", {"epochs": [3]}, name="same")
    runs = tmp_path / "runs"
    run_sweep(load_sweep(first), runs, executor=_Instant(), progress=False, log=False)
    results = {
        name: (runs / "same" / name).read_bytes() for name in ("results.csv", "results.jsonl")
    }
    monkeypatch.setenv("RUNS_DIR", str(runs))
    assert main([str(second), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(first.resolve()) in err and str(second.resolve()) in err
    assert "sweep name 'same' is taken" in err
    for name, content in results.items():  # nothing replaced
        assert (runs / "same" / name).read_bytes() == content
    assert sorted(p.name for p in (runs / "same").iterdir() if p.is_dir()) == [
        plan.run_id for plan in plan_runs(validate(load_sweep(first)), runs / "same")
    ]
    # the first file again is welcome: its finished runs are reused
    records = run_sweep(load_sweep(first), runs, executor=_Instant(), progress=False, log=False)
    assert [r.executed for r in records] == [False, False]


def test_a_runs_folder_whose_sweep_file_is_gone_is_taken_over(tmp_path):
    (tmp_path / "a").mkdir()
    first = write_sweep(tmp_path / "a", {"epochs": [1]}, name="moved")
    run_sweep(load_sweep(first), tmp_path / "runs", executor=_Instant(), progress=False, log=False)
    moved = first.rename(tmp_path / "moved.yaml")  # e.g. the project folder was renamed
    records = run_sweep(
        load_sweep(moved), tmp_path / "runs", executor=_Instant(), progress=False, log=False
    )
    assert [r.status for r in records] == [OK]
    owner = json.loads((tmp_path / "runs" / "moved" / "sweep-file.json").read_text())
    assert owner["sweep_file"] == str(moved.resolve())


# ----------------------------------------------------------------------------------------------
# Huge grids: every run validated, memory flat
# ----------------------------------------------------------------------------------------------


def huge_grid(folder, bad_batch):
    """20,000 runs of the lesson; the last batch size is ``bad_batch``."""
    learning_rates = [round(0.0005 * (i + 1), 6) for i in range(1000)]
    batch_sizes = list(range(1, 20)) + [bad_batch]
    return write_sweep(
        folder,
        {"learning_rate": learning_rates, "batch_size": batch_sizes},
        {"demos": False},
        name="huge",
        notebook=LESSON,
    )


@pytest.mark.slow  # computes for seconds (20,000 checks under tracemalloc)
def test_a_grid_over_the_run_limit_is_still_validated_run_by_run_in_flat_memory(tmp_path):
    import lab3.experiment  # noqa: F401 - imported before measuring: torch is not the plan

    sweep = load_sweep(huge_grid(tmp_path, 5000), max_runs=20_000)
    tracemalloc.start()
    try:
        with pytest.raises(SweepError, match=r"batch_size=5000: batch_size=5000 is not allowed"):
            validate(sweep)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8e6, f"validating 20,000 runs peaked at {peak / 1e6:.1f} MB"


def test_max_runs_above_the_default_refuses_a_bad_run_before_any_kernel(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(cli_module, "run_sweep", lambda *a, **k: pytest.fail("a run started"))
    assert main([str(huge_grid(tmp_path, 5000)), "--max-runs", "20000"]) == 2
    err = capsys.readouterr().err
    assert "batch_size=5000 is not allowed" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


# ----------------------------------------------------------------------------------------------
# A full disk never leaves an ok result beside a notebook that was not saved whole
# ----------------------------------------------------------------------------------------------


def test_a_run_whose_notebook_cannot_be_saved_leaves_no_ok_metrics(tmp_path, monkeypatch):
    from lab3 import files

    sweep = validate(load_sweep(write_sweep(tmp_path, {"epochs": [1]})))
    (plan,) = plan_runs(sweep, tmp_path / "runs")

    def full_disk_at_the_end(notebook, output, parameters, **kwargs):
        # the notebook ran through and wrote its ok metrics; saving it fills the disk
        Path(parameters["results_path"]).write_text(
            json.dumps({"parameters": plan.expected, "status": OK, "final_loss": 0.5})
        )
        Path(output).write_text('{"cells": [')  # cut short
        raise OSError(errno.ENOSPC, "No space left on device")

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(papermill, "execute_notebook", full_disk_at_the_end)
    monkeypatch.setattr(files, "write_json", no_space)
    data = execute_run(plan, FIXTURE, retries=0)
    assert data["status"] == FAILED and "No space left" in data["error"]
    assert not plan.metrics_path.exists()  # not the ok result the notebook wrote


# ----------------------------------------------------------------------------------------------
# make lab with a busy port
# ----------------------------------------------------------------------------------------------


def test_make_lab_on_a_busy_port_names_it_and_says_how_to_choose_another():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            ["make", "-s", "lab", f"LAB_PORT={port}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode != 0
    assert f"port {port} on 127.0.0.1 is busy" in done.stderr
    assert "LAB_PORT" in done.stderr and "Traceback" not in done.stderr + done.stdout


# ----------------------------------------------------------------------------------------------
# The real thing: a sweep file outside the project whose runs all diverge, with its report
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_all_diverged_sweep_written_outside_the_project_reports_and_exits_0(tmp_path):
    outside = tmp_path / "mine"
    outside.mkdir()
    path = outside / "too-far.yaml"
    path.write_text(
        "name: too-far\nnotebook: 04_batched_sgd.ipynb\n"
        "grid:\n  learning_rate: [50.0, 100.0]\n"
        "fixed:\n  epochs: 1\n  demos: false\n"
    )
    env = {**os.environ, "RUNS_DIR": str(tmp_path / "runs")}
    done = subprocess.run(
        [sys.executable, "-m", "lab3.sweep", str(path), "--report", "--no-progress"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "2 diverged" in done.stdout
    html = (tmp_path / "runs" / "too-far" / "report.html").read_text()
    assert "2 runs: 2 diverged" in html
    assert "loss curves: nothing to draw: no run finished ok" in html
    assert "Traceback" not in html
