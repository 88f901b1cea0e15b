"""lab3.curvature: Hessian-vector products, sharpness and the stability limit.

Truths established independently: the dense Hessian of an objective written here from scratch
(torch.autograd.functional.hessian) for random small networks, the hand-derived gradients of
lab3.gradients, and training runs on either side of the limit.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lab3
from lab3.curvature import Curvature, sharpness, stability_limit


def dense_hessian(weights, biases, x, y, reg, activation):
    """The Hessian of mean((y - net(x))²) + reg Σ||W||², written independently of lab3."""
    shapes = [(np.shape(w), np.shape(b)) for w, b in zip(weights, biases)]

    def objective(theta):
        h, offset, ws, out = torch.as_tensor(x, dtype=torch.float64), 0, [], None
        for i, (w_shape, b_shape) in enumerate(shapes):
            w = theta[offset : offset + np.prod(w_shape)].reshape(w_shape)
            offset += int(np.prod(w_shape))
            b = theta[offset : offset + np.prod(b_shape)].reshape(b_shape)
            offset += int(np.prod(b_shape))
            ws.append(w)
            out = h @ w + b
            h = torch.relu(out) if activation == "relu" else out
        residual = out - torch.as_tensor(y, dtype=torch.float64)
        return (residual**2).mean() + reg * sum((w**2).sum() for w in ws)

    theta = torch.tensor(
        np.concatenate(
            [np.concatenate([np.ravel(w), np.ravel(b)]) for w, b in zip(weights, biases)]
        )
    )
    return torch.autograd.functional.hessian(objective, theta).numpy()


@st.composite
def small_problems(draw):
    d_in, d_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    batch = draw(st.sampled_from([1, 2, 5, 7]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    sizes = [d_in, *hidden, d_out]
    weights = [rng.standard_normal((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [0.5 * rng.standard_normal((1, b)) for b in sizes[1:]]
    x, y = rng.standard_normal((batch, d_in)), rng.standard_normal((batch, d_out))
    reg = draw(st.sampled_from([0.0, 0.01, 0.5]))
    return weights, biases, x, y, reg, draw(st.sampled_from(["relu", "identity"]))


@settings(max_examples=40, deadline=None)
@given(small_problems())
def test_the_extreme_eigenvalues_agree_with_the_dense_hessian(problem):
    weights, biases, x, y, reg, activation = problem
    exact = np.linalg.eigvalsh(dense_hessian(*problem))
    curvature = Curvature(weights, biases, x, y, reg, activation)
    scale = max(1.0, np.abs(exact).max())
    assert abs(curvature.largest() - exact[-1]) <= 1e-6 * scale
    assert abs(curvature.smallest() - exact[0]) <= 1e-6 * scale
    np.testing.assert_allclose(curvature.dense(), dense_hessian(*problem), atol=1e-9 * scale)


def test_its_gradient_is_the_hand_derived_one():
    rng = np.random.default_rng(3)
    weights = [
        rng.standard_normal((2, 4)),
        rng.standard_normal((4, 3)),
        rng.standard_normal((3, 2)),
    ]
    biases = [rng.standard_normal((1, 4)), rng.standard_normal((1, 3)), rng.standard_normal((1, 2))]
    x, y = rng.standard_normal((9, 2)), rng.standard_normal((9, 2))
    gradient = Curvature(weights, biases, x, y, reg=0.3)._gradient.detach().numpy()
    dW, db = lab3.gradients(weights, biases, x, y, reg=0.3)
    expected = np.concatenate([np.concatenate([w.ravel(), b.ravel()]) for w, b in zip(dW, db)])
    np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-12)


def lab_run(samples, epochs):
    inputs, targets = lab3.create_linear_training_data(samples, seed=0)
    model = lab3.MultiLayerPerceptron(2, [3], 2, seed=0)
    if epochs:
        lab3.train(
            model,
            inputs,
            targets,
            epochs=epochs,
            batch_size=1,
            learning_rate=0.1,
            reg=0.001,
            engine="manual",
        )
    return model, inputs, targets


def test_the_labs_numbers_sharpness_about_1_fresh_and_4_1_at_the_landscapes_reference():
    model, inputs, targets = lab_run(1000, epochs=0)
    assert sharpness(model.weights, model.biases, inputs.T, targets.T, 0.001) == pytest.approx(
        1.0, abs=0.01
    )
    # the landscape's reference: the lab's single-sample run on its first 200 samples
    model, inputs, targets = lab_run(200, epochs=10)
    top = sharpness(model.weights, model.biases, inputs.T, targets.T, 0.001)
    assert top == pytest.approx(4.1, abs=0.01)
    assert stability_limit(top) == pytest.approx(0.49, abs=0.005)


@pytest.mark.parametrize(
    ("factor", "stable"), [(0.8, True), (0.95, True), (1.05, False), (1.2, False)]
)
def test_gradient_descent_from_a_minimum_holds_below_the_limit_and_leaves_above_it(factor, stable):
    model, inputs, targets = lab_run(1000, epochs=10)
    limit = stability_limit(sharpness(model.weights, model.biases, inputs.T, targets.T, 0.001))
    history = lab3.train(
        model,
        inputs,
        targets,
        epochs=300,
        batch_size=1000,
        reg=0.001,
        learning_rate=factor * limit,
        engine="manual",
    )
    start, worst = history.epoch_loss[0], max(history.epoch_loss)
    if stable:
        assert worst <= 1.01 * start and history.epoch_loss[-1] <= start
    else:
        assert worst > 100 * start  # the step overshoots along the sharpest direction


def test_a_flat_objective_has_no_limit_and_bad_input_is_refused():
    assert stability_limit(0.0) == float("inf") and stability_limit(-1.0) == float("inf")
    with pytest.raises(ValueError, match="reg=-1 is not allowed"):
        sharpness([np.ones((2, 2))], [np.zeros((1, 2))], np.ones((3, 2)), np.ones((3, 2)), reg=-1)
    with pytest.raises(ValueError, match="y has shape"):
        sharpness([np.ones((2, 2))], [np.zeros((1, 2))], np.ones((3, 2)), np.ones((4, 2)))
