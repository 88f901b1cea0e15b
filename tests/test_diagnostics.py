"""lab3.training.statistics: per-layer statistics match a hand computation; traces; figures."""

import math

import numpy as np
import pytest
import torch

import lab3
from lab3.figures.statistics import plot_init_comparison, plot_training_statistics
from lab3.training.statistics import train_with_statistics


def tiny_net(b1=(0.0, 0.5)):
    """A 2-2-2 ReLU net with hand-picked weights (see test_statistics_match_a_hand_computation)."""
    model = lab3.MultiLayerPerceptron(2, [2], 2)
    with torch.no_grad():
        model.weights[0].copy_(torch.tensor([[1.0, -1.0], [2.0, 0.0]]))
        model.biases[0].copy_(torch.tensor([b1]))
        model.weights[1].copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        model.biases[1].zero_()
    return model


# two samples, as columns (the lab's layout): s1 = (1, 0), s2 = (0, -1); targets all zero
INPUTS = torch.tensor([[1.0, 0.0], [0.0, -1.0]])
TARGETS = torch.zeros(2, 2)


def test_statistics_match_a_hand_computation():
    # z1 = x @ W1 + b1: s1 -> (1, -0.5), s2 -> (-2, 0.5); h1 = relu(z1): (1, 0), (0, 0.5)
    # y_hat = h1 @ W2: (1, 0), (0, 1); mse = mean(y_hat^2) = 2/4; dmse/dy_hat = 2 y_hat / 4
    # dW2 = h1.T @ dy = [[0.5, 0], [0, 0.25]]; dz1 = (dy @ W2.T) * (z1 > 0) = (0.5, 0), (0, 1)
    # dW1 = x.T @ dz1 = [[0.5, 0], [0, -1]]
    hidden, output = lab3.layer_statistics(tiny_net(), INPUTS, TARGETS)
    assert (hidden["layer"], hidden["kind"], hidden["units"]) == (1, "hidden", 2)
    assert (output["layer"], output["kind"], output["units"]) == (2, "output", 2)
    assert hidden["active_fraction"] == 0.5 and hidden["dead_units"] == 0
    assert output["active_fraction"] is None and output["dead_units"] is None
    assert hidden["activation_rms"] == pytest.approx(math.sqrt(1.25 / 4))
    assert output["activation_rms"] == pytest.approx(math.sqrt(2 / 4))
    assert hidden["gradient_norm"] == pytest.approx(math.sqrt(0.25 + 1))
    assert output["gradient_norm"] == pytest.approx(math.sqrt(0.25 + 0.0625))
    assert hidden["weight_norm"] == pytest.approx(math.sqrt(6))
    assert output["weight_norm"] == pytest.approx(math.sqrt(5))


def test_reg_adds_the_penalty_gradient():
    # dW2 + 2 * 0.1 * W2 = [[0.7, 0], [0, 0.65]]
    _, output = lab3.layer_statistics(tiny_net(), INPUTS, TARGETS, reg=0.1)
    assert output["gradient_norm"] == pytest.approx(math.sqrt(0.49 + 0.4225))


def test_a_unit_off_on_every_sample_is_dead():
    # b1 = (0, -5): unit 2's z is -6 and -5, unit 1 is on for s1 only -> 1 of 4 entries active
    hidden, _ = lab3.layer_statistics(tiny_net(b1=(0.0, -5.0)), INPUTS, TARGETS)
    assert hidden["dead_units"] == 1 and hidden["active_fraction"] == 0.25


def test_the_model_is_left_unchanged():
    model = tiny_net()
    before = [p.detach().clone() for p in model.parameters()]
    lab3.layer_statistics(model, INPUTS, TARGETS, reg=0.1)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: lab3.layer_statistics("net", INPUTS, TARGETS), "model"),
        (lambda: lab3.layer_statistics(tiny_net(), INPUTS, TARGETS[:, :1]), "targets"),
        (lambda: lab3.layer_statistics(tiny_net(), torch.ones(3, 2), TARGETS), "inputs"),
        (lambda: lab3.layer_statistics(tiny_net(), INPUTS, TARGETS, reg=-1.0), "reg"),
        (lambda: train_with_statistics(tiny_net(), INPUTS, TARGETS, epochs=0), "epochs"),
    ],
)
def test_bad_input_is_refused_by_name(call, name):
    with pytest.raises(ValueError, match=rf"^{name}=.* is not allowed: "):
        call()


@pytest.fixture(scope="module")
def data():
    return lab3.create_linear_training_data(200, seed=0)


@pytest.fixture(scope="module")
def trace(data):
    model = lab3.MultiLayerPerceptron(2, [4, 4], 2, seed=0)
    return train_with_statistics(
        model, *data, epochs=3, batch_size=10, learning_rate=0.1, label="lab"
    )


def test_a_trace_is_the_training_of_one_train_call(data, trace):
    model = lab3.MultiLayerPerceptron(2, [4, 4], 2, seed=0)
    start = lab3.layer_statistics(model, *data)
    history = lab3.train(model, *data, epochs=3, batch_size=10, learning_rate=0.1, engine="manual")
    assert trace.loss[1:] == pytest.approx(history.epoch_loss, rel=1e-5)
    assert trace.statistics[0] == start
    assert list(trace.epochs) == [0, 1, 2, 3]
    assert trace.update_ratio.shape == (3, 3) and (trace.update_ratio > 0).all()
    assert trace.singular_values.shape == (4, 2)
    assert trace.series("activation_rms").shape == (4, 3)
    assert np.isnan(trace.series("active_fraction")[:, -1]).all()  # the output layer has none


def test_the_first_loss_is_the_initial_mse(data, trace):
    model = lab3.MultiLayerPerceptron(2, [4, 4], 2, seed=0)
    with torch.no_grad():
        expected = float(lab3.mse(data[1].T, model.forward(data[0].T)))
    assert trace.loss[0] == pytest.approx(expected, rel=1e-6)


def test_the_update_ratio_is_the_relative_change_of_the_weights(data):
    model = lab3.MultiLayerPerceptron(2, [3], 2, seed=1)
    start = [w.detach().clone() for w in model.weights]
    trace = train_with_statistics(model, *data, epochs=1, batch_size=50)
    for ratio, w, w0 in zip(trace.update_ratio[0], model.weights, start):
        assert ratio == pytest.approx(float((w.detach() - w0).norm() / w0.norm()), rel=1e-6)


def _check_axes(fig):
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()
        assert ax.get_legend() is not None and ax.lines, ax.get_title()  # no empty panel


def test_the_figures_have_labels_legends_and_no_empty_panel(trace):
    fig = plot_training_statistics(trace)
    assert len(fig.axes) == 6
    _check_axes(fig)
    other = train_with_statistics(
        lab3.MultiLayerPerceptron(2, [4, 4], 2, init="he"), *_data_small(), epochs=1, label="he"
    )
    fig = plot_init_comparison([trace, other])
    assert len(fig.axes) == 3
    _check_axes(fig)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["lab", "he"]


def test_without_relu_layers_the_active_fraction_panel_is_left_out():
    linear = lab3.MultiLayerPerceptron(2, [3], 2, activation="identity")
    trace = train_with_statistics(linear, *_data_small(), epochs=1)
    fig = plot_training_statistics(trace)
    assert len(fig.axes) == 5
    _check_axes(fig)


def _data_small():
    return lab3.create_linear_training_data(20, seed=1)
