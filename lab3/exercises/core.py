"""Checks for the lessons' exercises: compare a student's function with lab3's, kindly.

An exercise in a lesson is three cells, told apart by their tags:

* ``stub``: the prompt and a skeleton whose body raises ``NotImplementedError``;
* ``solution``: the instructor's working code (the student handout drops it);
* ``check``: one call to a ``check_*`` function of ``lab3.exercises`` (one module per lesson).

``check_function`` runs the student's function and a reference on the same few cases and prints
one ``correct: ...`` line when they agree. Otherwise it raises an ``AssertionError`` that says
what is wrong (an unfinished stub, an exception, a wrong shape, a wrong number and where), in which
case, and gives a hint. Its printing is deterministic, so nbval can compare it.
"""

import copy

import numpy as np
import torch

NOT_DONE = "not done yet: fill in the cell above"


def check_function(name, candidate, reference, cases, hint, *, outputs=None, reference_name=None,
                   rtol=1e-6, atol=1e-9):
    """Compare ``candidate(*args)`` with ``reference(*args)`` on every case; print one line if right.

    Args:
        name: the student's function as the lesson names it, e.g. ``"my_relu_backward"``.
        candidate: the student's function.
        reference: a function of the same arguments returning the right answer.
        cases: a dict ``{description: args tuple}`` (or a list of args tuples). Each call gets its
            own deep copy of the arguments, so a function that updates them in place harms nothing.
        hint: one or two sentences shown with any failure.
        outputs: names of the returned values (``("da", "dW", "db")``); ``None`` for one value.
        reference_name: how to call the reference in messages (default: its ``__qualname__``).
        rtol, atol: numbers agree when ``|got - expected| <= atol + rtol * |expected|``.

    Raises:
        AssertionError: the candidate is unfinished, raised, or returned a wrong value; the
            message says what, where and gives the hint. An exception of the reference itself
            is not the student's fault and propagates unchanged.
    """
    __tracebackhide__ = True  # IPython and pytest hide this frame: the message is what matters
    if not isinstance(cases, dict):
        cases = {f"case {i}": args for i, args in enumerate(cases, start=1)}
    reference_name = reference_name or getattr(reference, "__qualname__", "the reference")
    for label, args in cases.items():
        expected = reference(*copy.deepcopy(args))
        try:
            got = candidate(*copy.deepcopy(args))
        except NotImplementedError:
            raise AssertionError(f"{name} is {NOT_DONE} (it still raises NotImplementedError).") from None
        except Exception as error:
            raise AssertionError(f"{name} raised {type(error).__name__}: {error}\n"
                                 f"  in case: {label}\nHint: {hint}") from error
        problem = _compare(got, expected, outputs, rtol, atol)
        if problem:
            raise AssertionError(f"{name} is not right yet: {problem}\n"
                                 f"  in case: {label}\nHint: {hint}")
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
    return (f"{label} differs from the expected values{at}: you return {g[index]:.6g}, "
            f"expected {e[index]:.6g}")


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
    return f"{type(value).__name__} of shape {tuple(shape)}" if shape is not None else type(value).__name__
