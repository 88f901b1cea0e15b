"""Lessons 3 and 4's checks: the right function passes; a stub and usual mistakes fail kindly."""

import numpy as np
import pytest

import lab3
from lab3 import exercises
from lab3.exercises import CheckFailed, lesson03, lesson04


def stub(*args):
    raise NotImplementedError("fill in the function")


def fails(check, candidate):
    """The message of the ``CheckFailed`` that ``check(candidate)`` raises (the first failure)."""
    with pytest.raises(CheckFailed) as error:
        check(candidate)
    return str(error.value)


# --- lesson 3: one SGD step -----------------------------------------------------------------------


def sgd_step(weights, biases, x, y, learning_rate, reg):
    dW, db = lab3.gradients(weights, biases, x, y, reg=reg)
    for p, g in zip(weights + biases, dW + db):
        p -= learning_rate * g
    return weights, biases


def test_sgd_step_right_answer_passes(capsys):
    exercises.check_sgd_step(sgd_step)
    assert capsys.readouterr().out == "correct: sgd_step passes all 3 cases\n"


def uphill(weights, biases, x, y, learning_rate, reg):
    dW, db = lab3.gradients(weights, biases, x, y, reg=reg)
    return [w + learning_rate * g for w, g in zip(weights, dW)], biases


def weights_only(weights, biases, x, y, learning_rate, reg):
    dW, _ = lab3.gradients(weights, biases, x, y, reg=reg)
    return [w - learning_rate * g for w, g in zip(weights, dW)], biases


def no_penalty(weights, biases, x, y, learning_rate, reg):
    return sgd_step(weights, biases, x, y, learning_rate, 0.0)


@pytest.mark.parametrize("wrong", [uphill, weights_only, no_penalty])
def test_sgd_step_usual_mistakes_fail_with_the_vague_hint_first(wrong):
    message = fails(exercises.check_sgd_step, wrong)
    assert message.startswith("sgd_step is not right yet:")
    assert "moves a little against its own gradient" in message
    assert "p_new = p - learning_rate * g" not in message  # the formula only after more failures


def test_sgd_step_the_last_tier_comes_on_the_third_different_failure():
    fails(exercises.check_sgd_step, uphill)
    fails(exercises.check_sgd_step, weights_only)
    assert "against it (downhill)" not in fails(exercises.check_sgd_step, weights_only)
    assert "against it (downhill)" in fails(exercises.check_sgd_step, no_penalty)


# --- lesson 3: one epoch of single-sample SGD ---------------------------------------------------


def sgd_epoch(weights, biases, inputs, targets, learning_rate, reg, *, loss_after=False):
    losses = []
    for i in range(inputs.shape[1]):
        x, y = inputs[:, i : i + 1].T.numpy(), targets[:, i : i + 1].T.numpy()
        if not loss_after:
            losses.append(lab3.backprop.objective(weights, biases, x, y))
        weights, biases = sgd_step(weights, biases, x, y, learning_rate, reg)
        if loss_after:
            losses.append(lab3.backprop.objective(weights, biases, x, y))
    return weights, biases, np.array(losses)


def test_sgd_epoch_right_answer_passes(capsys):
    exercises.check_sgd_epoch(sgd_epoch)
    assert capsys.readouterr().out == "correct: sgd_epoch passes all 2 cases\n"


def test_sgd_epoch_usual_mistakes_fail_kindly():
    message = fails(exercises.check_sgd_epoch, lambda *a: sgd_epoch(*a, loss_after=True))
    assert "losses differs from the expected values" in message and "BEFORE" not in message
    assert "Looks like: you record each loss after its step" in message
    message = fails(exercises.check_sgd_epoch, lambda *a: sgd_epoch(*a)[:2])
    assert "it returned 2 values; expected 3 values (weights, biases, losses)" in message


# --- lesson 4: the mini-batch loop ----------------------------------------------------------------


def minibatch_sgd(weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg):
    n = inputs.shape[1]
    for _ in range(epochs):
        for s in range(0, n, batch_size):
            x, y = inputs[:, s : s + batch_size].T, targets[:, s : s + batch_size].T
            dW, db = lab3.gradients(weights, biases, x, y, reg=reg)
            for p, g in zip(weights + biases, dW + db):
                p -= learning_rate * g
    return weights, biases


def drops_the_last_batch(weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg):
    n = inputs.shape[1]
    return minibatch_sgd(
        weights,
        biases,
        inputs[:, : n - n % batch_size],
        targets[:, : n - n % batch_size],
        epochs,
        batch_size,
        learning_rate,
        reg,
    )


def test_minibatch_sgd_right_passes_and_a_dropped_last_batch_fails(capsys):
    exercises.check_minibatch_sgd(minibatch_sgd)
    assert capsys.readouterr().out == "correct: minibatch_sgd passes all 2 cases\n"
    message = fails(exercises.check_minibatch_sgd, drops_the_last_batch)
    assert "batches of 300" in message and "p -= learning_rate * g" not in message


# --- lesson 4: the learning-rate finder -----------------------------------------------------------


def lr_finder(
    weights,
    biases,
    inputs,
    targets,
    start,
    stop,
    steps,
    batch_size,
    reg,
    *,
    spacing="geometric",
    stop_at_divergence=True,
    batch_loss=False,
):
    x, y = inputs.numpy().T.astype(float), targets.numpy().T.astype(float)
    n = x.shape[0]
    if spacing == "geometric":
        rates = start * (stop / start) ** (np.arange(steps) / (steps - 1))
    else:
        rates = np.linspace(start, stop, steps)
    best, losses = lab3.backprop.objective(weights, biases, x, y), []
    for i, rate in enumerate(rates):
        batch = np.arange(i * batch_size, (i + 1) * batch_size) % n
        dW, db = lab3.gradients(weights, biases, x[batch], y[batch], reg=reg)
        for p, g in zip(weights + biases, dW + db):
            p -= rate * g
        loss = lab3.backprop.objective(
            weights, biases, *((x[batch], y[batch]) if batch_loss else (x, y))
        )
        losses.append(loss)
        if stop_at_divergence and (not np.isfinite(loss) or loss > 4 * best):
            break
        best = min(best, loss)
    return rates[: len(losses)], np.array(losses)


def test_lr_finder_right_answer_passes(capsys):
    exercises.check_lr_finder(lr_finder)
    assert capsys.readouterr().out == "correct: lr_finder passes all 2 cases\n"


@pytest.mark.filterwarnings("ignore:overflow encountered")  # the no-stop mistake overflows
@pytest.mark.parametrize(
    "mistake, expected",
    [
        ({"spacing": "linear"}, "Looks like: your rates are evenly spaced"),
        ({"batch_loss": True}, "losses differs from the expected values"),
        ({"stop_at_divergence": False}, "has shape (300,), expected (123,)"),
    ],
)
def test_lr_finder_usual_mistakes_fail_kindly(mistake, expected):
    message = fails(exercises.check_lr_finder, lambda *args: lr_finder(*args, **mistake))
    assert expected in message and "np.linspace" not in message


def test_the_lr_finder_reference_is_what_lab3_find_learning_rate_computes():
    inputs, targets = lab3.create_linear_training_data(200, seed=0)
    model = lab3.MultiLayerPerceptron()
    weights = [w.detach().double().numpy() for w in model.weights]
    biases = [b.detach().double().numpy() for b in model.biases]
    for start, stop, steps, batch in [(1e-3, 0.3, 30, 10), (1e-2, 1e3, 300, 1)]:
        rates, losses = lesson04._lr_finder(
            weights, biases, inputs, targets, start, stop, steps, batch, 0.001
        )
        got_rates, got_losses = lab3.find_learning_rate(
            model, inputs, targets, start=start, stop=stop, steps=steps, batch_size=batch
        )
        assert np.allclose(rates, got_rates) and np.allclose(losses, got_losses, rtol=1e-5)


@pytest.mark.parametrize(
    "check",
    [
        exercises.check_sgd_step,
        exercises.check_sgd_epoch,
        exercises.check_minibatch_sgd,
        exercises.check_lr_finder,
    ],
)
def test_an_untouched_stub_is_not_done_yet(check):
    assert fails(check, stub).endswith(
        "is not done yet: fill in the cell above (it still raises NotImplementedError)."
    )


def test_every_public_name_is_a_check():
    for module in (lesson03, lesson04):
        assert all(name.startswith("check_") for name in module.__all__)
