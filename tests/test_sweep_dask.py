"""lab3.sweep on a Dask cluster under faults (issue 24): never wait in silence or forever.

First the decisions without a cluster (the worker watch, runs that end after the sweep stopped).
Then a real ``distributed`` scheduler and worker as separate processes on 127.0.0.1 (slow): the
dashboard's port, a web server that is not a scheduler, a refused port, SIGTERM while
connecting, a cluster without workers and a scheduler killed mid-sweep. Every process a test
starts is killed, with its children, when the test ends (also when it fails); every wait is
bounded.
"""

import http.server
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from test_sweep import ROOT, fixture_with, write_sweep
from test_sweep_faults import _Stuck, wait_until

from lab3.files import write_json
from lab3.sweep import (
    NOT_RUN,
    OK,
    cluster,
    drive,
    load_results,
    load_sweep,
    main,
    plan_runs,
    validate,
)
from lab3.sweep.execute import run_in_progress, run_lock
from lab3.sweep.plan import read_metrics

pytestmark = pytest.mark.heavy  # make test-heavy (and CI) run these, make test does not

pytest.importorskip("distributed")

DASK = str(Path(sys.executable).parent / "dask")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def stop(process):
    """Kill ``process`` and everything it started (a worker's nanny starts the worker)."""
    try:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(True)]
    except psutil.NoSuchProcess:
        family = []
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)
    process.wait(timeout=10)


class Cluster:
    """A scheduler (dashboard included) and ``workers`` one-thread workers on 127.0.0.1."""

    def __init__(self, workers=0):
        self.port, self.dashboard = free_port(), free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes = [
            subprocess.Popen(
                [
                    DASK,
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--dashboard-address",
                    f"127.0.0.1:{self.dashboard}",
                ],
                **quiet,
            )
        ]
        self.scheduler = self.processes[0]
        self.processes += [
            subprocess.Popen(
                [
                    DASK,
                    "worker",
                    self.address,
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                **quiet,
            )
            for _ in range(workers)
        ]
        wait_until(
            lambda: listening(self.port) and listening(self.dashboard),
            30,
            "the scheduler did not listen",
        )

    def stop(self):
        for process in reversed(self.processes):
            stop(process)


@pytest.fixture(scope="module")
def idle_cluster():
    """A scheduler whose workers are all gone (none was ever started: the same state)."""
    cluster = Cluster(workers=0)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def sweep_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "runs"))
    return write_sweep(tmp_path, {"epochs": [1, 2]}, name="dask")


def refused_within(capsys, argv, seconds):
    """main(argv) exits 2 within ``seconds`` with one line on stderr; that line."""
    start = time.monotonic()
    assert main(argv) == 2
    took = time.monotonic() - start
    err = capsys.readouterr().err
    assert took < seconds, f"took {took:.1f} s: {err}"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


# ----------------------------------------------------------------------------------------------
# Without a cluster: the worker watch, runs that end after the sweep stopped (fast)
# ----------------------------------------------------------------------------------------------


class _FakeClient:
    """Answers the watch's identity request with ``workers`` (None: the scheduler is gone)."""

    status = "running"

    def __init__(self):
        self.workers = 1
        self.scheduler = self  # client.scheduler.identity is what the watch asks

    def identity(self):
        pass

    def sync(self, function, **kwargs):
        if self.workers is None:
            raise OSError("Timed out trying to connect")
        return {"type": "Scheduler", "n_workers": self.workers}


def test_the_worker_watch_says_it_waits_then_gives_up(monkeypatch):
    now, said, client = [0.0], [], _FakeClient()
    monkeypatch.setattr(cluster.time, "monotonic", lambda: now[0])
    watch = cluster.WorkerWatch(client, "tcp://h:8786", worker_wait=100, say=said.append)

    def at(seconds, workers=0):
        now[0], client.workers = seconds, workers
        return watch()

    assert at(0, workers=1) is None and at(1) is None and at(5.5) is None and said == []
    assert at(6) is None  # 5 s without a worker
    assert said == [
        "lab3.sweep: waiting for workers: 0 connected to tcp://h:8786 for 5 s "
        "(giving up after 100 s, --worker-wait)"
    ]
    assert at(20) is None and len(said) == 1  # then every 30 s, not every second
    assert at(36) is None and len(said) == 2 and "for 35 s" in said[-1]
    assert at(40, workers=1) is None and at(41) is None  # a worker came back: counted anew
    assert at(140) is None and "for 99 s" in said[-1]
    assert at(141) == "no Dask worker connected to tcp://h:8786 for 100 s (--worker-wait 100)"
    client.workers = None
    assert "lost the Dask scheduler at tcp://h:8786" in watch()


def hold_locks(plans, finish_after, ok_after):
    """Hold each run's lock in a thread, as a worker does; the first writes ok metrics."""

    def execute(plan, seconds, ok):
        with run_lock(plan.folder, wait=False):
            time.sleep(seconds)
            if ok:
                write_json(
                    plan.metrics_path,
                    {"parameters": plan.expected, "status": OK, "final_loss": 0.5},
                )

    for plan in plans:
        plan.folder.mkdir(parents=True)
    threads = [
        threading.Thread(target=execute, args=(plans[0], ok_after, True), daemon=True),
        threading.Thread(target=execute, args=(plans[1], finish_after, False), daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


def test_runs_that_end_after_the_sweep_stopped_are_recorded_as_they_end(
    tmp_path, monkeypatch, capsys
):
    sweep = validate(load_sweep(write_sweep(tmp_path, {"epochs": [1, 2]}, name="late")))
    plans = plan_runs(sweep, tmp_path / "runs" / "late")
    monkeypatch.setattr(drive, "POLL_SECONDS", 0.1)  # the scheduler is found lost at once
    monkeypatch.setattr(drive, "LATE_RUNS_SECONDS", 2)
    threads = hold_locks(plans, finish_after=3, ok_after=1)  # the second outlasts the wait
    with pytest.raises(drive.ExecutorLost):
        drive.run_sweep(
            sweep,
            tmp_path / "runs",
            executor=_Stuck(),
            progress=False,
            health=lambda: "lost the Dask scheduler at tcp://h:1",
        )
    rows = load_results(tmp_path / "runs" / "late")
    assert [r["status"] for r in rows] == [OK, NOT_RUN]
    assert rows[0]["final_loss"] == 0.5
    assert rows[1]["error"].startswith(
        "still executing on a worker when the sweep stopped (lost the Dask scheduler"
    )
    err = capsys.readouterr().err
    assert "waiting up to 2 s for 2 run(s) still executing" in err
    assert "1 run(s) still executing, recorded as 'not run'" in err
    for thread in threads:
        thread.join(10)


# ----------------------------------------------------------------------------------------------
# Connecting: bounded whatever the far end does
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_dashboard_port_is_refused_in_bounded_time_naming_the_address(
    idle_cluster, sweep_file, capsys
):
    address = f"tcp://127.0.0.1:{idle_cluster.dashboard}"  # a web server that never answers
    err = refused_within(capsys, [str(sweep_file), "--scheduler", address], 30)
    assert address in err and "not a Dask scheduler" in err


def sweep_command(sweep_file, *options):
    return subprocess.Popen(
        [sys.executable, "-m", "lab3.sweep", str(sweep_file), *options],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def connected_to(process, port):
    try:
        return any(
            c.raddr and c.raddr.port == port for c in psutil.Process(process.pid).net_connections()
        )
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
def test_sigterm_while_connecting_says_that_nothing_was_written(idle_cluster, sweep_file, tmp_path):
    process = sweep_command(sweep_file, "--scheduler", f"tcp://127.0.0.1:{idle_cluster.dashboard}")
    try:
        wait_until(lambda: connected_to(process, idle_cluster.dashboard), 30, "no connection")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            stop(process)
    assert process.returncode == 130 and "Traceback" not in err, err
    assert "nothing was written" in err and "results.csv written" not in err, err
    assert not (tmp_path / "runs" / "dask").exists()


class _BadRequest(http.server.BaseHTTPRequestHandler):
    """A web server that answers anything that is not HTTP at once, as most servers do."""

    def handle_one_request(self):
        self.request.recv(4096)
        self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_a_web_server_is_named_as_not_a_scheduler(sweep_file, capsys):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BadRequest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"tcp://127.0.0.1:{server.server_address[1]}"
        err = refused_within(capsys, [str(sweep_file), "--scheduler", address], 15)
    finally:
        server.shutdown()
        server.server_close()
    assert address in err and "not a Dask scheduler" in err
    assert "allocate" not in err  # not numpy reading the web page as a message of 3 EiB


@pytest.mark.slow
def test_a_refused_port_fails_at_once(sweep_file, capsys):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    err = refused_within(capsys, [str(sweep_file), "--scheduler", address], 5)
    assert address in err and "refused" in err


# ----------------------------------------------------------------------------------------------
# Running: no worker, a lost scheduler
# ----------------------------------------------------------------------------------------------


def read_lines(stream, lines):
    """Append (seconds since now, line) for each line of ``stream`` (in a thread)."""
    start = time.monotonic()
    for line in stream:
        lines.append((time.monotonic() - start, line))


@pytest.mark.slow
def test_without_workers_the_sweep_says_it_waits_then_gives_up(idle_cluster, sweep_file, tmp_path):
    lines = []
    process = sweep_command(
        sweep_file, "--no-progress", "--scheduler", idle_cluster.address, "--worker-wait", "6"
    )
    try:
        reader = threading.Thread(target=read_lines, args=(process.stderr, lines), daemon=True)
        reader.start()
        assert process.wait(timeout=60) == 1
        reader.join(10)
    finally:
        if process.poll() is None:
            stop(process)
    waiting = [(at, line) for at, line in lines if "waiting for workers: 0 connected" in line]
    assert waiting and waiting[0][0] < 30, lines
    assert any(
        "no Dask worker connected" in line and "--worker-wait 6" in line for _, line in lines
    ), lines
    rows = load_results(tmp_path / "runs" / "dask")
    assert [r["status"] for r in rows] == [NOT_RUN] * 2
    assert all("no Dask worker" in r["error"] for r in rows)


SLOW_SECOND_RUN = (
    "import pathlib, time\n"
    "if epochs == 2:  # tells the test it runs, then is still running when the scheduler dies\n"
    "    pathlib.Path(results_path).with_name('started').touch()\n"
    "    time.sleep(10)"
)


@pytest.mark.slow
def test_after_the_scheduler_is_killed_results_match_the_runs_metrics(
    tmp_path, monkeypatch, capsys
):
    path = write_sweep(
        tmp_path, {"epochs": [1, 2]}, name="dask", notebook=fixture_with(tmp_path, SLOW_SECOND_RUN)
    )
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs))
    cluster = Cluster(workers=1)
    try:

        def kill_the_scheduler_once_the_second_run_sleeps():
            wait_until(lambda: list(runs.glob("dask/epochs=2*/started")), 90, "no second run")
            cluster.scheduler.kill()

        threading.Thread(target=kill_the_scheduler_once_the_second_run_sleeps, daemon=True).start()
        assert (
            main([str(path), "--scheduler", cluster.address, "--jobs", "2", "--no-progress"]) == 1
        )
        assert "lost the Dask scheduler" in capsys.readouterr().err
        plans = plan_runs(validate(load_sweep(path)), runs / "dask")
        # the worker goes on without its scheduler: let it end its run before comparing
        wait_until(
            lambda: not any(run_in_progress(p.folder) for p in plans), 30, "a run still executing"
        )
    finally:
        cluster.stop()
    rows = {row["run_id"]: row for row in load_results(runs / "dask")}
    for plan in plans:
        metrics = read_metrics(plan.metrics_path)
        assert rows[plan.run_id]["status"] == (metrics["status"] if metrics else NOT_RUN)
    assert [rows[plan.run_id]["status"] for plan in plans] == [OK, OK]  # the second was waited for
