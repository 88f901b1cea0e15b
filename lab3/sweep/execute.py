"""Executing one run, in a worker process: papermill, a fresh kernel, a lock, a time limit.

``execute_run`` runs in a worker (a spawned process of ``lab3.sweep.drive.process_pool``, or a
Dask worker). It takes the run's lock, executes the notebook into the run's folder and returns
what ``metrics.json`` holds. Only a kernel that never started is tried again (tenacity); a kernel
that dies during the run (``os._exit``, the OOM killer) is recorded once as failed.
"""

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

from lab3.sweep.plan import finished_metrics, read_metrics
from lab3.sweep.records import DIVERGED, FAILED, RESERVED, TIMEOUT, failure_data

KERNEL_NAME = "lab3"
DEFAULT_TIMEOUT = 600.0  # seconds per run; a default-sweep run takes about 5 s
BUSY = "busy"  # another sweep holds the run's lock: come back later


class KernelDidNotStart(Exception):
    """A kernel that never ran a cell: worth another try (tenacity retries only this)."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def execute_run(
    plan,
    notebook,
    kernel_name=KERNEL_NAME,
    retries=2,
    timeout=DEFAULT_TIMEOUT,
    wait=False,
    cwd=None,
):
    """Execute ``notebook`` with ``plan.parameters`` into ``plan.folder``; return its metrics.

    ``results_path`` is set to the run's ``metrics.json``, which the notebook writes last. When
    the notebook does not finish, this function writes that file itself: status ``diverged``
    (``DivergedError``), ``timeout`` (past ``timeout`` seconds, counted from the first cell; a
    kernel gets 60 s more to start) or ``failed``, with the error and the path of
    ``output.ipynb``. Returns the metrics dict plus
    ``attempts``; ``{"status": "busy"}`` without waiting when another sweep holds the run's lock
    (unless ``wait``); the other sweep's result when it finished the run meanwhile.
    """
    folder = Path(plan.folder)
    folder.mkdir(parents=True, exist_ok=True)
    with run_lock(folder, wait) as locked:
        if not locked:
            return {"status": BUSY}
        done = finished_metrics(plan)
        if done is not None:
            return {**done, "attempts": 0, "reused": True}  # another sweep ran it
        for stale in [plan.metrics_path, folder / "kernel.log", *folder.glob("*.tmp")]:
            stale.unlink(missing_ok=True)
        return _execute(plan, notebook, kernel_name, retries, timeout, cwd)


def _execute(plan, notebook, kernel_name, retries, timeout, cwd):
    import papermill
    import tenacity
    from nbclient.exceptions import CellTimeoutError

    attempts = []

    def attempt():
        attempts.append(time.monotonic())
        return _papermill_once(plan, notebook, kernel_name, timeout, cwd)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(KernelDidNotStart),
        stop=tenacity.stop_after_attempt(retries + 1),
        wait=tenacity.wait_random(0.5, 1.5),  # another kernel may have taken the port
        reraise=True,
    )
    expected = plan.expected or plan.parameters
    try:
        retrying(attempt)
    except papermill.PapermillExecutionError as error:
        status = DIVERGED if error.ename == "DivergedError" else FAILED
        return _failure(plan, expected, status, error.ename, error.evalue, len(attempts))
    except CellTimeoutError:
        return _failure(
            plan,
            expected,
            TIMEOUT,
            "TimeoutError",
            f"the run took longer than {timeout:g} s (--timeout) and was stopped",
            len(attempts),
        )
    except KernelDidNotStart as error:
        return _failure(
            plan,
            expected,
            FAILED,
            type(error.error).__name__,
            str(error.error) or repr(error.error),
            len(attempts),
        )
    except Exception as error:  # noqa: BLE001 - recorded, the other runs go on
        if isinstance(error.__context__, KeyboardInterrupt):
            raise  # Ctrl-C: stop, record nothing (the run is simply not done)
        from nbclient.exceptions import DeadKernelError

        detail = str(error) or repr(error)
        if isinstance(error, DeadKernelError):
            detail = f"the kernel died during the run (killed, out of memory, os._exit?): {detail}"
        return _failure(plan, expected, FAILED, type(error).__name__, detail, len(attempts))
    data = read_metrics(plan.metrics_path)
    if data is None:
        return _failure(
            plan,
            expected,
            FAILED,
            "MissingMetrics",
            f"the notebook finished without writing {plan.metrics_path.name} (does it "
            "save its metrics to results_path as its last action?)",
            len(attempts),
        )
    return {**data, "attempts": len(attempts)}


def _papermill_once(plan, notebook, kernel_name, timeout, cwd):
    """One papermill execution; a kernel that never reached a cell raises ``KernelDidNotStart``."""
    import papermill

    started, deadline = [], []

    def time_left(cell):  # nbclient asks before each cell; 0 or None would mean "no limit"
        if not deadline:  # counted from the first cell: the kernel's start has its own limit
            deadline.append(time.monotonic() + timeout)
        return max(deadline[0] - time.monotonic(), 0.01)

    try:
        with open(plan.folder / "kernel.log", "ab") as log:
            papermill.execute_notebook(
                str(notebook),
                str(plan.output),
                parameters={**plan.parameters, RESERVED: str(plan.metrics_path.resolve())},
                kernel_name=kernel_name,
                progress_bar=False,
                cwd=str(cwd or Path(notebook).parent),
                kernel_manager_class=logging_kernel_manager(log),
                start_timeout=60,
                timeout_func=time_left,
                on_cell_start=lambda **kw: started.append(True),
                request_save_on_cell_execute=False,  # one write at the end, not one per cell
                shutdown_kernel="immediate",
            )  # all outputs are in; metrics.json is synced
    except papermill.PapermillExecutionError:
        raise
    except Exception as error:
        if not started and kernel_failed_to_start(error):
            raise KernelDidNotStart(error) from error
        raise


def _failure(plan, expected, status, ename, evalue, attempts):
    data = failure_data(expected, status, ename, evalue, plan.output, attempts)
    record_failure(plan.metrics_path, data)
    return data


def record_failure(metrics_path, data):
    """Write a run's failure ``data`` to its ``metrics.json``. When even that fails (a full disk:
    the notebook may have written an ok result before its own output could not be saved), remove
    the file: an ok result never stands beside a notebook that was not saved whole."""
    from lab3.files import write_json

    try:
        write_json(metrics_path, data)
    except OSError:
        Path(metrics_path).unlink(missing_ok=True)


def kernel_failed_to_start(error):
    """True for the errors of a kernel that did not start (worth one more try).

    nbclient's ``DeadKernelError``; ``RuntimeError``/``TimeoutError`` about the kernel ("Kernel
    died before replying to kernel_info", "Kernel didn't respond in 60 seconds"); a ZMQ or OS
    error about a port already in use. Never an error raised by the notebook's own code
    (papermill reports those as ``PapermillExecutionError``). The caller also checks that no
    cell started: a kernel that dies mid-run is not retried.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if isinstance(error, CellTimeoutError):
        return False
    if isinstance(error, DeadKernelError):
        return True
    text = str(error).lower()
    if "address already in use" in text or "address in use" in text:
        return True
    zmq_error = type(error).__module__.startswith("zmq")
    return "kernel" in text and (
        zmq_error or isinstance(error, (RuntimeError, TimeoutError, OSError))
    )


def logging_kernel_manager(log):
    """A kernel manager class whose kernels write their own stdout/stderr to ``log``.

    A kernel inherits the worker's terminal otherwise, and its start-up warnings would be
    printed through the progress bar; in the run's ``kernel.log`` they are kept for debugging.
    The kernel exits when its worker dies: ipykernel polls its parent (``JPY_PARENT_PID``).
    """
    from jupyter_client.manager import AsyncKernelManager

    class LoggingKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggingKernelManager


@contextlib.contextmanager
def run_lock(folder, wait):
    """Hold ``folder/.lock`` (``flock``) while a run executes: two sweeps never run it twice.

    Yields False when another process holds it and ``wait`` is False. The lock goes with the
    process that holds it (``kill -9`` included). Without ``fcntl`` (Windows) there is no lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        yield True
        return
    with open(Path(folder) / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_in_progress(folder):
    """True while another process holds the run's lock, i.e. executes it (a Dask worker that
    goes on after the sweep stopped, another sweep); False when the run has no lock file."""
    if not (Path(folder) / ".lock").exists():
        return False
    with run_lock(folder, wait=False) as locked:
        return not locked


def worker_setup():
    """Run once in every worker process: start fast, and never outlive the sweep.

    * jsonschema imports the optional ``rfc3987_syntax`` when it is installed (jupyterlab brings
      it), which builds a Lark grammar: about 2 s of CPU per process, for a format check nbformat
      never makes. It is hidden here, only in the sweep's own processes.
    * The worker exits when its parent dies, even by SIGKILL: Linux's ``PR_SET_PDEATHSIG``
      sends it SIGTERM, and a thread polling the parent's pid covers other systems. Its kernel
      then exits too (ipykernel polls its own parent).
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # its import now raises ImportError
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent, every=1.0):
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)
