"""The lab3 course on a local JupyterHub with nbgrader's exchange: ``make classroom``.

``python -m lab3.handouts.hub [--students N] [--port P]`` (as root) sets up a throw-away classroom
on this machine and serves it on 127.0.0.1 until Ctrl-C:

* one Unix user per person (``<prefix>instructor``, ``<prefix>student1`` ...), each with a home of
  mode 0700 under the classroom folder, so nobody reads anybody else's files;
* the classroom's Python environment (``--env``, default /opt/lab3-classroom): a venv of a Python
  every user can run (Debian's /usr/bin/python3; the project's .venv is built on a Python under
  /root, which other users cannot open) with the three locks and lab3 itself installed, owned by
  root, so every student imports lab3 but cannot change it;
* nbgrader's exchange (``<dir>/exchange``, mode 1777: nbgrader's documented ``chmod ugo+rw``,
  plus the sticky bit, so no student can rename the course folder the instructor's release makes);
* the course root of ``make handouts-nbgrader`` copied into the instructor's home (the repository
  copy stays where it is), its lessons generated and released with nbgrader's own CLI, run as the
  instructor;
* JupyterHub (``classroom/jupyterhub_config.py``) with configurable-http-proxy from
  ``classroom/node_modules`` (``npm ci``), a shared-password login, the instructor as admin, and
  one single-user JupyterLab per person, started as that person's Unix user.

Everything it creates is listed in a manifest as it goes (``<dir>/lab3-classroom.json``); stopping
ends the hub, the proxy and every process of those users, deletes the users and the folder, and
nothing else. A run killed half-way is cleaned up by the next one from the same manifest. The
end-to-end test (tests/test_classroom_hub.py) and benchmarks/bench_classroom.py use ``Classroom``.
"""

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
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
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0"}
# nbgrader's instructor-only pages, switched off in the students' JupyterLab (they would only
# show errors there: a student has no course root).
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",)
INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list")


class ClassroomError(Exception):
    """What stops the classroom from starting, said so that the reader can fix it."""


# ----------------------------------------------------------------------------------------------
# Checks of the input and of the machine
# ----------------------------------------------------------------------------------------------


def validate_students(students):
    if isinstance(students, bool) or not isinstance(students, int) or not (
        1 <= students <= MAX_STUDENTS
    ):
        raise ClassroomError(
            f"students={students!r}: the number of student accounts must be a whole number from 1 "
            f"to {MAX_STUDENTS} (a larger class needs a cluster: docs/classroom.md)")
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
                f"e.g. make classroom HUB_PORT={port + 10}") from None
    return port


def validate_prefix(prefix):
    if not isinstance(prefix, str) or not NAME_PREFIX.fullmatch(prefix):
        raise ClassroomError(
            f"prefix={prefix!r}: user names start with it, so it must be 1-12 lower-case letters, "
            "digits or dashes, starting with a letter (e.g. 'lab3-')")
    return prefix


def require_root():
    if os.geteuid() != 0:
        raise ClassroomError(
            "the classroom creates one Unix user per person and starts each one's server as that "
            "user, which needs root: run it as root (sudo make classroom), e.g. in a container or "
            "a virtual machine of its own. Nothing was changed.")


def require_tools():
    missing = [tool for tool in ("node", "useradd", "userdel", "runuser") if not shutil.which(tool)]
    if missing:
        raise ClassroomError(
            f"{', '.join(missing)} not found on PATH: the classroom needs Node.js for "
            "configurable-http-proxy (Debian: apt-get install nodejs npm) and the shadow and "
            "util-linux tools to add users (Debian: passwd, util-linux)")
    if not os.access(PROXY, os.X_OK):
        raise ClassroomError(
            f"{PROXY.relative_to(REPO)} is missing: install the proxy with `npm ci --prefix "
            "classroom` (make classroom does)")


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
                f"make classroom CLASSROOM_PYTHON={DEFAULT_PYTHON}")
    done = subprocess.run([str(real), "-c", "import sys; print(sys.version_info >= (3, 11))"],
                          capture_output=True, text=True, timeout=30)
    if done.stdout.strip() != "True":
        raise ClassroomError(f"python={python!r}: lab3 needs Python 3.11 or newer")
    return real


# ----------------------------------------------------------------------------------------------
# The classroom's Python environment (shared, read-only for every user)
# ----------------------------------------------------------------------------------------------


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
        _run([str(python), "-m", "venv", "--without-pip", str(venv)], timeout=120)
    (env / "requirements.lock.txt").write_text(pins)
    # This process's pip installs into the venv (--python): the venv itself needs no pip.
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
          "--quiet", "-r", str(env / "requirements.lock.txt")], timeout=1200)


def _install_lab3(venv, log):
    log(f"classroom: installing lab3 from {REPO} into {venv} (not editable: a copy students read)")
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
          "--quiet", "--no-deps", "--force-reinstall", str(REPO)], timeout=600)
    kernel_env = [word for name, value in THREADS.items() for word in ("--env", name, value)]
    _run([str(venv / "bin" / "python"), "-m", "ipykernel", "install", "--sys-prefix", "--name",
          "lab3", "--display-name", "Python (lab3)", *kernel_env], timeout=120)


def _run(command, timeout, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if done.returncode != 0:
        raise ClassroomError(f"{' '.join(command)} failed (exit {done.returncode}):\n"
                             f"{(done.stdout + done.stderr)[-3000:]}")
    return done


# ----------------------------------------------------------------------------------------------
# The classroom itself
# ----------------------------------------------------------------------------------------------


@dataclass
class Classroom:
    """A throw-away classroom in ``folder``: its users, exchange and hub. ``remove()`` undoes it."""

    folder: Path = DEFAULT_DIR
    students: int = 3
    prefix: str = "lab3-"
    port: int = 8000
    env: Path = DEFAULT_ENV
    python: Path = None  # the classroom venv's python (ensure_environment)
    hub: subprocess.Popen = field(default=None, repr=False)
    settings: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.folder = Path(self.folder)
        validate_students(self.students)
        validate_prefix(self.prefix)
        self.env = Path(self.env)
        self.python = Path(self.python or self.env / "venv" / "bin" / "python")

    # -- names and places --------------------------------------------------------------------

    @property
    def instructor(self):
        return f"{self.prefix}instructor"

    @property
    def student_names(self):
        return [f"{self.prefix}student{i}" for i in range(1, self.students + 1)]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def exchange(self):
        return self.folder / "exchange"

    @property
    def state(self):  # the hub's own files: root only
        return self.folder / "hub"

    def home(self, user):
        return self.folder / "home" / user

    @property
    def course_root(self):
        return self.home(self.instructor) / COURSE_ID

    @property
    def bin(self):
        return self.python.parent

    # -- setting up --------------------------------------------------------------------------

    def create(self, course_root):
        """Users, homes, exchange, nbgrader's configuration and the course root: ready to release.

        A manifest left by a run that was killed is cleaned up first; a folder that is not ours
        (no manifest) is refused.
        """
        require_root()
        require_tools()
        course_root = Path(course_root)
        if not (course_root / "nbgrader_config.py").is_file():
            raise ClassroomError(
                f"course_root={str(course_root)!r} is not an nbgrader course root (no "
                "nbgrader_config.py): build it with make handouts-nbgrader")
        if self.folder.exists():
            if not (self.folder / MANIFEST).is_file():
                raise ClassroomError(
                    f"folder={str(self.folder)!r} exists and was not made by the classroom (no "
                    f"{MANIFEST}): choose another (CLASSROOM_DIR=...); nothing there is touched")
            print(f"classroom: cleaning up what a previous run left in {self.folder}")
            Classroom.from_manifest(self.folder).remove()
        for name in [self.instructor, *self.student_names]:
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                raise ClassroomError(
                    f"user {name!r} already exists and was not made by this classroom: choose "
                    "another prefix (CLASSROOM_PREFIX=...); no account was changed")
        self.folder.mkdir(parents=True, mode=0o755)
        self.folder.chmod(0o755)
        self._record(users=[])
        for folder, mode in ((self.state, 0o700), (self.folder / "home", 0o755),
                             (self.exchange, 0o1777)):
            folder.mkdir()
            folder.chmod(mode)
        for name in [self.instructor, *self.student_names]:
            self._add_user(name)
        self._write_nbgrader_config()
        shutil.copytree(course_root, self.course_root,
                        ignore=shutil.ignore_patterns("gradebook.db", ".lab3-build-*"))
        self.course_root.chmod(0o700)  # the solutions: the instructor's alone, even if home opens
        self._write_instructor_config()
        self._write_student_config()

    def _record(self, **changes):
        manifest = self.folder / MANIFEST
        record = json.loads(manifest.read_text()) if manifest.is_file() else {
            "folder": str(self.folder), "users": [], "env": str(self.env)}
        record.update(changes)
        manifest.write_text(json.dumps(record, indent=1))
        manifest.chmod(0o600)

    def _add_user(self, name):
        home = self.home(name)
        _run(["useradd", "--create-home", "--home-dir", str(home), "--user-group", "--shell",
              "/bin/bash", "--comment", "lab3 classroom (removed when it stops)", name], timeout=60)
        record = json.loads((self.folder / MANIFEST).read_text())
        self._record(users=record["users"] + [name])  # recorded at once: a crash still removes it
        home.chmod(0o700)

    def _owned_by(self, user, *paths):
        entry = pwd.getpwnam(user)
        for path in paths:
            for root, folders, files in os.walk(path):
                for name in [root, *(os.path.join(root, f) for f in folders + files)]:
                    os.chown(name, entry.pw_uid, entry.pw_gid)

    def _write_nbgrader_config(self):
        """Everyone's nbgrader settings (JUPYTER_CONFIG_PATH): the course and its exchange."""
        folder = self.folder / "etc" / "jupyter"
        folder.mkdir(parents=True)
        for path in (self.folder / "etc", folder):
            path.chmod(0o755)
        (folder / "nbgrader_config.py").write_text(
            "# Everyone's nbgrader settings in this classroom (written by lab3.handouts.hub).\n"
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {str(self.exchange)!r}\n")

    def _write_instructor_config(self):
        jupyter = self.home(self.instructor) / ".jupyter"
        jupyter.mkdir()
        (jupyter / "nbgrader_config.py").write_text(
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.root = {str(self.course_root)!r}\n")
        self._owned_by(self.instructor, jupyter, self.course_root)

    def _write_student_config(self):
        """Each student's JupyterLab without nbgrader's instructor pages."""
        for name in self.student_names:
            jupyter = self.home(name) / ".jupyter"
            (jupyter / "labconfig").mkdir(parents=True)
            (jupyter / "labconfig" / "page_config.json").write_text(json.dumps(
                {"disabledExtensions": {plugin: True for plugin in INSTRUCTOR_LAB_PLUGINS}}))
            (jupyter / "jupyter_server_config.json").write_text(json.dumps(
                {"ServerApp": {"jpserver_extensions": {
                    extension: False for extension in INSTRUCTOR_SERVER_EXTENSIONS}}}))
            self._owned_by(name, jupyter)

    # -- running commands as the classroom's users --------------------------------------------

    def user_environment(self):
        """The environment of every command and server of the classroom's users."""
        return {"PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                "JUPYTER_CONFIG_PATH": str(self.folder / "etc" / "jupyter"), **THREADS}

    def run_as(self, user, *command, cwd=None, timeout=300, check=True):
        """Run ``command`` as the Unix ``user`` (runuser) in ``cwd`` (default: their home)."""
        done = subprocess.run(
            # runuser from root's PATH (/usr/sbin): the user's PATH below does not have it.
            [shutil.which("runuser"), "-u", user, "--", *command], cwd=cwd or self.home(user),
            env=self.user_environment(), capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise ClassroomError(f"as {user}: {' '.join(command)} failed (exit "
                                 f"{done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
        return done

    def nbgrader(self, user, *args, timeout=300, check=True):
        """nbgrader's CLI as ``user``; the instructor's runs in the course root."""
        cwd = self.course_root if user == self.instructor else None
        return self.run_as(user, str(self.bin / "nbgrader"), *args, cwd=cwd, timeout=timeout,
                           check=check)

    def release(self, assignments):
        """nbgrader generate_assignment and release_assignment of ``assignments``, as the
        instructor: they appear in the exchange, for every student to fetch."""
        for name in assignments:
            self.nbgrader(self.instructor, "generate_assignment", name, "--force")
            self.nbgrader(self.instructor, "release_assignment", name, "--force")

    # -- the hub -------------------------------------------------------------------------------

    def start_hub(self, timeout=120):
        """Start JupyterHub (and, through it, the proxy); return once its API answers."""
        validate_port("port", self.port)
        ports = _free_ports(2)  # the hub's own API and the proxy's API, both on loopback
        self.settings = {
            "port": self.port, "hub_port": ports[0], "proxy_api_port": ports[1],
            "proxy": str(PROXY), "singleuser": str(self.bin / "jupyterhub-singleuser"),
            "state": str(self.state), "instructor": self.instructor,
            "students": self.student_names, "environment": self.user_environment(),
            "student_password": secrets.token_urlsafe(9),
            "instructor_password": secrets.token_urlsafe(30),
            "api_token": secrets.token_hex(32),
        }
        settings = self.state / "settings.json"
        settings.write_text(json.dumps(self.settings, indent=1))
        settings.chmod(0o600)
        log = (self.state / "jupyterhub.log").open("w")  # a file: a full pipe would block the hub
        self.hub = subprocess.Popen(
            [str(self.python), "-m", "jupyterhub", "-f", str(CONFIG)], cwd=self.state,
            env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8",
                 "LAB3_CLASSROOM_SETTINGS": str(settings)},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._record(hub_pid=self.hub.pid)
        wait_until(self._hub_answers, timeout, f"JupyterHub to answer on {self.url}/hub/api",
                   give_up=lambda: self.hub.poll() is not None, log=self.state / "jupyterhub.log")

    def _hub_answers(self):
        try:
            return self.api("GET", "/").status_code == 200
        except OSError:
            return False

    def api(self, method, path, **kwargs):
        """A request to the hub's REST API with the classroom's service token."""
        import requests

        return requests.request(
            method, f"{self.url}/hub/api{path}", timeout=30,
            headers={"Authorization": f"token {self.settings['api_token']}"}, **kwargs)

    def start_servers(self, users, timeout=300):
        """Start the single-user servers of ``users`` through the REST API; wait until all run."""
        for user in users:
            reply = self.api("POST", f"/users/{user}/server")
            if reply.status_code not in (201, 202):
                raise ClassroomError(f"starting {user}'s server: {reply.status_code} {reply.text}")
        pending = set(users)

        def all_ready():
            for user in list(pending):
                server = self.api("GET", f"/users/{user}").json().get("servers", {}).get("", {})
                if server.get("ready"):
                    pending.discard(user)
            return not pending

        wait_until(all_ready, timeout, f"the servers of {len(users)} users to be ready",
                   log=self.state / "jupyterhub.log")

    # -- stopping and removing -----------------------------------------------------------------

    def stop(self, timeout=60):
        """Stop the hub (which stops the servers and the proxy), then whatever is left of them."""
        record = json.loads((self.folder / MANIFEST).read_text())
        if self.hub:  # SIGTERM: JupyterHub stops the servers and the proxy, then exits
            self.hub.terminate()
            try:
                self.hub.wait(timeout)
            except subprocess.TimeoutExpired:
                self.hub.kill()
                self.hub.wait(10)
        elif record.get("hub_pid"):  # a run that was killed: its hub is not our child
            _terminate_if(record["hub_pid"], "jupyterhub", timeout)
        proxy_pid_file = self.state / "jupyterhub-proxy.pid"
        if proxy_pid_file.is_file():  # a hub killed hard leaves its proxy running
            _terminate_if(int(proxy_pid_file.read_text().strip() or 0), "configurable-http-proxy")
        for user in record["users"]:
            _terminate_user_processes(user)
        self.hub = None

    def remove(self):
        """Stop everything, then delete the users and the folder this classroom created."""
        manifest = self.folder / MANIFEST
        if not manifest.is_file():
            return
        self.stop()
        for user in json.loads(manifest.read_text())["users"]:
            with contextlib.suppress(KeyError):
                pwd.getpwnam(user)
                _run(["userdel", user], timeout=60)  # its group too (made by --user-group)
        shutil.rmtree(self.folder)

    @classmethod
    def from_manifest(cls, folder):
        record = json.loads((Path(folder) / MANIFEST).read_text())
        return cls(folder=folder, env=record["env"])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# ----------------------------------------------------------------------------------------------
# Waiting and stopping, each with a deadline
# ----------------------------------------------------------------------------------------------


def wait_until(condition, timeout, what, give_up=lambda: False, log=None, interval=0.25):
    """Poll ``condition`` until it is true; raise ``ClassroomError`` naming ``what`` after
    ``timeout`` seconds or when ``give_up()`` says it never will (with the tail of ``log``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        stopped = give_up()
        if stopped or time.monotonic() > deadline:
            reason = "it stopped" if stopped else f"timed out after {timeout} s"
            tail = Path(log).read_text(errors="replace")[-4000:] if log and Path(log).is_file() \
                else ""
            raise ClassroomError(f"waiting for {what}: {reason}\n{tail}")
        time.sleep(interval)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _terminate_if(pid, name, timeout=10):
    """Stop process ``pid`` if it is still ``name`` (a pid from a file may have been reused)."""
    import psutil

    with contextlib.suppress(psutil.Error, ValueError):
        process = psutil.Process(pid)
        if any(name in word for word in process.cmdline()):
            process.terminate()
            try:
                process.wait(timeout)
            except psutil.TimeoutExpired:
                process.kill()


def _terminate_user_processes(user):
    """End every process of the classroom's ``user`` (servers, kernels), by their ids."""
    import psutil

    with contextlib.suppress(KeyError):
        uid = pwd.getpwnam(user).pw_uid
        processes = [p for p in psutil.process_iter(["uids"]) if p.info["uids"].real == uid]
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process.terminate()
        _, alive = psutil.wait_procs(processes, timeout=10)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()


# ----------------------------------------------------------------------------------------------
# make classroom
# ----------------------------------------------------------------------------------------------


def assignments_with_exercises(course_root):
    """The lessons of the course root that have something to grade."""
    return sorted(path.parent.name for path in Path(course_root).glob("source/*/*.ipynb")
                  if '"grade": true' in path.read_text(encoding="utf-8"))


def greeting(classroom):
    students = ", ".join(classroom.student_names)
    return f"""
classroom: JupyterHub is serving the lab3 course on {classroom.url} (this machine only)
  instructor (admin, nbgrader's Formgrader):  {classroom.instructor}
      password: {classroom.settings['instructor_password']}
  students:  {students}
      shared password: {classroom.settings['student_password']}
  Log in at {classroom.url}/hub/login; a student finds the lessons under Nbgrader > Assignments.
  These passwords only guard a hub on 127.0.0.1 (JupyterHub's shared-password login, for local
  use); for a real class, see docs/classroom.md.
  Ctrl-C stops the hub and every server and removes the users and {classroom.folder}."""


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m lab3.handouts.hub",
        description="Serve the lab3 course on a local JupyterHub (127.0.0.1) with nbgrader's "
        "exchange, one Unix user per person, until Ctrl-C. Needs root.")
    parser.add_argument("--students", type=int, default=3, help="student accounts (default 3)")
    parser.add_argument("--port", type=int, default=8000, help="the hub's port (default 8000)")
    parser.add_argument("--course", default="handouts/nbgrader",
                        help="the nbgrader course root (default: handouts/nbgrader)")
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help=f"default {DEFAULT_DIR}")
    parser.add_argument("--env", default=str(DEFAULT_ENV),
                        help=f"the classroom's Python environment (default {DEFAULT_ENV})")
    parser.add_argument("--python", default=DEFAULT_PYTHON,
                        help="a Python 3.11+ every user can run, for that environment")
    parser.add_argument("--prefix", default="lab3-", help="of every user name (default lab3-)")
    args = parser.parse_args(argv)
    classroom = None
    try:
        require_root()
        require_tools()
        validate_port("port", args.port)
        python = ensure_environment(args.env, args.python)
        classroom = Classroom(folder=args.dir, students=args.students, prefix=args.prefix,
                              port=args.port, env=args.env, python=python)
        classroom.create(args.course)
        warn_if_repository_is_readable()
        classroom.release(assignments_with_exercises(args.course))
        classroom.start_hub()
        print(greeting(classroom), flush=True)
        classroom.hub.wait()  # until Ctrl-C (or the hub stops by itself)
        print("classroom: the hub stopped by itself; see its log above", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nclassroom: stopping", flush=True)
        return 0
    except ClassroomError as error:
        print(f"classroom: error: {error}", file=sys.stderr)
        return 2
    finally:
        if classroom is not None:
            classroom.remove()
            print(f"classroom: stopped; users and {classroom.folder} removed")


def warn_if_repository_is_readable():
    """The lessons' solutions are in this checkout: say so when other users can read it."""
    if REPO.stat().st_mode & 0o005:
        print(f"classroom: warning: other users can read this checkout ({REPO}), whose "
              "notebooks/ hold the solutions; before a real class run `chmod o-rwx "
              f"{REPO}` (the students' lab3 is a copy in the classroom's environment)",
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
