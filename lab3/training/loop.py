"""Train a ``MultiLayerPerceptron`` with plain SGD on the lab's objective, as the lab's loops do.

One step, for a batch ``x`` ``(B, d)`` and its targets ``y`` ``(B, k)``:

1. forward: ``y_hat = model(x)``;
2. objective: ``mse(y, y_hat) + reg * sum(||W||_F**2)`` (weights only, biases are not penalised);
3. gradient of the objective with respect to every weight and bias;
4. update: ``p -= learning_rate * grad`` for every parameter ``p``.

Batches are consecutive slices ``inputs[:, s:s+B].T`` visited in order, the last one shorter when
``B`` does not divide ``n``; ``batch_size=1`` is the lab's single-sample loop, ``batch_size=n`` is
full-batch gradient descent. ``shuffle=True`` permutes the samples at the start of every epoch.

Two engines compute step 3:

* ``"autograd"``: torch, exactly as the lab (``objective.backward()``) in float32;
* ``"manual"``: the hand-derived backprop of ``lab3.backprop.gradients`` in float64 numpy, written
  out on preallocated arrays (``lab3.training.manual_engine``), the fast one
  (``benchmarks/README.md`` has its speed).

Both update the model in place and return a ``History``.
"""

import time

import numpy as np
import torch

from lab3.functional import accuracy, cross_entropy, l2_reg, mse
from lab3.training.checks import require_one_hot, validate_data, validate_test_data
from lab3.training.history import DivergedError, History, TrainingStopped
from lab3.training.manual_engine import ManualNet, augmented
from lab3.training.settings import TrainingSettings, validate_settings

__all__ = [
    "DivergedError",
    "History",
    "TrainingStopped",
    "train",
    "train_validated",
    "validate_data",
]

DIVERGENCE_BOUND = 1e12  # a step loss above this (or NaN, or inf) stops training
POLL_SECONDS = 0.05  # a run with a poll callback asks it at least this often, between two steps


# ----------------------------------------------------------------------------------------------
# The public function
# ----------------------------------------------------------------------------------------------


def train(
    model,
    inputs,
    targets,
    *,
    epochs,
    batch_size=1,
    learning_rate=0.1,
    reg=0.001,
    engine="autograd",
    shuffle=False,
    seed=0,
    progress=False,
    loss="mse",
    test_inputs=None,
    test_targets=None,
):
    """Train ``model`` in place with SGD on the lab's objective; return a ``History``.

    Args:
        model: a ``lab3.MultiLayerPerceptron``; its weights and biases are updated in place.
        inputs: ``(num_inputs, n)`` tensor, one column per sample (the lab's layout).
        targets: ``(num_outputs, n)`` tensor.
        epochs: passes over the data (the lab: 10 single-sample, 100 with batch size 100).
        batch_size: samples per step, 1 to n; consecutive slices, the last one may be shorter.
        learning_rate: SGD step size (> 0). ``reg``: weight of the L2 penalty (>= 0).
        engine: ``"autograd"`` (torch, float32) or ``"manual"`` (hand backprop, numpy float64).
        shuffle: permute the samples at the start of every epoch (``torch.Generator(seed)``).
        seed: seed of the shuffling generator (unused without ``shuffle``).
        progress: show a tqdm progress bar over the epochs.
        loss: ``"mse"`` (the lab's) or ``"cross_entropy"`` (softmax of the outputs against
            one-hot targets; ``History`` then also records the accuracy).
        test_inputs, test_targets: an optional held-out set, ``(num_inputs, n_test)`` and
            ``(num_outputs, n_test)`` (both or neither; no columns means none): its loss (and
            accuracy) is recorded after every epoch, ``History.test_loss``. It is never trained on.

    ``n``, ``epochs`` and the number of steps have upper limits (``lab3.validation``).

    Raises:
        ValueError: a bad argument (the message names it, its value and what is allowed).
        DivergedError: a step's loss became NaN, infinite or larger than 1e12.
    """
    inputs, targets = validate_data(model, inputs, targets)
    knobs = dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, reg=reg)
    settings = TrainingSettings(
        n_samples=inputs.shape[1], **knobs, engine=engine, shuffle=shuffle, seed=seed, loss=loss
    )
    settings = validate_settings(settings)
    test = validate_test_data(model, test_inputs, test_targets)
    if settings.loss == "cross_entropy":
        require_one_hot("targets", targets)
        if test is not None:
            require_one_hot("test_targets", test[1])
    return train_validated(model, inputs, targets, settings, progress, test=test)


def train_validated(model, inputs, targets, settings, progress=False, poll=None, test=None):
    """``train`` without the checks, for a caller that made everything itself.

    ``inputs`` and ``targets``: float32 ``(d, n)`` and ``(k, n)`` tensors that fit ``model``
    (as ``validate_data`` returns them); ``settings``: a ``TrainingSettings`` that
    ``validate_settings`` returned, for this ``n``. ``lab3.experiment.run`` and the explorer use
    it: their settings were checked once, where they entered, and their data made to fit.

    ``poll(steps_done)``, if given, is called between two steps at least every ``POLL_SECONDS``
    of training, however large the network (a step is the smallest piece of work); when it
    returns True, training stops there with ``TrainingStopped``. The explorer polls to drop a
    run a newer setting has replaced, and to show its progress.

    ``test``: ``None`` or ``(test_inputs, test_targets)`` as ``validate_test_data`` returns them.
    """
    history = History(settings)
    run = _train_autograd if settings.engine == "autograd" else _train_manual
    poller = _Poller(poll, history) if poll is not None else None
    start = time.perf_counter()
    try:
        orders = _epoch_orders(settings, history, progress)
        run(model, inputs, targets, history, orders, poller, test)
    finally:
        history.train_seconds = time.perf_counter() - start
    return history


class _Poller:
    """Calls ``poll`` every ``POLL_SECONDS``, and sizes the manual engine's slices of steps so
    that one slice takes about that long (starting from one step: a huge network's single step
    may take a while, a tiny one's takes microseconds)."""

    def __init__(self, poll, history):
        self.poll, self.history = poll, history
        self.next_time = time.perf_counter() + POLL_SECONDS
        self.steps_per_slice = 1

    def due(self):
        return time.perf_counter() >= self.next_time

    def check(self):
        """Ask ``poll``; raise ``TrainingStopped`` when it says stop."""
        self.next_time = time.perf_counter() + POLL_SECONDS
        if self.poll(self.history.steps):
            raise TrainingStopped(self.history)

    def timed_slice(self, seconds, steps):
        """After ``steps`` took ``seconds``: the next slice's size, and a poll if it is due."""
        if steps == self.steps_per_slice and seconds < POLL_SECONDS / 4:
            self.steps_per_slice *= 4  # still far below the poll interval: grow
        elif seconds > POLL_SECONDS and self.steps_per_slice > 1:
            self.steps_per_slice = max(1, self.steps_per_slice // 4)
        if self.due():
            self.check()


def _epoch_orders(settings, history, progress):
    """Yield ``(epoch, order)`` for every epoch, counting from 1.

    ``order`` is ``None`` (samples in order, the lab's way) or, with ``shuffle``, a permutation of
    ``range(n)`` drawn from ``torch.Generator().manual_seed(seed)``: the same seed gives the same
    orders, whichever engine trains. The progress bar (if any) shows ``history``'s last epoch.
    """
    generator = torch.Generator().manual_seed(settings.seed)
    bar = _progress_bar(settings) if progress else None
    try:
        for epoch in range(1, settings.epochs + 1):
            order = None
            if settings.shuffle:
                order = torch.randperm(settings.n_samples, generator=generator)
            yield epoch, order
            if bar is not None:
                bar.set_postfix(loss=f"{history.epoch_loss[-1]:.3g}", refresh=False)
                bar.update(1)
    finally:  # also when training stops with an error
        if bar is not None:
            bar.close()


def _progress_bar(settings):
    """A tqdm bar over the epochs (on stderr), showing the last epoch's loss."""
    from tqdm import tqdm  # imported only when asked for

    return tqdm(total=settings.epochs, desc=f"train ({settings.engine})", unit="epoch")


def _detect_divergence(loss, epoch, step, history):
    """Raise ``DivergedError`` unless ``loss`` is a finite number below ``DIVERGENCE_BOUND``."""
    if not loss <= DIVERGENCE_BOUND:  # also true for NaN
        raise DivergedError(epoch, step, float(loss), history.settings.learning_rate, history)


LOSS_FUNCTIONS = {"mse": mse, "cross_entropy": cross_entropy}  # (y, y_hat) -> mean loss


def _record_epoch(history, loss, objective, outputs=None, targets=None, test=None):
    """Append an epoch's numbers to ``history``: training loss and objective (floats) and, when
    there is one, the test loss; with cross-entropy, the accuracies too.

    ``outputs``/``targets``: the network's ``(n, k)`` outputs on the training set and its
    targets; ``test``: ``None`` or ``(test_outputs, test_targets)`` (numpy or torch alike).
    """
    history.epoch_loss.append(loss)
    history.epoch_objective.append(objective)
    classify = history.settings.loss == "cross_entropy"
    if classify:
        history.epoch_accuracy.append(accuracy(targets, outputs))
    if test is not None:
        test_outputs, test_targets = test
        loss_function = LOSS_FUNCTIONS[history.settings.loss]
        history.test_loss.append(float(loss_function(test_targets, test_outputs)))
        if classify:
            history.test_accuracy.append(accuracy(test_targets, test_outputs))


# ----------------------------------------------------------------------------------------------
# engine="autograd": the lab's loop
# ----------------------------------------------------------------------------------------------


def _train_autograd(model, inputs, targets, history, epoch_orders, poller=None, test=None):
    """The lab's loop with torch autograd, one ``_autograd_step`` per batch."""
    settings = history.settings
    params = model.parameters()
    for p in params:
        p.grad = None  # a stale gradient would be added to the first step's
    x_all, y_all = inputs.T, targets.T  # (n, d): x_all[s:s+B] is the lab's inputs[:, s:s+B].T
    test = None if test is None else (test[0].T, test[1].T)  # (n_test, d), (n_test, k)
    B, n = settings.batch_size, settings.n_samples
    for epoch, order in epoch_orders:
        x, y = (x_all, y_all) if order is None else (x_all[order], y_all[order])
        for step, s in enumerate(range(0, n, B), start=1):
            loss = _autograd_step(model, params, x[s : s + B], y[s : s + B], history, epoch, step)
            history.step_loss.append(loss)
            if poller is not None and poller.due():
                poller.check()
        _autograd_epoch(model, x_all, y_all, history, test)


def _autograd_step(model, params, x, y, history, epoch, step):
    """One SGD step of ``train``: it stops a diverging run before the update."""
    settings = history.settings

    def stop_if_diverged(loss):
        _detect_divergence(loss, epoch, step, history)

    return autograd_sgd_step(
        model,
        params,
        x,
        y,
        settings.learning_rate,
        settings.reg,
        check_loss=stop_if_diverged,
        loss=settings.loss,
    )


def autograd_sgd_step(model, params, x, y, learning_rate, reg, check_loss=None, loss="mse"):
    """One SGD step as the lab wrote it, on ``x`` ``(B, d)`` and ``y`` ``(B, k)``.

    Forward, objective ``loss + reg * sum ||W||^2`` (``loss``: ``"mse"``, the lab's, or
    ``"cross_entropy"``), ``backward()``, then ``p -= learning_rate * p.grad`` for every tensor of
    ``params`` (``model.parameters()``). ``check_loss(loss)`` is called before the backward pass,
    so a run can stop there. Returns the batch's loss before the update. ``lab3.train`` (engine
    ``"autograd"``) and the learning-rate finder take their steps here.
    """
    value = LOSS_FUNCTIONS[loss](y, model.forward(x))
    loss_value = value.item()
    if check_loss is not None:
        check_loss(loss_value)
    objective = value + l2_reg(model.weights, reg)
    objective.backward()
    with torch.no_grad():
        for p in params:
            p -= learning_rate * p.grad  # the lab's w.data -= alpha * w.grad
            p.grad.zero_()
    return loss_value


def _autograd_epoch(model, x_all, y_all, history, test):
    """Record the loss and objective over the whole training set (and the test set's numbers)."""
    settings = history.settings
    with torch.no_grad():
        outputs = model.forward(x_all)
        loss = LOSS_FUNCTIONS[settings.loss](y_all, outputs).item()
        objective = loss + float(l2_reg(model.weights, settings.reg))
        if test is not None:
            test = (model.forward(test[0]), test[1])
        _record_epoch(history, loss, objective, outputs, y_all, test)


# ----------------------------------------------------------------------------------------------
# engine="manual": hand-derived backprop on preallocated float64 arrays (manual_engine.py)
# ----------------------------------------------------------------------------------------------


def _train_manual(model, inputs, targets, history, epoch_orders, poller=None, test=None):
    """Copy the model into a ``ManualNet``, train it epoch by epoch, copy the result back.

    Without a poller an epoch is one call of the hot loop; with one, it is cut into slices of
    steps that each take about ``POLL_SECONDS``, and the poller is asked between them.
    """
    settings = history.settings
    net = ManualNet(
        model, settings.batch_size, settings.n_samples % settings.batch_size, settings.loss
    )
    x_all = augmented(inputs.T.double().numpy())  # (n, d + 1): a column of ones for the biases
    y_all = np.ascontiguousarray(targets.T.double().numpy())  # (n, k)
    if test is not None:
        test = (augmented(test[0].T.double().numpy()), test[1].T.double().numpy())
    try:
        for epoch, order in epoch_orders:
            order = None if order is None else order.numpy()
            x, y = (x_all, y_all) if order is None else (x_all[order], y_all[order])
            _manual_epoch(net, x, y, history, epoch, poller)
            loss, objective, outputs = net.loss_and_objective(x_all, y_all, settings.reg)
            tested = None if test is None else (net.outputs(test[0]), test[1])
            _record_epoch(history, loss, objective, outputs, y_all, tested)
    finally:
        net.copy_into(model)  # also after a divergence or a stop, as the autograd engine leaves it


def _manual_epoch(net, x, y, history, epoch, poller):
    """One epoch of the hot loop over ``x`` (augmented) and ``y``, in slices when polled."""
    settings = history.settings
    per_epoch = settings.steps_per_epoch
    first = 0
    while first < per_epoch:
        count = per_epoch - first if poller is None else poller.steps_per_slice
        start = time.perf_counter()
        losses = net.epoch(
            x,
            y,
            settings.learning_rate,
            settings.reg,
            DIVERGENCE_BOUND,
            first_step=first,
            step_count=count,
        )
        history.step_loss.extend(losses[: net.steps_done].tolist())
        if net.steps_done < len(losses):
            step = first + net.steps_done + 1
            _detect_divergence(losses[net.steps_done], epoch, step, history)
        first += len(losses)
        if poller is not None:
            poller.timed_slice(time.perf_counter() - start, len(losses))
