"""The classroom's constants, its error, and the checks of input and machine made before it
changes anything; running a command and waiting, each with a deadline."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "classroom" / "jupyterhub_config.py"
PROXY = REPO / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy"
LOCKS = ("requirements.txt", "requirements-nbgrader.txt", "requirements-hub.txt")  # later wins
COURSE_ID = "lab3"  # the course_id of the course root (lab3.handouts.nbgrader.CONFIG)
MANIFEST = "lab3-classroom.json"
DEFAULT_DIR = Path("/srv/lab3-classroom")
DEFAULT_ENV = Path("/opt/lab3-classroom")
DEFAULT_PYTHON = "/usr/bin/python3"
MAX_STUDENTS = 50  # a local classroom; a real class belongs on a cluster (docs/classroom.md)
NAME_PREFIX = re.compile(r"[a-z][a-z0-9-]{0,11}")  # + "student50" stays within useradd's 32
# One compute thread per kernel, as everywhere in lab3: the lessons print the same digits.
THREADS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}
# nbgrader's instructor-only pages, switched off in the students' JupyterLab (they would only
# show errors there: a student has no course root).
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",)
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)


class ClassroomError(Exception):
    """What stops the classroom from starting, said so that the reader can fix it."""


# ----------------------------------------------------------------------------------------------
# Checks of the input and of the machine
# ----------------------------------------------------------------------------------------------


def validate_students(students):
    if (
        isinstance(students, bool)
        or not isinstance(students, int)
        or not (1 <= students <= MAX_STUDENTS)
    ):
        raise ClassroomError(
            f"students={students!r}: the number of student accounts must be a whole number from 1 "
            f"to {MAX_STUDENTS} (a larger class needs a cluster: docs/classroom.md)"
        )
    return students


def validate_port(name, port):
    if isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535:
        raise ClassroomError(f"{name}={port!r}: a port must be a whole number from 1024 to 65535")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ClassroomError(
                f"{name}={port}: port {port} on 127.0.0.1 is busy (another hub?); choose another, "
                f"e.g. make classroom HUB_PORT={port + 10}"
            ) from None
    return port


def validate_prefix(prefix):
    if not isinstance(prefix, str) or not NAME_PREFIX.fullmatch(prefix):
        raise ClassroomError(
            f"prefix={prefix!r}: user names start with it, so it must be 1-12 lower-case letters, "
            "digits or dashes, starting with a letter (e.g. 'lab3-')"
        )
    return prefix


def require_root():
    if os.geteuid() != 0:
        raise ClassroomError(
            "the classroom creates one Unix user per person and starts each one's server as that "
            "user, which needs root: run it as root (sudo make classroom), e.g. in a container or "
            "a virtual machine of its own. Nothing was changed."
        )


def require_tools():
    missing = [tool for tool in ("node", "useradd", "userdel", "runuser") if not shutil.which(tool)]
    if missing:
        raise ClassroomError(
            f"{', '.join(missing)} not found on PATH: the classroom needs Node.js for "
            "configurable-http-proxy (Debian: apt-get install nodejs npm) and the shadow and "
            "util-linux tools to add users (Debian: passwd, util-linux)"
        )
    if not os.access(PROXY, os.X_OK):
        raise ClassroomError(
            f"{PROXY.relative_to(REPO)} is missing: install the proxy with `npm ci --prefix "
            "classroom` (make classroom does)"
        )


def require_python_for_everyone(python):
    """``python``'s real path, once every user can run it and it is Python 3.11 or newer."""
    found = shutil.which(str(python))
    if found is None:
        raise ClassroomError(f"python={python!r}: no such program")
    real = Path(found).resolve()
    for folder in [*reversed(real.parents)]:
        if not folder.stat().st_mode & 0o001:
            raise ClassroomError(
                f"python={python!r}: other users cannot run it ({folder} is mode "
                f"{folder.stat().st_mode & 0o777:o}): choose a Python every user can run, e.g. "
                f"make classroom CLASSROOM_PYTHON={DEFAULT_PYTHON}"
            )
    done = subprocess.run(
        [str(real), "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.stdout.strip() != "True":
        raise ClassroomError(f"python={python!r}: lab3 needs Python 3.11 or newer")
    return real


def run_checked(command, timeout, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if done.returncode != 0:
        raise ClassroomError(
            f"{' '.join(command)} failed (exit {done.returncode}):\n"
            f"{(done.stdout + done.stderr)[-3000:]}"
        )
    return done


def wait_until(condition, timeout, what, give_up=lambda: False, log=None, interval=0.25):
    """Poll ``condition`` until it is true; raise ``ClassroomError`` naming ``what`` after
    ``timeout`` seconds or when ``give_up()`` says it never will (with the tail of ``log``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        stopped = give_up()
        if stopped or time.monotonic() > deadline:
            reason = "it stopped" if stopped else f"timed out after {timeout} s"
            tail = (
                Path(log).read_text(errors="replace")[-4000:] if log and Path(log).is_file() else ""
            )
            raise ClassroomError(f"waiting for {what}: {reason}\n{tail}")
        time.sleep(interval)


def stop_on_signals():
    """Ctrl-C (SIGINT) and ``kill`` (SIGTERM) both end in the clean-up; SIGINT also when the
    classroom was started in the background, which starts it ignored."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
