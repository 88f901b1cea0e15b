"""One way to refuse bad input, shared by every module.

Every message names the parameter, the value it got and what is allowed, so a student who
mistypes a papermill parameter reads what to change instead of a traceback from deep inside torch.
"""

import math
import numbers


def require(condition, name, value, allowed):
    """Raise ``ValueError("<name>=<value!r> is not allowed: <allowed>")`` unless ``condition``."""
    if not condition:
        raise ValueError(f"{name}={value!r} is not allowed: {allowed}")


def is_int(value):
    """True for Python and NumPy integers; False for bools and floats (``epochs=2.5`` is an error)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite_number(value):
    """True for a finite int or float (not a bool, not NaN or infinity, not a numeric string)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def is_count(value):
    """True for an integer >= 1 (a number of samples, epochs, units...)."""
    return is_int(value) and value >= 1
