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

The modules: ``checks`` (constants, ``ClassroomError``, the checks made before anything changes,
commands and waits with deadlines), ``environment`` (the shared venv), ``classroom`` (users,
folders, nbgrader, the hub, stopping) and ``__main__`` (the command line). docs/classroom.md
says what it does for whom, and how to move the same configuration to a real hub.
"""

from lab3.handouts.hub.checks import (
    COURSE_ID,
    PROXY,
    REPO,
    ClassroomError,
    require_root,
    require_tools,
    stop_on_signals,
    wait_until,
)
from lab3.handouts.hub.classroom import Classroom
from lab3.handouts.hub.environment import ensure_environment

__all__ = [
    "COURSE_ID",
    "PROXY",
    "REPO",
    "Classroom",
    "ClassroomError",
    "ensure_environment",
    "require_root",
    "require_tools",
    "stop_on_signals",
    "wait_until",
]
