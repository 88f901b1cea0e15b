"""Start `make lab` (or `make lab-student`) for a test, and stop it: shared by the server tests.

The real Makefile target runs (setup is already done, so make goes straight to `jupyter lab`) on a
free loopback port with a known token; its output goes to a log file in the test's folder.
"""

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


def start(target, tmp_path, *make_args, lab_args="--no-browser", wait=180):
    """Run `make target` with a fresh port and token; return (process, base URL, token, port).

    ``make_args`` are extra ``NAME=value`` words for make; ``lab_args`` goes to JupyterLab.
    """
    port, token = free_port(), secrets.token_hex(16)
    log = (tmp_path / f"{target}.log").open("w+")  # a file, not a pipe: a full pipe would block it
    process = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            target,
            f"LAB_PORT={port}",
            f"LAB_ARGS={lab_args}",
            *make_args,
        ],
        cwd=ROOT,
        env={**os.environ, "JUPYTER_TOKEN": token},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    while True:
        try:
            get(f"{base}/api/status?token={token}")
            return process, base, token, port
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                log.seek(0)
                pytest.fail(f"`make {target}` did not start JupyterLab:\n" + log.read())
            time.sleep(0.3)


def stop(process):
    """Stop make and the jupyter it started: they share the session's process group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=20)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def start_explore(port, token, log, wait=240):
    """`make explore` on ``port`` with ``token``, its output in the open file ``log``.

    Returns the process once the page answers with 200, or None (after stopping it) when it
    exits or ``wait`` seconds pass first. The browser test and benchmarks/bench_explore_browser.py
    both start the page this way.
    """
    process = subprocess.Popen(
        ["make", "--no-print-directory", "explore", f"EXPLORE_PORT={port}"],
        cwd=ROOT,
        env={**os.environ, "JUPYTER_TOKEN": token},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={token}", timeout=5):
                return process
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    stop(process)
    return None
