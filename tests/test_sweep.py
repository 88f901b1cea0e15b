"""lab3.sweep: sweep files, validation, run ids, resume, failures, results.csv, Dask.

The sweeps run ``tests/data/sweep_fixture.ipynb``, a training notebook cut to the contract the
lessons follow (parameters cell, check, run, save last) with small defaults, so that every run
costs a kernel start and a few milliseconds of training. Runs go to ``tmp_path``, never to the
repository's ``runs/``. Tests that need no kernel come first.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from lab3 import sweep as lab3_sweep
from lab3.sweep import (
    FAILED,
    NOT_RUN,
    OK,
    SweepError,
    load_results,
    load_sweep,
    main,
    plan_runs,
    run_id,
    run_sweep,
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


@pytest.fixture(scope="module")
def pool():
    """One spawned process pool shared by the tests that call ``run_sweep`` directly.

    Each worker imports papermill and lab3 once (seconds); sharing it keeps the suite short.
    ``run_sweep`` creates its own pool when given none, as ``main`` does (tested through it).
    """
    with lab3_sweep.process_pool(2) as executor:
        yield executor


# ----------------------------------------------------------------------------------------------
# Sweep files (no kernel)
# ----------------------------------------------------------------------------------------------


def test_load_sweep_reads_a_sweep_file_and_resolves_the_notebook_from_the_project(tmp_path):
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "sweeps").mkdir()
    (project / "notebooks" / "train.ipynb").write_text(FIXTURE.read_text())
    path = project / "sweeps" / "s.yaml"
    path.write_text("name: s\nnotebook: notebooks/train.ipynb\n"
                    "grid:\n  batch_size: [10, 50]\n  learning_rate: [0.1, 0.5, 1]\n"
                    "fixed:\n  engine: manual\n  hidden_sizes: [3, 3]\n")
    sweep = load_sweep(path)
    assert sweep.name == "s"
    assert sweep.notebook == (project / "notebooks" / "train.ipynb").resolve()
    assert sweep.grid == {"batch_size": [10, 50], "learning_rate": [0.1, 0.5, 1]}
    assert sweep.fixed == {"engine": "manual", "hidden_sizes": [3, 3]}
    points = sweep.points()
    assert len(points) == 6
    assert points[0] == {"batch_size": 10, "learning_rate": 0.1, "engine": "manual",
                         "hidden_sizes": [3, 3]}
    assert points[-1]["batch_size"] == 50 and points[-1]["learning_rate"] == 1
    # validation turns the int given for the float learning_rate into a float
    assert validate(sweep).grid["learning_rate"] == [0.1, 0.5, 1.0]
    assert type(validate(sweep).grid["learning_rate"][2]) is float


def test_the_default_sweep_file_loads():
    if not LESSON.exists():
        pytest.skip("notebooks/04_batched_sgd.ipynb does not exist yet")
    sweep = load_sweep(ROOT / "sweeps" / "default.yaml")
    assert sweep.name == "default" and sweep.notebook == LESSON.resolve()
    assert len(sweep.points()) == 24


@pytest.mark.parametrize("text, message", [
    ("name: s\nnotebook: {nb}\ngrid: {{}}\ngrdi: {{}}\n",
     "unknown key 'grdi' (did you mean 'grid'?)"),
    ("notebook: {nb}\ngrid: {{}}\n", "missing key 'name'"),
    ("name: s\ngrid: {{}}\n", "missing key 'notebook'"),
    ("name: s\nnotebook: {nb}\n", "missing key 'grid'"),
    ("- name\n- s\n", "holds a list"),
    ("name: s\nnotebook: {nb}\ngrid: [1, 2]\n", "grid must be a mapping"),
    ("name: s\nnotebook: {nb}\ngrid:\n  epochs: 3\n", "grid 'epochs' must be a non-empty list"),
    ("name: s\nnotebook: {nb}\ngrid:\n  epochs: []\n", "grid 'epochs' must be a non-empty list"),
    ("name: s\nnotebook: {nb}\ngrid:\n  epochs: [1, 1]\n", "lists the value 1 twice"),
    ("name: s\nnotebook: {nb}\ngrid:\n  epochs: [1]\nfixed:\n  epochs: 2\n",
     "'epochs' is both in grid and in fixed"),
    ("name: ../up\nnotebook: {nb}\ngrid: {{}}\n", "name='../up' is not allowed"),
    ("name: s\nnotebook: nowhere/x.ipynb\ngrid: {{}}\n", "notebook 'nowhere/x.ipynb' not found"),
    ("name: s\nnotebook: {nb}\ngrid: {{\n", "not valid YAML"),
])
def test_load_sweep_refuses_a_bad_file_saying_why(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text.format(nb=FIXTURE))
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    assert message in str(error.value)


def test_fixed_may_be_left_out_or_empty(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nnotebook: {FIXTURE}\ngrid:\n  epochs: [1]\nfixed:\n")
    assert load_sweep(path).fixed == {}
    path.write_text(f"name: s\nnotebook: {FIXTURE}\ngrid: {{}}\n")
    assert load_sweep(path).points() == [{}]


# ----------------------------------------------------------------------------------------------
# Validation against the notebook (papermill.inspect_notebook, no kernel)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("grid, fixed, messages", [
    ({"learnig_rate": [0.1]}, None,
     ["unknown parameter 'learnig_rate' (did you mean 'learning_rate'?)",
      "learning_rate, epochs, batch_size, hidden_sizes, reg, seed, n_samples, angle, engine"]),
    ({"epochs": [2, 2.5]}, None, ["epochs=2.5 is not allowed: expected an int"]),
    ({"learning_rate": ["1e-3"]}, None,
     ["learning_rate='1e-3' is not allowed: expected a float", "YAML reads this number"]),
    ({"engine": [1]}, None, ["engine=1 is not allowed: expected a str"]),
    ({"hidden_sizes": [[3], [3.5]]}, None,
     ["hidden_sizes=[3.5] is not allowed: expected a list of int"]),
    ({"hidden_sizes": [3]}, None, ["hidden_sizes=3 is not allowed: expected a list of int"]),
    ({"seed": [True]}, None, ["seed=True is not allowed: expected an int"]),
    ({"epochs": [1]}, {"results_path": "x.json"}, ["results_path is set by the sweep"]),
    ({"epochs": [1]}, {"n_sample": 10, "angle": "90"},
     ["fixed: unknown parameter 'n_sample'", "fixed: angle='90' is not allowed"]),
])
def test_validation_refuses_unknown_names_and_wrong_types_and_nothing_runs(
        tmp_path, monkeypatch, capsys, grid, fixed, messages):
    path = write_sweep(tmp_path, grid, fixed)
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs))
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    for message in messages:
        assert message in err
    assert not runs.exists()  # nothing ran, no folder made
    with pytest.raises(SweepError):  # the API refuses the same way before running anything
        run_sweep(load_sweep(path), runs)
    assert not runs.exists()


def test_validation_explains_a_parameter_papermill_cannot_parse(tmp_path):
    # papermill skips a parameters-cell line with two '=' (here one in the comment)
    nb = nbformat.read(FIXTURE, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("epochs = 5  # passes over the training data",
                                      "epochs = 5  # passes over the data (>= 1)")
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(nb, notebook)
    with pytest.raises(SweepError) as error:
        validate(load_sweep(write_sweep(tmp_path, {"epochs": [1]}, notebook=notebook)))
    assert "unknown parameter 'epochs'" in str(error.value)
    assert "papermill skips the line" in str(error.value)


def test_a_notebook_without_results_path_is_refused(tmp_path):
    nb = nbformat.read(FIXTURE, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = "\n".join(line for line in cell.source.splitlines()
                            if not line.startswith("results_path"))
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(nb, notebook)
    with pytest.raises(SweepError, match="no 'results_path' parameter"):
        validate(load_sweep(write_sweep(tmp_path, {"epochs": [1]}, notebook=notebook)))


# ----------------------------------------------------------------------------------------------
# Run ids, resume decisions, results.csv (no kernel)
# ----------------------------------------------------------------------------------------------


def test_run_ids_are_readable_distinct_and_stable_across_processes(tmp_path):
    sweep = validate(load_sweep(write_sweep(
        tmp_path,
        {"batch_size": [1, 10], "learning_rate": [0.1, 0.5], "hidden_sizes": [[3], [3, 3]]},
        {"engine": "manual"})))
    ids = [plan.run_id for plan in plan_runs(sweep, tmp_path)]
    assert len(set(ids)) == 8
    assert ids[0].startswith("batch_size=1,hidden_sizes=3,learning_rate=0.1-")
    assert all("/" not in i and " " not in i for i in ids)
    # another process (another PYTHONHASHSEED) computes the same ids; it loads lab3/sweep.py
    # by path, which skips the package's __init__ (torch) and keeps this test fast
    code = ("import importlib.util, json, sys; "
            "spec = importlib.util.spec_from_file_location('s', sys.argv[2]); "
            "s = importlib.util.module_from_spec(spec); spec.loader.exec_module(s); "
            "print(json.dumps([s.run_id(p, ['batch_size', 'learning_rate', 'hidden_sizes']) "
            "for p in json.loads(sys.argv[1])]))")
    points = json.dumps(sweep.points())
    other = subprocess.run([sys.executable, "-c", code, points, lab3_sweep.__file__], check=True,
                           capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": "123"})
    assert json.loads(other.stdout) == ids
    # values that read the same once sanitized still get different ids; fixed values count
    assert run_id({"engine": "a/b"}) != run_id({"engine": "a_b"})
    assert run_id({"epochs": 1, "seed": 0}, ["epochs"]) != run_id({"epochs": 1, "seed": 1},
                                                                 ["epochs"])
    assert run_id({"epochs": 1}) == run_id({"epochs": 1})


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
        result = lab3_sweep.finished_result(plan)
        assert (result is not None) == done, text
    # a stray temporary file with a perfect result is never taken for one
    plan.metrics_path.unlink()
    (plan.folder / "tmpabc123.tmp").write_text(json.dumps(good))
    assert lab3_sweep.finished_result(plan) is None


def test_results_csv_round_trips_values_and_types(tmp_path):
    rows = [
        {"learning_rate": 0.1, "epochs": 3, "hidden_sizes": [3, 3], "engine": "manual",
         "run_id": "a", "status": "ok", "final_loss": 0.25, "matrix_error": 1e-3,
         "train_seconds": 0.01, "steps": 12, "error": "", "output": "/x/a/output.ipynb"},
        {"learning_rate": 10.0, "epochs": 3, "hidden_sizes": [3], "engine": "10",
         "run_id": "b", "status": "diverged", "final_loss": None, "matrix_error": None,
         "train_seconds": None, "steps": None, "error": 'DivergedError: at "epoch" 2, step 1',
         "output": "/x/b,c/output.ipynb"},
        {"learning_rate": 1, "epochs": 3, "hidden_sizes": [], "engine": "",
         "run_id": "c", "status": "not run", "final_loss": float("inf"), "matrix_error": None,
         "train_seconds": None, "steps": None, "error": "", "output": "o"},
    ]
    write_results_csv(tmp_path / "results.csv", rows,
                      ["learning_rate", "epochs", "hidden_sizes", "engine"])
    loaded = load_results(tmp_path)
    assert loaded == rows
    assert type(loaded[2]["learning_rate"]) is int and type(loaded[1]["engine"]) is str
    assert list(loaded[0])[:5] == ["learning_rate", "epochs", "hidden_sizes", "engine", "run_id"]


def test_a_kernel_that_fails_to_start_is_tried_again(tmp_path, monkeypatch):
    import papermill
    from nbclient.exceptions import DeadKernelError

    calls = []

    def flaky(notebook, output, parameters, **kwargs):
        calls.append(kwargs)
        if len(calls) <= 2:
            raise RuntimeError("Kernel died before replying to kernel_info")
        Path(output).write_text("{}")
        Path(parameters["results_path"]).write_text(json.dumps(
            {"parameters": {"epochs": 1}, "status": "ok", "final_loss": 0.5}))

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    monkeypatch.setattr(lab3_sweep.time, "sleep", lambda seconds: None)
    data = lab3_sweep.execute_run(FIXTURE, tmp_path / "a", {"epochs": 1}, retries=2)
    assert data["status"] == OK and data["attempts"] == 3
    assert all(c["kernel_name"] == "lab3" and c["progress_bar"] is False for c in calls)
    assert calls[0]["cwd"] == str(FIXTURE.parent)

    calls.clear()
    data = lab3_sweep.execute_run(FIXTURE, tmp_path / "b", {"epochs": 1}, retries=1)
    assert data["status"] == FAILED and data["attempts"] == 2
    assert data["error"] == "RuntimeError: Kernel died before replying to kernel_info"
    assert metrics_of(tmp_path / "b")["status"] == FAILED

    assert lab3_sweep.kernel_failed_to_start(DeadKernelError("Kernel died"))
    assert lab3_sweep.kernel_failed_to_start(TimeoutError("Kernel didn't respond in 60 seconds"))
    assert lab3_sweep.kernel_failed_to_start(OSError("[Errno 98] Address already in use"))
    assert not lab3_sweep.kernel_failed_to_start(ValueError("kernel"))
    assert not lab3_sweep.kernel_failed_to_start(RuntimeError("something else"))
    assert not lab3_sweep.kernel_failed_to_start(
        papermill.PapermillExecutionError(1, 1, "x", "RuntimeError", "kernel died", []))


# ----------------------------------------------------------------------------------------------
# Sweeps that run kernels
# ----------------------------------------------------------------------------------------------


def test_a_small_sweep_runs_every_point_and_writes_results_csv(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, {"learning_rate": [0.1, 0.2]}, {"epochs": 3, "n_samples": 100})
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs))
    assert main([str(path), "--jobs", "2", "--report"]) == 0  # its own pool, as on the command line
    out = capsys.readouterr().out
    assert "2 runs (2 run now, 0 reused): 2 ok" in out
    report = runs / "t" / "report.html"
    assert report.read_text().count("data:image/png;base64") >= 3  # loss curves and two heatmaps
    stamps = {p: p.stat().st_mtime_ns for p in (report, runs / "t" / "results.csv")}
    rows = load_results(runs / "t")
    assert [r["status"] for r in rows] == [OK, OK]
    assert [r["learning_rate"] for r in rows] == [0.1, 0.2]
    for row in rows:
        assert row["epochs"] == 3 and row["n_samples"] == 100
        assert row["steps"] == 3 * 2  # 100 samples in batches of 50
        assert isinstance(row["final_loss"], float) and row["final_loss"] > 0
        assert isinstance(row["matrix_error"], float) and isinstance(row["train_seconds"], float)
        folder = runs / "t" / row["run_id"]
        metrics = metrics_of(folder)
        assert metrics["status"] == OK and metrics["final_loss"] == row["final_loss"]
        assert metrics["parameters"]["learning_rate"] == row["learning_rate"]
        assert row["output"] == str(folder / "output.ipynb")
        executed = nbformat.read(row["output"], as_version=4)
        injected = [c for c in executed.cells
                    if "injected-parameters" in c.metadata.get("tags", [])]
        assert f'results_path = "{folder / "metrics.json"}"' in injected[0].source
        assert not list(folder.glob("*.tmp"))
    # run again: everything is done, nothing runs, the results and report are left as they were
    assert main([str(path), "--report"]) == 0
    assert "2 runs (0 run now, 2 reused): 2 ok" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_a_killed_sweep_resumes_with_only_the_missing_runs(tmp_path, pool):
    path = write_sweep(tmp_path, {"epochs": [1, 2, 3, 4]}, {"n_samples": 100}, name="k")
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab3.sweep", str(path), "--jobs", "2", "--no-progress"],
        env={**os.environ, "RUNS_DIR": str(runs)}, cwd=ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(runs.glob("k/*/metrics.json")):
            assert proc.poll() is None, "the sweep ended before any run finished"
            assert time.monotonic() < deadline, "no run finished in 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes, at once
        proc.wait()
    plans = plan_runs(validate(load_sweep(path)), runs / "k")
    finished = {p.run_id: p.metrics_path.stat().st_mtime_ns for p in plans
                if lab3_sweep.finished_result(p) is not None}
    missing = {p.run_id for p in plans} - set(finished)
    assert finished and missing, "the kill came too late to leave runs undone"
    assert not (runs / "k" / "results.csv").exists()
    # what a run killed while writing would leave: a cut-short file and a complete *.tmp
    victim = next(p for p in plans if p.run_id in missing)
    victim.folder.mkdir(parents=True, exist_ok=True)
    good = {"parameters": victim.expected, "status": "ok", "final_loss": 0.1}
    (victim.folder / "tmp9x8y.tmp").write_text(json.dumps(good))
    victim.metrics_path.write_text(json.dumps(good)[:25])

    results = run_sweep(load_sweep(path), runs, jobs=2, executor=pool, progress=False)
    assert {r.run_id for r in results if r.executed} == missing
    assert [r.status for r in results] == [OK] * 4
    for p in plans:
        if p.run_id in finished:  # not run again
            assert p.metrics_path.stat().st_mtime_ns == finished[p.run_id]
        assert metrics_of(p.folder)["status"] == OK
        assert metrics_of(p.folder)["parameters"]["epochs"] == p.parameters["epochs"]
    assert not list(victim.folder.glob("*.tmp"))
    assert [r["status"] for r in load_results(runs / "k")] == [OK] * 4


def test_failures_are_isolated_recorded_and_failed_runs_rerun(tmp_path, pool):
    # learning_rate 10 diverges; -1 is a float, so the sweep lets it through, but the notebook's
    # check_parameters refuses it: a failed run
    path = write_sweep(tmp_path, {"learning_rate": [10.0, 0.1, -1.0]}, {"n_samples": 100},
                       name="f")
    runs = tmp_path / "runs"
    results = run_sweep(load_sweep(path), runs, jobs=2, executor=pool, progress=False)
    diverged, ok, failed = results
    assert [r.status for r in results] == ["diverged", OK, FAILED]
    assert diverged.error.startswith("DivergedError: training diverged at epoch")
    assert "try a smaller learning_rate than 10" in diverged.error
    recorded = metrics_of(Path(diverged.output).parent)
    assert recorded["status"] == "diverged" and recorded["ename"] == "DivergedError"
    assert recorded["output"] == diverged.output and recorded["parameters"]["learning_rate"] == 10.0
    output = nbformat.read(diverged.output, as_version=4)  # papermill saved the failing cell
    assert any(o.get("ename") == "DivergedError"
               for c in output.cells for o in c.get("outputs", []))
    recorded = metrics_of(Path(failed.output).parent)
    assert recorded["status"] == FAILED and recorded["ename"] == "ValueError"
    assert "learning_rate=-1.0 is not allowed" in recorded["evalue"]
    assert failed.error == f"ValueError: {recorded['evalue']}"
    assert metrics_of(Path(ok.output).parent)["final_loss"] == ok.metrics["final_loss"] > 0
    text = lab3_sweep.summarize(results)
    assert "1 ok, 1 diverged, 1 failed" in text and "ValueError: learning_rate=-1.0" in text
    assert [r["status"] for r in load_results(runs / "f")] == ["diverged", OK, FAILED]

    # the next invocation runs the failed run again, not the ok or diverged ones
    ok_mtime = Path(ok.output).with_name("metrics.json").stat().st_mtime_ns
    again = run_sweep(load_sweep(path), runs, jobs=2, executor=pool, progress=False)
    assert [r.executed for r in again] == [False, False, True]
    assert [r.status for r in again] == ["diverged", OK, FAILED]
    assert Path(ok.output).with_name("metrics.json").stat().st_mtime_ns == ok_mtime
    assert "3 runs (1 run now, 2 reused)" in lab3_sweep.summarize(again)


def test_fail_fast_starts_no_run_after_the_first_that_is_not_ok(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, {"learning_rate": [10.0, 0.1, 0.2, 0.3]}, {"n_samples": 100},
                       name="ff")
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs))
    assert main([str(path), "--jobs", "1", "--fail-fast", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "4 runs (1 run now, 0 reused): 1 diverged, 3 not run" in out
    assert "3 runs not started (--fail-fast)" in out
    assert "try a smaller learning_rate than 10" in out
    assert [r["status"] for r in load_results(runs / "ff")] == ["diverged"] + [NOT_RUN] * 3
    assert len(list((runs / "ff").glob("*/metrics.json"))) == 1


def test_a_sweep_runs_on_a_dask_cluster(tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed")
    path = write_sweep(tmp_path, {"learning_rate": [0.1, 0.3]}, {"n_samples": 100}, name="d")
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert main([str(path), "--scheduler", cluster.scheduler_address, "--no-progress"]) == 0
    assert "2 runs (2 run now, 0 reused): 2 ok" in capsys.readouterr().out
    rows = load_results(runs / "d")
    assert [r["status"] for r in rows] == [OK, OK]
    assert all(metrics_of(runs / "d" / r["run_id"])["final_loss"] == r["final_loss"] for r in rows)


@pytest.mark.slow
def test_the_lesson_notebook_runs_in_a_sweep(tmp_path, pool):
    if not LESSON.exists():
        pytest.skip("notebooks/04_batched_sgd.ipynb does not exist yet")
    path = write_sweep(tmp_path, {"batch_size": [100]},
                       {"epochs": 2, "learning_rate": 0.1, "engine": "manual", "n_samples": 200},
                       name="lesson", notebook=LESSON)
    (result,) = run_sweep(load_sweep(path), tmp_path / "runs", executor=pool, progress=False)
    assert result.status == OK, result.error
    assert result.metrics["steps"] == 2 * 2
    assert result.metrics["parameters"]["batch_size"] == 100
