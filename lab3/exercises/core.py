"""Checks for the lessons' exercises: compare a student's function with lab3's, kindly.

An exercise in a lesson is three cells, told apart by their tags:

* ``stub``: the prompt and a skeleton whose body raises ``NotImplementedError``;
* ``solution``: the instructor's working code (the student handout drops it);
* ``check``: one call to a ``check_*`` function of ``lab3.exercises`` (one module per lesson).

``check_function`` runs the student's function and a reference on the same few cases and prints
one ``correct: ...`` line when they agree. Otherwise it raises ``CheckFailed`` (an
``AssertionError``) that says what is wrong (an unfinished stub, an exception, a wrong shape, a
wrong number and where), in which case, and gives a hint.

Hints come in tiers, from vague to specific: the first failure of an exercise shows the first
tier only, each later failure of the same exercise one more, so a student who just made a slip is
not handed the formula. ``reset_hints()`` forgets the failures (tests call it; a fresh kernel
starts from zero anyway).

A ``CheckFailed`` carries ``_render_traceback_``, which IPython uses instead of its traceback: the
notebook shows the message (and, when the student's code raised, the frames of the student's
code), never a page of this package's source. Its printing is deterministic, so nbval can compare
it.
"""

import collections
import copy
import traceback
import types
from pathlib import Path

import numpy as np
import torch

NOT_DONE = "not done yet: fill in the cell above"
_HERE = Path(__file__).resolve().parent  # frames from here are the checks', not the student's

FAILURES = collections.Counter()  # exercise name -> failed checks so far (tiers shown = this + 1)
HINTS = {}  # exercise name -> its hint tiers, as the last check_function call gave them


class CheckFailed(AssertionError):
    """A check's verdict on a student's answer; IPython shows the message, not a traceback."""

    def _render_traceback_(self):
        """The lines IPython shows for this error (it calls this instead of formatting frames)."""
        lines = []
        if self.__cause__ is not None:  # the student's code raised: its frames help, ours do not
            lines = _student_traceback(self.__cause__)
        return lines + ([""] if lines else []) + [str(self)]


def _student_traceback(error):
    """``error``'s traceback without the frames of this package, formatted as IPython would."""
    kept = [
        tb
        for tb in _walk(error.__traceback__)
        if not Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(_HERE)
    ]
    chain = None
    for tb in reversed(kept):  # rebuild the chain from the student's frames only
        chain = types.TracebackType(chain, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    if chain is None:
        return []
    try:  # only ever called by IPython, so IPython is there; lab3 itself does not import it
        from IPython import get_ipython

        return get_ipython().InteractiveTB.structured_traceback(type(error), error, chain)
    except Exception:  # noqa: BLE001 -- any trouble formatting: fall back to the plain frames
        return [line.rstrip("\n") for line in traceback.format_exception(type(error), error, chain)]


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


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
    """Forget the failed checks of exercise ``name`` (of every exercise if ``None``)."""
    if name is None:
        FAILURES.clear()
    else:
        FAILURES.pop(name, None)


def _hint_text(name, tiers):
    """The hints the ``FAILURES[name] + 1``-th failure shows, and count that failure."""
    shown = tiers[: FAILURES[name] + 1]
    FAILURES[name] += 1
    if len(tiers) == 1:
        return f"Hint: {tiers[0]}"
    more = (
        (
            f"\n(hint {len(shown)} of {len(tiers)}: check again after your next try for a "
            "more specific one)"
        )
        if len(shown) < len(tiers)
        else ""
    )
    if len(shown) == 1:
        return f"Hint: {shown[0]}{more}"
    return "Hints:\n" + "\n".join(f"  {i}. {t}" for i, t in enumerate(shown, start=1)) + more


def check_function(
    name,
    candidate,
    reference,
    cases,
    hint,
    *,
    outputs=None,
    reference_name=None,
    rtol=1e-6,
    atol=1e-9,
):
    """Compare ``candidate(*args)`` with ``reference(*args)`` on every case; one line if right.

    Args:
        name: the student's function as the lesson names it, e.g. ``"my_relu_backward"``; the
            hint tiers are counted per name.
        candidate: the student's function.
        reference: a function of the same arguments returning the right answer.
        cases: a dict ``{description: args tuple}`` (or a list of args tuples). Each call gets its
            own deep copy of the arguments, so a function that updates them in place harms nothing.
        hint: a string, or a list of strings from vague to specific (the last may give the
            formula away): the first failure shows the first, each later failure one more.
        outputs: names of the returned values (``("da", "dW", "db")``); ``None`` for one value.
        reference_name: how to call the reference in messages (default: its ``__qualname__``).
        rtol, atol: numbers agree when ``|got - expected| <= atol + rtol * |expected|``.

    Raises:
        CheckFailed: (an ``AssertionError``) the candidate is unfinished, raised, or returned a
            wrong value; the message says what, where and gives the hint. An exception of the
            reference itself is not the student's fault and propagates unchanged.
    """
    __tracebackhide__ = True  # pytest hides this frame (IPython: see CheckFailed)
    tiers = hint_tiers(hint)
    HINTS[name] = tiers
    if not isinstance(cases, dict):
        cases = {f"case {i}": args for i, args in enumerate(cases, start=1)}
    reference_name = reference_name or getattr(reference, "__qualname__", "the reference")
    for label, args in cases.items():
        expected = reference(*copy.deepcopy(args))
        try:
            got = candidate(*copy.deepcopy(args))
        except NotImplementedError:
            raise CheckFailed(
                f"{name} is {NOT_DONE} (it still raises NotImplementedError)."
            ) from None
        except Exception as error:
            raise CheckFailed(
                f"{name} raised {type(error).__name__}: {error}\n"
                f"  in case: {label}\n{_hint_text(name, tiers)}"
            ) from error
        problem = _compare(got, expected, outputs, rtol, atol)
        if problem:
            raise CheckFailed(
                f"{name} is not right yet: {problem}\n  in case: {label}\n{_hint_text(name, tiers)}"
            )
    FAILURES.pop(name, None)
    print(f"correct: {name} agrees with {reference_name} on all {len(cases)} cases")


def _compare(got, expected, outputs, rtol, atol):
    """``None`` if ``got`` matches ``expected``, else a sentence saying what differs."""
    if outputs is None:
        return _compare_value(got, expected, "the result", rtol, atol)
    if not isinstance(got, (tuple, list)) or len(got) != len(outputs):
        what = type(got).__name__ if not isinstance(got, (tuple, list)) else f"{len(got)} values"
        return f"it returned {what}; expected {len(outputs)} values ({', '.join(outputs)})"
    for out_name, g, e in zip(outputs, got, expected):
        problem = _compare_value(g, e, out_name, rtol, atol)
        if problem:
            return problem
    return None


def _compare_value(got, expected, label, rtol, atol):
    """Compare one returned value; a list (e.g. of weight matrices) is compared item by item."""
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"{label} should be a list of {len(expected)} arrays, got {_describe(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = _compare_value(g, e, f"{label}[{i}]", rtol, atol)
            if problem:
                return problem
        return None
    try:
        g = _as_array(got)
    except (TypeError, ValueError):
        return f"{label} should be an array, got {_describe(got)}"
    e = _as_array(expected)
    if g.shape != e.shape:
        return f"{label} has shape {g.shape}, expected {e.shape}"
    if not np.all(np.isfinite(g)):
        return f"{label} contains NaN or infinite values"
    excess = np.abs(g - e) - (atol + rtol * np.abs(e))
    if np.all(excess <= 0):
        return None
    index = np.unravel_index(int(np.argmax(excess)), e.shape) if e.ndim else ()
    at = f" at index {tuple(int(i) for i in index)}" if e.ndim else ""
    return (
        f"{label} differs from the expected values{at}: you return {g[index]:.6g}, "
        f"expected {e[index] + 0.0:.6g}"
    )  # + 0.0: no "-0"


def _as_array(value):
    """``value`` as a float64 numpy array (torch tensors, numpy arrays, numbers, nested lists)."""
    if value is None:
        raise TypeError("None")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _describe(value):
    if value is None:
        return "None (did you forget a return?)"
    shape = getattr(value, "shape", None)
    return (
        f"{type(value).__name__} of shape {tuple(shape)}"
        if shape is not None
        else type(value).__name__
    )
