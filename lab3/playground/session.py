"""One playground run: the task's data, the network, and its losses epoch by epoch.

``Session(settings)`` makes the data (``lab3.make_task``) and a fresh network, and records the
losses at epoch 0. ``step(epochs)`` trains that many epochs with ``lab3``'s manual engine (one
``train_validated`` call per epoch, the settings checked once, where they entered) and records the
train and test loss (and accuracy, for a classification task) after each. ``apply(settings)``
takes new knobs: new data or a new network start again at epoch 0, new training knobs (learning
rate, batch size, reg) go on from where the run is, as in TensorFlow Playground.

``plane(grid)`` evaluates the network on a grid over the plane: its output and every hidden
unit's activation, the numbers behind the heat map and the per-neuron thumbnails. Nothing here
knows of Jupyter; ``lab3.playground.widget`` sends these numbers to the page.
"""

import math
import time

import numpy as np
import torch

from lab3.functional import cross_entropy, mse, softmax
from lab3.mlp import ACTIVATIONS, MultiLayerPerceptron
from lab3.playground.settings import PlaygroundSettings, changed_group, validate_playground
from lab3.tasks import make_task
from lab3.training.loop import DivergedError, train_validated
from lab3.training.settings import TrainingSettings

LOSSES = {"mse": mse, "cross_entropy": cross_entropy}


class Session:
    """The state of one run. Read ``settings``, ``task``, ``model``, ``epoch``, ``train_loss``
    and ``test_loss`` (one entry per epoch from 0), ``train_accuracy`` and ``test_accuracy``
    (classification only, else empty), ``error`` (why training stopped, e.g. a divergence, or
    None) and ``extent`` (the half-width of the square of the plane the pictures show)."""

    def __init__(self, settings=None):
        self.settings = validate_playground(settings or PlaygroundSettings())
        self._new_data()
        self._new_network()

    # --- making data and networks ------------------------------------------------------------

    def _new_data(self):
        s = self.settings
        self.task = make_task(s.task, s.n_samples, s.noise, s.test_fraction, s.seed)
        points = torch.cat([self.task.train_inputs, self.task.test_inputs], dim=1)
        # the shown square: the data with a margin, in steps of a quarter
        self.extent = max(1.0, math.ceil(float(points.abs().max()) * 1.05 * 4) / 4)
        targets = self.task.train_targets
        self.target_scale = max(float(targets.abs().max()), 1e-6)  # regression colour range

    def _new_network(self):
        """A fresh network (He initialisation: zero-mean weights, which tanh and sigmoid need
        as much as ReLU; the lab's all-positive ``U[0, 0.1)`` makes every unit alike)."""
        s = self.settings
        self.model = MultiLayerPerceptron(
            2, s.hidden_sizes, self.task.num_outputs, s.activation, seed=s.seed, init="he"
        )
        self.epoch, self.error, self.seconds = 0, None, 0.0
        self.train_loss, self.test_loss = [], []
        self.train_accuracy, self.test_accuracy = [], []
        self._record()

    def reset(self):
        """Start the run again: the same data, the network as it was initialised."""
        self._new_network()

    def apply(self, settings):
        """Take new knobs (``validate_playground`` checks them first); return what they reset:
        ``"data"``, ``"network"``, ``"training"`` (nothing: the run goes on) or ``None``."""
        settings = validate_playground(settings)
        group = changed_group(self.settings, settings)
        self.settings = settings
        if group == "data":
            self._new_data()
        if group in ("data", "network"):
            self._new_network()
        return group

    # --- training -----------------------------------------------------------------------------

    @property
    def classification(self):
        return self.task.kind == "classification"

    def training_settings(self):
        """This run's ``TrainingSettings`` for one epoch (the manual engine, samples in order:
        the tasks' points come in random order already)."""
        s = self.settings
        return TrainingSettings(
            learning_rate=s.learning_rate,
            epochs=1,
            batch_size=s.batch_size,
            reg=s.reg,
            seed=s.seed,
            n_samples=self.task.n_train,
            engine="manual",
            loss=self.task.loss,
        )

    def step(self, epochs=1):
        """Train ``epochs`` more epochs; return how many were done (fewer after a divergence,
        which sets ``error``; a diverged run trains no more until ``reset`` or new knobs)."""
        if self.error is not None:
            return 0
        settings = self.training_settings()  # valid: its knobs were checked in apply
        start = time.perf_counter()
        done = 0
        try:
            for _ in range(epochs):
                train_validated(
                    self.model, self.task.train_inputs, self.task.train_targets, settings
                )
                self.epoch += 1
                done += 1
                self._record()
        except DivergedError as error:
            self.error = str(error)
        self.seconds = time.perf_counter() - start
        return done

    def _record(self):
        """Append the losses (and accuracies) of the network as it is now."""
        loss = LOSSES[self.task.loss]
        with torch.no_grad():
            for inputs, targets, losses, accuracies in (
                (
                    self.task.train_inputs,
                    self.task.train_targets,
                    self.train_loss,
                    self.train_accuracy,
                ),
                (self.task.test_inputs, self.task.test_targets, self.test_loss, self.test_accuracy),
            ):
                if inputs.shape[1] == 0:
                    continue
                outputs = self.model.forward(inputs.T)
                losses.append(float(loss(targets.T, outputs)))
                if self.classification:
                    hits = outputs.argmax(dim=1) == targets.argmax(dim=0)
                    accuracies.append(float(hits.float().mean()))

    # --- the plane ----------------------------------------------------------------------------

    def grid(self, size):
        """``(size * size, 2)`` points of the shown square, row by row from the top left (the
        first row is the largest ``x_2``), as an image is laid out."""
        axis = np.linspace(-self.extent, self.extent, size)
        x1, x2 = np.meshgrid(axis, axis[::-1])
        return np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)

    def plane(self, size):
        """The network on a ``size`` x ``size`` grid: ``(output, hidden)``.

        ``output``: ``(channels, size, size)`` float32: for a classification task the
        probability of class 1 (one channel), for regression each output unit. ``hidden``:
        ``(units, size, size)``, every hidden unit's activation, layer by layer.
        """
        h = torch.from_numpy(self.grid(size))
        hidden = []
        with torch.no_grad():
            for w, b, name in zip(self.model.weights, self.model.biases, self.model.activations):
                h = ACTIVATIONS[name](h @ w + b)
                hidden.append(h.T)
            out = h @ self.model.weights[-1] + self.model.biases[-1]
            if self.classification:
                out = softmax(out)[:, 1:]
            units = torch.cat(hidden) if hidden else torch.zeros((0, size * size))
        return (
            out.T.reshape(-1, size, size).numpy(),
            units.reshape(-1, size, size).numpy(),
        )
