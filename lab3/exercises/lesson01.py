"""Lesson 1's checked exercises."""

import numpy as np

from lab3 import backprop
from lab3.exercises.core import check_function


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
