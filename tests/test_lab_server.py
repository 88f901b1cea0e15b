"""`make lab` and `make lab-student` start JupyterLab on loopback only, with token authentication.

Each test runs the real target (setup is already done, so make goes straight to `jupyter lab`) on
a free loopback port with a known token, then asks the running server: what it lists, what it
refuses without the token, on which addresses it listens, and whether it opens a terminal (the
instructor's lab does; the student's must not: a shell reaches the whole project). `make
lab-student` builds the student handouts into a temporary folder first (HANDOUTS=...), so the
repository is not touched.
"""

import json
import socket
import urllib.error
import urllib.request

import psutil
import pytest
from jupyter_lab import ROOT, get, start, stop

pytestmark = pytest.mark.slow  # each test starts a server


def status_of(url):
    try:
        return get(url)[0]
    except urllib.error.HTTPError as error:
        return error.code


def listening_addresses(port):
    """The local addresses on which some process listens on TCP ``port``."""
    return {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }


def other_addresses():
    """This machine's addresses that are not loopback (the ones a neighbour could reach)."""
    return [
        a.address
        for addresses in psutil.net_if_addrs().values()
        for a in addresses
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]


def assert_loopback_only(port):
    assert listening_addresses(port) == {"127.0.0.1"}
    for address in other_addresses():
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(2)
            s.connect((address, port))


def open_terminal(base, token):
    """The status of ``POST /api/terminals`` with the token (200: a shell was opened)."""
    request = urllib.request.Request(
        f"{base}/api/terminals",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def contents(base, token, path=""):
    return json.loads(get(f"{base}/api/contents/{path}?token={token}")[1])


def test_make_lab_serves_the_notebooks_on_loopback_only_with_the_token(tmp_path):
    process, base, token, port = start("lab", tmp_path)
    try:
        names = {item["name"] for item in contents(base, token)["content"]}
        assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} <= names
        assert status_of(f"{base}/api/contents") == 403
        assert open_terminal(base, token) == 200  # the request works, so a refusal means something
        assert_loopback_only(port)
    finally:
        stop(process)


def test_make_lab_student_serves_the_student_notebooks_and_no_solution(tmp_path):
    handouts = tmp_path / "handouts"
    process, base, token, port = start("lab-student", tmp_path, f"HANDOUTS={handouts}")
    try:
        lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
        names = {item["name"] for item in contents(base, token)["content"]}
        assert set(lessons) <= names and "notebooks" not in names
        first = contents(base, token, lessons[0])["content"]
        assert not any(
            {"solution", "instructor-only"} & set(c["metadata"].get("tags", []))
            for c in first["cells"]
        )
        for route in ("api/contents", "files"):
            assert status_of(f"{base}/{route}/notebooks/{lessons[0]}?token={token}") == 404
            for up in ("..%2F", "..%2F..%2F"):  # and no way up out of the student folder
                assert status_of(f"{base}/{route}/{up}notebooks%2F{lessons[0]}?token={token}") in (
                    403,
                    404,
                )
        assert status_of(f"{base}/api/contents") == 403
        assert open_terminal(base, token) == 404  # terminals are disabled: no shell
        assert_loopback_only(port)
    finally:
        stop(process)
