"""`make lab` starts JupyterLab on localhost with token authentication on.

The test runs the real target (setup is already done, so make goes straight to `jupyter lab`) on a
free loopback port with a known token, then asks the contents API with and without the token.
"""

import json
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


@pytest.fixture
def lab_server(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    log = (tmp_path / "lab.log").open("w+")  # a file, not a pipe: a full pipe would block the server
    process = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_PORT={port}", "LAB_ARGS=--no-browser"],
        cwd=ROOT, env={**os.environ, "JUPYTER_TOKEN": token},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get(f"{base}/api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("JupyterLab did not start:\n" + log.read())
                time.sleep(0.5)
        yield base, token
    finally:
        stop(process)


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


def test_make_lab_serves_the_notebooks_only_with_the_token(lab_server):
    base, token = lab_server
    status, body = get(f"{base}/api/contents?token={token}")
    names = {item["name"] for item in json.loads(body)["content"]}
    assert status == 200
    assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} <= names

    with pytest.raises(urllib.error.HTTPError) as refused:
        get(f"{base}/api/contents")
    assert refused.value.code == 403


def test_make_lab_listens_on_loopback_only():
    makefile = (ROOT / "Makefile").read_text()
    assert "--ServerApp.ip=127.0.0.1" in makefile
