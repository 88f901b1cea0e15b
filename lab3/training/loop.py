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
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import torch

from lab3.functional import l2_reg, mse
from lab3.mlp import MultiLayerPerceptron
from lab3.training.manual_engine import ManualNet, augmented
from lab3.training.settings import TrainingSettings, validate_settings
from lab3.validation import require

DIVERGENCE_BOUND = 1e12  # a step loss above this (or NaN, or inf) stops training
POLL_SECONDS = 0.05  # a run with a poll callback asks it at least this often, between two steps


class TrainingStopped(Exception):
    """A run's ``poll`` callback asked it to stop. ``history`` holds what was done until then;
    the model keeps the parameters of the last completed step."""

    def __init__(self, history):
        super().__init__(f"training stopped by its poll callback after {history.steps} steps")
        self.history = history


class DivergedError(ArithmeticError):
    """Training diverged: a step's loss was NaN, infinite or above ``DIVERGENCE_BOUND``.

    Attributes ``epoch`` and ``step`` (both counted from 1, the step within its epoch), ``loss``,
    ``learning_rate`` and ``history`` (what was recorded up to that step) say where it happened.
    The model keeps the parameters that produced that loss.
    """

    def __init__(self, epoch, step, loss, learning_rate, history):
        reg = history.settings.reg
        if learning_rate * reg >= 1.0:  # the penalty alone: w <- (1 - 2 lr reg) w grows |w|
            advice = (
                f"reg={reg:g} is too large for learning_rate={learning_rate:g}: each step "
                f"multiplies every weight by 1 - 2 * learning_rate * reg = "
                f"{1 - 2 * learning_rate * reg:.3g}; try reg below {1 / learning_rate:.3g}"
            )
        else:
            advice = f"try a smaller learning_rate than {learning_rate:g}"
        super().__init__(
            f"training diverged at epoch {epoch}, step {step} (loss={loss:.3g}): {advice}"
        )
        self.epoch, self.step, self.loss = epoch, step, loss
        self.learning_rate, self.history = learning_rate, history


@dataclass
class History:
    """What ``train`` did: the ``TrainingSettings`` it ran with and the losses it saw.

    ``step_loss[i]`` is the mse of the batch of step ``i`` *before* its update (the lab's "loss
    after forward pass"); ``epoch_loss[e]`` is the mse over the whole training set after epoch
    ``e`` and ``epoch_objective[e]`` adds ``reg * sum(||W||_F**2)`` to it. Each setting can also
    be read directly (``history.batch_size`` is ``history.settings.batch_size``).
    """

    settings: TrainingSettings
    step_loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    epoch_objective: list = field(default_factory=list)
    train_seconds: float = 0.0

    @property
    def steps(self):
        """Number of SGD steps taken: ``epochs * ceil(n_samples / batch_size)`` after a full run."""
        return len(self.step_loss)

    def to_dict(self):
        """Plain dict (JSON-ready): every setting, every result, ``steps`` included."""
        results = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "settings"}
        return {**asdict(self.settings), **results, "steps": self.steps}


def _setting(name):
    return property(lambda self: getattr(self.settings, name), doc=f"``settings.{name}``")


for _field in fields(
    TrainingSettings
):  # read-only shortcuts: history.epochs, history.batch_size...
    setattr(History, _field.name, _setting(_field.name))


# ----------------------------------------------------------------------------------------------
# Validating the arguments
# ----------------------------------------------------------------------------------------------


def _as_data(name, value):
    """``value`` as a 2-D float32 tensor in the lab's ``(d, n)`` layout, or a ``ValueError``."""
    data = torch.as_tensor(value, dtype=torch.float32).detach()
    require(
        data.ndim == 2 and data.shape[1] >= 1,
        name,
        tuple(data.shape),
        "a 2-D (d, n) tensor: one row per feature, one column per sample",
    )
    require(
        bool(torch.isfinite(data).all()),
        name,
        tuple(data.shape),
        "finite numbers only, but it holds NaN or infinity",
    )
    return data


def validate_data(model, inputs, targets):
    """Refuse data whose shapes do not fit each other or the model; return both as tensors.

    Returns ``(inputs, targets)`` as float32 tensors (``(d, n)`` and ``(k, n)``), detached.
    """
    require(isinstance(model, MultiLayerPerceptron), "model", model, "a lab3 MultiLayerPerceptron")
    inputs, targets = _as_data("inputs", inputs), _as_data("targets", targets)
    require(
        targets.shape[1] == inputs.shape[1],
        "targets",
        tuple(targets.shape),
        f"as many samples (columns) as inputs, whose shape is {tuple(inputs.shape)}",
    )
    require(
        inputs.shape[0] == model.num_inputs,
        "inputs",
        tuple(inputs.shape),
        f"shape (model.num_inputs={model.num_inputs}, n) in the (d, n) layout "
        "(one column per sample)",
    )
    require(
        targets.shape[0] == model.num_outputs,
        "targets",
        tuple(targets.shape),
        f"shape (model.num_outputs={model.num_outputs}, n) in the (d, n) layout "
        "(one column per sample)",
    )
    return inputs, targets


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

    ``n``, ``epochs`` and the number of steps have upper limits (``lab3.validation``).

    Raises:
        ValueError: a bad argument (the message names it, its value and what is allowed).
        DivergedError: a step's loss became NaN, infinite or larger than 1e12.
    """
    inputs, targets = validate_data(model, inputs, targets)
    knobs = dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, reg=reg)
    settings = TrainingSettings(
        n_samples=inputs.shape[1], **knobs, engine=engine, shuffle=shuffle, seed=seed
    )
    return train_validated(model, inputs, targets, validate_settings(settings), progress)


def train_validated(model, inputs, targets, settings, progress=False, poll=None):
    """``train`` without the checks, for a caller that made everything itself.

    ``inputs`` and ``targets``: float32 ``(d, n)`` and ``(k, n)`` tensors that fit ``model``
    (as ``validate_data`` returns them); ``settings``: a ``TrainingSettings`` that
    ``validate_settings`` returned, for this ``n``. ``lab3.experiment.run`` and the explorer use
    it: their settings were checked once, where they entered, and their data made to fit.

    ``poll(steps_done)``, if given, is called between two steps at least every ``POLL_SECONDS``
    of training, however large the network (a step is the smallest piece of work); when it
    returns True, training stops there with ``TrainingStopped``. The explorer polls to drop a
    run a newer setting has replaced, and to show its progress.
    """
    history = History(settings)
    run = _train_autograd if settings.engine == "autograd" else _train_manual
    poller = _Poller(poll, history) if poll is not None else None
    start = time.perf_counter()
    try:
        run(model, inputs, targets, history, _epoch_orders(settings, history, progress), poller)
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


def _record_epoch(history, loss, objective):
    history.epoch_loss.append(loss)
    history.epoch_objective.append(objective)


# ----------------------------------------------------------------------------------------------
# engine="autograd": the lab's loop
# ----------------------------------------------------------------------------------------------


def _train_autograd(model, inputs, targets, history, epoch_orders, poller=None):
    """The lab's loop with torch autograd, one ``_autograd_step`` per batch."""
    settings = history.settings
    params = model.parameters()
    for p in params:
        p.grad = None  # a stale gradient would be added to the first step's
    x_all, y_all = inputs.T, targets.T  # (n, d): x_all[s:s+B] is the lab's inputs[:, s:s+B].T
    B, n = settings.batch_size, settings.n_samples
    for epoch, order in epoch_orders:
        x, y = (x_all, y_all) if order is None else (x_all[order], y_all[order])
        for step, s in enumerate(range(0, n, B), start=1):
            loss = _autograd_step(model, params, x[s : s + B], y[s : s + B], history, epoch, step)
            history.step_loss.append(loss)
            if poller is not None and poller.due():
                poller.check()
        _record_epoch(history, *_autograd_epoch_loss(model, x_all, y_all, settings.reg))


def _autograd_step(model, params, x, y, history, epoch, step):
    """One SGD step of ``train``: it stops a diverging run before the update."""
    settings = history.settings

    def stop_if_diverged(loss):
        _detect_divergence(loss, epoch, step, history)

    return autograd_sgd_step(
        model, params, x, y, settings.learning_rate, settings.reg, check_loss=stop_if_diverged
    )


def autograd_sgd_step(model, params, x, y, learning_rate, reg, check_loss=None):
    """One SGD step as the lab wrote it, on ``x`` ``(B, d)`` and ``y`` ``(B, k)``.

    Forward, objective ``mse + reg * sum ||W||^2``, ``backward()``, then ``p -= learning_rate *
    p.grad`` for every tensor of ``params`` (``model.parameters()``). ``check_loss(mse)`` is called
    before the backward pass, so a run can stop there. Returns the batch's mse before the update.
    ``lab3.train`` (engine ``"autograd"``) and the learning-rate finder take their steps here.
    """
    loss = mse(y, model.forward(x))
    loss_value = loss.item()
    if check_loss is not None:
        check_loss(loss_value)
    objective = loss + l2_reg(model.weights, reg)
    objective.backward()
    with torch.no_grad():
        for p in params:
            p -= learning_rate * p.grad  # the lab's w.data -= alpha * w.grad
            p.grad.zero_()
    return loss_value


def _autograd_epoch_loss(model, x_all, y_all, reg):
    """``(mse, objective)`` over the whole training set, as floats."""
    with torch.no_grad():
        loss = mse(y_all, model.forward(x_all)).item()
        return loss, loss + float(l2_reg(model.weights, reg))


# ----------------------------------------------------------------------------------------------
# engine="manual": hand-derived backprop on preallocated float64 arrays (manual_engine.py)
# ----------------------------------------------------------------------------------------------


def _train_manual(model, inputs, targets, history, epoch_orders, poller=None):
    """Copy the model into a ``ManualNet``, train it epoch by epoch, copy the result back.

    Without a poller an epoch is one call of the hot loop; with one, it is cut into slices of
    steps that each take about ``POLL_SECONDS``, and the poller is asked between them.
    """
    settings = history.settings
    net = ManualNet(model, settings.batch_size, settings.n_samples % settings.batch_size)
    x_all = augmented(inputs.T.double().numpy())  # (n, d + 1): a column of ones for the biases
    y_all = np.ascontiguousarray(targets.T.double().numpy())  # (n, k)
    per_epoch = settings.steps_per_epoch
    try:
        for epoch, order in epoch_orders:
            order = None if order is None else order.numpy()
            x, y = (x_all, y_all) if order is None else (x_all[order], y_all[order])
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
            _record_epoch(history, *net.loss_and_objective(x_all, y_all, settings.reg))
    finally:
        net.copy_into(model)  # also after a divergence or a stop, as the autograd engine leaves it
