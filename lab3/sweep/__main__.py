"""``python -m lab3.sweep``: see ``lab3.sweep.cli``."""

import sys

if __name__ == "__main__":
    # Through the imported package, so that the worker processes (spawned, or on a Dask cluster)
    # find ``execute_run`` as ``lab3.sweep.execute.execute_run`` rather than in ``__main__``.
    from lab3.sweep.cli import main

    if "jsonschema" not in sys.modules:  # see lab3.sweep.execute.worker_setup: 2 s, unused
        sys.modules.setdefault("rfc3987_syntax", None)
    sys.exit(main())
