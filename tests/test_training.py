"""lab3.train: torch.optim, hand backprop and both engines agree (the lab's loops elsewhere)."""

import dataclasses
import json
import math
import re
import time

import numpy as np
import pytest
import torch

import lab3
from lab3 import backprop, validation
from lab3.mlp import MultiLayerPerceptron
from lab3.training.loop import DivergedError, History, train
from lab3.training.settings import ENGINES, TrainingSettings, validate_settings

ATOL = 1e-5  # float32 training runs agree to about 1e-6; a real difference is far larger


def data(n=60, seed=0):
    return lab3.create_linear_training_data(n_samples=n, seed=seed)


def assert_same_parameters(ours, theirs, atol=ATOL):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(
            np.asarray(a.detach()), np.asarray(b.detach()), rtol=0, atol=atol
        )


def largest_difference(ours, theirs):
    return max(
        float((np.asarray(a.detach()) - np.asarray(b.detach())).__abs__().max())
        for a, b in zip(ours, theirs)
    )


def trained(engine, inputs, targets, model=None, **settings):
    """A copy of ``model`` (default: the lab's 2-3-2, seed 0) trained by lab3.train."""
    model = (model or MultiLayerPerceptron()).copy()
    history = train(model, inputs, targets, engine=engine, **settings)
    return model, history


# ----------------------------------------------------------------------------------------------
# The same math written other ways: torch.nn + torch.optim, and lab3.backprop.gradients
# ----------------------------------------------------------------------------------------------


def torch_nn_sgd(model, inputs, targets, epochs, batch_size, learning_rate, reg):
    """nn.Linear layers and nn.MSELoss, with SGD's update and weight decay 2 * reg on the weights.

    The update is torch.optim.SGD's without momentum, ``p -= lr * (p.grad + weight_decay * p)``,
    written out: the optimizer's first step imports torch._dynamo, about 4 s of a test run.
    """
    layers = []
    for i, (w, b) in enumerate(zip(model.weights, model.biases)):
        linear = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            linear.weight.copy_(w.T)  # nn.Linear stores (fan_out, fan_in) and computes x @ W.T
            linear.bias.copy_(b[0])
        layers.append(linear)
        if i < len(model.hidden_sizes):
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    linears = [layer for layer in layers if isinstance(layer, torch.nn.Linear)]
    # d/dW of reg * ||W||^2 is 2 * reg * W: weight decay adds wd * W to the gradient.
    decays = [
        (p, 2 * reg if p is layer.weight else 0.0)
        for layer in linears
        for p in (layer.weight, layer.bias)
    ]
    loss_function = torch.nn.MSELoss()  # mean over every element, as the lab's mse
    for _ in range(epochs):
        for s in range(0, inputs.shape[1], batch_size):
            net.zero_grad()
            loss = loss_function(
                net(inputs[:, s : s + batch_size].T), targets[:, s : s + batch_size].T
            )
            loss.backward()
            with torch.no_grad():
                for p, decay in decays:
                    p -= learning_rate * (p.grad + decay * p)
    return [t for layer in linears for t in (layer.weight.T, layer.bias[None, :])]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("hidden_sizes", [[3], [4, 3]])
def test_against_torch_nn_layers_and_sgd(engine, hidden_sizes):
    inputs, targets = data(n=100)
    model = MultiLayerPerceptron(hidden_sizes=hidden_sizes, seed=1)
    settings = dict(epochs=3, batch_size=8, learning_rate=0.2, reg=0.01)  # last batch: 4
    reference = torch_nn_sgd(model, inputs, targets, **settings)
    ours, _ = trained(engine, inputs, targets, model, **settings)
    assert_same_parameters(ours.parameters(), reference)
    assert largest_difference(ours.parameters(), model.parameters()) > 100 * ATOL  # it trained


def backprop_sgd(model, inputs, targets, epochs, batch_size, learning_rate, reg, orders=None):
    """Plain SGD in float64 with lab3.backprop.gradients; returns (weights, biases, step losses)."""
    weights = [backprop.as_float64(w).copy() for w in model.weights]
    biases = [backprop.as_float64(b).copy() for b in model.biases]
    x_all, y_all = backprop.as_float64(inputs).T, backprop.as_float64(targets).T
    activation = list(model.activations)  # one name per hidden layer, as the model has them
    losses = []
    for epoch in range(epochs):
        x, y = (x_all, y_all) if orders is None else (x_all[orders[epoch]], y_all[orders[epoch]])
        for s in range(0, len(x), batch_size):
            xb, yb = x[s : s + batch_size], y[s : s + batch_size]
            losses.append(backprop.objective(weights, biases, xb, yb, activation=activation))
            dW, db = backprop.gradients(weights, biases, xb, yb, reg=reg, activation=activation)
            weights = [w - learning_rate * g for w, g in zip(weights, dW)]
            biases = [b - learning_rate * g for b, g in zip(biases, db)]
    return weights, biases, losses


@pytest.mark.parametrize(
    "hidden_sizes, activation, batch_size",
    [
        ([3], "relu", 1),
        ([4, 3], "relu", 4),
        ([], "relu", 3),
        ([5], "relu", 10),
        ([3], "identity", 1),
        ([4, 3], "identity", 4),
        ([4, 3], ["relu", "identity"], 3),
        ([3, 4], ["identity", "relu"], 10),
    ],
)
def test_manual_engine_is_backprop_gradients_plus_sgd(hidden_sizes, activation, batch_size):
    """The fast engine computes lab3.gradients' formulas, for both hidden activations."""
    inputs, targets = data(n=10)  # batch 4 and 3 leave a short last batch
    model = MultiLayerPerceptron(hidden_sizes=hidden_sizes, activation=activation, seed=2)
    with torch.no_grad():
        model.biases[0].fill_(-0.02)  # some hidden units start off: the ReLU mask matters
    settings = dict(epochs=4, batch_size=batch_size, learning_rate=0.3, reg=0.05)
    weights, biases, losses = backprop_sgd(model, inputs, targets, **settings)
    ours, history = trained("manual", inputs, targets, model, **settings)
    # The same float64 computation, rounded once to float32 at the end.
    assert_same_parameters(ours.weights, [torch.tensor(w) for w in weights], atol=1e-7)
    assert_same_parameters(ours.biases, [torch.tensor(b) for b in biases], atol=1e-7)
    np.testing.assert_allclose(history.step_loss, losses, rtol=1e-10)
    assert history.steps == 4 * math.ceil(10 / batch_size)


@pytest.mark.parametrize(
    "hidden_sizes, activation, batch_size, shuffle",
    [
        ([3], "relu", 1, False),
        ([5, 4], "relu", 7, False),
        ([3, 3], ["identity", "relu"], 10, False),
        ([4], "identity", 60, False),
        ([], "relu", 5, False),
        ([3], "relu", 6, True),
    ],
)
def test_engines_agree(hidden_sizes, activation, batch_size, shuffle):
    inputs, targets = data(n=60)
    model = MultiLayerPerceptron(hidden_sizes=hidden_sizes, activation=activation, seed=3)
    settings = dict(epochs=3, batch_size=batch_size, shuffle=shuffle, seed=5)
    by_autograd, h_autograd = trained("autograd", inputs, targets, model, **settings)
    by_hand, h_manual = trained("manual", inputs, targets, model, **settings)
    assert_same_parameters(by_hand.parameters(), by_autograd.parameters())
    assert largest_difference(by_hand.parameters(), model.parameters()) > 100 * ATOL
    np.testing.assert_allclose(h_manual.step_loss, h_autograd.step_loss, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(h_manual.epoch_loss, h_autograd.epoch_loss, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_full_batch_is_gradient_descent(engine):
    inputs, targets = data(n=40)
    model = MultiLayerPerceptron(seed=4)
    settings = dict(epochs=5, batch_size=40, learning_rate=0.5, reg=0.01)
    weights, biases, losses = backprop_sgd(model, inputs, targets, **settings)
    ours, history = trained(engine, inputs, targets, model, **settings)
    assert history.steps == 5  # one step per epoch
    assert_same_parameters(
        ours.parameters(), [torch.tensor(p) for pair in zip(weights, biases) for p in pair]
    )
    # The order of the samples does not matter to a full-batch step.
    shuffled, _ = trained(engine, inputs, targets, model, shuffle=True, seed=8, **settings)
    assert_same_parameters(shuffled.parameters(), ours.parameters(), atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Shuffling
# ----------------------------------------------------------------------------------------------


def test_shuffle_draws_one_permutation_per_epoch_from_its_own_generator():
    inputs, targets = data(n=30)
    model = MultiLayerPerceptron(seed=6)
    settings = dict(epochs=3, batch_size=4, learning_rate=0.2, reg=0.001)
    generator = torch.Generator().manual_seed(11)
    orders = [torch.randperm(30, generator=generator).numpy() for _ in range(3)]
    weights, biases, losses = backprop_sgd(model, inputs, targets, orders=orders, **settings)
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    ours, history = trained("manual", inputs, targets, model, shuffle=True, seed=11, **settings)
    assert torch.equal(torch.rand(1), before)  # the global RNG was left alone
    assert_same_parameters(ours.weights, [torch.tensor(w) for w in weights], atol=1e-7)
    np.testing.assert_allclose(history.step_loss, losses, rtol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
def test_seeded_shuffle_is_reproducible_and_changes_the_order(engine):
    inputs, targets = data(n=50)
    settings = dict(epochs=2, batch_size=5)
    first, h_first = trained(engine, inputs, targets, shuffle=True, seed=1, **settings)
    again, h_again = trained(engine, inputs, targets, shuffle=True, seed=1, **settings)
    other, _ = trained(engine, inputs, targets, shuffle=True, seed=2, **settings)
    in_order, h_in_order = trained(engine, inputs, targets, **settings)
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), again.parameters()))
    assert h_first.step_loss == h_again.step_loss
    assert largest_difference(first.parameters(), other.parameters()) > 20 * ATOL
    assert largest_difference(first.parameters(), in_order.parameters()) > 20 * ATOL
    assert h_first.step_loss[0] != h_in_order.step_loss[0]


# ----------------------------------------------------------------------------------------------
# What training achieves, and what it records
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_history_records_the_run(engine):
    inputs, targets = data(n=23)
    model = MultiLayerPerceptron(seed=7)
    first_batch_loss = lab3.mse(targets[:, :5].T, model.forward(inputs[:, :5].T)).item()
    history = train(
        model, inputs, targets, epochs=3, batch_size=5, learning_rate=0.2, reg=0.01, engine=engine
    )
    assert isinstance(history, History)
    assert history.steps == len(history.step_loss) == 3 * 5  # 23 samples: 4 batches of 5 and 3
    assert len(history.epoch_loss) == len(history.epoch_objective) == 3
    assert history.step_loss[0] == pytest.approx(first_batch_loss, rel=1e-6)
    with torch.no_grad():
        final_loss = lab3.mse(targets.T, model.forward(inputs.T)).item()
        penalty = 0.01 * sum((w.double() ** 2).sum().item() for w in model.weights)
    assert history.epoch_loss[-1] == pytest.approx(final_loss, rel=1e-5)
    assert history.epoch_objective[-1] == pytest.approx(final_loss + penalty, rel=1e-5)
    assert (
        history.epochs,
        history.batch_size,
        history.learning_rate,
        history.reg,
        history.engine,
        history.shuffle,
        history.seed,
        history.n_samples,
    ) == (3, 5, 0.2, 0.01, engine, False, 0, 23)
    assert history.train_seconds > 0
    record = json.loads(json.dumps(history.to_dict()))
    assert record["steps"] == 15 and record["step_loss"] == history.step_loss


@pytest.mark.parametrize("engine", ENGINES)
def test_model_is_updated_in_place_and_data_left_alone(engine):
    inputs, targets = data(n=20)
    inputs_before, targets_before = inputs.clone(), targets.clone()
    model = MultiLayerPerceptron()
    tensors = model.parameters()
    initial = [t.detach().clone() for t in tensors]
    train(model, inputs, targets, epochs=2, batch_size=3, engine=engine, shuffle=True)
    assert all(a is b for a, b in zip(model.parameters(), tensors))  # same tensor objects
    assert all(t.requires_grad and t.dtype == torch.float32 for t in tensors)
    assert all(t.grad is None or torch.count_nonzero(t.grad) == 0 for t in tensors)
    assert largest_difference(tensors, initial) > 100 * ATOL
    assert torch.equal(inputs, inputs_before) and torch.equal(targets, targets_before)


def test_numpy_data_is_accepted():
    inputs, targets = data(n=20)
    a, _ = trained("manual", inputs.numpy(), targets.numpy().astype(np.float64), epochs=2)
    b, _ = trained("manual", inputs, targets, epochs=2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_progress_bar_only_when_asked(capsys):
    inputs, targets = data(n=20)
    trained("manual", inputs, targets, epochs=2)
    assert capsys.readouterr().err == ""
    trained("manual", inputs, targets, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "epoch" in err


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------

BAD_SETTINGS = [
    ("batch_size", 0),
    ("batch_size", -1),
    ("batch_size", 21),
    ("batch_size", 2.5),
    ("batch_size", 4.0),
    ("batch_size", "4"),
    ("batch_size", True),
    ("learning_rate", 0),
    ("learning_rate", -0.1),
    ("learning_rate", math.inf),
    ("learning_rate", math.nan),
    ("learning_rate", "0.1"),
    ("learning_rate", True),
    ("epochs", 0),
    ("epochs", -3),
    ("epochs", 2.5),
    ("epochs", "10"),
    ("epochs", None),
    ("reg", -0.001),
    ("reg", math.inf),
    ("reg", math.nan),
    ("reg", "0.001"),
    ("engine", "numpy"),
    ("engine", None),
    ("engine", "Autograd"),
    ("shuffle", "yes"),
    ("seed", 1.5),
    ("seed", -1),
    ("seed", 2**32),
    ("epochs", 10**9),
]


@pytest.mark.parametrize("name, value", BAD_SETTINGS)
def test_bad_settings_are_refused_by_name_and_value(name, value):
    inputs, targets = data(n=20)
    model = MultiLayerPerceptron()
    initial = [p.detach().clone() for p in model.parameters()]
    settings = dict(epochs=1, batch_size=1, learning_rate=0.1, reg=0.001, engine="manual")
    settings[name] = value
    with pytest.raises(ValueError) as error:
        train(model, inputs, targets, **settings)
    assert str(error.value).startswith(f"{name}={value!r} is not allowed: "), str(error.value)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), initial))  # untouched


def message_of(*args, **kwargs):
    with pytest.raises(ValueError) as error:
        train(*args, **kwargs)
    return str(error.value)


def test_messages_say_what_is_allowed():
    inputs, targets = data(n=20)
    model = MultiLayerPerceptron()
    assert message_of(model, inputs, targets, epochs=1, batch_size=21) == (
        "batch_size=21 is not allowed: an integer from 1 to the number of samples (20)"
    )
    assert message_of(model, inputs, targets, epochs=1, engine="numpy") == (
        "engine='numpy' is not allowed: one of ('autograd', 'manual')"
    )
    assert message_of(model, inputs, targets, epochs=2.5) == (
        "epochs=2.5 is not allowed: an integer from 1 to 1,000,000 "
        "(raise lab3.validation.MAX_EPOCHS for more)"
    )


@pytest.mark.parametrize(
    "settings, named",
    [
        (dict(epochs=10**9), "epochs=1000000000 is not allowed: an integer from 1 to 1,000,000"),
        (
            dict(epochs=200_000),
            "epochs=200000 is not allowed: at most 100,000,000 SGD steps in all, "
            "but epochs * ceil(n_samples / batch_size) = 200000 * 1000 = "
            "200,000,000",
        ),
        (dict(epochs=10**6, batch_size=10), None),  # 10**8 steps: exactly the limit
    ],
)
def test_size_limits_refuse_a_typo_at_once(settings, named):
    """A run of days is refused in well under a second, before anything is allocated or run."""
    start = time.perf_counter()
    try:
        knobs = {**dict(batch_size=1, learning_rate=0.1, reg=0.0, engine="manual"), **settings}
        values = validate_settings(TrainingSettings(n_samples=1000, **knobs))
    except ValueError as error:
        assert named is not None and str(error).startswith(named), str(error)
    else:
        assert named is None and values.total_steps == 10**8
    assert time.perf_counter() - start < 0.5


def test_a_raised_limit_counts(monkeypatch):
    monkeypatch.setattr(validation, "MAX_EPOCHS", 5)
    with pytest.raises(ValueError, match=r"^epochs=6 is not allowed: an integer from 1 to 5 "):
        validate_settings(TrainingSettings(n_samples=10, epochs=6, reg=0.0))
    monkeypatch.setattr(validation, "MAX_STEPS", 10)
    with pytest.raises(ValueError, match="at most 10 SGD steps"):
        validate_settings(TrainingSettings(n_samples=10, epochs=2, reg=0.0))
    assert (
        validate_settings(TrainingSettings(n_samples=10, epochs=2, batch_size=2)).total_steps == 10
    )


def test_settings_are_checked_once_frozen_and_kept_by_the_history():
    inputs, targets = data(n=20)
    history = train(
        MultiLayerPerceptron(),
        inputs,
        targets,
        epochs=2,
        batch_size=3,
        learning_rate=0.2,
        reg=0.0,
        engine="manual",
        seed=4,
    )
    assert history.settings == TrainingSettings(
        n_samples=20,
        epochs=2,
        batch_size=3,
        learning_rate=0.2,
        reg=0.0,
        engine="manual",
        shuffle=False,
        seed=4,
    )
    assert history.settings.steps_per_epoch == 7 and history.settings.total_steps == 14
    with pytest.raises(dataclasses.FrozenInstanceError):
        history.settings.epochs = 3
    with pytest.raises(AttributeError):
        history.epochs = 3  # the shortcuts are read-only


def test_data_shapes_are_checked_against_each_other_and_the_model():
    inputs, targets = data(n=20)
    model = MultiLayerPerceptron()
    message = message_of(model, inputs, targets[:, :19], epochs=1)
    assert "targets=(2, 19)" in message and "(2, 20)" in message  # both shapes named
    message = message_of(model, torch.zeros(3, 20), targets, epochs=1)
    assert message.startswith("inputs=(3, 20) is not allowed") and "num_inputs=2" in message
    message = message_of(model, inputs, torch.zeros(3, 20), epochs=1)
    assert message.startswith("targets=(3, 20) is not allowed") and "num_outputs=2" in message
    message = message_of(model, inputs.T, targets.T, epochs=1)  # (n, d): the wrong layout
    assert message.startswith("inputs=(20, 2) is not allowed") and "(d, n)" in message
    assert message_of(model, inputs[0], targets, epochs=1).startswith("inputs=(20,) is not allowed")
    assert message_of("model", inputs, targets, epochs=1).startswith("model='model' is not allowed")
    inputs[1, 7] = math.nan
    message = message_of(model, inputs, targets, epochs=1)
    assert message.startswith("inputs=(2, 20) is not allowed") and "NaN" in message


# ----------------------------------------------------------------------------------------------
# Divergence
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("batch_size", [1, 100])
def test_too_large_a_learning_rate_diverges_with_a_helpful_error(engine, batch_size):
    inputs, targets = lab3.create_linear_training_data()
    with pytest.raises(DivergedError) as error:
        train(
            MultiLayerPerceptron(),
            inputs,
            targets,
            epochs=10,
            batch_size=batch_size,
            learning_rate=10,
            engine=engine,
        )
    e = error.value
    assert isinstance(e, ArithmeticError)
    assert re.fullmatch(
        r"training diverged at epoch 1, step \d+ \(loss=[^)]+\): "
        r"try a smaller learning_rate than 10",
        str(e),
    ), str(e)
    assert f"step {e.step} " in str(e) and e.epoch == 1 and e.learning_rate == 10
    assert not e.loss <= 1e12
    # Every step before the one that diverged was recorded, and looked fine.
    assert e.history.steps == e.step - 1
    assert all(loss <= 1e12 for loss in e.history.step_loss)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_infinite_loss_diverges_at_the_first_step(engine):
    inputs, targets = data(n=20)
    model = MultiLayerPerceptron()
    with torch.no_grad():
        model.weights[0].fill_(1e30)
    with pytest.raises(DivergedError, match=r"epoch 1, step 1 \(loss=(inf|[0-9.e+]+)\)"):
        train(model, inputs, targets, epochs=1, engine=engine, learning_rate=0.5)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_nan_loss_diverges(engine):
    inputs, targets = data(n=20)
    model = MultiLayerPerceptron()
    with torch.no_grad():
        model.biases[-1][0, 0] = math.nan
    with pytest.raises(DivergedError, match=r"epoch 1, step 1 \(loss=nan\)"):
        train(model, inputs, targets, epochs=1, engine=engine)


def test_the_package_exports_train_and_its_errors():
    assert lab3.DivergedError is DivergedError and lab3.History is History and lab3.train is train
    assert issubclass(DivergedError, ArithmeticError)
