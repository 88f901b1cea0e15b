"""Verify hand-derived gradients against finite differences, as CS231n's ``gradient_check.py``.

The derivative is the limit of ``(f(a + h) - f(a - h)) / (2h)``; with a small ``h`` in float64 the
centred difference is accurate to about ``1e-10`` relative, while a wrong formula is usually off by
``1e-2`` or more. So a relative error near ``1e-8`` or below means the backward pass is right.
"""

import numpy as np

from lab3 import backprop
from lab3.validation import is_finite_number, require


def _require_step(h):
    require(
        is_finite_number(h) and 0 < h <= 1,
        "h",
        h,
        "a finite step > 0 and <= 1 (about 1e-6 in float64)",
    )


def numerical_gradient(f, array, h=1e-6):
    """Centred finite-difference gradient of ``f()`` with respect to every entry of ``array``.

    Args:
        f: function of no arguments returning a float; it must read ``array``, which is changed
            *in place* one entry at a time (and always restored, even if ``f`` raises).
        array: float64 numpy array of any shape (float32 would swallow a step of ``1e-6``).
        h: the step.

    Returns:
        A float64 array shaped like ``array``: ``(f(a + h) - f(a - h)) / (2h)`` entry by entry.
    """
    _require_step(h)
    if not (isinstance(array, np.ndarray) and array.dtype == np.float64):
        raise ValueError(
            f"array must be a float64 numpy array to perturb in place, "
            f"got {type(array).__name__} of dtype {getattr(array, 'dtype', None)}"
        )
    grad = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        old = array[index]
        try:
            array[index] = old + h
            f_plus = f()
            array[index] = old - h
            f_minus = f()
        finally:
            array[index] = old
        # The centred difference cancels the f'' term, so its error is O(h**2), not O(h).
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b):
    """``max|a - b| / max(1e-12, max(|a| + |b|))``: one number for two arrays of the same shape.

    Dividing by the size of the gradients makes the error mean the same whether they are
    ``1e-3`` or ``1e3``; the ``1e-12`` floor avoids ``0 / 0`` when both are exactly zero (a dead
    ReLU layer), which then counts as agreement.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(1e-12, np.max(np.abs(a) + np.abs(b))))


def verify_gradients(
    weights, biases, x, y, reg=0.0, output="identity", h=1e-6, activation="relu", loss="mse"
):
    """Compare ``lab3.backprop.gradients`` with finite differences of ``lab3.backprop.objective``.

    Arguments as for ``lab3.backprop.gradients`` (arrays or tensors; they are copied, never
    changed), plus the step ``h`` (a finite number in ``(0, 1]``).

    Returns:
        A dict ``{"W1": error, "b1": error, "W2": ...}`` of relative errors, in layer order
        (layers numbered from 1, as in the lab's derivation).
    """
    _require_step(h)
    weights = [backprop.as_float64(w, f"weights[{i}]").copy() for i, w in enumerate(weights)]
    biases = [backprop.as_float64(b, f"biases[{i}]").copy() for i, b in enumerate(biases)]
    settings = dict(reg=reg, output=output, activation=activation, loss=loss)
    dW, db = backprop.gradients(weights, biases, x, y, **settings)

    def f():  # reads the (perturbed) copies above
        return backprop.objective(weights, biases, x, y, **settings)

    errors = {}
    for layer, (w, b) in enumerate(zip(weights, biases), start=1):
        errors[f"W{layer}"] = relative_error(dW[layer - 1], numerical_gradient(f, w, h))
        errors[f"b{layer}"] = relative_error(db[layer - 1], numerical_gradient(f, b, h))
    return errors


def report(errors, expected=1e-8, show_values=True):
    """Printable lines, one per parameter, saying whether its relative error is below ``expected``.

    With ``show_values=True``: ``"W1  relative error 3.1e-11  (should be < 1e-08)  ok"``.
    With ``show_values=False`` the error itself is left out (``"W1  relative error < 1e-08  ok"``),
    so a notebook's output does not change with the last digits of rounding.
    A failing line ends in ``TOO LARGE`` instead of ``ok`` (a NaN error fails too).
    """
    width = max((len(name) for name in errors), default=0)
    lines = []
    for name, error in errors.items():
        ok = error < expected
        verdict = "ok" if ok else "TOO LARGE"
        if show_values:
            lines.append(
                f"{name:<{width}}  relative error {error:.1e}  "
                f"(should be < {expected:.0e})  {verdict}"
            )
        else:
            sign = "<" if ok else ">="
            lines.append(f"{name:<{width}}  relative error {sign} {expected:.0e}  {verdict}")
    return lines
