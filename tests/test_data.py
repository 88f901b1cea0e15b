import math
import time

import numpy as np
import pytest
import torch

import lab3


def test_rotation_matrix_uses_the_row_vector_convention():
    m = lab3.rotation_matrix(90)
    assert m.dtype == torch.float32 and m.shape == (2, 2)
    assert m.tolist() == [[0.0, 1.0], [-1.0, 0.0]]
    assert torch.equal(torch.tensor([[1.0, 0.0]]) @ m, torch.tensor([[0.0, 1.0]]))


@pytest.mark.parametrize("degrees", [0, 30, 45, 90, 180, 270, -60, 400])
def test_rotation_matrix_is_a_rotation(degrees):
    m = lab3.rotation_matrix(degrees).double()
    assert torch.allclose(m @ m.T, torch.eye(2, dtype=torch.float64), atol=1e-6)
    assert math.isclose(torch.det(m).item(), 1.0, abs_tol=1e-6)
    x = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    angle = math.degrees(math.atan2((x @ m)[0, 1].item(), (x @ m)[0, 0].item()))
    turn = (angle - degrees) % 360
    assert math.isclose(turn, 0, abs_tol=1e-4) or math.isclose(turn, 360, abs_tol=1e-4)


def test_data_shapes_dtypes_and_layout():
    inputs, targets = lab3.create_linear_training_data()
    assert inputs.shape == targets.shape == (2, 1000)
    assert inputs.dtype == targets.dtype == torch.float32
    assert inputs.min() >= -1 and inputs.max() < 1
    # one column per sample, as the lab reads it: inputs[:, 0] is the first sample
    first_x, first_y = inputs[:, 0], targets[:, 0]
    assert torch.allclose(first_y, torch.stack([-first_x[1], first_x[0]]))


def test_same_seed_same_data_other_seed_other_data():
    a = lab3.create_linear_training_data(n_samples=50, seed=3)
    b = lab3.create_linear_training_data(n_samples=50, seed=3)
    c = lab3.create_linear_training_data(n_samples=50, seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_global_rng_is_left_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lab3.create_linear_training_data(n_samples=10)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    "matrix",
    [
        [[2.0, 0.0], [0.0, 0.5]],
        np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [3.0, 0.0, -1.0]]),
        torch.tensor([[0.5]]),
    ],
)
def test_targets_are_inputs_mapped_by_the_matrix(matrix):
    inputs, targets = lab3.create_linear_training_data(n_samples=200, matrix=matrix, seed=1)
    m = torch.as_tensor(np.asarray(matrix, dtype=np.float32))
    assert inputs.shape == (m.shape[0], 200)
    assert torch.allclose(targets.T, inputs.T @ m, atol=1e-6)


def test_noise_level_is_what_was_asked():
    inputs, targets = lab3.create_linear_training_data(n_samples=20000, noise=0.1, seed=2)
    residual = targets.T - inputs.T @ lab3.rotation_matrix(90)
    assert abs(residual.std().item() - 0.1) < 0.003
    assert abs(residual.mean().item()) < 0.003


@pytest.mark.parametrize(
    "kwargs, named",
    [
        (dict(n_samples=0), "n_samples=0"),
        (dict(n_samples=-5), "n_samples=-5"),
        (dict(n_samples=2.5), "n_samples=2.5"),
        (dict(matrix=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), "matrix=(2, 3)"),
        (dict(matrix=[1.0, 2.0]), "matrix=(2,)"),
        (dict(noise=-0.1), "noise=-0.1"),
        (dict(noise=float("nan")), "noise=nan"),
        (dict(noise="0.1"), "noise='0.1'"),
        (dict(seed=1.5), "seed=1.5"),
        (dict(seed="0"), "seed='0'"),
        (dict(seed=-1), "seed=-1"),
        (dict(seed=None), "seed=None"),
        (dict(matrix=[[1.0, float("nan")], [0.0, 1.0]]), "matrix=(2, 2) is not allowed: finite"),
        (
            dict(matrix=np.array([[np.inf, 0.0], [0.0, 1.0]])),
            "matrix=(2, 2) is not allowed: finite",
        ),
        (dict(matrix=np.eye(2) * 1j), "matrix=(2, 2) is not allowed: real numbers"),
        (dict(matrix=torch.eye(2, dtype=torch.complex64)), "matrix=(2, 2) is not allowed: real"),
        (dict(matrix=[["a", "b"], ["c", "d"]]), "matrix=(2, 2) is not allowed: real numbers"),
        (dict(matrix=[[1.0, 2.0], [3.0]]), "matrix=[[1.0, 2.0], [3.0]] is not allowed"),
        (dict(n_samples=10**12), "n_samples=1000000000000 is not allowed: an integer from 1 to"),
    ],
)
def test_bad_input_names_parameter_value_and_what_is_allowed(kwargs, named):
    with pytest.raises(ValueError, match="is not allowed") as error:
        lab3.create_linear_training_data(**kwargs)
    assert named in str(error.value)


def test_a_huge_n_samples_is_refused_at_once():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="raise lab3.validation.MAX_SAMPLES"):
        lab3.create_linear_training_data(n_samples=10**12)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "degrees, named",
    [
        ("90", "degrees='90'"),
        (None, "degrees=None"),
        (float("nan"), "degrees=nan"),
        (float("inf"), "degrees=inf"),
        (True, "degrees=True"),
        (1j, "degrees=1j"),
    ],
)
def test_rotation_matrix_refuses_what_is_not_a_finite_angle(degrees, named):
    with pytest.raises(ValueError, match="is not allowed: a finite number of degrees") as error:
        lab3.rotation_matrix(degrees)
    assert str(error.value).startswith(named)


@pytest.mark.parametrize(
    "kwargs, named",
    [
        (dict(seed=-1), "seed=-1"),
        (dict(seed="0"), "seed='0'"),
        (dict(threads=0), "threads=0"),
        (dict(threads=1.5), "threads=1.5"),
        (dict(decimals=-1), "decimals=-1"),
        (dict(decimals=None), "decimals=None"),
    ],
)
def test_make_reproducible_refuses_bad_arguments(kwargs, named):
    with pytest.raises(ValueError, match="is not allowed") as error:
        lab3.make_reproducible(**kwargs)
    assert str(error.value).startswith(named)


def test_make_reproducible_seeds_every_generator():
    options, threads = np.get_printoptions(), torch.get_num_threads()
    try:
        lab3.make_reproducible(seed=3)
        first = (np.random.rand(), torch.rand(1).item())
        lab3.make_reproducible(seed=3)
        assert (np.random.rand(), torch.rand(1).item()) == first
        assert np.get_printoptions()["precision"] == 4 and torch.get_num_threads() == 1
    finally:  # leave the process as the other tests expect it
        np.set_printoptions(**options)
        torch.set_printoptions(profile="default")
        torch.set_num_threads(threads)
