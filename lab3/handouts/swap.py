"""Put freshly built files into an output folder, deleting nothing the build did not write.

A build writes into a temporary folder next to its files (``staged``), then ``swap_in`` moves
them into ``out``. ``out/.lab3-handouts.json`` lists every file a build wrote, with its SHA-256:
the next build replaces or removes only those, and only while they are unchanged. A file the
build would write that someone else put there (or changed since: a student's work in the
notebook) stops the build before anything is touched; every other file in ``out`` survives.
"""

import hashlib
import json
import os
from pathlib import Path

from lab3.handouts.cells import HandoutError

MANIFEST = ".lab3-handouts.json"


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def files_under(folder):
    """Every file under ``folder``, as sorted POSIX paths relative to it."""
    folder = Path(folder)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def owned(out):
    """``{relative path: sha256}`` of the files an earlier build wrote to ``out`` (none: ``{}``)."""
    path = Path(out) / MANIFEST
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["files"])
    except (ValueError, KeyError, TypeError) as error:
        raise HandoutError(
            f"{path} is damaged ({error}): remove it and the files it listed, then build again"
        ) from error


def validate_out(out, planned):
    """Refuse (before anything is written) when building ``planned`` into ``out`` would
    overwrite or delete a file that an earlier build did not write, or that changed since."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise HandoutError(f"--out {out} is a file, not a folder")
    ours = owned(out)
    changed = [
        rel for rel, sha in ours.items() if (out / rel).is_file() and digest(out / rel) != sha
    ]
    foreign = [rel for rel in planned if (out / rel).exists() and rel not in ours]
    blocked = [
        rel
        for rel in planned
        if any((out / parent).is_file() for parent in Path(rel).parents if str(parent) != ".")
    ]
    for problem, files in (
        ("changed since the last build (your work?)", changed),
        ("not written by a handouts build", foreign),
        ("in the way: a file where a folder should be", blocked),
    ):
        if files:
            shown = ", ".join(str(out / f) for f in files[:5]) + (" ..." if len(files) > 5 else "")
            raise HandoutError(
                f"{len(files)} file(s) in {out} {problem}: {shown}. Nothing was "
                "written; move them away (or choose another --out) and build again"
            )
    return ours


def swap_in(staged, out, ours):
    """Move every file of ``staged`` into ``out``; remove the files of the last build (``ours``)
    that this one did not write, and the folders that leaves empty; write the manifest last."""
    staged, out = Path(staged), Path(out)
    written = files_under(staged)
    hashes = {rel: digest(staged / rel) for rel in written}
    for rel in sorted(set(ours) - set(written)):
        (out / rel).unlink(missing_ok=True)
        for parent in (out / rel).parents:  # only folders it leaves empty; never out itself
            if parent == out or any(parent.iterdir()):
                break
            parent.rmdir()
    for rel in written:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged / rel, out / rel)
    manifest = out / (MANIFEST + ".partial")
    manifest.write_text(json.dumps({"files": hashes}, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(manifest, out / MANIFEST)
    return written
