"""Write a file so that a reader sees all of it or none of it.

A run killed half-way (kill -9 included) must never leave a truncated ``metrics.json`` or
``results.csv`` that looks like a result. The content goes to a temporary file in the same folder,
is flushed to disk, then renamed over the target: ``os.replace`` is atomic on one filesystem.

A path is checked before anything is written (``require_writable_file``): its folder must exist
and be writable, and if the path exists it must be a regular file. A typo in a folder name is
refused instead of creating folders, and a device, a FIFO or a folder is never replaced.
"""

import json
import math
import os
import stat
import tempfile
from pathlib import Path

from lab3.validation import require


def atomic_write(path, write, newline=None):
    """Call ``write(handle)`` on a temporary text file, then move it to ``path`` in one step.

    If ``write`` raises (a full disk included), the temporary file is removed and ``path`` is
    left as it was. ``ValueError`` (nothing written) if ``require_writable_file`` refuses ``path``.
    """
    path = Path(path)
    require_writable_file("path", path)
    handle = tempfile.NamedTemporaryFile(
        "w", dir=path.parent, suffix=".tmp", delete=False, newline=newline
    )
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # NamedTemporaryFile makes its file 0600; a result file gets the mode any new file gets.
        os.chmod(handle.name, 0o666 & ~current_umask())
        require_writable_file("path", path)  # still not a folder, device or FIFO
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def current_umask():
    """The process's umask (it can only be read by setting it, so set it back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def require_writable_file(name, path):
    """Refuse a ``path`` that exists but is not a regular file (a folder, a device, a FIFO, a
    socket), or whose folder is missing or not writable. ``ValueError`` naming ``name``.

    Checked up front by the callers that write at the end of a long run, so that a wrong path
    fails in a second, not after training; nothing is created here.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # missing (or unreadable): a new file is made beside it
    kind = next((kind for is_kind, kind in _KINDS if mode is not None and is_kind(mode)), None)
    require(kind is None, name, str(path), f"a regular file, but this is {kind}")
    folder = path.parent
    require(
        folder.is_dir(),
        name,
        str(path),
        f"a file in an existing folder, but the folder {str(folder)!r} does not exist",
    )
    require(
        os.access(folder, os.W_OK | os.X_OK),
        name,
        str(path),
        f"a file in a folder you can write, but {str(folder)!r} is not writable",
    )


def json_ready(value):
    """``value`` with every float NaN or infinity replaced by ``None``, which JSON has (null).

    JSON has no NaN: Python's ``json`` would write the non-standard ``NaN`` token, which other
    readers refuse. Dicts, lists and tuples are walked; anything else is returned as it is.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def write_json(path, data):
    """``data`` as indented, standard JSON in ``path``, atomically (NaN and infinity as null)."""
    text = json.dumps(json_ready(data), indent=1, allow_nan=False)  # fails before any file exists
    atomic_write(path, lambda handle: handle.write(text))
