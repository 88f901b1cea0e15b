"""Running the sweep on a Dask cluster: connecting with a deadline, and watching its health.

``dask_executor(address)`` gives ``(client, executor, health)`` for ``run_sweep``. Nothing here
waits without a bound or in silence:

* Connecting is bounded by wall-clock time, whatever the far end does. distributed's own
  ``timeout=`` does not bound its handshake (a web server, such as the dashboard on port 8787,
  accepts the connection and never answers), so the scheduler is first asked for its identity
  inside ``asyncio.wait_for``, and each step runs in a thread with a deadline. A
  refused connection fails at once (distributed retries it until its timeout), and a far end
  that answers but is not a Dask scheduler is named as such.
* ``health()`` is asked by the sweep whenever no run finished for a second: it reports a lost
  scheduler, says on stderr when no worker is connected ("waiting for workers: 0 connected for
  35 s"), and gives up after ``worker_wait`` seconds without one (``--worker-wait``).
"""

import asyncio
import logging
import re
import socket
import sys
import threading
import time

from lab3.sweep.spec import SweepError, short

# tcp://host:port, tls://host:port, inproc://..., or host:port
_SCHEDULER = re.compile(r"((tcp|tls|ucx|ws|wss|inproc)://)?[A-Za-z0-9._\-\[\]:%/]+:\d{1,5}")
_OVER_TCP = ("tcp", "tls", "ws", "wss")  # schemes whose port can be tried with a plain socket

ANSWER_SECONDS = 10.0  # for a scheduler to accept, then answer (a real one takes milliseconds)
IDENTITY_SECONDS = 5.0  # for a connected scheduler to answer the sweep's health check
WORKER_WAIT = 300.0  # default --worker-wait: seconds without any worker before giving up
FIRST_NOTICE, NOTICE_EVERY = 5.0, 30.0  # when to say that the sweep waits for workers
_NOT_A_SCHEDULER = (
    "is not a Dask scheduler (the dashboard's port, usually 8787? the scheduler's is usually 8786)"
)


def dask_executor(address, worker_wait=WORKER_WAIT, say=None):
    """``(client, executor, health)`` for the Dask scheduler at ``address``.

    Raises ``SweepError`` (one line naming the address) within about ``ANSWER_SECONDS`` when
    the address is malformed, refused, silent or not a scheduler. ``health()`` is None while
    the cluster can run something, else a sentence: the sweep then stops instead of waiting
    forever for runs no worker will ever report. ``say`` prints the waiting notices (default:
    above the progress bar, on stderr).
    """
    if not isinstance(address, str) or not _SCHEDULER.fullmatch(address):
        raise SweepError(
            f"--scheduler={short(address)} is not allowed: a Dask scheduler "
            "address such as tcp://10.0.0.5:8786"
        )
    try:
        import distributed  # noqa: F401 - only to say what to install
    except ImportError:
        raise SweepError(
            "--scheduler needs Dask's distributed package: pip install -e .[cluster]"
        ) from None
    _check_port(address)
    _check_identity(address)
    client = _connect(address)
    health = WorkerWatch(client, address, worker_wait, say or _say)
    return client, client.get_executor(pure=False), health


def close_client(client):
    """Close ``client`` without distributed's misleading last words.

    A client whose scheduler died is trying to reconnect; closing it ends that loop, which then
    logs "Failed to reconnect to scheduler after 20.00 seconds" (its timeout, not the time it
    tried). The sweep has already said what happened.
    """
    client_log = logging.getLogger("distributed.client")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        client.close(timeout=IDENTITY_SECONDS)
    except Exception:  # noqa: BLE001 - closing a client whose scheduler is gone may fail
        pass
    finally:
        client_log.setLevel(level)


def _unreachable(address, why):
    return SweepError(f"cannot reach the Dask scheduler at {short(address)}: {why}")


def _check_port(address):
    """Fail at once when nothing listens there (distributed would retry for its whole timeout)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme not in _OVER_TCP:
        return
    host, port = parse_host_port(location)
    try:
        socket.create_connection((host, port), timeout=ANSWER_SECONDS).close()
    except ConnectionRefusedError:
        raise _unreachable(
            address, "connection refused (nothing listens on that port: is the scheduler running?)"
        ) from None
    except TimeoutError:
        raise _unreachable(address, f"no answer within {ANSWER_SECONDS:g} s") from None
    except OSError as error:  # unknown host, no route...
        raise _unreachable(address, short(str(error.strerror or error))) from None


def _check_identity(address):
    """Ask the far end who it is, within ``ANSWER_SECONDS``; raise unless it is a scheduler."""
    from distributed.core import rpc

    async def identity():
        async with rpc(address, timeout=ANSWER_SECONDS) as far_end:
            return await far_end.identity(n_workers=0)

    def ask():  # in a thread of its own: the caller may run an event loop (a notebook does)
        return asyncio.run(asyncio.wait_for(identity(), ANSWER_SECONDS))

    try:
        answer = _within(ANSWER_SECONDS + 1, ask)
    except TimeoutError:  # accepted the connection, never spoke Dask's protocol
        raise SweepError(
            f"{short(address)} accepted the connection but gave no Dask answer "
            f"within {ANSWER_SECONDS:g} s: it {_NOT_A_SCHEDULER}"
        ) from None
    except Exception:  # noqa: BLE001 - e.g. a web page read as a message of 3 EiB
        raise SweepError(
            f"{short(address)} answered, but not in Dask's protocol: it {_NOT_A_SCHEDULER}"
        ) from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        kind = answer.get("type") if isinstance(answer, dict) else None
        raise SweepError(
            f"{short(address)} {_NOT_A_SCHEDULER}" + (f": it is a Dask {kind}" if kind else "")
        )


def _connect(address):
    """``distributed.Client(address)`` within ``ANSWER_SECONDS`` of wall-clock time."""
    import distributed

    try:
        return _within(
            ANSWER_SECONDS,
            lambda: distributed.Client(address, timeout=f"{ANSWER_SECONDS}s"),
            discard=close_client,
        )
    except Exception as error:  # noqa: BLE001 - OSError, TimeoutError, ValueError...
        raise _unreachable(address, short(str(error) or type(error).__name__)) from None


def _within(seconds, function, discard=None):
    """``function()``'s value (or exception), or ``TimeoutError`` after ``seconds``.

    It runs in a daemon thread: a call that never returns leaves that thread behind, not the
    caller (nor the interpreter's exit). A value that comes too late is passed to ``discard``.
    """
    outcome, lock = {}, threading.Lock()  # the lock decides: in time, or too late

    def call():
        try:
            value = function()
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            value, outcome["error"] = None, error
        with lock:
            if "gave up" not in outcome:
                outcome["value"] = value
                return
        if discard is not None and value is not None:
            discard(value)

    thread = threading.Thread(target=call, name="lab3-dask-connect", daemon=True)
    thread.start()
    thread.join(seconds)
    with lock:
        if "error" in outcome:
            raise outcome["error"]
        if "value" in outcome:
            return outcome["value"]
        outcome["gave up"] = True
    raise TimeoutError(f"no answer within {seconds:g} s")


class WorkerWatch:
    """The sweep's ``health`` check on a Dask cluster (see the module's docstring)."""

    def __init__(self, client, address, worker_wait, say):
        self.client, self.address, self.worker_wait, self.say = client, address, worker_wait, say
        self.none_since = None  # monotonic time since when no worker is connected
        self.next_notice = FIRST_NOTICE

    def __call__(self):
        workers = self.workers()
        if workers is None:
            return (
                f"lost the Dask scheduler at {self.address} (client status: {self.client.status})"
            )
        if workers:
            self.none_since, self.next_notice = None, FIRST_NOTICE
            return None
        now = time.monotonic()
        self.none_since = self.none_since or now
        waited = now - self.none_since
        if waited >= self.worker_wait:
            return (
                f"no Dask worker connected to {self.address} for {waited:.0f} s "
                f"(--worker-wait {self.worker_wait:g})"
            )
        if waited >= self.next_notice:
            self.next_notice += NOTICE_EVERY
            self.say(
                f"lab3.sweep: waiting for workers: 0 connected to {self.address} for "
                f"{waited:.0f} s (giving up after {self.worker_wait:g} s, --worker-wait)"
            )
        return None

    def workers(self):
        """How many workers the scheduler has, or None when it does not answer."""
        if self.client.status not in ("running", "connecting"):
            return None
        try:
            identity = self.client.sync(
                self.client.scheduler.identity, n_workers=0, callback_timeout=IDENTITY_SECONDS
            )
        except Exception:  # noqa: BLE001 - any failure to answer counts as gone
            return None
        return int(identity.get("n_workers", 0))


def _say(text):
    from tqdm import tqdm

    tqdm.write(text, file=sys.stderr)  # above the progress bar, which is then redrawn
