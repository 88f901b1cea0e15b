"""The classroom's start-up: JupyterHub, then N students' JupyterLab servers at once (N = 1, 5, 10).

For each N, a fresh classroom (lab3.handouts.hub, as `make classroom` makes it, nothing released):
the users are created, then timed: the hub from its start until its REST API answers (it starts
configurable-http-proxy on the way), and all N single-user servers, asked for at once through the
REST API as a class logging in together does, until the hub reports every one ready; and the
memory those idle servers take. Each run is removed before the next (users, processes, folder),
also on Ctrl-C or kill. Needs root and Node.js, like the classroom.

    sudo .venv/bin/python benchmarks/bench_classroom.py [--students 1 5 10]
    # prints one line per N, last: the summary
"""

import argparse
import pwd
import sys
import tempfile
import time
from pathlib import Path

from lab3.handouts.hub import (
    Classroom,
    ClassroomError,
    ensure_environment,
    require_root,
    require_tools,
    stop_on_signals,
)
from lab3.handouts.nbgrader import export

REPO = Path(__file__).resolve().parents[1]


def memory_per_server(room):
    """Mean resident memory (MB) of a student's processes: an idle JupyterLab, no kernel yet."""
    import psutil

    uids = {pwd.getpwnam(user).pw_uid for user in room.student_names}
    rss = sum(
        p.info["memory_info"].rss
        for p in psutil.process_iter(["uids", "memory_info"])
        if p.info["uids"].real in uids
    )
    return rss / len(uids) / 2**20


def measure(students, python, course, port):
    """(seconds to create the users, seconds until the hub answers, seconds until all ready,
    MB per idle server)."""
    room = Classroom(
        folder=Path("/srv/lab3-classroom-bench"),
        students=students,
        prefix="lab3b-",
        port=port,
        python=python,
    )
    try:
        began = time.monotonic()
        room.create(course)
        created = time.monotonic()
        room.start_hub()
        hub_up = time.monotonic()
        room.start_servers(room.student_names, timeout=60 + 30 * students)
        ready = time.monotonic()
        return created - began, hub_up - created, ready - hub_up, memory_per_server(room)
    finally:
        room.remove()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--port", type=int, default=8010, help="the hub's port (default 8010)")
    args = parser.parse_args(argv)
    stop_on_signals()  # Ctrl-C or kill still removes the classroom being measured
    try:  # `make bench` runs every script: here, one that cannot run says why and skips
        require_root()
        require_tools()
    except ClassroomError as error:
        print(f"bench_classroom: skipped: {error}")
        return 0
    try:
        python = ensure_environment()
        results = []
        with tempfile.TemporaryDirectory(prefix="lab3-bench-course-") as course:
            export(REPO / "notebooks", course, log=lambda *a: None)
            print(
                f"{'students':>8} {'users s':>8} {'hub s':>7} {'servers s':>10} "
                f"{'per server s':>13} {'MB/server':>10}"
            )
            for n in args.students:
                users, hub, servers, memory = measure(n, python, course, args.port)
                results.append((n, hub, servers))
                print(
                    f"{n:>8} {users:>8.1f} {hub:>7.1f} {servers:>10.1f} {servers / n:>13.2f} "
                    f"{memory:>10.0f}",
                    flush=True,
                )
    except ClassroomError as error:
        print(f"bench_classroom: {error}", file=sys.stderr)
        return 2
    print(
        "hub + all servers ready: "
        + ", ".join(
            f"N={n} {hub + servers:.1f} s (hub {hub:.1f} + servers {servers:.1f})"
            for n, hub, servers in results
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
