"""lab3.find_learning_rate: geometric rates, a stop at divergence, the model left alone."""

import numpy as np
import pytest
import torch

import lab3
from lab3 import validation
from lab3.training import lr_finder


@pytest.fixture(scope="module")
def data():
    return lab3.create_linear_training_data(200, seed=0)


def test_rates_grow_geometrically_from_start_to_stop_when_nothing_diverges(data):
    rates, losses = lab3.find_learning_rate(
        lab3.MultiLayerPerceptron(), *data, start=1e-4, stop=1e-2, steps=20
    )
    assert rates.dtype == losses.dtype == np.float64 and rates.shape == losses.shape == (20,)
    assert rates[0] == pytest.approx(1e-4) and rates[-1] == pytest.approx(1e-2)
    ratios = rates[1:] / rates[:-1]
    assert np.allclose(ratios, (1e-2 / 1e-4) ** (1 / 19))
    assert (
        np.all(np.isfinite(losses)) and losses[-1] < 0.35
    )  # small rates: the loss (1/3 at init) creeps down


def test_losses_are_the_full_data_mse_after_each_step_in_order(data):
    inputs, targets = data
    model = lab3.MultiLayerPerceptron()
    rates, losses = lab3.find_learning_rate(
        model, inputs, targets, start=0.01, stop=0.1, steps=3, batch_size=150, reg=0.0
    )
    # the same three steps by hand: batches 0-149, then 150-199 and 0-99 (wrapping round),
    # then 100-249 modulo 200
    twin = model.copy()
    order = torch.arange(3 * 150) % 200
    for i, rate in enumerate(rates):
        batch = order[i * 150 : (i + 1) * 150]
        loss = lab3.mse(targets.T[batch], twin.forward(inputs.T[batch]))
        loss.backward()
        with torch.no_grad():
            for p in twin.parameters():
                p -= rate * p.grad
                p.grad = None
            assert losses[i] == pytest.approx(
                float(lab3.mse(targets.T, twin.forward(inputs.T))), rel=1e-6
            )


def test_it_stops_at_divergence_and_keeps_the_step_that_diverged(data):
    model = lab3.MultiLayerPerceptron()
    rates, losses = lab3.find_learning_rate(
        model, *data, start=1e-3, stop=1e3, steps=200, batch_size=10
    )
    assert len(rates) < 200  # stopped early, on the first step past 4x the best loss so far
    with torch.no_grad():
        initial = float(lab3.mse(data[1].T, model.forward(data[0].T)))
    best = np.minimum.accumulate(np.concatenate([[initial], losses[:-1]]))  # best before each step
    limit = lr_finder.DIVERGENCE_FACTOR * best
    assert np.all(losses[:-1] <= limit[:-1])
    assert not np.isfinite(losses[-1]) or losses[-1] > limit[-1]


def test_the_model_passed_in_is_not_changed(data):
    model = lab3.MultiLayerPerceptron()
    before = [p.detach().clone() for p in model.parameters()]
    lab3.find_learning_rate(model, *data, steps=30)
    assert all(torch.equal(b, p) for b, p in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"start": 0.0}, "start=0.0 is not allowed: a finite learning rate > 0"),
        ({"start": float("nan")}, "start=nan is not allowed"),
        (
            {"stop": 1e-5},
            "stop=1e-05 is not allowed: a finite learning rate larger than start (0.0001)",
        ),
        ({"steps": 1}, f"steps=1 is not allowed: an integer from 2 to {validation.MAX_STEPS:,}"),
        ({"steps": 10.0}, "steps=10.0 is not allowed"),
        (
            {"batch_size": 0},
            "batch_size=0 is not allowed: an integer from 1 to the number of samples (200)",
        ),
        ({"batch_size": 201}, "batch_size=201 is not allowed"),
        ({"reg": -1.0}, "reg=-1.0 is not allowed: a finite number >= 0"),
    ],
)
def test_bad_settings_are_refused_by_name(data, kwargs, message):
    with pytest.raises(ValueError) as error:
        lab3.find_learning_rate(lab3.MultiLayerPerceptron(), *data, **kwargs)
    assert message in str(error.value)


def test_bad_model_or_data_are_refused_by_name(data):
    inputs, targets = data
    with pytest.raises(ValueError, match="model=.* is not allowed: a lab3 MultiLayerPerceptron"):
        lab3.find_learning_rate("net", inputs, targets)
    with pytest.raises(ValueError, match=r"targets=\(2, 199\) is not allowed"):
        lab3.find_learning_rate(lab3.MultiLayerPerceptron(), inputs, targets[:, :199])
