"""Softmax cross-entropy and accuracy: values against torch, stability at huge logits, the
gradient (softmax - onehot) / B against autograd and finite differences, bad input refused."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lab3
from lab3 import backprop, functional
from lab3.gradcheck import numerical_gradient, relative_error


def logits_and_targets(seed, batch, k, scale=3.0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, scale, (batch, k))
    y = np.eye(k)[rng.integers(0, k, batch)]
    return logits, y


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 3, 7, 16]), st.integers(1, 5))
def test_value_and_gradient_match_torch_and_finite_differences(seed, batch, k):
    logits, y = logits_and_targets(seed, batch, k)
    z = torch.tensor(logits, requires_grad=True)
    reference = torch.nn.functional.cross_entropy(z, torch.tensor(y).argmax(dim=1))
    reference.backward()
    loss, cache = backprop.cross_entropy_forward(logits, y)
    assert float(loss) == pytest.approx(reference.item(), rel=1e-12, abs=1e-15)
    dz = backprop.cross_entropy_backward(cache)
    assert dz.shape == (batch, k)
    assert np.allclose(dz, (functional.softmax(logits) - y) / batch, atol=1e-16)
    assert relative_error(dz, z.grad.numpy()) < 1e-10
    if k > 1:  # one class: the loss is 0 for every logit, and so is its gradient
        numeric = numerical_gradient(lambda: float(functional.cross_entropy(y, logits)), logits)
        assert relative_error(dz, numeric) < 1e-6
    else:
        assert np.all(dz == 0)
    # the torch path of functional.cross_entropy differentiates to the same gradient
    z2 = torch.tensor(logits, requires_grad=True)
    functional.cross_entropy(torch.tensor(y), z2).backward()
    assert relative_error(z2.grad.numpy(), dz) < 1e-10


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_stable_at_logits_of_a_thousand(lib):
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0], [0.0, 1000.0]])
    y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    if lib == "torch":
        logits, y = torch.tensor(logits), torch.tensor(y)
    loss = float(functional.cross_entropy(y, logits))
    # rows: right with margin 2000 (0), wrong by 2000 (2000), a tie (log 2), right (0)
    assert loss == pytest.approx((0 + 2000 + np.log(2) + 0) / 4, rel=1e-12)
    logp = functional.log_softmax(logits)
    assert bool(np.all(np.isfinite(np.asarray(logp))))
    logits, y = np.asarray(logits), np.asarray(y)
    dz = backprop.cross_entropy_backward(backprop.cross_entropy_forward(logits, y)[1])
    assert np.all(np.isfinite(dz)) and np.allclose(dz[1], [-0.25, 0.25])


def test_accuracy_counts_the_largest_logit():
    y = np.eye(3)[[0, 1, 2, 2]]
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 0.5], [0.0, 3.0, 1.0], [0.0, 0.0, 0.1]])
    assert functional.accuracy(y, logits) == 0.75
    assert functional.accuracy(torch.tensor(y), torch.tensor(logits)) == 0.75
    assert lab3.accuracy is functional.accuracy and lab3.cross_entropy is functional.cross_entropy


@pytest.mark.parametrize("function", [functional.cross_entropy, functional.accuracy])
@pytest.mark.parametrize(
    "y, logits, name",
    [
        (np.ones((2, 3)), np.ones((2, 2)), "y"),  # shapes differ
        (np.ones(3), np.ones(3), "logits"),  # not (batch, k)
        (np.ones((0, 2)), np.ones((0, 2)), "logits"),  # empty batch
        (np.ones((2, 2)), torch.ones((2, 2)), "logits"),  # numpy and torch mixed
        ([[1.0, 0.0]], np.ones((1, 2)), "y"),  # a list
        (np.ones((1, 2)), np.array([["a", "b"]]), "logits"),  # text
    ],
)
def test_bad_input_is_refused_by_name(function, y, logits, name):
    with pytest.raises(ValueError, match=f"^{name}="):
        function(y, logits)


def test_training_with_cross_entropy_refuses_targets_that_are_not_one_hot():
    model = lab3.MultiLayerPerceptron(2, [3], 2)
    inputs, targets = lab3.create_linear_training_data(20)
    with pytest.raises(ValueError, match=r"^targets=\(2, 20\) is not allowed: one-hot"):
        lab3.train(model, inputs, targets, epochs=1, loss="cross_entropy")
    one_hot = torch.eye(2)[:, (inputs[0] > 0).long()]
    with pytest.raises(ValueError, match=r"^test_targets=\(2, 20\) is not allowed: one-hot"):
        lab3.train(
            model,
            inputs,
            one_hot,
            epochs=1,
            loss="cross_entropy",
            test_inputs=inputs,
            test_targets=targets,
        )
    with pytest.raises(ValueError, match="^loss='hinge' is not allowed: one of"):
        lab3.train(model, inputs, one_hot, epochs=1, loss="hinge")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(test_inputs=torch.zeros((2, 4))), "test_targets"),
        (dict(test_targets=torch.zeros((2, 4))), "test_inputs"),
        (dict(test_inputs=torch.zeros((3, 4)), test_targets=torch.zeros((2, 4))), "test_inputs"),
        (dict(test_inputs=torch.zeros((2, 4)), test_targets=torch.zeros((2, 5))), "test_targets"),
        (
            dict(test_inputs=torch.full((2, 4), float("nan")), test_targets=torch.zeros((2, 4))),
            "test_inputs",
        ),
    ],
)
def test_a_bad_test_set_is_refused_by_name(kwargs, name):
    model = lab3.MultiLayerPerceptron(2, [3], 2)
    inputs, targets = lab3.create_linear_training_data(20)
    with pytest.raises(ValueError, match=f"^{name}="):
        lab3.train(model, inputs, targets, epochs=1, **kwargs)


def test_an_empty_test_set_is_no_test_set_and_the_default_run_is_unchanged():
    inputs, targets = lab3.create_linear_training_data(50)
    runs = []
    for extra in ({}, dict(test_inputs=torch.zeros((2, 0)), test_targets=torch.zeros((2, 0)))):
        model = lab3.MultiLayerPerceptron(seed=0)
        runs.append((model, lab3.train(model, inputs, targets, epochs=2, **extra)))
    (m1, h1), (m2, h2) = runs
    assert h1.step_loss == h2.step_loss and h1.test_loss == h2.test_loss == []
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters()))
    assert h1.settings.loss == "mse" and h1.epoch_accuracy == []


@pytest.mark.parametrize("engine", ["autograd", "manual"])
def test_the_test_loss_is_the_loss_of_the_trained_model_on_the_test_set(engine):
    task = lab3.make_task("circle", n_samples=200, test_fraction=0.25, seed=1)
    model = lab3.MultiLayerPerceptron(2, [6], 2, activation="tanh", seed=0, init="he")
    history = lab3.train(
        model,
        task.train_inputs,
        task.train_targets,
        epochs=2,
        batch_size=10,
        learning_rate=0.3,
        engine=engine,
        loss="cross_entropy",
        test_inputs=task.test_inputs,
        test_targets=task.test_targets,
    )
    with torch.no_grad():
        logits = model(task.test_inputs.T)
    expected = functional.cross_entropy(task.test_targets.T, logits).item()
    assert history.test_loss[-1] == pytest.approx(expected, rel=1e-5)
    assert history.test_accuracy[-1] == functional.accuracy(task.test_targets.T, logits)
    train_logits = model(task.train_inputs.T).detach()
    assert history.epoch_accuracy[-1] == functional.accuracy(task.train_targets.T, train_logits)
    assert history.to_dict()["test_loss"] == history.test_loss
