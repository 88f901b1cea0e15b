"""Hint tiers that widen only when the student's answer changes.

Each exercise's hints come in tiers, from vague to specific. The first wrong answer shows the
first tier; a *different* wrong answer shows one more; the same wrong answer checked again (the
cell run twice, a comment edited) stays where it was, so "check, check, check" never prints more
than the student has earned by trying. Answers are told apart by a fingerprint of what the
student's function returned (or raised) on the failing case.

No tier gives the code away: the last one names the idea of the key line, and the student writes
the line (``tests/test_exercise_hints.py`` scans every tier against the lessons' solutions).
"""

import hashlib

import numpy as np
import torch

WRONG_ANSWERS = {}  # exercise name -> fingerprints of its distinct wrong answers so far
HINTS = {}  # exercise name -> its hint tiers, as the last check gave them (for the tests)


def hint_tiers(hint):
    """``hint`` (a string, or a sequence of strings from vague to specific) as a tuple of tiers."""
    tiers = (hint,) if isinstance(hint, str) else tuple(hint)
    if not tiers or not all(isinstance(t, str) and t.strip() for t in tiers):
        raise ValueError(
            f"hint={hint!r} is not allowed: a non-empty string or a non-empty "
            "sequence of non-empty strings"
        )
    return tiers


def reset_hints(name=None):
    """Forget the wrong answers of exercise ``name`` (of every exercise if ``None``)."""
    if name is None:
        WRONG_ANSWERS.clear()
    else:
        WRONG_ANSWERS.pop(name, None)


def fingerprint(*parts):
    """A short digest of a wrong answer: the case, and what was returned or raised there."""
    digest = hashlib.sha256()
    for part in parts:
        _feed(digest, part)
    return digest.hexdigest()[:16]


def _feed(digest, value):
    if isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}[{len(value)}]".encode())
        for item in value:
            _feed(digest, item)
        return
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic, float, int)) and not isinstance(value, bool):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            array = np.ascontiguousarray(array, dtype=np.float64)
            digest.update(f"{array.shape}".encode() + array.tobytes())
            return
    digest.update(f"{type(value).__name__}:{value!r}".encode())


def hint_text(name, tiers, answer):
    """The hints a wrong ``answer`` (a fingerprint) earns: one tier per distinct wrong answer."""
    seen = WRONG_ANSWERS.setdefault(name, [])
    repeated = answer in seen
    if not repeated:
        seen.append(answer)
    shown = tiers[: len(seen)]
    if len(tiers) == 1:
        return f"Hint: {tiers[0]}"
    if len(shown) < len(tiers):
        more = (
            f"\n(hint {len(shown)} of {len(tiers)}: this answer was checked before; change it "
            "and check again for a more specific hint)"
            if repeated
            else f"\n(hint {len(shown)} of {len(tiers)}: check again after your next try for a "
            "more specific one)"
        )
    else:
        more = ""
    if len(shown) == 1:
        return f"Hint: {shown[0]}{more}"
    return "Hints:\n" + "\n".join(f"  {i}. {t}" for i, t in enumerate(shown, start=1)) + more
