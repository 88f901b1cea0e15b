"""The sweep's results: ``results.jsonl`` (every record, whole: the source of truth), its
``results.csv`` export, reading them back, and the terminal summary.

Both files are rewritten whole at the end of every invocation (atomically: a reader sees the old
file or the new one), and left untouched when nothing changed, so that ``make`` sees no new
results and does not rebuild the report. They respect the umask.
"""

import csv
import io
import json
from pathlib import Path

from lab3.sweep.records import (
    DIVERGED,
    FAILED,
    LEARNED_ACCURACY,
    LEARNED_BELOW,
    NOT_RUN,
    OK,
    RESULT_COLUMNS,
    STATUSES,
    TIMEOUT,
)

JSONL, CSV = "results.jsonl", "results.csv"
_FLOAT_COLUMNS = ("final_loss", "matrix_error", "train_seconds")
_TEXT_COLUMNS = ("run_id", "status", "error", "output")


def write_results(sweep_dir, records, parameter_names):
    """Write ``records`` (``RunRecord``s, grid order) to ``results.jsonl`` and ``results.csv``."""
    sweep_dir = Path(sweep_dir)
    lines = "".join(json.dumps(r.to_json(), allow_nan=True) + "\n" for r in records)
    _write_text(sweep_dir / JSONL, lines)
    write_results_csv(sweep_dir / CSV, records, parameter_names)


def write_results_csv(path, records, parameter_names=None):
    """Write ``records`` (``RunRecord`` or row dicts) to ``path`` (atomically), one row each.

    Columns: ``parameter_names`` (default: those of the first row, in order), then
    ``RESULT_COLUMNS``. Numbers, booleans and lists are written as JSON (``0.1``, ``true``,
    ``[3, 3]``), a missing value as an empty cell, a string as itself unless it would read back
    as something else (then as JSON, quoted), so that ``load_results`` gives back the same
    values and types.
    """
    rows = [r.row() if hasattr(r, "row") else dict(r) for r in records]
    if parameter_names is None:
        parameter_names = [k for k in (rows[0] if rows else {}) if k not in RESULT_COLUMNS]
    columns = list(parameter_names) + list(RESULT_COLUMNS)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(c, row.get(c)) for c in columns})
    _write_text(Path(path), text.getvalue())


def _write_text(path, text):
    """Write ``text`` atomically (mode 0666 minus the umask); skip it when unchanged."""
    from lab3.files import atomic_write

    if path.exists() and path.read_bytes() == text.encode():
        return  # unchanged: keep its time stamp
    atomic_write(path, lambda handle: handle.write(text), newline="")


def _cell(column, value):
    if value is None:
        return ""
    if column in _TEXT_COLUMNS:
        return str(value)
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value if value else '""'
        return json.dumps(value)
    return json.dumps(value)


def load_results(sweep_dir):
    """The rows of ``<sweep_dir>/results.csv`` (or of that file given directly) as typed dicts.

    Parameters come back as written (int, float, str, bool, list); ``final_loss``,
    ``matrix_error`` and ``train_seconds`` as floats, ``steps`` as an int, ``learned`` as a bool
    (None when the run did not finish); ``run_id``, ``status``, ``error`` and ``output`` as
    strings.
    """
    path = Path(sweep_dir)
    if path.is_dir():
        path = path / CSV
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [{column: _typed(column, text) for column, text in row.items()} for row in rows]


def _typed(column, text):
    if column in _TEXT_COLUMNS:
        return text
    if text == "":
        return None
    if column in _FLOAT_COLUMNS:
        return float(text)
    if column == "steps":
        return int(text)
    try:
        return json.loads(text)
    except ValueError:
        return text


def load_records(sweep_dir):
    """Every record of ``<sweep_dir>/results.jsonl`` (or that file) as one flat dict per run.

    Each dict has every parameter the run used, then ``run_id``, ``status``, ``learned``,
    ``error``, ``output``, ``swept`` (the names the sweep set) and, for an ok run, the metrics
    (``final_loss``, ``matrix_error``, ``steps``, ``epoch_loss``, ...). A missing value is
    absent or None; a line that is not a JSON object is skipped.
    """
    path = Path(sweep_dir)
    if path.is_dir():
        path = path / JSONL
    records = []
    with open(path) as handle:
        for line in handle:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                parameters = data.pop("parameters", None)
                records.append({**(parameters if isinstance(parameters, dict) else {}), **data})
    return records


def summarize(records):
    """A few lines for the terminal: counts per status, then every run that is not ok."""
    counts = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    executed = sum(r.executed for r in records)
    reused = len(records) - executed - counts.get(NOT_RUN, 0)
    lines = [
        f"{len(records)} runs ({executed} run now, {reused} reused): "
        + ", ".join(f"{counts[s]} {s}" for s in STATUSES if s in counts)
    ]
    unlearned = sum(r.learned is False for r in records)
    if unlearned:
        lines.append(
            f"  {unlearned} ok runs did not learn (the map: matrix error >= {LEARNED_BELOW}; "
            f"a classification task: accuracy < {LEARNED_ACCURACY}): see the learned column"
        )
    for r in records:
        if r.status in (DIVERGED, FAILED, TIMEOUT):
            lines.append(f"  {r.status:8} {r.run_id}: {r.error}\n           see {r.output}")
    not_run = counts.get(NOT_RUN, 0)
    if not_run:
        why = next((r.error for r in records if r.status == NOT_RUN and r.error), "")
        lines.append(
            f"  {not_run} runs not run{f' ({why})' if why else ''}; run the sweep again to do them"
        )
    return "\n".join(lines)


__all__ = ["write_results", "write_results_csv", "load_results", "load_records", "summarize", "OK"]
