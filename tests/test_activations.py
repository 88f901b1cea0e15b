"""tanh, sigmoid (and relu, identity) with both losses: hand backprop against torch autograd and
finite differences, over shapes (batch 1 and odd, outputs 1 to 5, depth 0 to 3), and the two
training engines against each other for every activation and loss."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lab3
from lab3 import backprop, functional
from lab3.gradcheck import relative_error, verify_gradients

ACTIVATIONS = functional.HIDDEN_ACTIVATIONS
TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "identity": lambda h: h,
}


def network(seed, sizes, batch, loss):
    """Weights ~ N(0, 1/fan_in), biases, inputs ~ N(0, 1); one-hot targets for cross-entropy."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 1 / np.sqrt(n), (n, m)) for n, m in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 1, (1, m)) for m in sizes[1:]]
    x = rng.normal(0, 1, (batch, sizes[0]))
    if loss == "cross_entropy":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    else:
        y = rng.normal(0, 1, (batch, sizes[-1]))
    return weights, biases, x, y


def torch_objective(weights, biases, x, y, reg, activation, loss):
    """The objective in torch float64, by torch's own functions; returns (value, dW, db)."""
    ws = [torch.tensor(w, requires_grad=True) for w in weights]
    bs = [torch.tensor(b, requires_grad=True) for b in biases]
    h = torch.tensor(x)
    for i, (w, b) in enumerate(zip(ws, bs)):
        h = h @ w + b
        if i < len(ws) - 1:
            h = TORCH_ACTIVATIONS[activation](h)
    target = torch.tensor(y)
    if loss == "cross_entropy":  # torch's own, with class indices
        value = torch.nn.functional.cross_entropy(h, target.argmax(dim=1))
    else:
        value = ((target - h) ** 2).mean()
    value = value + reg * sum((w**2).sum() for w in ws)
    value.backward()
    return value.item(), [w.grad.numpy() for w in ws], [b.grad.numpy() for b in bs]


shapes = st.tuples(
    st.integers(0, 2**32 - 1),  # seed
    st.integers(1, 5),  # inputs
    st.lists(st.integers(1, 6), min_size=0, max_size=3),  # hidden widths: depth 0 to 3
    st.integers(1, 5),  # outputs
    st.sampled_from([1, 2, 3, 7, 16]),  # batch: 1, odd and even
)


@settings(max_examples=60, deadline=None)
@given(
    shapes,
    st.sampled_from(ACTIVATIONS),
    st.sampled_from(functional.LOSSES),
    st.sampled_from([0.0, 0.01]),
)
def test_gradients_agree_with_torch_autograd(shape, activation, loss, reg):
    seed, d, hidden, k, batch = shape
    weights, biases, x, y = network(seed, [d, *hidden, k], batch, loss)
    ours = dict(reg=reg, activation=activation, loss=loss)
    value, dW_torch, db_torch = torch_objective(weights, biases, x, y, reg, activation, loss)
    assert backprop.objective(weights, biases, x, y, **ours) == pytest.approx(value, rel=1e-12)
    dW, db = backprop.gradients(weights, biases, x, y, **ours)
    for a, b in zip(dW + db, dW_torch + db_torch):
        assert a.shape == b.shape
        assert relative_error(a, b) < 1e-10


@settings(max_examples=40, deadline=None)
@given(shapes, st.sampled_from(["tanh", "sigmoid"]), st.sampled_from(functional.LOSSES))
def test_gradients_agree_with_finite_differences(shape, activation, loss):
    seed, d, hidden, k, batch = shape
    assume(not (loss == "cross_entropy" and k == 1))  # one class: the loss is 0 everywhere
    weights, biases, x, y = network(seed, [d, *hidden, k], batch, loss)
    errors = verify_gradients(weights, biases, x, y, activation=activation, loss=loss)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_each_pair_matches_its_derivative(activation):
    """The layer pairs alone: backward(dout) == dout * f'(x), f' by finite differences."""
    forward, backward = backprop._ACTIVATIONS[activation]
    x = np.linspace(-6, 6, 25).reshape(5, 5)
    dout = np.random.default_rng(0).normal(size=x.shape)
    out, cache = forward(x)
    h = 1e-6
    slope = (forward(x + h)[0] - forward(x - h)[0]) / (2 * h)
    assert relative_error(backward(dout, cache), dout * slope) < 1e-8
    torch_out = TORCH_ACTIVATIONS[activation](torch.tensor(x))
    assert np.allclose(out, torch_out.numpy(), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_functional_activations_keep_their_kind_and_saturate_finitely(activation):
    f = getattr(functional, activation)
    x = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    out = f(x)
    assert isinstance(out, np.ndarray) and np.all(np.isfinite(out))
    assert isinstance(f(torch.tensor(x)), torch.Tensor)
    assert np.allclose(out, f(torch.tensor(x)).numpy(), atol=1e-15)
    with pytest.raises(ValueError, match="^x="):
        f([1.0, 2.0])


def _engine_runs(activation, loss, batch_size, shuffle):
    rng = torch.Generator().manual_seed(3)
    inputs = torch.rand((2, 37), generator=rng) * 2 - 1
    if loss == "cross_entropy":
        targets = torch.eye(3)[:, torch.randint(0, 3, (37,), generator=rng)]
    else:
        targets = torch.randn((3, 37), generator=rng)
    test_inputs, test_targets = inputs[:, :9] * 0.5, targets[:, :9]
    runs = []
    for engine in ("autograd", "manual"):
        model = lab3.MultiLayerPerceptron(2, [5, 4], 3, activation=activation, seed=1, init="he")
        history = lab3.train(
            model,
            inputs,
            targets,
            epochs=3,
            batch_size=batch_size,
            learning_rate=0.2,
            reg=0.001,
            engine=engine,
            shuffle=shuffle,
            loss=loss,
            test_inputs=test_inputs,
            test_targets=test_targets,
        )
        runs.append((model, history))
    return runs


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", functional.LOSSES)
@pytest.mark.parametrize("batch_size, shuffle", [(1, False), (5, True)])
def test_both_engines_train_alike(activation, loss, batch_size, shuffle):
    """float32 autograd and float64 hand backprop follow the same path (to float32 rounding)."""
    (auto, h_auto), (manual, h_manual) = _engine_runs(activation, loss, batch_size, shuffle)
    for a, m in zip(auto.parameters(), manual.parameters()):
        assert torch.allclose(a, m, atol=1e-4), (a - m).abs().max()
    for name in ("step_loss", "epoch_loss", "epoch_objective", "test_loss"):
        assert np.allclose(getattr(h_auto, name), getattr(h_manual, name), rtol=1e-4, atol=1e-6)
    assert len(h_auto.test_loss) == 3
    if loss == "cross_entropy":
        assert len(h_manual.epoch_accuracy) == len(h_manual.test_accuracy) == 3
        assert np.allclose(h_auto.epoch_accuracy, h_manual.epoch_accuracy, atol=1 / 37)
        assert all(0 <= a <= 1 for a in h_manual.epoch_accuracy + h_manual.test_accuracy)
    else:
        assert h_auto.epoch_accuracy == h_manual.test_accuracy == []
