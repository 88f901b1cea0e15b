"""``python -m lab3.handouts.hub`` (``make classroom``): serve the course until Ctrl-C."""

import argparse
import sys
from pathlib import Path

from lab3.handouts.hub.checks import (
    DEFAULT_DIR,
    DEFAULT_ENV,
    DEFAULT_PYTHON,
    REPO,
    ClassroomError,
    require_root,
    require_tools,
    stop_on_signals,
)
from lab3.handouts.hub.classroom import Classroom
from lab3.handouts.hub.environment import ensure_environment, remove_environment


def assignments_with_exercises(course_root):
    """The lessons of the course root that have something to grade."""
    return sorted(
        path.parent.name
        for path in Path(course_root).glob("source/*/*.ipynb")
        if '"grade": true' in path.read_text(encoding="utf-8")
    )


def greeting(classroom):
    students = ", ".join(classroom.student_names)
    return f"""
classroom: JupyterHub is serving the lab3 course on {classroom.url} (this machine only)
  instructor (admin, nbgrader's Formgrader):  {classroom.instructor}
      password: {classroom.settings["instructor_password"]}
  students:  {students}
      shared password: {classroom.settings["student_password"]}
  Log in at {classroom.url}/hub/login; a student finds the lessons under Nbgrader > Assignment List.
  These passwords only guard a hub on 127.0.0.1 (JupyterHub's shared-password login, for local
  use); for a real class, see docs/classroom.md.
  Ctrl-C stops the hub and every server and removes the users and {classroom.folder}."""


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m lab3.handouts.hub",
        description="Serve the lab3 course on a local JupyterHub (127.0.0.1) with nbgrader's "
        "exchange, one Unix user per person, until Ctrl-C. Needs root.",
    )
    parser.add_argument("--students", type=int, default=3, help="student accounts (default 3)")
    parser.add_argument("--port", type=int, default=8000, help="the hub's port (default 8000)")
    parser.add_argument(
        "--course",
        default="handouts/nbgrader",
        help="the nbgrader course root (default: handouts/nbgrader)",
    )
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help=f"default {DEFAULT_DIR}")
    parser.add_argument(
        "--env",
        default=str(DEFAULT_ENV),
        help=f"the classroom's Python environment (default {DEFAULT_ENV})",
    )
    parser.add_argument(
        "--python",
        default=DEFAULT_PYTHON,
        help="a Python 3.11+ every user can run, for that environment",
    )
    parser.add_argument("--prefix", default="lab3-", help="of every user name (default lab3-)")
    parser.add_argument(
        "--remove-env",
        action="store_true",
        help="remove the environment that an earlier run built in --env, and exit",
    )
    args = parser.parse_args(argv)
    if args.remove_env:
        return remove_env(args.env)
    classroom = None
    stop_on_signals()
    try:
        require_root()
        require_tools()
        python = ensure_environment(args.env, args.python)
        classroom = Classroom(
            folder=args.dir,
            students=args.students,
            prefix=args.prefix,
            port=args.port,
            env=args.env,
            python=python,
        )
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


def remove_env(env):
    """``make classroom-clean``: remove the classroom's environment; 2 when refused."""
    try:
        remove_environment(env)
        return 0
    except (ClassroomError, PermissionError) as error:
        print(f"classroom: error: {error}", file=sys.stderr)
        return 2


def warn_if_repository_is_readable():
    """The lessons' solutions are in this checkout: say so when other users can read it."""
    if REPO.stat().st_mode & 0o005:
        print(
            f"classroom: warning: other users can read this checkout ({REPO}), whose "
            "notebooks/ hold the solutions; before a real class run `chmod o-rwx "
            f"{REPO}` (the students' lab3 is a copy in the classroom's environment)",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main())
