"""Checks for the lessons' exercises: compare a student's function with the right answer, kindly.

An exercise in a lesson is three cells, told apart by their tags:

* ``stub``: the prompt and a skeleton whose body raises ``NotImplementedError``;
* ``solution``: the instructor's working code (the student handout drops it);
* ``check``: one call to a ``check_*`` function of ``lab3.exercises`` (one module per lesson).

``check_function`` first reads the student's function (``lab3.exercises.delegation``) and refuses
one that calls what the exercise asks the student to write (lab3's own version, autograd, finite
differences). Then it runs the function and the exercise's answer on the same cases and prints
one ``correct: ...`` line when they agree. Otherwise it raises ``CheckFailed`` (an
``AssertionError``) that says what is wrong (an unfinished stub, an exception, an argument changed
in place, a wrong shape, a wrong number and where), in which case, names the classic mistake when
the answer is one, and gives a hint (``lab3.exercises.hints``: tiers that widen only when the
answer changes).

A ``CheckFailed`` carries ``_render_traceback_``, which IPython uses instead of its traceback: the
notebook shows the message (and, when the student's code raised, the frames of the student's
code), never a page of this package's source. Its printing is deterministic, so nbval can compare
it.
"""

import contextlib
import copy
import inspect
import io
import traceback
import types
from pathlib import Path

import numpy as np

from lab3.exercises.compare import as_array, compare, describe, same
from lab3.exercises.delegation import find_delegation, watch_calls
from lab3.exercises.hints import HINTS, fingerprint, hint_text, hint_tiers, reset_hints

__all__ = ["NOT_DONE", "CheckFailed", "check_function", "reset_hints", "yours_if_correct"]

NOT_DONE = "not done yet: fill in the cell above"
WELCOME = "NumPy, torch tensor operations and your own earlier functions are welcome"
_HERE = Path(__file__).resolve().parent  # frames from here are the checks', not the student's


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


def check_function(
    name,
    candidate,
    reference,
    cases,
    hint,
    *,
    outputs=None,
    asks="write this function yourself",
    refuse=(),
    mistakes=(),
    may_change=(),
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
            own deep copy of the arguments, which must be unchanged afterwards (see
            ``may_change``).
        hint: a string, or a list of strings from vague to specific (none with the code): the
            first wrong answer shows the first, each different wrong answer one more.
        outputs: names of the returned values (``("da", "dW", "db")``); ``None`` for one value.
        asks: what the exercise asks for, in a few words ("derive the backward pass of the
            linear layer by hand"): the message of a refused candidate says it.
        refuse: ``delegation.Refused`` values: what the candidate must not call.
        mistakes: ``(diagnosis, wrong_reference)`` pairs: a wrong answer equal to
            ``wrong_reference(*args)`` is told its ``diagnosis`` (at the first failure).
        may_change: positions of the arguments the function may update in place (the weights of
            a training loop); every other argument must come back unchanged.
        rtol, atol: numbers agree when ``|got - expected| <= atol + rtol * |expected|``.

    Raises:
        CheckFailed: (an ``AssertionError``) the candidate is refused, unfinished, raised, changed
            an argument or returned a wrong value; the message says what, where and gives the
            hint. An exception of the reference itself propagates unchanged.
    """
    __tracebackhide__ = True  # pytest hides this frame (IPython: see CheckFailed)
    tiers = hint_tiers(hint)
    HINTS[name] = tiers
    if not callable(candidate):
        raise CheckFailed(
            f"{name} should be a function (pass the function you defined above, without "
            f"calling it), got {describe(candidate)}."
        )
    delegated = find_delegation(candidate, refuse)
    if delegated:
        raise CheckFailed(_refusal(name, delegated, asks))
    if not isinstance(cases, dict):
        cases = {f"case {i}": args for i, args in enumerate(cases, start=1)}
    for label, args in cases.items():
        expected = reference(*copy.deepcopy(args))
        given = copy.deepcopy(args)
        try:
            with watch_calls(refuse) as refused_calls:
                got = candidate(*given)
        except NotImplementedError:
            raise CheckFailed(
                f"{name} is {NOT_DONE} (it still raises NotImplementedError)."
            ) from None
        except Exception as error:
            if refused_calls:  # it raised inside lab3's own version: the refusal is what matters
                raise CheckFailed(_refusal(name, refused_calls[0], asks)) from None
            answer = fingerprint(label, type(error).__name__, str(error))
            raise CheckFailed(
                f"{name} raised {type(error).__name__}: {error}\n"
                f"  in case: {label}\n{hint_text(name, tiers, answer)}"
            ) from error
        if refused_calls:
            raise CheckFailed(_refusal(name, refused_calls[0], asks))
        changed = _changed_argument(candidate, args, given, may_change)
        problem = changed or compare(got, expected, outputs, rtol, atol)
        if problem:
            diagnosis = "" if changed else _diagnose(got, args, mistakes, outputs, rtol, atol)
            raise CheckFailed(
                f"{name} is not right yet: {problem}\n  in case: {label}\n{diagnosis}"
                f"{hint_text(name, tiers, fingerprint(label, problem, got))}"
            )
    reset_hints(name)
    print(f"correct: {name} passes all {len(cases)} cases")


def _refusal(name, why, asks):
    return f"{name} is refused: {why}. This exercise asks you to {asks}; {WELCOME}."


def _changed_argument(candidate, original, given, may_change):
    """A sentence if the candidate changed an argument it must leave alone, else ``None``."""
    for position, (before, after) in enumerate(zip(original, given)):
        if position not in may_change and not same(before, after):
            return (
                f"it changed its argument {_parameter_name(candidate, position)} in place; "
                "leave the inputs as they are and return new arrays (e.g. x * y, not x *= y)"
            )
    return None


def _parameter_name(function, position):
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # a builtin without a signature
        names = []
    return names[position] if position < len(names) else f"number {position + 1}"


def _diagnose(got, args, mistakes, outputs, rtol, atol):
    """``"Looks like: ...\n"`` when ``got`` is a classic mistake's answer, else ``""``."""
    for diagnosis, wrong_reference in mistakes:
        try:
            wrong = wrong_reference(*copy.deepcopy(args))
        except Exception:  # noqa: BLE001 -- a mistake that cannot happen on this case
            continue
        if compare(got, wrong, outputs, rtol, atol) is None or _same_overflow(
            got, wrong, rtol, atol
        ):
            return f"Looks like: {diagnosis}\n"
    return ""


def yours_if_correct(check, candidate, fallback, uses="it"):
    """``candidate`` when ``check(candidate)`` passes, else ``fallback``; one line says which.

    A later lesson trains with a function the student wrote in an earlier one (lesson 3 with
    lesson 1's ``my_gradients``): the check runs quietly, and the line names the function chosen
    and, for the fallback, the first line of the check's verdict (a stub that is not done yet, a
    wrong value). ``uses`` names what will call it, e.g. ``"sgd_step below"``.
    """
    name = getattr(candidate, "__name__", "your function")
    fallback_name = f"{fallback.__module__.split('.')[0]}.{fallback.__name__}"
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            check(candidate)
    except CheckFailed as failure:
        first = str(failure).splitlines()[0]
        print(f"{uses} uses {fallback_name}: your {name} does not pass its check yet ({first})")
        return fallback
    print(f"{uses} uses your {name}: it passes its check")
    return candidate


def _same_overflow(got, wrong, rtol, atol):
    """Do ``got`` and a mistake's answer have NaN or inf in the same places and agree elsewhere?
    (An overflow is a classic mistake too: ``compare`` alone refuses any non-finite value.)"""
    try:
        g, w = as_array(got), as_array(wrong)
    except (TypeError, ValueError):
        return False
    bad = ~np.isfinite(g)
    if g.shape != w.shape or not bad.any() or not np.array_equal(bad, ~np.isfinite(w)):
        return False
    return compare(np.where(bad, 0.0, g), np.where(bad, 0.0, w), None, rtol, atol) is None
