"""lab3.figures.curves and .plane: what each figure draws, read back from its artists."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import lab3
from lab3.figures.curves import plot_losses
from lab3.figures.plane import format_matrices, plot_plane


@pytest.fixture(scope="module")
def histories():
    """Two short real runs: single-sample (40 steps) and batches of 8 (15 steps)."""
    inputs, targets = lab3.create_linear_training_data(n_samples=40)
    runs = {}
    for label, batch_size, epochs in (("single", 1, 1), ("batch 8", 8, 3)):
        model = lab3.MultiLayerPerceptron()
        runs[label] = lab3.train(
            model, inputs, targets, epochs=epochs, batch_size=batch_size, engine="manual"
        )
    return runs


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_loss_per_step_is_drawn_against_samples_seen(histories):
    fig = plot_losses(histories, per="step", smooth=5)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2 * len(histories)  # a faint raw curve and its running mean
    raw_single, mean_single, raw_batch, _ = ax.get_lines()
    np.testing.assert_array_equal(raw_single.get_xdata(), np.arange(1, 41))
    np.testing.assert_array_equal(raw_single.get_ydata(), histories["single"].step_loss)
    np.testing.assert_array_equal(raw_batch.get_xdata(), np.arange(1, 16) * 8)  # 15 steps of 8
    # window = min(smooth, steps // 20) = 2 for 40 steps: the mean of each pair of steps
    losses = np.array(histories["single"].step_loss)
    np.testing.assert_allclose(mean_single.get_ydata(), (losses[1:] + losses[:-1]) / 2)
    assert mean_single.get_label() == "single (mean of 2 steps)"
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "samples seen (steps x batch size)" and ax.get_ylabel()
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "single (mean of 2 steps)",
        "batch 8",
    }


def test_loss_per_epoch_on_a_given_axes(histories):
    fig, ax = plt.subplots()
    assert plot_losses(histories, per="epoch", ax=ax, title="t") is fig
    lines = lines_by_label(ax)
    assert set(lines) == {"single", "batch 8"}
    np.testing.assert_array_equal(lines["batch 8"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["batch 8"].get_ydata(), histories["batch 8"].epoch_loss)
    assert ax.get_xlabel() == "epoch" and ax.get_title() == "t" and ax.get_yscale() == "log"


def offsets(ax):
    return ax.collections[0].get_offsets().data


@pytest.mark.parametrize("with_initial", [False, True])
def test_plane_panels_show_the_points_their_images_and_the_network(with_initial):
    model = lab3.MultiLayerPerceptron(activation="identity", seed=1)
    initial = lab3.MultiLayerPerceptron(seed=2)
    matrix = lab3.rotation_matrix(90)
    fig = plot_plane(model, matrix, initial if with_initial else None, title="plane")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["input x", "true transform  x @ M"] + (
        ["network before training"] if with_initial else []
    ) + ["network after training"]
    points = torch.as_tensor(offsets(fig.axes[0]), dtype=torch.float32)
    assert len(points) == 11 * 11 + 120  # the grid and the circle
    np.testing.assert_allclose(offsets(fig.axes[1]), (points @ matrix).numpy(), atol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(offsets(fig.axes[-1]), model.forward(points).numpy(), atol=1e-6)
        if with_initial:
            np.testing.assert_allclose(
                offsets(fig.axes[2]), initial.forward(points).numpy(), atol=1e-6
            )
    assert fig._suptitle.get_text() == "plane"


def test_format_matrices_rounds_and_never_prints_minus_zero():
    text = format_matrices(torch.tensor([[1e-7, 1.0], [-1.0, -0.00001]]), [[0, 1], [-1, 0]])
    assert text == (
        "learned             true\n"
        "[ 0.0000  1.0000]   [ 0.0000  1.0000]\n"
        "[-1.0000  0.0000]   [-1.0000  0.0000]"
    )
    assert format_matrices(np.eye(2), np.eye(2), names=("a", "b")).startswith("a" + " " * 19 + "b")
