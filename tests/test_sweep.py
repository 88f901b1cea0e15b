"""lab3.sweep: sweep files, run ids, resume, results files, and sweeps that run kernels.

The sweeps run ``tests/data/sweep_fixture.ipynb``, a training notebook cut to the contract the
lessons follow (parameters cell, check, run, save last) with small defaults, so that every run
costs a kernel start and a few milliseconds of training. Runs go to ``tmp_path``, never to the
repository's ``runs/``. Tests that need no kernel come first; the others are marked slow and
kept few (each kernel costs seconds). Faults and bad input: test_sweep_faults.py; the report:
test_sweep_report.py. The helpers here are shared by both.
"""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from lab3.sweep import (
    DIVERGED,
    FAILED,
    NOT_RUN,
    OK,
    finished_result,
    load_records,
    load_results,
    load_sweep,
    main,
    plan_runs,
    process_pool,
    run_id,
    run_sweep,
    summarize,
    validate,
    write_results_csv,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "data" / "sweep_fixture.ipynb"
LESSON = ROOT / "notebooks" / "04_batched_sgd.ipynb"


def write_sweep(folder, grid, fixed=None, name="t", notebook=FIXTURE, **extra):
    data = {"name": name, "notebook": str(notebook), "grid": grid, **extra}
    if fixed is not None:
        data["fixed"] = fixed
    path = Path(folder) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def metrics_of(folder):
    return json.loads((Path(folder) / "metrics.json").read_text())


def fixture_with(folder, source, name="faulty.ipynb"):
    """The fixture notebook with one more code cell ``source`` just before its save cell."""
    nb = nbformat.read(FIXTURE, as_version=4)
    nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_code_cell(source))
    path = Path(folder) / name
    nbformat.write(nb, path)
    return path


def mode(path):
    return stat.S_IMODE(Path(path).stat().st_mode)


@pytest.fixture(scope="module")
def pool():
    """One spawned process pool shared by the tests that call ``run_sweep`` directly."""
    with process_pool(2) as executor:
        yield executor


# ----------------------------------------------------------------------------------------------
# Sweep files, run ids, resume decisions, results files (no kernel)
# ----------------------------------------------------------------------------------------------


def test_load_sweep_reads_a_sweep_file_and_resolves_the_notebook_from_the_project(tmp_path):
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "sweeps").mkdir()
    (project / "pyproject.toml").write_text("")
    (project / "notebooks" / "train.ipynb").write_text(FIXTURE.read_text())
    path = project / "sweeps" / "s.yaml"
    path.write_text(
        "name: s\nnotebook: notebooks/train.ipynb\n"
        "grid:\n  batch_size: [10, 50]\n  learning_rate: [0.1, 0.5, 1]\n"
        "fixed:\n  engine: manual\n  hidden_sizes: [3, 3]\n"
    )
    sweep = load_sweep(path)
    assert sweep.name == "s" and sweep.size == 6
    assert sweep.notebook == (project / "notebooks" / "train.ipynb").resolve()
    assert sweep.grid == {"batch_size": [10, 50], "learning_rate": [0.1, 0.5, 1]}
    assert sweep.fixed == {"engine": "manual", "hidden_sizes": [3, 3]}
    points = list(sweep.points())
    assert len(points) == 6
    assert points[0] == {
        "batch_size": 10,
        "learning_rate": 0.1,
        "engine": "manual",
        "hidden_sizes": [3, 3],
    }
    # validation turns the int given for the float learning_rate into a float, once
    checked = validate(sweep)
    assert checked.grid["learning_rate"] == [0.1, 0.5, 1.0] and checked.validated
    assert type(checked.grid["learning_rate"][2]) is float
    assert validate(checked) is checked


@pytest.mark.parametrize("name", ["default", "demo", "stability"])
def test_the_committed_sweep_files_load_and_run_lean(name):
    sweep = load_sweep(ROOT / "sweeps" / f"{name}.yaml")
    assert sweep.name == name and sweep.notebook == LESSON.resolve()
    assert sweep.fixed["demos"] is False  # a sweep's run only trains and writes its metrics
    if name == "default":
        assert sweep.size == 24


def test_run_ids_are_readable_distinct_and_stable_across_processes(tmp_path):
    sweep = validate(
        load_sweep(
            write_sweep(
                tmp_path,
                {"batch_size": [1, 10], "learning_rate": [0.1, 0.5], "hidden_sizes": [[3], [3, 3]]},
                {"engine": "manual"},
            )
        )
    )
    ids = [plan.run_id for plan in plan_runs(sweep, tmp_path)]
    assert len(set(ids)) == 8
    assert ids[0].startswith("batch_size=1,hidden_sizes=3,learning_rate=0.1-")
    assert all("/" not in i and " " not in i for i in ids)
    # another process (another PYTHONHASHSEED) computes the same ids; importing lab3.sweep is
    # cheap (no torch), which this also checks
    code = (
        "import json, sys; from lab3.sweep import run_id; "
        "print(json.dumps([run_id(p, ['batch_size', 'learning_rate', 'hidden_sizes']) "
        "for p in json.loads(sys.argv[1])])); "
        "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(sweep.points()))],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert json.loads(other.stdout) == ids
    # values that read the same once sanitized still get different ids; fixed values count
    assert run_id({"engine": "a/b"}) != run_id({"engine": "a_b"})
    assert run_id({"epochs": 1, "seed": 0}, ["epochs"]) != run_id(
        {"epochs": 1, "seed": 1}, ["epochs"]
    )


def test_only_a_complete_result_with_the_same_parameters_counts_as_done(tmp_path):
    sweep = validate(load_sweep(write_sweep(tmp_path, {"learning_rate": [0.1]}, {"epochs": 2})))
    (plan,) = plan_runs(sweep, tmp_path / "runs")
    plan.folder.mkdir(parents=True)
    recorded = {**plan.expected, "epochs": 2}
    good = {"parameters": recorded, "status": "ok", "final_loss": 0.5, "steps": 8}
    cases = [
        (None, False),  # no file
        ('{"parameters": {"learning_rate": 0.1, "epo', False),  # cut short
        (json.dumps({**good, "status": "failed", "error": "ValueError: x"}), False),
        (json.dumps({**good, "status": "timeout", "error": "TimeoutError: x"}), False),
        (json.dumps({**good, "parameters": {**recorded, "epochs": 3}}), False),
        (json.dumps({**good, "parameters": {**recorded, "reg": 0.5}}), False),  # default changed
        (json.dumps({k: v for k, v in good.items() if k != "parameters"}), False),
        (json.dumps([1, 2]), False),
        (json.dumps(good), True),
        (json.dumps({**good, "status": "diverged", "error": "DivergedError: x"}), True),
    ]
    for text, done in cases:
        plan.metrics_path.unlink(missing_ok=True)
        if text is not None:
            plan.metrics_path.write_text(text)
        assert (finished_result(plan) is not None) == done, text
    # a stray temporary file with a perfect result is never taken for one
    plan.metrics_path.unlink()
    (plan.folder / "tmpabc123.tmp").write_text(json.dumps(good))
    assert finished_result(plan) is None


def test_results_csv_round_trips_values_and_types(tmp_path):
    rows = [
        {
            "learning_rate": 0.1,
            "epochs": 3,
            "hidden_sizes": [3, 3],
            "engine": "manual",
            "run_id": "a",
            "status": "ok",
            "final_loss": 0.25,
            "matrix_error": 1e-3,
            "learned": True,
            "train_seconds": 0.01,
            "steps": 12,
            "error": "",
            "output": "/x/a/output.ipynb",
        },
        {
            "learning_rate": 10.0,
            "epochs": 3,
            "hidden_sizes": [3],
            "engine": "10",
            "run_id": "b",
            "status": "diverged",
            "final_loss": None,
            "matrix_error": None,
            "learned": None,
            "train_seconds": None,
            "steps": None,
            "error": 'DivergedError: at "epoch" 2, step 1',
            "output": "/x/b,c/output.ipynb",
        },
        {
            "learning_rate": 1,
            "epochs": 3,
            "hidden_sizes": [],
            "engine": "",
            "run_id": "c",
            "status": "not run",
            "final_loss": float("inf"),
            "matrix_error": None,
            "learned": False,
            "train_seconds": None,
            "steps": None,
            "error": "",
            "output": "o",
        },
    ]
    write_results_csv(
        tmp_path / "results.csv", rows, ["learning_rate", "epochs", "hidden_sizes", "engine"]
    )
    loaded = load_results(tmp_path)
    assert loaded == rows
    assert type(loaded[2]["learning_rate"]) is int and type(loaded[1]["engine"]) is str
    assert list(loaded[0])[:5] == ["learning_rate", "epochs", "hidden_sizes", "engine", "run_id"]


# ----------------------------------------------------------------------------------------------
# Sweeps that run kernels
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_small_sweep_runs_every_point_and_writes_its_records(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, {"learning_rate": [0.1, 0.2]}, {"epochs": 3, "n_samples": 100})
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs))
    old = os.umask(0o022)
    try:
        assert main([str(path), "--jobs", "2", "--no-progress"]) == 0  # its own pool
    finally:
        os.umask(old)
    out = capsys.readouterr().out
    assert "2 runs (2 run now, 0 reused): 2 ok" in out
    rows, records = load_results(runs / "t"), load_records(runs / "t")
    assert [r["status"] for r in rows] == [OK, OK]
    assert [r["learning_rate"] for r in rows] == [0.1, 0.2]
    for row, record in zip(rows, records):
        assert row["epochs"] == 3 and row["n_samples"] == 100
        assert row["steps"] == 3 * 2  # 100 samples in batches of 50
        assert isinstance(row["final_loss"], float) and row["final_loss"] > 0
        assert row["learned"] is (row["matrix_error"] < 0.1)
        folder = runs / "t" / row["run_id"]
        metrics = metrics_of(folder)
        # results.jsonl holds the whole record: every parameter, the metrics, the loss curve
        assert record["final_loss"] == row["final_loss"] == metrics["final_loss"]
        assert record["epoch_loss"] == metrics["epoch_loss"] and len(record["epoch_loss"]) == 3
        assert record["reg"] == 0.001 and record["swept"] == [
            "learning_rate",
            "epochs",
            "n_samples",
        ]
        assert row["output"] == str(folder / "output.ipynb")
        for name in ("metrics.json", "output.ipynb"):
            assert mode(folder / name) == 0o644, name  # the umask, not 0600
        injected = [
            c
            for c in nbformat.read(row["output"], as_version=4).cells
            if "injected-parameters" in c.metadata.get("tags", [])
        ]
        assert f'results_path = "{folder / "metrics.json"}"' in injected[0].source
        assert not list(folder.glob("*.tmp"))
    assert mode(runs / "t" / "results.csv") == mode(runs / "t" / "results.jsonl") == 0o644
    stamps = {p: p.stat().st_mtime_ns for p in (runs / "t").glob("results.*")}
    # run again: everything is done, nothing runs, the results are left as they were
    assert main([str(path), "--no-progress"]) == 0
    assert "2 runs (0 run now, 2 reused): 2 ok" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


@pytest.mark.slow
def test_failures_are_isolated_recorded_and_failed_runs_rerun(tmp_path, pool):
    # learning_rate 10 diverges; 0.2 raises in the notebook: a failed run
    notebook = fixture_with(tmp_path, "if learning_rate == 0.2:\n    raise RuntimeError('boom')")
    path = write_sweep(
        tmp_path,
        {"learning_rate": [10.0, 0.1, 0.2]},
        {"n_samples": 100},
        name="f",
        notebook=notebook,
    )
    runs = tmp_path / "runs"
    diverged, ok, failed = run_sweep(load_sweep(path), runs, jobs=2, executor=pool, progress=False)
    assert [diverged.status, ok.status, failed.status] == [DIVERGED, OK, FAILED]
    assert diverged.error.startswith("DivergedError: training diverged at epoch")
    assert "try a smaller learning_rate than 10" in diverged.error
    recorded = metrics_of(Path(diverged.output).parent)
    assert recorded["status"] == DIVERGED and recorded["ename"] == "DivergedError"
    output = nbformat.read(diverged.output, as_version=4)  # papermill saved the failing cell
    assert any(
        o.get("ename") == "DivergedError" for c in output.cells for o in c.get("outputs", [])
    )
    assert failed.error == "RuntimeError: boom" and failed.attempts == 1
    assert "1 ok, 1 diverged, 1 failed" in summarize([diverged, ok, failed])
    # the next invocation runs the failed run again, not the ok or diverged ones
    again = run_sweep(load_sweep(path), runs, jobs=2, executor=pool, progress=False)
    assert [r.executed for r in again] == [False, False, True]
    assert [r.status for r in again] == [DIVERGED, OK, FAILED]
    assert [r["status"] for r in load_results(runs / "f")] == [DIVERGED, OK, FAILED]


@pytest.mark.slow
def test_fail_fast_starts_no_run_after_the_first_that_is_not_ok(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, {"learning_rate": [10.0, 0.1, 0.2]}, {"n_samples": 100}, name="ff")
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs))
    assert main([str(path), "--jobs", "1", "--fail-fast", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "3 runs (1 run now, 0 reused): 1 diverged, 2 not run" in out
    assert "--fail-fast stopped the sweep" in out
    assert [r["status"] for r in load_results(runs / "ff")] == [DIVERGED, NOT_RUN, NOT_RUN]


@pytest.mark.slow
def test_the_lesson_notebook_runs_lean_in_a_sweep(tmp_path, pool):
    sweep = load_sweep(ROOT / "sweeps" / "demo.yaml")
    path = write_sweep(
        tmp_path,
        {"batch_size": [100]},
        {**sweep.fixed, "epochs": 2, "n_samples": 200},
        name="lesson",
        notebook=LESSON,
    )
    (record,) = run_sweep(load_sweep(path), tmp_path / "runs", executor=pool, progress=False)
    assert record.status == OK, record.error
    assert record.metrics["steps"] == 2 * 2 and record.recorded["demos"] is False
    output = nbformat.read(record.output, as_version=4)
    images = [
        o for c in output.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert not images  # demos=False: no figure, no comparison run
