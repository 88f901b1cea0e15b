"""lab3.backprop against torch autograd, finite differences and the lab's worked numbers."""

import re

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lab3 import backprop
from lab3.gradcheck import numerical_gradient, relative_error, report, verify_gradients

# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def random_network(seed, sizes, batch):
    """Weights ~ N(0, 1/fan_in) (outputs of order 1 at any depth), biases, x and y ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 1 / np.sqrt(n), (n, m)) for n, m in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 1, (1, m)) for m in sizes[1:]]
    x = rng.normal(0, 1, (batch, sizes[0]))
    y = rng.normal(0, 1, (batch, sizes[-1]))
    return weights, biases, x, y


def torch_reference(weights, biases, x, y, reg, output, activation="relu"):
    """The same network and objective in torch float64; returns (objective, dW, db) by autograd."""
    ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in biases]
    h = torch.tensor(x, dtype=torch.float64)
    for i, (w, b) in enumerate(zip(ws, bs)):
        h = h @ w + b
        if i < len(ws) - 1 and activation == "relu":
            h = torch.relu(h)
    if output == "softmax":
        h = torch.softmax(h, dim=-1)
    loss = ((torch.tensor(y, dtype=torch.float64) - h) ** 2).mean()
    loss = loss + reg * sum((w**2).sum() for w in ws)
    loss.backward()
    return loss.item(), [w.grad.numpy() for w in ws], [b.grad.numpy() for b in bs]


def assert_close(ours, theirs, tol):
    """Every pair of arrays has the same shape and a relative error below ``tol``."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        assert relative_error(a, b) < tol, relative_error(a, b)


def checkable(value, grads):
    """True if finite differences can check ``grads`` of a function whose value is ``value``.

    Rounding ``f`` to float64 costs the difference quotient about ``1e-16 * |f| / h = 1e-10 * |f|``
    (absolute), so an array whose gradients are all tiny next to ``|f|`` cannot be checked to
    ``1e-6`` relative. Exactly-zero gradients (a dead unit) are fine: both sides are then 0.
    """
    return all(np.all(g == 0) or np.max(np.abs(g)) > 1e-3 * abs(value) for g in grads)


def assert_matches_finite_differences(f, analytic, array):
    """``analytic`` is the gradient of ``f()`` with respect to ``array``, to 1e-6 relative."""
    assert analytic.shape == array.shape
    assume(checkable(f(), [analytic]))
    assert relative_error(analytic, numerical_gradient(f, array)) < 1e-6


networks = st.tuples(
    st.integers(0, 2**32 - 1),  # seed
    st.lists(st.integers(1, 8), min_size=2, max_size=5),  # layer sizes: 1 to 4 weight layers
    st.integers(1, 64),  # batch
)
regs = st.one_of(st.just(0.0), st.floats(1e-4, 2.0))
hidden_activations = st.sampled_from(["relu", "identity"])


def worked_example():
    """The lab's worked example: x (1, 4), w (4, 5), b (1, 5), m (5, 3), c (1, 3), y (1, 3)."""
    x = np.array([[1, 2, 3, 4]])
    w = np.array([[1] * 5, [2] * 5, [3] * 5, [4] * 5])
    b = np.ones((1, 5))
    m = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [1, 1, 1], [2, 2, 2]])
    c = np.ones((1, 3))
    y = np.array([[1, 0, 1]])
    return [w, m], [b, c], x, y


# ----------------------------------------------------------------------------------------------
# The helpers themselves must be able to say "wrong"
# ----------------------------------------------------------------------------------------------


def test_relative_error_formula():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, -2.0], [1.0, 2.0]) == pytest.approx(4 / 4)
    assert relative_error([[3.0]], [[1.0]]) == pytest.approx(2 / 4)
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error([0.0], [1e-13]) == pytest.approx(1e-13 / 1e-12)  # the floor


def test_numerical_gradient_is_right_and_restores_the_array():
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = a.copy()
    grad = numerical_gradient(lambda: float(np.sum(a**3)), a)
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-8)
    np.testing.assert_array_equal(a, before)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_verify_gradients_catches_a_wrong_backward(monkeypatch):
    weights, biases, x, y = random_network(0, [3, 4, 2], 5)
    assert max(verify_gradients(weights, biases, x, y).values()) < 1e-6

    right = backprop.gradients

    def off_by_a_factor(*args, **kwargs):
        dW, db = right(*args, **kwargs)
        return [1.01 * g for g in dW], db

    monkeypatch.setattr(backprop, "gradients", off_by_a_factor)
    errors = verify_gradients(weights, biases, x, y)
    assert errors["W1"] > 1e-3 and errors["W2"] > 1e-3
    assert errors["b1"] < 1e-6 and errors["b2"] < 1e-6


def test_report_lines():
    lines = report({"W1": 3.14e-11, "b1": 2e-3}, expected=1e-8)
    assert lines == [
        "W1  relative error 3.1e-11  (should be < 1e-08)  ok",
        "b1  relative error 2.0e-03  (should be < 1e-08)  TOO LARGE",
    ]
    quiet = report({"W1": 3.14e-11, "b1": 2e-3}, expected=1e-8, show_values=False)
    assert quiet == ["W1  relative error < 1e-08  ok", "b1  relative error >= 1e-08  TOO LARGE"]
    assert report({"W1": float("nan")})[0].endswith("TOO LARGE")


# ----------------------------------------------------------------------------------------------
# The whole network
# ----------------------------------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(networks, regs, st.sampled_from(backprop.OUTPUTS), hidden_activations)
def test_gradients_equal_torch_autograd(network, reg, output, activation):
    weights, biases, x, y = random_network(*network)
    loss, dW_torch, db_torch = torch_reference(weights, biases, x, y, reg, output, activation)
    dW, db = backprop.gradients(
        weights, biases, x, y, reg=reg, output=output, activation=activation
    )
    assert_close(dW, dW_torch, 1e-10)
    assert_close(db, db_torch, 1e-10)
    assert backprop.objective(weights, biases, x, y, reg, output, activation) == pytest.approx(
        loss, rel=1e-12
    )


def test_identity_hidden_layers_are_a_linear_network():
    """With "identity" the net is x @ (W1 W2) + (b1 W2 + b2): its gradients differ from ReLU's."""
    weights, biases, x, y = random_network(3, [2, 4, 2], 6)
    biases[0][:] = -5.0  # every ReLU off: relu's W1 gradient is 0, identity's is not
    dW_relu, _ = backprop.gradients(weights, biases, x, y)
    dW_id, db_id = backprop.gradients(weights, biases, x, y, activation="identity")
    assert np.all(dW_relu[0] == 0) and np.abs(dW_id[0]).max() > 1e-3
    w, b = weights[0] @ weights[1], biases[0] @ weights[1] + biases[1]
    assert backprop.objective(weights, biases, x, y, activation="identity") == pytest.approx(
        backprop.objective([w], [b], x, y), rel=1e-12
    )
    mixed = backprop.gradients(*random_network(4, [2, 3, 3, 2], 5), activation=["identity", "relu"])
    assert [g.shape for g in mixed[0]] == [(2, 3), (3, 3), (3, 2)]


def preactivations_away_from_kinks(weights, biases, x, margin=1e-3):
    """True if no hidden unit's input ``x @ W + b`` is within ``margin`` of ReLU's kink at 0."""
    _, caches = backprop.forward(weights, biases, x)
    hidden = [cache[2] for cache in caches if cache[0] == "relu"]  # relu's cache is its input
    return all(np.min(np.abs(z)) > margin for z in hidden)


@settings(max_examples=40, deadline=None)
@given(networks, regs, st.sampled_from(backprop.OUTPUTS), hidden_activations)
def test_gradients_equal_finite_differences(network, reg, output, activation):
    seed, sizes, batch = network
    weights, biases, x, y = random_network(seed, sizes, min(batch, 16))
    # A step of h across a kink would make the difference quotient average two slopes.
    assume(preactivations_away_from_kinks(weights, biases, x))
    f = backprop.objective(weights, biases, x, y, reg, output, activation)
    assume(
        checkable(f, sum(backprop.gradients(weights, biases, x, y, reg, output, activation), []))
    )
    errors = verify_gradients(weights, biases, x, y, reg=reg, output=output, activation=activation)
    assert list(errors) == [f"{p}{i}" for i in range(1, len(weights) + 1) for p in "Wb"]
    assert max(errors.values()) < 1e-6, errors


@settings(max_examples=40, deadline=None)
@given(networks, st.floats(1e-3, 2.0))
def test_batch_gradient_is_the_mean_of_per_sample_gradients(network, reg):
    weights, biases, x, y = random_network(*network)

    def mean_of_per_sample_gradients(reg):
        per_sample = [
            backprop.gradients(weights, biases, x[n : n + 1], y[n : n + 1], reg=reg)
            for n in range(len(x))
        ]
        return [
            [np.mean([g[kind][i] for g in per_sample], axis=0) for i in range(len(weights))]
            for kind in (0, 1)
        ]

    dW, db = backprop.gradients(weights, biases, x, y)
    mean_dW, mean_db = mean_of_per_sample_gradients(0.0)
    assert_close(dW, mean_dW, 1e-12)
    assert_close(db, mean_db, 1e-12)

    # With reg > 0 the penalty's gradient 2 * reg * W is added once per batch, not divided by the
    # batch size: the data term is averaged over the samples, the penalty is not. (Averaging
    # per-sample gradients that each carry the penalty gives it back once, so that still agrees;
    # but an epoch of single-sample steps applies the penalty once per sample, a mini-batch
    # epoch only once per batch.)
    dW_reg, db_reg = backprop.gradients(weights, biases, x, y, reg=reg)
    assert_close(dW_reg, [g + 2 * reg * w for g, w in zip(dW, weights)], 1e-12)
    assert all(np.array_equal(a, b) for a, b in zip(db_reg, db))  # biases are not regularised
    mean_dW_reg, _ = mean_of_per_sample_gradients(reg)
    assert_close(dW_reg, mean_dW_reg, 1e-12)


def test_worked_example_objective_and_gradients():
    weights, biases, x, y = worked_example()
    assert backprop.objective(weights, biases, x, y, reg=1, output="softmax") == pytest.approx(
        207.3333333, abs=1e-6
    )
    dW, db = backprop.gradients(weights, biases, x, y, reg=1, output="softmax")
    loss, dW_torch, db_torch = torch_reference(weights, biases, x, y, 1.0, "softmax")
    assert loss == pytest.approx(207.3333333, abs=1e-6)
    # b's true gradient is exactly 0 (see below), so both sides hold only rounding noise of order
    # 1e-16 there and a per-array relative error would compare noise with noise: compare all the
    # parameters as one vector instead, measured against the gradient as a whole.
    flat = lambda arrays: np.concatenate([a.ravel() for a in arrays])  # noqa: E731
    assert relative_error(flat(dW + db), flat(dW_torch + db_torch)) < 1e-10
    # By hand: s = [1/3, 1/3, 1/3], d mse / d s = 2 (s - y) / 3, and through the softmax
    # s * (dout - sum(dout * s)) = [-2, 4, -2] / 27, which is c's gradient.
    np.testing.assert_allclose(db[1], [[-2 / 27, 4 / 27, -2 / 27]], rtol=1e-12)
    # m's columns are equal, so every logit is the same whatever the hidden layer does: the data
    # term does not depend on w or b at all, and only the penalty's 2 * w is left.
    np.testing.assert_allclose(dW[0], 2 * weights[0], rtol=1e-12)
    np.testing.assert_allclose(db[0], 0, atol=1e-12)


def test_torch_tensors_and_float32_are_accepted_and_computed_in_float64():
    weights, biases, x, y = random_network(1, [2, 3, 2], 4)
    expected = backprop.gradients(weights, biases, x, y, reg=0.1)
    as_tensor = lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True)  # noqa: E731
    got = backprop.gradients(
        [as_tensor(w) for w in weights],
        [as_tensor(b) for b in biases],
        torch.tensor(x),
        torch.tensor(y),
        reg=0.1,
    )
    for ours, theirs in zip(got[0] + got[1], expected[0] + expected[1]):
        assert isinstance(ours, np.ndarray) and ours.dtype == np.float64
        np.testing.assert_array_equal(ours, theirs)
    dW32, _ = backprop.gradients([w.astype(np.float32) for w in weights], biases, x, y)
    assert dW32[0].dtype == np.float64


def test_softmax_output_is_stable_for_huge_logits():
    weights, biases, x, y = random_network(2, [3, 4], 5)
    biases = [biases[0] + 1000.0]
    dW, db = backprop.gradients(weights, biases, x, y, output="softmax")
    assert all(np.all(np.isfinite(g)) for g in dW + db)
    _, dW_torch, db_torch = torch_reference(weights, biases, x, y, 0.0, "softmax")
    assert_close(dW, dW_torch, 1e-10)


def test_unknown_output_is_refused():
    weights, biases, x, y = random_network(0, [2, 2], 1)
    with pytest.raises(ValueError, match="output"):
        backprop.gradients(weights, biases, x, y, output="sigmoid")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(reg=-0.1), "reg=-0.1 is not allowed: a finite number >= 0"),
        (dict(reg=float("nan")), "reg=nan is not allowed"),
        (dict(reg=float("inf")), "reg=inf is not allowed"),
        (dict(reg="0.1"), "reg='0.1' is not allowed"),
        (dict(output="linear"), "output='linear' is not allowed: one of ('identity', 'softmax')"),
        (
            dict(activation="gelu"),
            "activation='gelu' is not allowed: one of ('relu', 'tanh', 'sigmoid', 'identity')",
        ),
        (dict(loss="hinge"), "loss='hinge' is not allowed: one of ('mse', 'cross_entropy')"),
        (dict(loss="cross_entropy", output="softmax"), "output='softmax' is not allowed"),
        (dict(activation=["relu"]), "activation=['relu'] is not allowed"),  # two hidden layers
    ],
)
@pytest.mark.parametrize("function", [backprop.gradients, backprop.objective])
def test_bad_settings_are_refused_by_name(function, kwargs, message):
    weights, biases, x, y = random_network(0, [2, 3, 3, 2], 4)
    with pytest.raises(ValueError) as error:
        function(weights, biases, x, y, **kwargs)
    assert str(error.value).startswith(message), str(error.value)


@pytest.mark.parametrize(
    "replace, name",
    [
        (dict(x=[["a", "b"]]), "x="),
        (dict(y=np.ones((4, 2)) * 1j), "y="),
        (dict(weights="w"), "weights='w'"),
        (dict(biases=None), "biases=None"),
    ],
)
def test_non_numeric_arrays_are_refused_by_name(replace, name):
    weights, biases, x, y = random_network(0, [2, 3, 2], 4)
    arguments = {**dict(weights=weights, biases=biases, x=x, y=y), **replace}
    with pytest.raises(ValueError, match=f"^{re.escape(name)}.* is not allowed"):
        backprop.gradients(**arguments)


@pytest.mark.parametrize("h", [0, -1e-6, float("nan"), 2.0, "1e-6"])
def test_verify_gradients_refuses_a_bad_step(h):
    weights, biases, x, y = random_network(0, [2, 2], 3)
    with pytest.raises(ValueError, match=rf"^h={re.escape(repr(h))} is not allowed: a finite step"):
        verify_gradients(weights, biases, x, y, h=h)
    with pytest.raises(ValueError, match="^h="):
        numerical_gradient(lambda: 0.0, np.zeros(2), h=h)


# ----------------------------------------------------------------------------------------------
# Shape checks
# ----------------------------------------------------------------------------------------------


def _bad_x(w, b, x, y):
    return w, b, np.ones((5, 3)), y, ["(5, 3)", "(2, 4)"]


def _bad_y_width(w, b, x, y):
    return w, b, x, np.ones((5, 2)), ["(5, 2)", "(3, 3)"]


def _bad_y_batch(w, b, x, y):
    return w, b, x, np.ones((4, 3)), ["(4, 3)", "(5, 2)"]


def _bad_bias(w, b, x, y):
    return w, [b[0], b[1], np.ones((3,))], x, y, ["(3,)", "(3, 3)"]


def _bad_bias_width(w, b, x, y):
    return w, [np.ones((1, 3)), b[1], b[2]], x, y, ["(1, 3)", "(2, 4)"]


def _inconsistent_layers(w, b, x, y):
    return [w[0], np.ones((5, 3)), w[2]], b, x, y, ["(5, 3)", "(2, 4)"]


@pytest.mark.parametrize(
    "breakage",
    [_bad_x, _bad_y_width, _bad_y_batch, _bad_bias, _bad_bias_width, _inconsistent_layers],
)
@pytest.mark.parametrize("function", [backprop.gradients, backprop.objective])
def test_shape_mismatches_name_both_shapes(breakage, function):
    # A good network: x (5, 2) -> (2, 4) -> (4, 3) -> (3, 3) -> y (5, 3).
    weights, biases, x, y = random_network(0, [2, 4, 3, 3], 5)
    function(weights, biases, x, y)  # fine as built
    weights, biases, x, y, shapes = breakage(weights, biases, x, y)
    with pytest.raises(ValueError) as error:
        function(weights, biases, x, y)
    for shape in shapes:
        assert shape in str(error.value)


def test_shape_message_reads_as_documented():
    weights, biases, _, y = random_network(0, [2, 3], 5)
    with pytest.raises(ValueError) as error:
        backprop.gradients(weights, biases, np.ones((5, 3)), y)
    assert str(error.value) == (
        "x has shape (5, 3) but weights[0] has shape (2, 3): "
        "x's width must equal weights[0]'s fan_in (2)"
    )


def test_layer_counts_must_match():
    weights, biases, x, y = random_network(0, [2, 3, 2], 5)
    with pytest.raises(ValueError, match="2 weights and 1 biases"):
        backprop.gradients(weights, biases[:1], x, y)
    with pytest.raises(ValueError, match="0 weights"):
        backprop.forward([], [], x)


# ----------------------------------------------------------------------------------------------
# Each layer's backward against finite differences of its forward
# ----------------------------------------------------------------------------------------------

shapes = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 6), st.integers(1, 6)
)


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_linear_backward(shape):
    seed, batch, fan_in, fan_out = shape
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(batch, fan_in)), rng.normal(size=(fan_in, fan_out))
    b, dout = rng.normal(size=(1, fan_out)), rng.normal(size=(batch, fan_out))
    out, cache = backprop.linear_forward(x, w, b)
    assert out.shape == (batch, fan_out)
    dx, dw, db = backprop.linear_backward(dout, cache)
    # f = sum(out * dout) has gradient dout with respect to out, so the chain rule is exercised.
    f = lambda: np.sum(backprop.linear_forward(x, w, b)[0] * dout)  # noqa: E731
    for analytic, array in [(dx, x), (dw, w), (db, b)]:
        assert_matches_finite_differences(f, analytic, array)


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_relu_backward_away_from_zero(shape):
    seed, batch, width, _ = shape
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], size=(batch, width)) * rng.uniform(0.01, 2.0, (batch, width))
    dout = rng.normal(size=(batch, width))
    _, cache = backprop.relu_forward(x)
    f = lambda: np.sum(backprop.relu_forward(x)[0] * dout)  # noqa: E731
    dx = backprop.relu_backward(dout, cache)
    assert_matches_finite_differences(f, dx, x)


def test_relu_backward_at_zero_matches_torch():
    x = np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.5]])
    dout = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.tensor(dout))
    _, cache = backprop.relu_forward(x)
    np.testing.assert_array_equal(backprop.relu_backward(dout, cache), xt.grad.numpy())
    np.testing.assert_array_equal(
        backprop.relu_backward(dout, cache), [[0.0, 0.0, 3.0], [0.0, 5.0, 0.0]]
    )


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_softmax_backward(shape):
    seed, batch, k, _ = shape
    rng = np.random.default_rng(seed)
    # Logits of order 1: a saturated softmax has gradients too small to check (see checkable).
    logits, dout = rng.normal(size=(batch, k)), rng.normal(size=(batch, k))
    s, cache = backprop.softmax_forward(logits)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=1e-12)
    f = lambda: np.sum(backprop.softmax_forward(logits)[0] * dout)  # noqa: E731
    # With k == 1 the output is always 1 and both gradients are exactly 0 (0 / floor = 0).
    assert_matches_finite_differences(f, backprop.softmax_backward(dout, cache), logits)


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_mse_backward(shape):
    seed, batch, k, _ = shape
    rng = np.random.default_rng(seed)
    y_hat, y = rng.normal(size=(batch, k)), rng.normal(size=(batch, k))
    loss, cache = backprop.mse_forward(y_hat, y)
    assert loss == pytest.approx(np.mean((y - y_hat) ** 2), rel=1e-12)
    f = lambda: backprop.mse_forward(y_hat, y)[0]  # noqa: E731
    assert_matches_finite_differences(f, backprop.mse_backward(cache), y_hat)


def test_l2_backward():
    w = np.random.default_rng(0).normal(size=(3, 4))
    f = lambda: 0.3 * np.sum(w**2)  # noqa: E731
    assert relative_error(backprop.l2_backward(w, 0.3), numerical_gradient(f, w)) < 1e-8
    np.testing.assert_array_equal(backprop.l2_backward(w, 0.0), np.zeros_like(w))
