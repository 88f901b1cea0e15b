"""Classroom integrity: no answer one import away, and an answer that delegates is refused.

Every refused pattern (lab3's own version of the exercise, the checks' private answers, torch
autograd, finite differences; called directly, through a helper, a closure, an import inside the
function, a class) has a test here, and so has every allowed one (NumPy, torch tensor operations,
the student's own earlier functions, lab3's data and model constructors, lab3.gradients inside an
SGD step).
"""

import subprocess
import sys

import numpy as np
import pytest
import torch

import lab3
import lab3.backprop
import lab3.gradcheck
from lab3 import exercises
from lab3.exercises import CheckFailed, lesson03, lesson05
from lab3.exercises.delegation import find_delegation, lab3_version

# ----------------------------------------------------------------------------------------------
# Nothing of the answers in the student's namespace
# ----------------------------------------------------------------------------------------------


def test_lab3_exercises_exports_only_the_checks_and_what_a_student_needs():
    assert not [name for name in exercises.__all__ if "reference" in name]
    assert set(exercises.__all__) - {n for n in exercises.__all__ if n.startswith("check_")} == {
        "NOT_DONE",
        "CheckFailed",
        "reset_hints",
        "yours_if_correct",
    }
    assert not [name for name in dir(exercises) if name.startswith("reference_")]


def test_importing_a_reference_fails():
    done = subprocess.run(
        [sys.executable, "-c", "from lab3.exercises import reference_sgd_step"],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "ImportError" in done.stderr


def test_a_success_names_no_reference(capsys):
    exercises.check_linear_backward(lambda d, a, W: (d @ W.T, a.T @ d, d.sum(0, keepdims=True)))
    out = capsys.readouterr().out
    assert out == "correct: my_linear_backward passes all 4 cases\n" and "lab3" not in out


# ----------------------------------------------------------------------------------------------
# Refused: each pattern
# ----------------------------------------------------------------------------------------------


def gradients_via_lab3(weights, biases, x, y, reg):
    return lab3.gradients(weights, biases, x, y, reg=reg)


def backward_helper(weights, biases, x, y, reg):
    return lab3.backprop.gradients(weights, biases, x, y, reg=reg)


def gradients_through_a_helper(weights, biases, x, y, reg):
    return backward_helper(weights, biases, x, y, reg)


def gradients_imported_inside(weights, biases, x, y, reg):
    from lab3.backprop import gradients

    return gradients(weights, biases, x, y, reg=reg)


def gradients_module_alias(weights, biases, x, y, reg):
    import lab3.backprop as bp

    return bp.gradients(weights, biases, x, y, reg=reg)


def make_closure():
    found = lab3.gradients

    def my_gradients(weights, biases, x, y, reg):
        return found(weights, biases, x, y, reg=reg)

    return my_gradients


class GradientMachine:
    def __call__(self, weights, biases, x, y, reg):
        return lab3.gradients(weights, biases, x, y, reg=reg)


def _torch_forward(weights, biases, x):
    h = torch.as_tensor(x)
    for W, b in zip(weights[:-1], biases[:-1]):
        h = torch.relu(h @ W + b)
    return h @ weights[-1] + biases[-1]


def gradients_by_autograd(weights, biases, x, y, reg):
    Ws = [torch.tensor(w, requires_grad=True) for w in weights]
    bs = [torch.tensor(b, requires_grad=True) for b in biases]
    loss = ((_torch_forward(Ws, bs, x) - torch.as_tensor(y)) ** 2).mean()
    loss = loss + reg * sum((W**2).sum() for W in Ws)
    loss.backward()
    return [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]


def gradients_by_torch_autograd_grad(weights, biases, x, y, reg):
    Ws = [torch.tensor(w, requires_grad=True) for w in weights]
    bs = [torch.tensor(b, requires_grad=True) for b in biases]
    loss = ((_torch_forward(Ws, bs, x) - torch.as_tensor(y)) ** 2).mean()
    grads = torch.autograd.grad(loss + reg * sum((W**2).sum() for W in Ws), Ws + bs)
    return [g.numpy() for g in grads[: len(Ws)]], [g.numpy() for g in grads[len(Ws) :]]


def gradients_by_finite_differences(weights, biases, x, y, reg):
    def objective():
        return lab3.backprop.objective(weights, biases, x, y, reg=reg)

    return (
        [lab3.gradcheck.numerical_gradient(objective, w) for w in weights],
        [lab3.gradcheck.numerical_gradient(objective, b) for b in biases],
    )


def relu_backward_by_autograd(dout, z):
    t = torch.tensor(z, requires_grad=True)
    torch.relu(t).backward(torch.as_tensor(dout))
    return t.grad.numpy()


def sgd_step_via_the_private_answer(weights, biases, x, y, learning_rate, reg):
    return lesson03._sgd_step(weights, biases, x, y, learning_rate, reg)


def lr_finder_via_lab3(weights, biases, inputs, targets, start, stop, steps, batch_size, reg):
    model = lab3.MultiLayerPerceptron()
    return lab3.find_learning_rate(
        model, inputs, targets, start=start, stop=stop, steps=steps, batch_size=batch_size
    )


def mlp_forward_via_the_model(weights, biases, x):
    model = lab3.MultiLayerPerceptron(2, [w.shape[1] for w in weights[:-1]], 2)
    return lab3.MultiLayerPerceptron.forward(model, torch.as_tensor(x).T).T.detach().numpy()


def mlp_forward_by_calling_a_model(weights, biases, x):
    """``model(x)``: no method named in the code, but MultiLayerPerceptron's __call__ is forward
    (seen while the check runs it)."""
    model = lab3.MultiLayerPerceptron(2, [w.shape[1] for w in weights[:-1]], 2)
    return model(torch.as_tensor(x, dtype=torch.float32)).detach().numpy()


def gradients_by_a_computed_name(weights, biases, x, y, reg):
    found = getattr(lab3, "grad" + "ients")  # invisible to reading: seen while it runs
    return found(weights, biases, x, y, reg=reg)


def minibatch_via_train(weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg):
    lab3.train(lab3.MultiLayerPerceptron(), inputs, targets, epochs=epochs)
    return weights, biases


def dead_units_via_layer_statistics(weights, biases, x):
    return [row["dead_units"] for row in lab3.layer_statistics(None, x, x)]


REFUSED = [
    ("check_gradients", lab3.gradients, "lab3.gradients", "lab3's own version"),
    ("check_gradients", gradients_via_lab3, "lab3.gradients", "lab3's own version"),
    ("check_gradients", gradients_through_a_helper, "(through backward_helper)", "lab3's own"),
    ("check_gradients", gradients_imported_inside, "lab3.", "lab3's own version"),
    ("check_gradients", gradients_module_alias, "lab3.", "lab3's own version"),
    ("check_gradients", make_closure(), "lab3.gradients", "lab3's own version"),
    ("check_gradients", GradientMachine(), "lab3.gradients", "lab3's own version"),
    ("check_gradients", gradients_by_autograd, ".backward", "torch autograd"),
    ("check_gradients", gradients_by_torch_autograd_grad, "torch.autograd", "torch autograd"),
    ("check_gradients", gradients_by_finite_differences, "lab3.gradcheck", "finite differences"),
    ("check_relu_backward", relu_backward_by_autograd, ".backward", "torch autograd"),
    ("check_relu_backward", lab3.backprop.relu_backward, "relu_backward", "lab3's own version"),
    (
        "check_linear_backward",
        lambda d, a, W: lab3.backprop.linear_backward(d, (a, W)),
        "linear_backward",
        "lab3's own version",
    ),
    ("check_softmax", lab3.softmax, "lab3.softmax", "lab3's own version"),
    ("check_softmax", lambda z: lab3.softmax(z), "lab3.softmax", "lab3's own version"),
    (
        "check_objective",
        lambda x, W, b, M, c, y, reg: lab3.backprop.objective(
            [W, M], [b, c], x, y, reg=reg, output="softmax"
        ),
        "objective",
        "lab3's own version",
    ),
    ("check_sgd_step", lesson03._sgd_step, "lab3.exercises", "lab3.exercises' own answers"),
    ("check_sgd_step", sgd_step_via_the_private_answer, "lab3.exercises", "own answers"),
    ("check_lr_finder", lr_finder_via_lab3, "lab3.find_learning_rate", "lab3's own version"),
    ("check_mlp_forward", mlp_forward_via_the_model, "MultiLayerPerceptron.forward", "lab3's own"),
    ("check_mlp_forward", lesson05._mlp_forward, "lab3.exercises", "own answers"),
    ("check_mlp_forward", mlp_forward_by_calling_a_model, "when it runs", "lab3's own version"),
    ("check_gradients", gradients_by_a_computed_name, "when it runs", "lab3's own version"),
    ("check_minibatch_sgd", minibatch_via_train, "lab3.train", "lab3's own version"),
    ("check_dead_units", dead_units_via_layer_statistics, "layer_statistics", "lab3's own"),
]


@pytest.mark.parametrize(
    "check, candidate, name, what", REFUSED, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(REFUSED)]
)
def test_a_delegating_answer_is_refused_with_what_the_exercise_asks(check, candidate, name, what):
    with pytest.raises(CheckFailed) as error:
        getattr(exercises, check)(candidate)
    message = str(error.value)
    assert " is refused: it " in message and name in message and what in message, message
    assert "This exercise asks you to " in message and "your own earlier functions" in message


def test_a_refusal_gives_no_hint_and_counts_no_attempt():
    with pytest.raises(CheckFailed) as error:
        exercises.check_gradients(gradients_via_lab3)
    assert "Hint" not in str(error.value)
    with pytest.raises(CheckFailed, match=r"hint 1 of 3: check again"):
        exercises.check_gradients(lambda *args: None)


# ----------------------------------------------------------------------------------------------
# Allowed: helper functions, NumPy, torch tensor operations, lab3's constructors
# ----------------------------------------------------------------------------------------------


def my_linear_backward(delta, a, W):
    return delta @ W.T, a.T @ delta, delta.sum(axis=0, keepdims=True)


def my_relu_backward(dout, z):
    return dout * (z > 0)


def my_forward(weights, biases, x):
    a, zs = [x], []
    for W, b in zip(weights, biases):
        zs.append(a[-1] @ W + b)
        a.append(np.maximum(zs[-1], 0))
    return a, zs


def my_gradients(weights, biases, x, y, reg):
    """A hand-written solution in helper-function style: each layer by the student's own."""
    a, zs = my_forward(weights, biases, x)
    delta = 2 * (zs[-1] - y) / y.size
    dW, db = [None] * len(weights), [None] * len(weights)
    for layer in reversed(range(len(weights))):
        da, dW[layer], db[layer] = my_linear_backward(delta, a[layer], weights[layer])
        dW[layer] = dW[layer] + 2 * reg * weights[layer]
        if layer > 0:
            delta = my_relu_backward(da, zs[layer - 1])
    return dW, db


def sgd_step_with_my_gradients(weights, biases, x, y, learning_rate, reg):
    dW, db = my_gradients(weights, biases, x, y, reg)
    return (
        [w - learning_rate * g for w, g in zip(weights, dW)],
        [b - learning_rate * g for b, g in zip(biases, db)],
    )


def sgd_step_with_lab3_gradients(weights, biases, x, y, learning_rate, reg):
    dW, db = lab3.gradients(weights, biases, x, y, reg=reg)  # the exercise is the step
    return (
        [w - learning_rate * g for w, g in zip(weights, dW)],
        [b - learning_rate * g for b, g in zip(biases, db)],
    )


def mlp_forward_with_torch_tensor_ops(weights, biases, x):
    with torch.no_grad():  # torch.autograd's grad mode: allowed, it is no autograd of an answer
        h = torch.as_tensor(x)
    for W, b in zip(weights[:-1], biases[:-1]):
        h = torch.relu(h @ torch.as_tensor(W) + torch.as_tensor(b))
    return (h @ torch.as_tensor(weights[-1]) + torch.as_tensor(biases[-1])).numpy()


def sgd_epoch_with_lab3s_data_and_objective(weights, biases, inputs, targets, learning_rate, reg):
    """lab3's objective for the losses and lab3.gradients inside the step: allowed here."""
    losses = []
    for i in range(inputs.shape[1]):
        x, y = inputs[:, i : i + 1].T.double().numpy(), targets[:, i : i + 1].T.double().numpy()
        losses.append(lab3.backprop.objective(weights, biases, x, y))
        weights, biases = sgd_step_with_lab3_gradients(weights, biases, x, y, learning_rate, reg)
    return weights, biases, np.array(losses)


@pytest.mark.parametrize(
    "check, candidate",
    [
        ("check_gradients", my_gradients),
        ("check_sgd_step", sgd_step_with_my_gradients),
        ("check_sgd_step", sgd_step_with_lab3_gradients),
        ("check_mlp_forward", mlp_forward_with_torch_tensor_ops),
        ("check_relu_backward", my_relu_backward),
        ("check_sgd_epoch", sgd_epoch_with_lab3s_data_and_objective),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_a_hand_written_answer_with_helpers_is_accepted(check, candidate, capsys):
    getattr(exercises, check)(candidate)
    assert capsys.readouterr().out.startswith("correct: ")


def test_lab3s_data_and_model_constructors_are_allowed():
    def uses_constructors(weights, biases, x):
        inputs, _ = lab3.create_linear_training_data(4, seed=0)
        model = lab3.MultiLayerPerceptron(2, [3], 2, seed=0)
        return inputs, model

    refused = lab3_version("lab3.MultiLayerPerceptron.forward", "lab3.backprop.forward")
    assert find_delegation(uses_constructors, [refused]) is None
    assert find_delegation(np.maximum, [refused]) is None
    assert "MultiLayerPerceptron.forward" in find_delegation(mlp_forward_via_the_model, [refused])


def test_a_refused_lab3_name_that_names_nothing_is_a_loud_bug_of_the_check():
    # after a module moves, a stale dotted name must not silently refuse less
    with pytest.raises(LookupError, match="'lab3.nowhere.gradients' names nothing in lab3"):
        find_delegation(my_gradients, [lab3_version("lab3.nowhere.gradients")])
    assert find_delegation(my_gradients, [lab3_version("lab3.gradients")]) is None
