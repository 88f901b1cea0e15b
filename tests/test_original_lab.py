"""lab3.training.original_lab: the lab's two loops; lab3.train ends at the same weights."""

import io

import numpy as np
import pytest
import torch

import lab3
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import train
from lab3.training.original_lab import lab_batched, lab_single_sample
from lab3.training.settings import ENGINES

ATOL = 1e-6  # float32 runs of the same arithmetic agree to about 1e-7; a real difference is larger


@pytest.fixture(scope="module")
def lab_data():
    return lab3.create_linear_training_data()  # the lab's 1000 samples


@pytest.fixture(scope="module")
def labs_batched_run(lab_data):
    """The lab's second loop at its settings (batch 100, 100 epochs), run once for the module."""
    return lab_batched(*lab_data, MultiLayerPerceptron(), epochs=100, batch_size=100)


def trained(engine, inputs, targets, model=None, **settings):
    model = model or MultiLayerPerceptron()  # the lab's 2-3-2, seed 0: the loops start from it
    history = train(model, inputs, targets, engine=engine, **settings)
    return model.parameters(), history


def largest_difference(ours, theirs):
    return max(float((a.detach() - b.detach()).abs().max()) for a, b in zip(ours, theirs))


@pytest.mark.slow  # 10 000 steps of the lab's autograd loop: about 7 s
def test_the_labs_single_sample_loop_at_the_labs_defaults(lab_data):
    """1000 samples, 10 epochs, lr 0.1, reg 0.001, hidden [3]: the lab's loop == engine "manual"."""
    lab = lab_single_sample(*lab_data, MultiLayerPerceptron(), epochs=10)
    ours, history = trained("manual", *lab_data, epochs=10, batch_size=1)
    assert history.steps == 10_000
    assert largest_difference(ours, lab) < 10 * ATOL
    # The lab's reading of the transform, as it printed it: close to the rotation.
    lab_matrix = (lab[0] @ lab[2]).detach()
    assert torch.linalg.norm(lab_matrix - lab3.rotation_matrix(90)) < 0.02


@pytest.mark.parametrize("engine", ENGINES)
def test_the_labs_single_sample_loop(engine):
    inputs, targets = lab3.create_linear_training_data(n_samples=300)
    lab = lab_single_sample(inputs, targets, MultiLayerPerceptron(), epochs=2)
    ours, _ = trained(engine, inputs, targets, epochs=2, batch_size=1)
    assert largest_difference(ours, lab) < ATOL
    # The comparison can fail: the lab's reg 0.001 leaves a trace far above the tolerance.
    no_reg, _ = trained(engine, inputs, targets, epochs=2, batch_size=1, reg=0.0)
    assert largest_difference(no_reg, lab) > 100 * ATOL


@pytest.mark.parametrize("engine", ENGINES)
def test_the_labs_batched_loop_at_the_labs_defaults(engine, lab_data, labs_batched_run):
    """1000 samples, batch 100, 100 epochs: the lab's batched loop == lab3.train, and both
    recover the rotation."""
    inputs, _ = lab_data
    model, rotation = MultiLayerPerceptron(), lab3.rotation_matrix(90)
    assert torch.linalg.norm(model.effective_matrix(inputs) - rotation) > 1.0  # not by chance
    ours, history = trained(engine, *lab_data, model, epochs=100, batch_size=100)
    assert history.steps == 1000
    assert largest_difference(ours, labs_batched_run) < ATOL
    assert torch.linalg.norm(model.effective_matrix(inputs) - rotation) < 0.05
    assert history.epoch_loss[-1] < 0.01 < history.epoch_loss[0]
    shorter, _ = trained(engine, *lab_data, epochs=99, batch_size=100)
    assert largest_difference(shorter, labs_batched_run) > 100 * ATOL


def test_the_loops_read_the_model_and_never_change_it(lab_data):
    model = MultiLayerPerceptron(seed=3)
    before = [p.detach().clone() for p in model.parameters()]
    trained_params = lab_batched(*lab_data, model, epochs=1)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))
    assert [tuple(p.shape) for p in trained_params] == [(2, 3), (1, 3), (3, 2), (1, 2)]
    assert all(p.is_leaf and p.requires_grad for p in trained_params)


def test_the_log_has_the_labs_progress_lines(lab_data):
    inputs, targets = (t[:, :600] for t in lab_data)
    log = io.StringIO()
    lab_single_sample(inputs, targets, MultiLayerPerceptron(), epochs=1, log=log)
    lines = log.getvalue().splitlines()
    # every 500th sample: samples 0 and 500, a line before and after its update
    assert [line.split(":")[0] for line in lines] == [
        "Loss after forward pass",
        "Loss after update",
    ] * 2
    losses = [float(line.split(": ")[1]) for line in lines]
    assert losses[1] < losses[0]  # one step on a sample lowers that sample's loss
    assert lab_single_sample(inputs, targets, MultiLayerPerceptron(), epochs=1) is not None


def test_only_the_labs_network_shape_is_accepted(lab_data):
    for model in (
        MultiLayerPerceptron(hidden_sizes=[3, 3]),
        MultiLayerPerceptron(activation="identity"),
    ):
        with pytest.raises(ValueError, match="a network with one ReLU hidden layer"):
            lab_batched(*lab_data, model, epochs=1)
    np.testing.assert_array_equal(lab_data[0].shape, (2, 1000))
