"""lab3.mlp.MultiLayerPerceptron: shapes, the lab's initialisation, forward, the effective map."""

import math
import re

import numpy as np
import pytest
import torch

import lab3
from lab3.mlp import MultiLayerPerceptron

SIZES = [(), (3,), (5, 4), (1, 1, 1)]


@pytest.mark.parametrize("hidden_sizes", SIZES)
def test_parameter_shapes(hidden_sizes):
    model = MultiLayerPerceptron(num_inputs=4, hidden_sizes=hidden_sizes, num_outputs=2)
    widths = [4, *hidden_sizes, 2]
    assert [tuple(w.shape) for w in model.weights] == list(zip(widths[:-1], widths[1:]))
    assert [tuple(b.shape) for b in model.biases] == [(1, m) for m in widths[1:]]
    assert model.layer_sizes == tuple(widths)
    assert model.hidden_sizes == tuple(hidden_sizes)
    assert model.activations == ("relu",) * len(hidden_sizes)
    assert all(p.dtype == torch.float32 and p.requires_grad for p in model.parameters())
    # parameters() is layer by layer: W_1, b_1, W_2, b_2, ...
    assert model.parameters() == [p for pair in zip(model.weights, model.biases) for p in pair]


def test_lab_default_shapes():
    model = MultiLayerPerceptron()
    assert [tuple(w.shape) for w in model.weights] == [(2, 3), (3, 2)]  # the lab's w_1, w_2
    assert [tuple(b.shape) for b in model.biases] == [(1, 3), (1, 2)]  # the lab's b_1, b_2


def test_init_is_the_labs_uniform_0_to_0_1_and_zero_biases():
    model = MultiLayerPerceptron(hidden_sizes=[50, 40], seed=3)
    weights = torch.cat([w.detach().flatten() for w in model.weights])
    assert weights.min() >= 0 and weights.max() < 0.1
    # U[0, 0.1): the mean of 2100 draws is 0.05 +- 0.002, and both ends of the range are used.
    assert abs(weights.mean().item() - 0.05) < 0.005
    assert weights.min() < 0.002 and weights.max() > 0.098
    assert all(torch.count_nonzero(b) == 0 for b in model.biases)


def test_init_draws_from_a_seeded_private_generator():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    model = MultiLayerPerceptron(seed=7)
    assert torch.equal(torch.rand(1), before)  # the global RNG was not used
    generator = torch.Generator().manual_seed(7)
    expected = [
        torch.rand((2, 3), generator=generator) * 0.1,
        torch.rand((3, 2), generator=generator) * 0.1,
    ]
    for w, e in zip(model.weights, expected):
        assert torch.equal(w.detach(), e)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (MultiLayerPerceptron(hidden_sizes=[4, 3], seed=s) for s in (1, 1, 2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.weights[0], c.weights[0])


def set_parameters(model, weights, biases):
    with torch.no_grad():
        for p, value in zip(model.parameters(), [v for pair in zip(weights, biases) for v in pair]):
            p.copy_(torch.as_tensor(value, dtype=torch.float32))


def test_forward_shape_and_values():
    model = MultiLayerPerceptron(num_inputs=3, hidden_sizes=[4, 2], num_outputs=5, seed=1)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape) for w in model.weights]
    biases = [rng.normal(size=b.shape) for b in model.biases]
    set_parameters(model, weights, biases)
    x = rng.normal(size=(7, 3))
    out = model.forward(torch.tensor(x, dtype=torch.float32))
    assert out.shape == (7, 5) and out.dtype == torch.float32
    h = np.maximum(x @ weights[0] + biases[0], 0)
    h = np.maximum(h @ weights[1] + biases[1], 0)
    expected = h @ weights[2] + biases[2]  # identity output, with its bias
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(model(torch.tensor(x, dtype=torch.float32)), out)


def test_forward_on_the_labs_data_layout():
    inputs, _ = lab3.create_linear_training_data(n_samples=10)
    model = MultiLayerPerceptron()
    assert model.forward(inputs.T).shape == (10, 2)
    assert model.forward(inputs[:, 3:7].T).shape == (4, 2)
    with pytest.raises(ValueError, match=r"x=\(2, 10\) is not allowed"):
        model.forward(inputs)  # (d, n) instead of rows


def test_activations_relu_identity_and_mixed():
    x = torch.tensor([[-1.0, -2.0], [1.0, 2.0]])
    relu = MultiLayerPerceptron(hidden_sizes=[3])
    identity = MultiLayerPerceptron(hidden_sizes=[3], activation="identity")
    for model in (relu, identity):
        set_parameters(
            model, [np.ones((2, 3)), np.ones((3, 2))], [np.zeros((1, 3)), np.zeros((1, 2))]
        )
    # Row 0 has hidden input -3: relu cuts it to 0, identity keeps it (3 units * -3 = -9).
    np.testing.assert_array_equal(relu(x).detach().numpy(), [[0, 0], [9, 9]])
    np.testing.assert_array_equal(identity(x).detach().numpy(), [[-9, -9], [9, 9]])
    mixed = MultiLayerPerceptron(hidden_sizes=[3, 3], activation=["identity", "relu"])
    assert mixed.activations == ("identity", "relu")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(num_inputs=0), "num_inputs"),
        (dict(num_inputs=2.0), "num_inputs"),
        (dict(num_inputs=True), "num_inputs"),
        (dict(num_outputs=-1), "num_outputs"),
        (dict(hidden_sizes=[0]), "hidden_sizes"),
        (dict(hidden_sizes=[3, -2]), "hidden_sizes"),
        (dict(hidden_sizes=[2.5]), "hidden_sizes"),
        (dict(hidden_sizes=3), "hidden_sizes"),
        (dict(hidden_sizes="3"), "hidden_sizes"),
        (dict(activation="gelu"), "activation"),
        (dict(activation=["relu", "relu"]), "activation"),  # two names for one hidden layer
        (dict(activation=["swish"]), "activation"),
        (dict(activation=None), "activation"),
        (dict(seed=1.5), "seed"),
        (dict(seed=-1), "seed"),
        (dict(hidden_sizes=[10**5]), "hidden_sizes"),
        (dict(hidden_sizes=[4000] * 3), "hidden_sizes"),  # 32 million parameters
        (dict(num_inputs=10**6), "num_inputs"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, name):
    with pytest.raises(ValueError) as error:
        MultiLayerPerceptron(**kwargs)
    message = str(error.value)
    assert message.startswith(f"{name}={kwargs[name]!r} is not allowed: "), message


def test_unknown_activation_message_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="'relu', 'tanh', 'sigmoid', 'identity'"):
        MultiLayerPerceptron(activation="gelu")


# ----------------------------------------------------------------------------------------------
# Reading the learned transform
# ----------------------------------------------------------------------------------------------


def affine_net(matrix, offset):
    """A 2-3-2 ReLU net computing exactly ``x @ matrix + offset`` on [-1, 1]^2, all units active.

    Hidden layer: h = x @ W1 + 10 (always > 0 for |x| <= 1 and small W1); output removes the 10s.
    """
    model = MultiLayerPerceptron()
    w1 = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    w2 = np.linalg.pinv(w1) @ matrix  # w1 @ w2 == matrix (w1 has full row rank)
    b1 = np.full((1, 3), 10.0)
    b2 = offset - b1 @ w2
    set_parameters(model, [w1, w2], [b1, b2])
    return model


def test_effective_matrix_recovers_a_known_affine_map():
    inputs, _ = lab3.create_linear_training_data(n_samples=200)
    matrix = np.array([[0.3, -1.2], [2.0, 0.7]])
    model = affine_net(matrix, offset=np.array([[0.5, -0.25]]))
    a = model.effective_matrix(inputs)
    assert a.shape == (2, 2) and a.dtype == torch.float32 and not a.requires_grad
    np.testing.assert_allclose(a.numpy(), matrix, atol=1e-4)
    _, t = model.effective_affine(inputs)
    np.testing.assert_allclose(t.numpy(), [[0.5, -0.25]], atol=1e-4)


def test_product_of_weights_equals_effective_matrix_when_every_relu_is_active():
    inputs, _ = lab3.create_linear_training_data(n_samples=300, seed=1)
    model = MultiLayerPerceptron(hidden_sizes=[4], seed=5)  # weights in [0, 0.1)
    with torch.no_grad():
        model.biases[0].fill_(1.0)  # x @ W1 >= -0.2 on [-1, 1]^2, so every unit is active
        model.biases[1].fill_(-3.0)
    assert (inputs.T @ model.weights[0] + model.biases[0]).min() > 0
    np.testing.assert_allclose(
        model.product_of_weights().numpy(), model.effective_matrix(inputs).numpy(), atol=1e-6
    )


def test_product_of_weights_is_wrong_when_relus_switch_off():
    inputs, _ = lab3.create_linear_training_data(n_samples=300, seed=1)
    model = MultiLayerPerceptron(hidden_sizes=[4], seed=5)  # zero biases: units off for half
    product, effective = model.product_of_weights(), model.effective_matrix(inputs)
    # On the half-plane where a unit is off, the map is bent; the fit halves the slope roughly.
    assert torch.linalg.norm(product - effective) > 0.2 * torch.linalg.norm(product)


def test_product_of_weights_multiplies_every_layer():
    model = MultiLayerPerceptron(num_inputs=3, hidden_sizes=[4, 5], num_outputs=2, seed=2)
    w = [p.detach().numpy() for p in model.weights]
    product = model.product_of_weights()
    assert product.shape == (3, 2) and not product.requires_grad
    np.testing.assert_allclose(product.numpy(), w[0] @ w[1] @ w[2], rtol=1e-5)


def test_identity_network_is_linear_and_both_readings_agree():
    inputs, _ = lab3.create_linear_training_data(n_samples=50)
    model = MultiLayerPerceptron(hidden_sizes=[3, 3], activation="identity", seed=4)
    with torch.no_grad():
        model.biases[0].fill_(-0.7)  # biases move the output, not the matrix
    np.testing.assert_allclose(
        model.product_of_weights().numpy(), model.effective_matrix(inputs).numpy(), atol=1e-6
    )


@pytest.mark.parametrize("shape", [(3, 100), (2, 2), (2, 1), (100, 2)])
def test_effective_matrix_refuses_bad_inputs(shape):
    with pytest.raises(ValueError, match=re.escape(f"inputs={tuple(shape)!r} is not allowed")):
        MultiLayerPerceptron().effective_matrix(torch.zeros(shape))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_effective_matrix_refuses_non_finite_inputs(bad):
    inputs = torch.zeros(2, 10)
    inputs[1, 3] = bad
    with pytest.raises(ValueError, match=r"^inputs=\(2, 10\) is not allowed: finite numbers"):
        MultiLayerPerceptron().effective_matrix(inputs)
    with pytest.raises(ValueError, match=r"^inputs=\(1, 2\) is not allowed: real numbers"):
        MultiLayerPerceptron().effective_matrix([["a", "b"]])


def test_copy_is_independent():
    model = MultiLayerPerceptron(hidden_sizes=[4, 2], activation=["identity", "relu"], seed=9)
    twin = model.copy()
    assert repr(twin) == repr(model)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))
    with torch.no_grad():
        twin.weights[0].add_(1.0)
        twin.biases[-1].add_(1.0)
    assert not torch.equal(model.weights[0], twin.weights[0])
    assert torch.count_nonzero(model.biases[-1]) == 0


def test_repr_shows_the_constructor_arguments():
    assert repr(MultiLayerPerceptron()) == (
        "MultiLayerPerceptron(num_inputs=2, hidden_sizes=[3], "
        "num_outputs=2, activation=['relu'], seed=0)"
    )


def test_he_init_is_zero_mean_with_variance_two_over_fan_in():
    model = MultiLayerPerceptron(2, [400], 2, seed=0, init="he")
    w = model.weights[1].detach()  # (400, 2): fan_in 400
    assert abs(float(w.mean())) < 0.01
    assert float(w.var()) == pytest.approx(2 / 400, rel=0.15)
    assert all(float(b.detach().abs().sum()) == 0 for b in model.biases)


def test_init_scale_multiplies_the_drawn_weights_and_survives_copy():
    plain = MultiLayerPerceptron(2, [3], 2, seed=1)
    scaled = MultiLayerPerceptron(2, [3], 2, seed=1, init_scale=2.5)
    for w, w2 in zip(plain.weights, scaled.weights):
        torch.testing.assert_close(w2, 2.5 * w)
    twin = scaled.copy()
    assert (twin.init, twin.init_scale) == ("lab", 2.5)
    assert "init_scale=2.5" in repr(twin)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"init": "xavier"}, "init"),
        ({"init": None}, "init"),
        ({"init_scale": 0}, "init_scale"),
        ({"init_scale": float("nan")}, "init_scale"),
        ({"init_scale": 1e9}, "init_scale"),
        ({"init_scale": "2"}, "init_scale"),
    ],
)
def test_bad_init_is_refused_by_name(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}="):
        MultiLayerPerceptron(2, [3], 2, **kwargs)
