"""``make explore``: the playground alone as a web page, served by Voila on 127.0.0.1.

``python -m lab3.playground.serve [--port 8866]`` checks that the port is free (a busy one would
otherwise end in a traceback), takes the token from ``JUPYTER_TOKEN`` or makes a new one, prints
the address to open, and replaces itself with Voila serving ``app.ipynb``: the widget only, no
code shown (Voila strips the cells' sources). Loopback only, one fixed port, a token required:
the page runs code in a kernel on this machine.
"""

import argparse
import os
import secrets
import shutil
import socket
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.ipynb")
DEFAULT_PORT = 8866  # Voila's own default


def port_is_free(port, host="127.0.0.1"):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def voila_command(port, token):
    """The Voila command line that serves the app (``voila`` next to this Python)."""
    voila = Path(sys.executable).with_name("voila")
    program = str(voila) if voila.exists() else shutil.which("voila") or "voila"
    return [
        program,
        str(APP),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",
        f"--token={token}",
        "--strip_sources=True",
        "--show_tracebacks=False",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab3.playground.serve", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1")
    args = parser.parse_args(argv)
    if not (0 < args.port < 65536 and port_is_free(args.port)):
        print(
            f"make explore: port {args.port} on 127.0.0.1 is busy (another server?) or not a "
            f"port number; choose another with EXPLORE_PORT, e.g. make explore EXPLORE_PORT=8870",
            file=sys.stderr,
        )
        return 2
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    print(f"explore: open http://127.0.0.1:{args.port}/?token={token}", flush=True)
    print("explore: Ctrl-C stops the server", flush=True)
    command = voila_command(args.port, token)
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
