"""lab3.figures.neurons: each hidden unit's activation over the plane, and the output's picture."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import lab3  # noqa: E402
from lab3.figures.neurons import (  # noqa: E402
    class_probability,
    plane_grid,
    plot_decision,
    plot_units,
    unit_activations,
)


@settings(max_examples=20, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    activation=st.sampled_from(["relu", "tanh", "sigmoid", "identity"]),
    n=st.sampled_from([1, 7, 30]),
    outputs=st.integers(1, 4),
)
def test_the_last_hidden_layer_gives_the_output(hidden, activation, n, outputs):
    model = lab3.MultiLayerPerceptron(2, hidden, outputs, seed=1, init="he", activation=activation)
    points = np.random.default_rng(0).uniform(-1, 1, size=(n, 2))
    layers = unit_activations(model, points)
    assert [a.shape for a in layers] == [(n, w) for w in hidden]
    last = torch.as_tensor(layers[-1], dtype=torch.float32)
    with torch.no_grad():
        expected = model.forward(points)
        rebuilt = last @ model.weights[-1] + model.biases[-1]
    torch.testing.assert_close(rebuilt, expected, atol=1e-5, rtol=1e-5)
    if activation == "relu":
        assert all((a >= 0).all() for a in layers)


def test_a_relu_unit_is_a_ramp_off_on_one_side_of_its_line():
    model = lab3.MultiLayerPerceptron(2, [1], 2, seed=0)
    with torch.no_grad():
        model.weights[0][:] = torch.tensor([[1.0], [0.0]])  # unit = relu(x1)
        model.biases[0][:] = 0.0
    _, _, points = plane_grid(1.0, 5)
    np.testing.assert_allclose(
        unit_activations(model, points)[0][:, 0], np.maximum(points[:, 0], 0)
    )


def test_the_grid_covers_the_square_row_by_row():
    xs, ys, points = plane_grid(2.0, 3)
    np.testing.assert_allclose(xs, [-2, 0, 2])
    assert points.shape == (9, 2)
    np.testing.assert_allclose(points[1], [0.0, -2.0])  # row i * steps + j is (xs[j], ys[i])


def test_class_probability_is_the_softmax_of_class_1():
    model = lab3.MultiLayerPerceptron(2, [4], 2, seed=2, init="he")
    points = np.random.default_rng(1).normal(size=(5, 2))
    p = class_probability(model, points)
    with torch.no_grad():
        out = model.forward(points).double()
    np.testing.assert_allclose(p, torch.softmax(out, 1)[:, 1].numpy())


def test_the_plots_draw_one_panel_per_unit_and_refuse_a_missing_layer():
    task = lab3.make_task("circle", 40, seed=0)
    model = lab3.MultiLayerPerceptron(2, [5, 3], 2, seed=0, init="he")
    fig = plot_units(model, layer=0, columns=4)
    assert sum(ax.has_data() for ax in fig.axes) == 5
    ax = plot_decision(model, task.train_inputs, task.train_targets)
    assert ax.get_title() == "output over the plane"
    plt.close("all")
    with pytest.raises(ValueError, match="layer"):
        plot_units(model, layer=2)
    with pytest.raises(ValueError, match="points"):
        unit_activations(model, np.zeros((3, 3)))
