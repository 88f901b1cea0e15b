"""Compare what a student's function returned with the expected values, and say what differs.

Every comparison returns ``None`` when the values agree, else one sentence for the student:
a wrong type, a wrong shape (and whether it is the transpose of the right one), NaN, or the
first number that differs, where, and by how much.
"""

import numpy as np
import torch


def compare(got, expected, outputs, rtol, atol):
    """``None`` if ``got`` matches ``expected``, else a sentence saying what differs.

    ``outputs`` names the returned values (``("da", "dW", "db")``); ``None`` for one value.
    """
    if outputs is None:
        return compare_value(got, expected, "the result", rtol, atol)
    if not isinstance(got, (tuple, list)) or len(got) != len(outputs):
        what = type(got).__name__ if not isinstance(got, (tuple, list)) else f"{len(got)} values"
        return f"it returned {what}; expected {len(outputs)} values ({', '.join(outputs)})"
    for out_name, g, e in zip(outputs, got, expected):
        problem = compare_value(g, e, out_name, rtol, atol)
        if problem:
            return problem
    return None


def compare_value(got, expected, label, rtol, atol):
    """Compare one returned value; a list of arrays (e.g. one per layer) is compared item by
    item, and a list is accepted wherever any sequence of the same values is (a NumPy array of
    counts, a tuple)."""
    if isinstance(expected, (list, tuple)) and not _is_sequence_of_numbers(expected):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"{label} should be a list of {len(expected)} arrays, got {describe(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = compare_value(g, e, f"{label}[{i}]", rtol, atol)
            if problem:
                return problem
        return None
    try:
        g = as_array(got)
    except (TypeError, ValueError):
        return f"{label} should be an array, got {describe(got)}"
    e = as_array(expected)
    if g.shape != e.shape:
        transposed = " (the transpose's shape)" if e.ndim == 2 and g.shape == e.shape[::-1] else ""
        return f"{label} has shape {g.shape}, expected {e.shape}{transposed}"
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


def _is_sequence_of_numbers(value):
    return all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in value)


def as_array(value):
    """``value`` as a float64 numpy array (torch tensors, numpy arrays, numbers, nested lists)."""
    if value is None:
        raise TypeError("None")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def describe(value):
    if value is None:
        return "None (did you forget a return?)"
    shape = getattr(value, "shape", None)
    return (
        f"{type(value).__name__} of shape {tuple(shape)}"
        if shape is not None
        else type(value).__name__
    )


def same(a, b):
    """True when ``a`` and ``b`` hold the same values (arrays, tensors, lists, numbers), exactly:
    used to tell whether a student's function changed its arguments in place."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return (
            a.shape == b.shape
            and a.dtype == b.dtype
            and bool(
                torch.equal(torch.nan_to_num(a), torch.nan_to_num(b))
                if a.is_floating_point()
                else torch.equal(a, b)
            )
        )
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    return type(a) is type(b) and (a == b or (a != a and b != b))
