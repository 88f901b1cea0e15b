import numpy as np
import pytest
import torch

import lab3

RNG = np.random.default_rng(0)
X = RNG.normal(size=(7, 5))
Y = RNG.normal(size=(7, 5))


@pytest.mark.parametrize(
    "name, args",
    [
        ("relu", (X,)),
        ("softmax", (X,)),
        ("mse", (X, Y)),
        ("l2_reg", ([X, Y], 0.3)),
    ],
)
def test_numpy_and_torch_agree_and_keep_their_kind(name, args):
    function = getattr(lab3, name)
    as_torch = [
        torch.tensor(a)
        if isinstance(a, np.ndarray)
        else [torch.tensor(m) for m in a]
        if isinstance(a, list)
        else a
        for a in args
    ]
    numpy_out, torch_out = function(*args), function(*as_torch)
    assert not isinstance(numpy_out, torch.Tensor)
    assert isinstance(torch_out, torch.Tensor)
    np.testing.assert_allclose(np.asarray(numpy_out), torch_out.numpy(), rtol=1e-12)


def test_relu():
    np.testing.assert_array_equal(lab3.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


@pytest.mark.parametrize(
    "logits", [[1000.0, 1000.0, 999.0], [-1000.0, 1000.0, 0.0], [-1000.0, -1000.0, -1000.0]]
)
def test_softmax_is_finite_and_sums_to_one_at_extreme_logits(logits):
    for x in (np.array([logits]), torch.tensor([logits], dtype=torch.float32)):
        probabilities = np.asarray(lab3.softmax(x))
        assert np.all(np.isfinite(probabilities))
        np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-6)


def test_softmax_matches_torch_and_is_row_wise():
    logits = torch.tensor(X)
    torch.testing.assert_close(lab3.softmax(logits), torch.softmax(logits, dim=-1))
    # each row is normalised on its own: a batch gives the same rows as one sample at a time
    np.testing.assert_allclose(lab3.softmax(X)[2], lab3.softmax(X[2]))


def test_softmax_is_shift_invariant_which_is_why_equal_logits_give_uniform_output():
    np.testing.assert_allclose(lab3.softmax(np.array([[280.0, 280.0, 280.0]])), [[1 / 3] * 3])
    np.testing.assert_allclose(lab3.softmax(X + 50.0), lab3.softmax(X))


def test_mse_is_the_mean_over_every_element():
    y, y_hat = np.array([[1.0, 0.0, 1.0]]), np.array([[0.0, 0.0, 0.0]])
    assert lab3.mse(y, y_hat) == pytest.approx(2 / 3)
    with pytest.raises(
        ValueError,
        match=r"^y_hat=\(3, 1\) is not allowed: the shape of y, "
        r"\(1, 3\)$",
    ):
        lab3.mse(np.zeros((1, 3)), np.zeros((3, 1)))


def test_l2_reg_reproduces_the_labs_numbers():
    w = np.array([[1] * 5, [2] * 5, [3] * 5, [4] * 5])
    m = np.array([[1] * 3, [2] * 3, [3] * 3, [1] * 3, [2] * 3])
    assert lab3.l2_reg(w) == 150 and lab3.l2_reg(m) == 57
    assert lab3.l2_reg([w, m], 0.001) == pytest.approx(0.207)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: lab3.relu("abc"), "x='abc' is not allowed: a numpy array or torch tensor"),
        (lambda: lab3.relu([1.0, -1.0]), "x=[1.0, -1.0] is not allowed"),
        (
            lambda: lab3.relu(np.array([1j])),
            "x=(1,) is not allowed: a numpy array or torch tensor of real numbers, not complex128",
        ),
        (lambda: lab3.relu(torch.tensor([True])), "x=(1,) is not allowed"),
        (lambda: lab3.softmax(None), "logits=None is not allowed"),
        (lambda: lab3.softmax(np.float64(1.0)), "logits=() is not allowed: at least one dimension"),
        (lambda: lab3.softmax(torch.zeros(2, 0)), "logits=(2, 0) is not allowed"),
        (
            lambda: lab3.mse(np.zeros(3), torch.zeros(3)),
            "y_hat='Tensor' is not allowed: the same kind as y (ndarray)",
        ),
        (lambda: lab3.mse(np.zeros(3), np.zeros(4)), "y_hat=(4,) is not allowed: the shape of y"),
        (lambda: lab3.mse(np.zeros(0), np.zeros(0)), "y=(0,) is not allowed: at least one element"),
        (lambda: lab3.mse("y", np.zeros(3)), "y='y' is not allowed"),
        (lambda: lab3.l2_reg(np.ones(3), -0.1), "reg=-0.1 is not allowed: a finite number >= 0"),
        (lambda: lab3.l2_reg(np.ones(3), float("nan")), "reg=nan is not allowed"),
        (lambda: lab3.l2_reg(np.ones(3), "1"), "reg='1' is not allowed"),
        (lambda: lab3.l2_reg([np.ones(3), "w"], 0.1), "weights[1]='w' is not allowed"),
        (lambda: lab3.l2_reg(None), "weights=None is not allowed"),
    ],
)
def test_bad_input_is_refused_by_name(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value).startswith(message), str(error.value)
