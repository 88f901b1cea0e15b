"""``Classroom``: users, homes, nbgrader's exchange and course root, the hub; and their removal."""

import contextlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from lab3.handouts.hub.checks import (
    CONFIG,
    COURSE_ID,
    DEFAULT_DIR,
    DEFAULT_ENV,
    INSTRUCTOR_LAB_PLUGINS,
    INSTRUCTOR_SERVER_EXTENSIONS,
    MANIFEST,
    PROXY,
    THREADS,
    ClassroomError,
    require_root,
    require_tools,
    run_checked,
    validate_port,
    validate_prefix,
    validate_students,
    wait_until,
)


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
    hub_log: object = field(default=None, repr=False)  # the hub's output: state/jupyterhub.log

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
                "nbgrader_config.py): build it with make handouts-nbgrader"
            )
        self._clean_up_a_killed_run()
        self._refuse_existing_users()
        self.folder.mkdir(parents=True, mode=0o755)
        self.folder.chmod(0o755)
        self._record(users=[])
        for folder, mode in (
            (self.state, 0o700),
            (self.folder / "home", 0o755),
            (self.exchange, 0o1777),
        ):
            folder.mkdir()
            folder.chmod(mode)
        for name in [self.instructor, *self.student_names]:
            self._add_user(name)
        self._write_nbgrader_config()
        shutil.copytree(
            course_root,
            self.course_root,
            ignore=shutil.ignore_patterns("gradebook.db", ".lab3-build-*"),
        )
        self.course_root.chmod(0o700)  # the solutions: the instructor's alone, even if home opens
        self._write_instructor_config()
        self._write_student_config()

    def _clean_up_a_killed_run(self):
        """Remove what an earlier run left in ``folder``; refuse a folder that is not ours."""
        if not self.folder.exists():
            return
        if not (self.folder / MANIFEST).is_file():
            raise ClassroomError(
                f"folder={str(self.folder)!r} exists and was not made by the classroom (no "
                f"{MANIFEST}): choose another (CLASSROOM_DIR=...); nothing there is touched"
            )
        print(f"classroom: cleaning up what a previous run left in {self.folder}")
        Classroom.from_manifest(self.folder).remove()

    def _refuse_existing_users(self):
        """A user name that exists (and is not in our manifest, now removed) is someone's."""
        for name in [self.instructor, *self.student_names]:
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                raise ClassroomError(
                    f"user {name!r} already exists and was not made by this classroom: choose "
                    "another prefix (CLASSROOM_PREFIX=...); no account was changed"
                )

    def _record(self, **changes):
        manifest = self.folder / MANIFEST
        record = (
            json.loads(manifest.read_text())
            if manifest.is_file()
            else {"folder": str(self.folder), "users": [], "env": str(self.env)}
        )
        record.update(changes)
        manifest.write_text(json.dumps(record, indent=1))
        manifest.chmod(0o600)

    def _add_user(self, name):
        home = self.home(name)
        # Recorded before it exists (the name was checked free): a crash at any point still
        # removes the user.
        record = json.loads((self.folder / MANIFEST).read_text())
        self._record(users=record["users"] + [name])
        run_checked(
            [
                "useradd",
                "--create-home",
                "--home-dir",
                str(home),
                "--user-group",
                "--shell",
                "/bin/bash",
                "--comment",
                "lab3 classroom (removed when it stops)",
                name,
            ],
            timeout=60,
        )
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
            f"c.Exchange.root = {str(self.exchange)!r}\n"
        )

    def _write_instructor_config(self):
        jupyter = self.home(self.instructor) / ".jupyter"
        jupyter.mkdir()
        (jupyter / "nbgrader_config.py").write_text(
            f"c = get_config()  # noqa: F821\nc.CourseDirectory.root = {str(self.course_root)!r}\n"
        )
        self._owned_by(self.instructor, jupyter, self.course_root)

    def _write_student_config(self):
        """Each student's JupyterLab without nbgrader's instructor pages."""
        for name in self.student_names:
            jupyter = self.home(name) / ".jupyter"
            (jupyter / "labconfig").mkdir(parents=True)
            (jupyter / "labconfig" / "page_config.json").write_text(
                json.dumps(
                    {"disabledExtensions": {plugin: True for plugin in INSTRUCTOR_LAB_PLUGINS}}
                )
            )
            (jupyter / "jupyter_server_config.json").write_text(
                json.dumps(
                    {
                        "ServerApp": {
                            "jpserver_extensions": {
                                extension: False for extension in INSTRUCTOR_SERVER_EXTENSIONS
                            }
                        }
                    }
                )
            )
            self._owned_by(name, jupyter)

    # -- running commands as the classroom's users --------------------------------------------

    def user_environment(self):
        """The environment of every command and server of the classroom's users."""
        return {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "JUPYTER_CONFIG_PATH": str(self.folder / "etc" / "jupyter"),
            **THREADS,
        }

    def run_as(self, user, *command, cwd=None, timeout=300, check=True):
        """Run ``command`` as the Unix ``user`` (runuser) in ``cwd`` (default: their home)."""
        done = subprocess.run(
            # runuser from root's PATH (/usr/sbin): the user's PATH below does not have it.
            [shutil.which("runuser"), "-u", user, "--", *command],
            cwd=cwd or self.home(user),
            env=self.user_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise ClassroomError(
                f"as {user}: {' '.join(command)} failed (exit "
                f"{done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
            )
        return done

    def nbgrader(self, user, *args, timeout=300, check=True):
        """nbgrader's CLI as ``user``; the instructor's runs in the course root."""
        cwd = self.course_root if user == self.instructor else None
        return self.run_as(
            user, str(self.bin / "nbgrader"), *args, cwd=cwd, timeout=timeout, check=check
        )

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
            "port": self.port,
            "hub_port": ports[0],
            "proxy_api_port": ports[1],
            "proxy": str(PROXY),
            "singleuser": str(self.bin / "jupyterhub-singleuser"),
            "state": str(self.state),
            "instructor": self.instructor,
            "students": self.student_names,
            "environment": self.user_environment(),
            "student_password": secrets.token_urlsafe(9),
            "instructor_password": secrets.token_urlsafe(30),
            "api_token": secrets.token_hex(32),
        }
        settings = self.state / "settings.json"
        settings.write_text(json.dumps(self.settings, indent=1))
        settings.chmod(0o600)
        # A file, not a pipe: a full pipe would block the hub.
        self.hub_log = (self.state / "jupyterhub.log").open("w")
        self.hub = subprocess.Popen(
            [str(self.python), "-m", "jupyterhub", "-f", str(CONFIG)],
            cwd=self.state,
            env={
                "PATH": os.environ["PATH"],
                "LANG": "C.UTF-8",
                "LAB3_CLASSROOM_SETTINGS": str(settings),
            },
            stdout=self.hub_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._record(hub_pid=self.hub.pid)
        wait_until(
            self._hub_answers,
            timeout,
            f"JupyterHub to answer on {self.url}/hub/api",
            give_up=lambda: self.hub.poll() is not None,
            log=self.state / "jupyterhub.log",
        )

    def _hub_answers(self):
        try:
            return self.api("GET", "/").status_code == 200
        except OSError:
            return False

    def api(self, method, path, **kwargs):
        """A request to the hub's REST API with the classroom's service token."""
        import requests

        return requests.request(
            method,
            f"{self.url}/hub/api{path}",
            timeout=30,
            headers={"Authorization": f"token {self.settings['api_token']}"},
            **kwargs,
        )

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

        wait_until(
            all_ready,
            timeout,
            f"the servers of {len(users)} users to be ready",
            log=self.state / "jupyterhub.log",
        )

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
        if self.hub_log:
            self.hub_log.close()
        self.hub, self.hub_log = None, None

    def remove(self):
        """Stop everything, then delete the users and the folder this classroom created."""
        manifest = self.folder / MANIFEST
        if not manifest.is_file():
            return
        self.stop()
        for user in json.loads(manifest.read_text())["users"]:
            with contextlib.suppress(KeyError):
                pwd.getpwnam(user)
                run_checked(["userdel", user], timeout=60)  # its group too (made by --user-group)
        shutil.rmtree(self.folder)

    @classmethod
    def from_manifest(cls, folder):
        record = json.loads((Path(folder) / MANIFEST).read_text())
        return cls(folder=folder, env=record["env"])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


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
