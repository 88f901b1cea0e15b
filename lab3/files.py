"""Write a file so that a reader sees all of it or none of it.

A run killed half-way (kill -9 included) must never leave a truncated ``metrics.json`` or
``results.csv`` that looks like a result. The content goes to a temporary file in the same folder,
is flushed to disk, then renamed over the target: ``os.replace`` is atomic on one filesystem.
"""

import json
import os
import tempfile
from pathlib import Path


def atomic_write(path, write, newline=None):
    """Call ``write(handle)`` on a temporary text file, then move it to ``path`` in one step.

    If ``write`` raises, the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False,
                                         newline=newline)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def write_json(path, data):
    """``data`` as indented JSON in ``path``, atomically."""
    atomic_write(path, lambda handle: json.dump(data, handle, indent=1))
