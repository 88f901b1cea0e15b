"""Write a file so that a reader sees all of it or none of it.

A run killed half-way (kill -9 included) must never leave a truncated ``metrics.json`` or
``results.csv`` that looks like a result. The content goes to a temporary file in the same folder,
is flushed to disk, then renamed over the target: ``os.replace`` is atomic on one filesystem.

A typo in a path must not leave a tree of new folders behind, so at most one is created: the
folder of ``path``, inside one that exists (``runs/r.json`` makes ``runs/``; ``a/b/r.json``
needs ``a/``).
"""

import json
import math
import os
import tempfile
from pathlib import Path

from lab3.validation import require


def atomic_write(path, write, newline=None):
    """Call ``write(handle)`` on a temporary text file, then move it to ``path`` in one step.

    If ``write`` raises, the temporary file is removed and ``path`` is left as it was.
    ``ValueError`` if ``path`` is a folder, or if its folder is missing and so is the folder's own
    folder (one missing level is created).
    """
    path = Path(path)
    require_writable_file("path", path)
    path.parent.mkdir(exist_ok=True)
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
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def current_umask():
    """The process's umask (it can only be read by setting it, so set it back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def require_writable_file(name, path):
    """Refuse a ``path`` that is a folder, or that ``atomic_write`` would need 2+ new folders for.

    ``ValueError`` naming ``name``; nothing is created here.
    """
    path = Path(path)
    require(not path.is_dir(), name, str(path), "a file name, but this is a folder")
    require(
        path.parent.is_dir() or path.parent.parent.is_dir(),
        name,
        str(path),
        f"a file in an existing folder, or in a new folder inside one, but neither "
        f"{str(path.parent)!r} nor {str(path.parent.parent)!r} exists",
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
