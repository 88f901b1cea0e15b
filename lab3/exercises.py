"""Checks for the lessons' exercises: compare a student's function with lab3's, kindly.

An exercise in a lesson is three cells, told apart by their tags:

* ``stub``: the prompt and a skeleton whose body raises ``NotImplementedError``;
* ``solution``: the instructor's working code (the student handout drops it);
* ``check``: one call to a ``check_*`` function below.

``check_function`` runs the student's function and a reference on the same few cases and prints
one ``correct: ...`` line when they agree. Otherwise it raises an ``AssertionError`` that says
what is wrong (an unfinished stub, an exception, a wrong shape, a wrong number and where), in which
case, and gives a hint. Its printing is deterministic, so nbval can compare it.
"""

import copy

import numpy as np
import torch

from lab3 import backprop
from lab3.data import create_linear_training_data
from lab3.mlp import MultiLayerPerceptron
from lab3.train import train

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


# ----------------------------------------------------------------------------------------------
# The lessons' exercises
# ----------------------------------------------------------------------------------------------


def check_relu_backward(candidate):
    """Lesson 1: ``candidate(dout, z) -> dz`` must equal ``lab3.backprop.relu_backward(dout, z)``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(1)
    kink = np.array([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.5]])
    cases = {
        "a random (8, 3) batch": (rng.normal(size=(8, 3)), rng.normal(size=(8, 3))),
        "z with entries exactly 0 (the kink)": (np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), kink),
    }
    check_function("my_relu_backward", candidate, backprop.relu_backward, cases,
                   hint="the upstream gradient passes where z > 0 and is blocked elsewhere: "
                        "dz = dout * (z > 0). At z == 0 exactly, lab3 (like torch) takes slope 0.",
                   outputs=None, reference_name="lab3.backprop.relu_backward")


def check_linear_backward(candidate):
    """Lesson 1: ``candidate(delta, a, W) -> (da, dW, db)`` as ``lab3.backprop.linear_backward``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(2)
    cases = {}
    for batch, fan_in, fan_out in [(8, 3, 2), (1, 2, 3), (5, 4, 6)]:
        cases[f"a batch of {batch}, W of shape ({fan_in}, {fan_out})"] = (
            rng.normal(size=(batch, fan_out)), rng.normal(size=(batch, fan_in)),
            rng.normal(size=(fan_in, fan_out)))
    check_function("my_linear_backward", candidate,
                   lambda delta, a, W: backprop.linear_backward(delta, (a, W)), cases,
                   hint="each gradient has the shape of what it differentiates: dW = a.T @ delta "
                        "(like W), db = delta summed over the rows with keepdims=True (like b, "
                        "(1, n_out)), da = delta @ W.T (like a).",
                   outputs=("da", "dW", "db"), reference_name="lab3.backprop.linear_backward")


def reference_minibatch_sgd(weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg):
    """``lab3.train`` (engine ``"manual"``, in order) from these float64 parameters.

    Returns ``(weights, biases)`` after training, as lists of float64 numpy arrays. The model is
    float32, so the parameters pass through float32 on the way (exact for a fresh model's).
    """
    sizes = [w.shape[0] for w in weights] + [weights[-1].shape[1]]
    model = MultiLayerPerceptron(sizes[0], sizes[1:-1], sizes[-1])
    with torch.no_grad():
        for p, value in zip(model.weights + model.biases, list(weights) + list(biases)):
            p.copy_(torch.as_tensor(np.asarray(value)))
    train(model, inputs, targets, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
          reg=reg, engine="manual", shuffle=False)
    as_numpy = lambda ps: [p.detach().double().numpy() for p in ps]
    return as_numpy(model.weights), as_numpy(model.biases)


def check_minibatch_sgd(candidate):
    """Lesson 4: ``candidate(weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg)``
    must return ``(weights, biases)`` as ``lab3.train`` leaves them.

    Run from the lab's fresh 2-3-2 model (float64 copies) on the lab's 1000 samples, with the lab's
    learning rate and reg; once with batches of 100 and once with batches of 300, whose last batch
    is shorter (100 samples).
    """
    __tracebackhide__ = True
    inputs, targets = create_linear_training_data(1000, seed=0)
    model = MultiLayerPerceptron(2, [3], 2, seed=0)
    weights = [w.detach().double().numpy() for w in model.weights]
    biases = [b.detach().double().numpy() for b in model.biases]
    cases = {
        "2 epochs of batches of 100": (weights, biases, inputs, targets, 2, 100, 0.1, 0.001),
        "1 epoch of batches of 300 (the last batch has 100 samples)":
            (weights, biases, inputs, targets, 1, 300, 0.1, 0.001),
    }
    check_function("minibatch_sgd", candidate, reference_minibatch_sgd, cases,
                   hint="batches are consecutive slices with samples as rows, x = inputs[:, s:s+B].T "
                        "for s = 0, B, 2B, ... (the last batch may be shorter); after "
                        "lab3.gradients, every weight and every bias takes its step "
                        "p -= learning_rate * g; the function returns (weights, biases).",
                   outputs=("weights", "biases"), reference_name="lab3.train",
                   rtol=1e-5, atol=1e-7)
