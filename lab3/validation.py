"""One way to refuse bad input, shared by every module, and the size limits it enforces.

Every message names the parameter, the value it got and what is allowed, so a student who
mistypes a papermill parameter reads what to change instead of a traceback from deep inside torch.

The limits below stop a typo (``epochs=10**9``, ``n_samples=10**12``) before anything is allocated
or run: a refusal costs microseconds, the typo would cost terabytes or days. They are far above
what the lessons and sweeps use. To raise one, assign the module constant before the call, e.g.
``lab3.validation.MAX_STEPS = 10**9``: every check reads it when it runs.

This module imports neither torch nor numpy at import time (the sweep runner uses it).
"""

import math
import numbers

MAX_SAMPLES = 10_000_000  # n_samples: 2 x 10**7 float32 numbers are 80 MB
MAX_WIDTH = 10_000  # units in one layer (num_inputs, each hidden size, num_outputs)
MAX_PARAMETERS = 10_000_000  # weights and biases of one network together (40 MB in float32)
MAX_EPOCHS = 1_000_000
MAX_STEPS = 100_000_000  # SGD steps of one run, epochs * ceil(n_samples / batch_size)
SEED_RANGE = (0, 2**32 - 1)  # what numpy, torch and Python's random all accept


def require(condition, name, value, allowed):
    """Raise ``ValueError("<name>=<value!r> is not allowed: <allowed>")`` unless ``condition``."""
    if not condition:
        raise ValueError(f"{name}={_short(value)} is not allowed: {allowed}")


def _short(value, limit=200):
    """``repr(value)``, cut in the middle when long (a whole array would bury the message)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit // 2]} ... {text[-limit // 4 :]}"


def is_int(value):
    """True for Python and NumPy integers; not for bools or floats (``epochs=2.5`` is an error)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite_number(value):
    """True for a finite int or float (not a bool, not NaN or infinity, not a numeric string)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def is_count(value):
    """True for an integer >= 1 (a number of samples, epochs, units...)."""
    return is_int(value) and value >= 1


def require_count(name, value, limit):
    """Refuse anything but an integer from 1 to the module constant named ``limit``.

    ``limit`` is a name (``"MAX_EPOCHS"``), read when the check runs, so a raised limit counts.
    """
    maximum = globals()[limit]
    require(
        is_count(value) and value <= maximum,
        name,
        value,
        f"an integer from 1 to {maximum:,} (raise lab3.validation.{limit} for more)",
    )


def require_seed(value, name="seed"):
    """Refuse a seed that is not an integer in ``SEED_RANGE``."""
    low, high = SEED_RANGE
    require(
        is_int(value) and low <= value <= high, name, value, f"an integer from {low} to {high:,}"
    )


def require_nonnegative(name, value):
    """Refuse anything but a finite number >= 0 (a regularisation weight, a noise level)."""
    require(is_finite_number(value) and value >= 0, name, value, "a finite number >= 0")


def real_array(name, value, finite=True):
    """``value`` (a numpy array, a torch tensor, nested lists, a number) as a numpy array.

    Refuses text, objects, complex numbers and booleans, and (unless ``finite=False``) NaN and
    infinity. The array keeps its float or integer dtype; a torch tensor is detached first.
    """
    import numpy as np

    if getattr(value, "detach", None) is not None:  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists
        array = None
    allowed = "real numbers (a numpy array, torch tensor or nested list of int or float)"
    require(array is not None and array.dtype != object, name, value, allowed)
    # An array is named by its shape (the ``inputs=(2, 20)`` style), not printed whole.
    require(array.dtype.kind in "iuf", name, array.shape, f"{allowed}, not {array.dtype}")
    if finite:
        require(
            bool(np.isfinite(array).all()),
            name,
            array.shape,
            "finite numbers only, but it holds NaN or infinity",
        )
    return array
