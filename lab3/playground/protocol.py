"""The messages between the page and the kernel, and the frames sent for each.

The page sends small JSON messages, each with a sequence number ``seq`` that grows:

* ``{"type": "hello"}``: a view has opened; it gets the current frame;
* ``{"type": "settings", "seq": s, "values": {...}}``: knobs moved (``settings_from`` checks
  them: a bad value gets an ``{"type": "error", ...}`` reply naming it, the run unchanged);
* ``{"type": "step", "seq": s, "epochs": e}``: train ``e`` epochs (the page's play loop sends one
  per animation frame once the previous frame is drawn, and the step button one);
* ``{"type": "reset", "seq": s}``: the network as initialised, epoch 0.

The latest position wins: the page keeps at most one request in flight and replaces a waiting
one by a newer; the kernel drops any message whose ``seq`` is not above the last one it handled
(a stale setting that arrives late is never drawn).

A frame is a JSON header plus binary buffers (sent as such by the widget, no JSON for arrays):
``heat`` ``(channels, G, G)`` uint8, ``units`` ``(U, G, G)`` uint8, ``curves`` float32 (the train
losses then the test losses), ``points`` float32 ``(n_train + n_test, 2)`` and ``colours``
``(channels, n_train + n_test)`` uint8. Colours are 0..255 on the heat map's scale: 128 is 0 for
regression (``0`` and ``255`` are -/+ ``target_scale``); for classification 0 is class 0 and
255 class 1 (the heat is the probability of class 1).
"""

import dataclasses

import numpy as np
import torch

from lab3.playground.session import Session
from lab3.playground.settings import settings_from
from lab3.validation import is_count, is_int, require

GRID = 48  # the heat map and the thumbnails: GRID x GRID network evaluations each
MAX_EPOCHS_PER_STEP = 100
MESSAGE_TYPES = ("hello", "settings", "step", "reset")


def to_bytes(values, low, high):
    """``values`` mapped linearly from ``[low, high]`` to ``0..255`` (clipped; NaN to 128)."""
    scaled = (np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.5 * (low + high)) - low) / (
        high - low
    )
    return np.round(np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8)


def frame(session, seq, group=None):
    """``(header, buffers)``: everything the page draws of ``session`` now (see the module)."""
    out, hidden = session.plane(GRID)
    scale = 1.0 if session.classification else session.target_scale
    low = 0.0 if session.classification else -scale
    heat = to_bytes(out, low, scale)
    unit_scales = np.abs(hidden).reshape(len(hidden), -1).max(axis=1) if len(hidden) else []
    units = (
        np.stack(
            [
                to_bytes(a, -m, m) if m > 0 else to_bytes(a, -1, 1)
                for a, m in zip(hidden, unit_scales)
            ]
        )
        if len(hidden)
        else np.zeros((0, GRID, GRID), np.uint8)
    )
    task = session.task
    inputs = torch.cat([task.train_inputs, task.test_inputs], dim=1).T.numpy()
    targets = torch.cat([task.train_targets, task.test_targets], dim=1).numpy()
    colours = to_bytes(targets[1:] if session.classification else targets, low, scale)
    curves = np.asarray(session.train_loss + session.test_loss, dtype=np.float32)
    header = {
        "type": "frame",
        "seq": seq,
        "group": group,
        "epoch": session.epoch,
        "settings": dataclasses.asdict(session.settings),
        "kind": task.kind,
        "loss": task.loss,
        "train_loss": session.train_loss[-1],
        "test_loss": session.test_loss[-1] if session.test_loss else None,
        "train_accuracy": session.train_accuracy[-1] if session.train_accuracy else None,
        "test_accuracy": session.test_accuracy[-1] if session.test_accuracy else None,
        "n_curve": [len(session.train_loss), len(session.test_loss)],
        "n_points": [task.n_train, task.n_test],
        "extent": session.extent,
        "target_scale": scale,
        "grid": GRID,
        "channels": int(heat.shape[0]),
        "layers": list(session.settings.hidden_sizes),
        "unit_scales": [float(m) for m in unit_scales],
        "error": session.error,
        "seconds": session.seconds,
    }
    buffers = [heat, units, curves, np.ascontiguousarray(inputs, np.float32), colours]
    return header, [np.ascontiguousarray(b).tobytes() for b in buffers]  # flat bytes, as sent


def _epochs(message):
    epochs = message.get("epochs", 1)
    require(
        is_count(epochs) and epochs <= MAX_EPOCHS_PER_STEP,
        "epochs",
        epochs,
        f"an integer from 1 to {MAX_EPOCHS_PER_STEP}",
    )
    return epochs


class Driver:
    """The kernel's side of the page: ``handle(message)`` -> ``(header, buffers)`` or ``None``.

    ``None`` means "nothing to send": a stale message (its ``seq`` not above ``last_seq``).
    A bad message is answered by an error header (no buffers) naming what was wrong; the run
    is left as it was. ``dropped`` counts the stale messages.
    """

    def __init__(self, settings=None):
        self.session = Session(settings)
        self.last_seq, self.dropped = 0, 0

    def handle(self, message):
        seq = message.get("seq", 0) if isinstance(message, dict) else 0
        try:
            require(isinstance(message, dict), "message", message, "a dict with a 'type'")
            kind = message.get("type")
            require(kind in MESSAGE_TYPES, "type", kind, f"one of {MESSAGE_TYPES}")
            require(is_int(seq) and seq >= 0, "seq", seq, "an integer >= 0")
            if kind != "hello":
                if seq <= self.last_seq:
                    self.dropped += 1
                    return None
                self.last_seq = seq
            group = self._apply(kind, message)
        except ValueError as error:
            return {"type": "error", "seq": seq, "message": str(error)}, []
        return frame(self.session, seq, group)

    def _apply(self, kind, message):
        if kind == "settings":
            return self.session.apply(settings_from(message.get("values"), self.session.settings))
        if kind == "step":
            self.session.step(_epochs(message))
        elif kind == "reset":
            self.session.reset()
            return "network"
        return None
