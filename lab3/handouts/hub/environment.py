"""The classroom's Python environment: a venv every user can run, read-only for all but root."""

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

from lab3.handouts.hub.checks import (
    DEFAULT_ENV,
    DEFAULT_PYTHON,
    LOCKS,
    REPO,
    THREADS,
    ClassroomError,
    require_python_for_everyone,
    run_checked,
)


def merged_lock():
    """The three locks as one list of pins; a later lock's pin replaces an earlier one's."""
    pins = {}
    for lock in LOCKS:
        for line in (REPO / lock).read_text(encoding="utf-8").splitlines():
            requirement = line.split("#", 1)[0].strip()
            if requirement:
                name = re.split(r"[=<>!~ \[;]", requirement, maxsplit=1)[0]
                pins[re.sub(r"[-_.]+", "-", name).lower()] = requirement
    return "\n".join(sorted(pins.values())) + "\n"


def lab3_fingerprint():
    """A hash of what goes into lab3's wheel: a changed lesson check reinstalls it."""
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes())
    for path in sorted((REPO / "lab3").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode() + path.read_bytes())
    return digest.hexdigest()


def ensure_environment(env=DEFAULT_ENV, python=DEFAULT_PYTHON, log=print):
    """Build (or bring up to date) the classroom's venv in ``env``; return its python."""
    env = Path(env)
    python = require_python_for_everyone(python)
    env.mkdir(parents=True, exist_ok=True)
    env.chmod(0o755)
    with open(env / ".lock", "w") as lock:  # two builds at once would trample each other
        fcntl.flock(lock, fcntl.LOCK_EX)
        venv = env / "venv"
        pins, lab3 = merged_lock(), lab3_fingerprint()
        stamp = env / "installed.json"
        installed = json.loads(stamp.read_text()) if stamp.is_file() else {}
        old_umask = os.umask(0o022)  # every file readable by all, writable by root only
        try:
            if installed.get("pins") != pins or installed.get("python") != str(python):
                _install_packages(venv, python, pins, env, log)
                installed = {"python": str(python), "pins": pins}
                stamp.write_text(json.dumps(installed))
            if installed.get("lab3") != lab3:
                _install_lab3(venv, log)
                stamp.write_text(json.dumps({**installed, "lab3": lab3}))
        finally:
            os.umask(old_umask)
    return venv / "bin" / "python"


def _install_packages(venv, python, pins, env, log):
    log(f"classroom: installing the locked packages into {venv} (a few minutes the first time)")
    if not (venv / "bin" / "python").exists():
        run_checked([str(python), "-m", "venv", "--without-pip", str(venv)], timeout=120)
    (env / "requirements.lock.txt").write_text(pins)
    _pip(venv, "-r", str(env / "requirements.lock.txt"), timeout=1200)


def _install_lab3(venv, log):
    log(f"classroom: installing lab3 from {REPO} into {venv} (not editable: a copy students read)")
    _pip(venv, "--no-deps", "--force-reinstall", str(REPO), timeout=600)
    kernel_env = [word for name, value in THREADS.items() for word in ("--env", name, value)]
    run_checked(
        [
            str(venv / "bin" / "python"),
            "-m",
            "ipykernel",
            "install",
            "--sys-prefix",
            "--name",
            "lab3",
            "--display-name",
            "Python (lab3)",
            *kernel_env,
        ],
        timeout=120,
    )


def _pip(venv, *args, timeout):
    """``pip install args`` into ``venv`` by this process's pip (--python): the venv needs none."""
    python = str(venv / "bin" / "python")
    run_checked(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", *args],
        timeout=timeout,
    )


def remove_environment(env=DEFAULT_ENV, log=print):
    """Remove what ``ensure_environment`` made in ``env`` (its venv, stamp and lock file).

    Refused with a ``ClassroomError`` when ``env`` has no ``installed.json``: then lab3 did not
    build it, and nothing is deleted. Files someone else put there stay, and so does ``env``
    itself unless it is left empty. Returns True when something was removed.
    """
    env = Path(env)
    if not env.exists():
        log(f"classroom: no environment in {env}; nothing to remove")
        return False
    if not (env / "installed.json").is_file():
        raise ClassroomError(
            f"{env} has no installed.json, so lab3's classroom did not build it: "
            "nothing was removed (pass the folder that make classroom used, CLASSROOM_ENV=...)"
        )
    shutil.rmtree(env / "venv", ignore_errors=True)
    for made in ("installed.json", ".lock"):
        (env / made).unlink(missing_ok=True)
    if not any(env.iterdir()):
        env.rmdir()
    log(f"classroom: removed the environment in {env}")
    return True
