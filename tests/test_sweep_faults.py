"""lab3.sweep under faults and bad input (issue 11, section 4): each found by trying it.

Most tests need no kernel: bad sweep files and options are refused before anything runs, and the
executor's decisions (retry, timeout, a kernel that dies, a lock another sweep holds, a lost
scheduler) are driven with a stand-in for papermill or for the executor. The few that start real
kernels (a run that hangs or dies, SIGTERM and SIGKILL, papermill's unknown -p) are marked slow.
"""

import concurrent.futures as cf
import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import papermill
import psutil
import pytest
from test_sweep import FIXTURE, ROOT, fixture_with, metrics_of, write_sweep

from lab3.experiment import refuse_unknown_parameters
from lab3.sweep import (
    FAILED,
    NOT_RUN,
    OK,
    TIMEOUT,
    ExecutorLost,
    SweepError,
    execute_run,
    load_results,
    load_sweep,
    main,
    plan_runs,
    run_sweep,
    validate,
)
from lab3.sweep import execute as execute_module


def refused(capsys, argv, *messages):
    """main(argv) exits 2 with one line on stderr holding every message, no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for message in messages:
        assert message in err, err
    return err


# ----------------------------------------------------------------------------------------------
# The sweep file and the options: one-line errors, exit 2, nothing runs (no kernel)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "name: s\nnotebook: {nb}\ngrid: {{}}\ngrdi: {{}}\n",
            "unknown key 'grdi' (did you mean 'grid'?)",
        ),
        ("notebook: {nb}\ngrid: {{}}\n", "missing key 'name'"),
        ("- name\n- s\n", "holds a list"),
        ("name: s\nnotebook: {nb}\ngrid: [1, 2]\n", "grid must be a mapping"),
        ("name: s\nnotebook: {nb}\ngrid:\n  epochs: 3\n", "grid 'epochs' must be a non-empty list"),
        (
            "name: s\nnotebook: {nb}\ngrid:\n  epochs: []\n",
            "grid 'epochs' must be a non-empty list",
        ),
        ("name: s\nnotebook: {nb}\ngrid:\n  epochs: [1, 1]\n", "lists the value 1 twice"),
        (
            "name: s\nnotebook: {nb}\ngrid:\n  epochs: [1]\nfixed:\n  epochs: 2\n",
            "'epochs' is both in grid and in fixed",
        ),
        ("name: s\nnotebook: {nb}\ngrid: {{}}\n", "the grid is empty"),
        ("name: s\nnotebook: {nb}\ngrid:\nfixed:\n  epochs: 2\n", "grid must be a mapping"),
        (
            "name: s\nnotebook: {nb}\ngrid:\n  epochs: [1]\n  epochs: [2]\n",
            "the key 'epochs' appears twice",
        ),
        (
            "name: s\nname: t\nnotebook: {nb}\ngrid:\n  epochs: [1]\n",
            "the key 'name' appears twice",
        ),
        ("name: ../up\nnotebook: {nb}\ngrid:\n  epochs: [1]\n", "name='../up' is not allowed"),
        (f"name: {'x' * 300}\nnotebook: {{nb}}\ngrid:\n  epochs: [1]\n", "is not allowed"),
        (
            "name: s\nnotebook: nowhere/x.ipynb\ngrid:\n  epochs: [1]\n",
            "notebook 'nowhere/x.ipynb' not found",
        ),
        ("name: s\nnotebook: {nb}\ngrid: {{\n", "not valid YAML"),
    ],
)
def test_a_bad_sweep_file_is_refused_in_one_line(tmp_path, capsys, monkeypatch, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text.format(nb=FIXTURE))
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    assert message in str(error.value)
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "runs"))
    refused(capsys, [str(path), "--no-progress"], message)
    assert not (tmp_path / "runs").exists()
    if "x" * 300 in text:
        assert "x" * 80 not in str(error.value)  # the value is cut short in the message


def test_a_binary_file_and_a_missing_file_are_refused(tmp_path, capsys):
    binary = tmp_path / "b.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    refused(capsys, [str(binary)], "is not a text file")
    refused(capsys, [str(tmp_path / "missing.yaml")], "cannot read the sweep file")


def test_a_grid_too_large_is_refused_before_it_is_expanded(tmp_path, capsys):
    grid = {
        name: list(range(1, 21))
        for name in ("epochs", "batch_size", "seed", "n_samples", "hidden_sizes")
    }
    path = write_sweep(tmp_path, grid)
    start = time.monotonic()
    err = refused(
        capsys, [str(path)], "the grid has 3200000 runs, more than the limit of 10000", "--max-runs"
    )
    assert time.monotonic() - start < 5
    path = write_sweep(tmp_path, {"epochs": list(range(1, 21)), "seed": list(range(20))})
    with pytest.raises(SweepError, match="has 400 runs, more than the limit of 100"):
        load_sweep(path, max_runs=100)
    assert load_sweep(path, max_runs=400).size == 400
    assert err


def test_an_alias_bomb_is_refused_quickly_with_a_short_message(tmp_path, capsys):
    # the billion laughs: 577 bytes of YAML, 9**9 items once walked
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    bomb = "\n".join(lines)
    path = tmp_path / "bomb.yaml"
    path.write_text(
        f"name: s\nnotebook: {FIXTURE}\ngrid:\n  epochs: [1]\nfixed:\n"
        + "\n".join("  " + line for line in lines)
        + "\n"
    )
    assert len(bomb) < 600
    start = time.monotonic()
    err = refused(capsys, [str(path)], "fixed 'd' is too large (more than 1000 values")
    assert time.monotonic() - start < 5 and len(err) < 500


def test_a_notebook_outside_the_project_is_refused_unless_absolute(tmp_path):
    project = tmp_path / "project"
    (project / "sweeps").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    (tmp_path / "outside.ipynb").write_text(FIXTURE.read_text())
    path = project / "sweeps" / "s.yaml"
    path.write_text("name: s\nnotebook: ../../outside.ipynb\ngrid:\n  epochs: [1]\n")
    with pytest.raises(SweepError, match="is outside the project"):
        load_sweep(path)
    path.write_text(f"name: s\nnotebook: {tmp_path / 'outside.ipynb'}\ngrid:\n  epochs: [1]\n")
    assert load_sweep(path).notebook == (tmp_path / "outside.ipynb").resolve()


@pytest.mark.parametrize(
    "grid, fixed, messages",
    [
        (
            {"learnig_rate": [0.1]},
            None,
            ["unknown parameter 'learnig_rate' (did you mean 'learning_rate'?)"],
        ),
        ({"epochs": [2, 2.5]}, None, ["epochs=2.5 is not allowed: expected an int"]),
        ({"learning_rate": ["1e-3"]}, None, ["YAML reads this number"]),
        ({"hidden_sizes": [[3], [3.5]]}, None, ["expected a list of int"]),
        ({"seed": [True]}, None, ["seed=True is not allowed: expected an int"]),
        ({"epochs": [1]}, {"results_path": "x.json"}, ["results_path is set by the sweep"]),
        # NaN, infinity, out of range: the notebook's own rules, before anything runs
        ({"learning_rate": [float("nan")]}, None, ["a finite number (not NaN or infinity)"]),
        ({"learning_rate": [float("inf"), 0.1]}, None, ["a finite number"]),
        (
            {"learning_rate": [-1.0]},
            None,
            [
                "the notebook's check refuses the run learning_rate=-1.0",
                "learning_rate=-1.0 is not allowed",
            ],
        ),
        (
            {"batch_size": [50, 500]},
            None,
            ["refuses the run batch_size=500", "batch_size=500 is not allowed"],
        ),
        # a 400-digit number, as an int and where a float is expected
        ({"epochs": [10**400]}, None, ["an integer between -2**63 and 2**63 - 1"]),
        ({"learning_rate": [10**400]}, None, ["an integer between -2**63 and 2**63 - 1"]),
    ],
)
def test_validation_refuses_bad_values_and_nothing_runs(
    tmp_path, monkeypatch, capsys, grid, fixed, messages
):
    path = write_sweep(tmp_path, grid, fixed)
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs))
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err) < 2000
    for message in messages:
        assert message in err
    assert not runs.exists()  # nothing ran, no folder made
    with pytest.raises(SweepError):  # the API refuses the same way before running anything
        run_sweep(load_sweep(path), runs)
    assert not runs.exists()


@pytest.mark.parametrize("address", ["tcp://", "nonsense", "tcp://host:port", "x" * 5000])
def test_a_malformed_scheduler_address_is_refused(tmp_path, capsys, monkeypatch, address):
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "runs"))
    path = write_sweep(tmp_path, {"epochs": [1]})
    err = refused(capsys, [str(path), "--scheduler", address], "--scheduler=")
    assert len(err) < 300 and not (tmp_path / "runs").exists()


def test_an_unwritable_full_or_read_only_runs_folder_is_one_line(tmp_path, capsys, monkeypatch):
    path = write_sweep(tmp_path, {"epochs": [1]})
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("RUNS_DIR", str(blocker / "runs"))  # under a file: cannot be made
    refused(capsys, [str(path)], "cannot write in the runs folder")
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "runs"))
    for code, text in (
        (errno.ENOSPC, "No space left on device"),
        (errno.EROFS, "Read-only file system"),
    ):

        def full(*args, code=code, text=text, **kwargs):
            raise OSError(code, text)

        monkeypatch.setattr("lab3.sweep.drive.open", full, raising=False)
        refused(capsys, [str(path)], "cannot write in the runs folder", text)
    monkeypatch.undo()
    if os.geteuid() != 0:  # root writes anywhere: only a real user sees a read-only folder
        (tmp_path / "ro").mkdir(mode=0o555)
        monkeypatch.setenv("RUNS_DIR", str(tmp_path / "ro"))
        refused(capsys, [str(path)], "cannot write in the runs folder")


# ----------------------------------------------------------------------------------------------
# One run's decisions, with a stand-in for papermill (no kernel)
# ----------------------------------------------------------------------------------------------


def one_plan(tmp_path, **fixed):
    sweep = validate(load_sweep(write_sweep(tmp_path, {"epochs": [1]}, fixed or None)))
    return plan_runs(sweep, tmp_path / "runs")[0]


def fake_papermill(monkeypatch, behaviour):
    """papermill.execute_notebook replaced: ``behaviour(call_number, kwargs)`` decides."""
    calls = []

    def execute_notebook(notebook, output, parameters, **kwargs):
        calls.append(kwargs)
        Path(output).write_text("{}")
        behaviour(len(calls), kwargs)
        Path(parameters["results_path"]).write_text(
            json.dumps({"parameters": {"epochs": 1}, "status": "ok", "final_loss": 0.5})
        )

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    monkeypatch.setattr(execute_module.time, "sleep", lambda seconds: None)
    return calls


def test_a_kernel_that_fails_to_start_is_tried_again_with_tenacity(tmp_path, monkeypatch):
    def flaky(n, kwargs):
        if n <= 2:
            raise RuntimeError("Kernel died before replying to kernel_info")

    calls = fake_papermill(monkeypatch, flaky)
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    plan = one_plan(tmp_path)
    data = execute_run(plan, FIXTURE, retries=2)
    assert data["status"] == OK and data["attempts"] == 3
    assert all(c["kernel_name"] == "lab3" and c["progress_bar"] is False for c in calls)
    calls.clear()
    plan.metrics_path.unlink()
    data = execute_run(plan, FIXTURE, retries=1)
    assert data["status"] == FAILED and data["attempts"] == 2
    assert data["error"] == "RuntimeError: Kernel died before replying to kernel_info"
    assert metrics_of(plan.folder)["status"] == FAILED


def test_a_kernel_that_dies_during_the_run_is_failed_once_not_retried(tmp_path, monkeypatch):
    from nbclient.exceptions import DeadKernelError

    def dies(n, kwargs):
        kwargs["on_cell_start"](cell=None, cell_index=0)  # a cell started: the kernel was up
        raise DeadKernelError("Kernel died")

    calls = fake_papermill(monkeypatch, dies)
    data = execute_run(one_plan(tmp_path), FIXTURE, retries=2)
    assert len(calls) == 1 and data["status"] == FAILED and data["attempts"] == 1
    assert "the kernel died during the run" in data["error"]


def test_a_run_past_its_timeout_is_recorded_as_timeout(tmp_path, monkeypatch):
    from nbclient.exceptions import CellTimeoutError

    def hangs(n, kwargs):
        kwargs["on_cell_start"](cell=None, cell_index=0)
        assert 0 < kwargs["timeout_func"](None) <= 7  # each cell gets what is left of 7 s
        raise CellTimeoutError("A cell timed out while it was being executed, after 7 seconds.")

    calls = fake_papermill(monkeypatch, hangs)
    plan = one_plan(tmp_path)
    data = execute_run(plan, FIXTURE, retries=2, timeout=7)
    assert len(calls) == 1 and data["status"] == TIMEOUT
    assert data["error"] == "TimeoutError: the run took longer than 7 s (--timeout) and was stopped"
    assert metrics_of(plan.folder)["status"] == TIMEOUT


def test_a_run_locked_by_another_sweep_is_not_run_twice(tmp_path, monkeypatch):
    calls = fake_papermill(monkeypatch, lambda n, kwargs: None)
    plan = one_plan(tmp_path)
    plan.folder.mkdir(parents=True)
    with open(plan.folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another sweep is running it
        assert execute_run(plan, FIXTURE) == {"status": "busy"}
        # meanwhile the other sweep finishes it
        plan.metrics_path.write_text(
            json.dumps({"parameters": plan.expected, "status": "ok", "final_loss": 0.25})
        )
    data = execute_run(plan, FIXTURE, wait=True)
    assert data["final_loss"] == 0.25 and data["reused"] and not calls


class _OtherSweepHoldsTheFirstRun(cf.Executor):
    """Runs ``execute_run`` for real, except that the first run's lock is held elsewhere once."""

    def __init__(self):
        self.calls = []

    def submit(self, fn, plan, notebook, wait=False, **options):
        self.calls.append((plan.parameters["epochs"], wait))
        future = cf.Future()
        if plan.parameters["epochs"] == 1 and not wait:
            future.set_result({"status": "busy"})
        else:
            future.set_result(
                {
                    "parameters": plan.expected,
                    "status": "ok",
                    "final_loss": 0.5,
                    "reused": plan.parameters["epochs"] == 1,
                }
            )
        return future


def test_a_run_another_sweep_holds_is_requeued_then_waited_for_and_reused(tmp_path):
    path = write_sweep(tmp_path, {"epochs": [1, 2, 3]}, name="two")
    executor = _OtherSweepHoldsTheFirstRun()
    records = run_sweep(
        load_sweep(path), tmp_path / "runs", jobs=1, executor=executor, progress=False
    )
    assert executor.calls == [(1, False), (2, False), (3, False), (1, True)]
    assert [r.status for r in records] == [OK, OK, OK]
    assert [r.executed for r in records] == [False, True, True]  # the other sweep ran it


class _Stuck(cf.Executor):
    """An executor whose runs never finish (a cluster whose scheduler went away)."""

    def submit(self, fn, *args, **kwargs):
        return cf.Future()


def test_a_lost_scheduler_ends_the_sweep_with_its_runs_recorded(tmp_path):
    path = write_sweep(tmp_path, {"epochs": [1, 2, 3]}, name="lost")
    answers = iter([None, "lost the Dask scheduler at tcp://x:1"])
    start = time.monotonic()
    with pytest.raises(ExecutorLost, match="lost the Dask scheduler"):
        run_sweep(
            load_sweep(path),
            tmp_path / "runs",
            jobs=2,
            executor=_Stuck(),
            progress=False,
            health=lambda: next(answers),
        )
    assert time.monotonic() - start < 10
    rows = load_results(tmp_path / "runs" / "lost")
    assert [r["status"] for r in rows] == [NOT_RUN] * 3
    assert all("lost the Dask scheduler" in r["error"] for r in rows)


def test_an_unknown_papermill_parameter_is_refused():
    known = ["epochs", "learning_rate", "results_path"]
    history = ["import lab3", "epochs = 5  # passes", "# Parameters\nlearnig_rate = 0.5\n"]
    with pytest.raises(ValueError) as error:
        refuse_unknown_parameters(known, history)
    assert str(error.value).startswith("parameter='learnig_rate' is not allowed: one of")
    assert "(did you mean 'learning_rate'?)" in str(error.value)
    refuse_unknown_parameters(known, ["# Parameters\nepochs = 3\nresults_path = 'r.json'\n"])
    refuse_unknown_parameters(known, [])  # not run by papermill: nothing to check
    refuse_unknown_parameters(known)  # not in IPython at all


# ----------------------------------------------------------------------------------------------
# Real kernels: a run that hangs or dies, signals, papermill's -p (slow)
# ----------------------------------------------------------------------------------------------

FAULTS = (
    "import os, time\n"
    "if epochs == 2:\n    time.sleep(600)  # hangs\n"
    "if epochs == 3:\n    os._exit(1)  # the kernel dies"
)


@pytest.mark.slow
def test_a_hung_run_times_out_and_a_dying_kernel_is_failed_once(tmp_path):
    notebook = fixture_with(tmp_path, FAULTS)
    path = write_sweep(tmp_path, {"epochs": [1, 2, 3]}, name="faults", notebook=notebook)
    start = time.monotonic()
    ok, hung, died = run_sweep(
        load_sweep(path), tmp_path / "runs", jobs=2, progress=False, timeout=8
    )
    assert time.monotonic() - start < 60
    assert (ok.status, hung.status, died.status) == (OK, TIMEOUT, FAILED)
    assert "took longer than 8 s" in hung.error
    assert died.attempts == 1 and "died" in died.error.lower(), died.error


def descendants(pid):
    return psutil.Process(pid).children(recursive=True)


def command_line(process):
    """``process``'s command line; "" once it has exited (a zombie too: exited, not reaped)."""
    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):  # ZombieProcess is a NoSuchProcess
        return ""


def still_running(processes, timeout=15):
    """Those of ``processes`` still running after ``timeout`` seconds (zombies count as exited)."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [command_line(p) for p in alive if command_line(p)]


def wait_until(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.slow
def test_sigterm_keeps_finished_runs_and_sigkill_leaves_no_process(tmp_path):
    notebook = fixture_with(tmp_path, FAULTS)
    path = write_sweep(tmp_path, {"epochs": [1, 2]}, name="sig", notebook=notebook)
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "lab3.sweep", str(path), "--jobs", "2", "--no-progress"]

    def start():
        return subprocess.Popen(
            command,
            env={**os.environ, "RUNS_DIR": str(runs)},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def hung_kernels_started(proc):
        return any("ipykernel" in command_line(p) for p in descendants(proc.pid))

    proc = start()
    wait_until(
        lambda: list(runs.glob("sig/epochs=1*/metrics.json")) and hung_kernels_started(proc),
        120,
        "the ok run did not finish",
    )
    children = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    rows = load_results(runs / "sig")
    assert [r["status"] for r in rows] == [OK, NOT_RUN]
    assert not still_running(children)

    proc = start()  # resumes: the ok runs are reused, the hanging ones start again
    wait_until(lambda: hung_kernels_started(proc), 120, "the hanging runs did not start")
    children = descendants(proc.pid)
    proc.kill()  # SIGKILL to the sweep only: its workers and kernels must follow
    proc.wait()
    assert not still_running(children)


@pytest.mark.slow
def test_papermill_with_an_unknown_parameter_stops_at_the_check_cell(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(
            str(FIXTURE),
            str(tmp_path / "out.ipynb"),
            kernel_name="lab3",
            parameters={"learnig_rate": 0.5, "epochs": 1},
            progress_bar=False,
            cwd=str(tmp_path),
        )
    assert error.value.ename == "ValueError"
    assert "parameter='learnig_rate' is not allowed" in error.value.evalue
    assert "did you mean 'learning_rate'?" in error.value.evalue


@pytest.mark.slow
def test_a_sweep_runs_on_dask_and_ends_when_its_scheduler_is_lost(tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as probe:  # a free port for the scheduler
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address, dask = f"tcp://127.0.0.1:{port}", str(Path(sys.executable).parent / "dask")
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
    )
    worker = subprocess.Popen(
        [dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"], **quiet
    )
    try:

        def listening():  # a refused port fails at once (issue 24): wait for the scheduler
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        wait_until(listening, 30, "the scheduler did not start")
        path = write_sweep(
            tmp_path, {"epochs": [1, 2]}, name="dask", notebook=fixture_with(tmp_path, FAULTS)
        )
        runs = tmp_path / "runs"
        monkeypatch.setenv("RUNS_DIR", str(runs))

        def lose_the_scheduler():  # once the first run is done, the second hangs
            wait_until(lambda: list(runs.glob("dask/epochs=1*/metrics.json")), 120, "no run")
            scheduler.kill()

        import threading

        threading.Thread(target=lose_the_scheduler, daemon=True).start()
        start = time.monotonic()
        assert main([str(path), "--scheduler", address, "--jobs", "2", "--no-progress"]) == 1
        assert time.monotonic() - start < 90
        assert "lost the Dask scheduler" in capsys.readouterr().err
        rows = load_results(runs / "dask")
        assert [r["status"] for r in rows] == [OK, NOT_RUN]  # the first ran on the cluster
        assert "lost the Dask scheduler" in rows[1]["error"]
    finally:
        for process in (worker, scheduler):
            process.kill()
            process.wait()
