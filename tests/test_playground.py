"""The playground's Python side: settings, the session's stepping, the page's messages, frames.

No kernel, server or browser: ``Driver.handle`` is what the widget calls for each message.
"""

import numpy as np
import pytest
import torch

from lab3.playground.protocol import GRID, Driver, frame, to_bytes
from lab3.playground.session import Session
from lab3.playground.settings import (
    CHOICES,
    PlaygroundSettings,
    changed_group,
    settings_from,
    validate_playground,
)

SMALL = PlaygroundSettings(n_samples=200, width=3, depth=1)


def test_defaults_are_valid_and_every_slider_value_is_accepted():
    settings = validate_playground(PlaygroundSettings())
    assert settings == PlaygroundSettings()
    for name, values in CHOICES.items():
        for value in values:
            if name == "batch_size" and value > settings.n_train:
                continue
            assert getattr(settings_from({name: value}), name) == value


@pytest.mark.parametrize(
    "values, name",
    [
        ({"width": 0}, "width"),
        ({"width": 17}, "width"),
        ({"depth": -1}, "depth"),
        ({"depth": 2.5}, "depth"),
        ({"depth": True}, "depth"),
        ({"activation": "softplus"}, "activation"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"reg": -0.1}, "reg"),
        ({"batch_size": 251}, "batch_size"),  # 500 samples, half for testing
        ({"n_samples": 10**6}, "n_samples"),
        ({"test_fraction": 0.95}, "test_fraction"),
        ({"task": "moons"}, "name"),
        ({"colour": 1}, "settings"),
    ],
)
def test_a_bad_knob_is_refused_naming_it(values, name):
    with pytest.raises(ValueError, match=name):
        settings_from(values)


def test_what_a_change_resets():
    s = PlaygroundSettings()
    assert changed_group(s, s) is None
    assert changed_group(s, s.replace(learning_rate=0.1, reg=0.01)) == "training"
    assert changed_group(s, s.replace(width=2, learning_rate=0.1)) == "network"
    assert changed_group(s, s.replace(noise=0.1, width=2)) == "data"


def test_stepping_trains_and_records_train_and_test_loss_per_epoch():
    session = Session(SMALL)
    assert session.epoch == 0 and len(session.train_loss) == len(session.test_loss) == 1
    assert session.step(5) == 5
    assert session.epoch == 5 and len(session.train_loss) == len(session.test_loss) == 6
    assert session.train_loss[-1] < session.train_loss[0]
    assert session.test_loss[-1] < session.test_loss[0]
    # the recorded loss is the network's mse on the data, computed independently here
    x, y = session.task.test_inputs, session.task.test_targets
    with torch.no_grad():
        expected = float(((session.model.forward(x.T) - y.T) ** 2).mean())
    assert session.test_loss[-1] == pytest.approx(expected, rel=1e-5)


def test_stepping_one_epoch_at_a_time_equals_training_several():
    one, many = Session(SMALL), Session(SMALL)
    for _ in range(4):
        one.step(1)
    many.step(4)
    assert one.train_loss == many.train_loss
    for a, b in zip(one.model.weights, many.model.weights):
        assert torch.equal(a, b)


def test_training_knobs_go_on_while_network_knobs_start_again():
    session = Session(SMALL)
    session.step(3)
    assert session.apply(SMALL.replace(learning_rate=0.1)) == "training"
    assert session.epoch == 3
    assert session.apply(SMALL.replace(learning_rate=0.1, width=2)) == "network"
    assert session.epoch == 0 and session.model.hidden_sizes == (2,)
    session.step(2)
    session.reset()
    assert session.epoch == 0 and len(session.train_loss) == 1


def test_a_diverging_run_stops_with_its_reason_and_trains_no_more():
    session = Session(SMALL.replace(learning_rate=3.0, batch_size=1, width=8, depth=3))
    done = session.step(50)
    assert done < 50 and "diverged" in session.error
    assert session.step(1) == 0
    header, _ = frame(session, 1)
    assert "diverged" in header["error"]


def test_the_plane_is_the_network_on_the_grid():
    session = Session(SMALL)
    out, hidden = session.plane(8)
    assert out.shape == (2, 8, 8) and hidden.shape == (3, 8, 8)
    grid = torch.from_numpy(session.grid(8))
    with torch.no_grad():
        expected = session.model.forward(grid).T.reshape(2, 8, 8).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert session.grid(8)[0].tolist() == [-session.extent, session.extent]  # top left first


def test_the_affine_network_has_no_thumbnails():
    header, buffers = frame(Session(SMALL.replace(depth=0)), 1)
    assert header["layers"] == [] and len(buffers[1]) == 0


def test_a_frame_holds_compact_arrays_of_the_announced_sizes():
    session = Session(SMALL)
    session.step(2)
    header, buffers = frame(session, 7)
    heat, units, curves, points, colours = buffers
    n = header["n_points"][0] + header["n_points"][1]
    assert header["seq"] == 7 and header["epoch"] == 2 and n == 200
    assert len(heat) == header["channels"] * GRID * GRID
    assert len(units) == 3 * GRID * GRID
    curve = np.frombuffer(curves, np.float32)
    assert curve.tolist() == pytest.approx(session.train_loss + session.test_loss, rel=1e-6)
    assert np.frombuffer(points, np.float32).shape == (2 * n,)
    assert len(colours) == header["channels"] * n


def test_to_bytes_maps_the_range_onto_0_255():
    assert to_bytes([-1.0, 0.0, 1.0, 5.0, float("nan")], -1, 1).tolist() == [0, 128, 255, 255, 128]


def test_the_driver_drops_stale_messages_and_answers_the_newest():
    driver = Driver(SMALL)
    assert driver.handle({"type": "hello"})[0]["epoch"] == 0
    assert driver.handle({"type": "step", "seq": 2, "epochs": 3})[0]["epoch"] == 3
    # a setting sent before the step, arriving late, is never applied nor drawn
    assert driver.handle({"type": "settings", "seq": 1, "values": {"width": 5}}) is None
    assert driver.dropped == 1 and driver.session.settings.width == 3
    header, _ = driver.handle({"type": "settings", "seq": 5, "values": {"width": 5}})
    assert header["group"] == "network" and header["layers"] == [5]
    assert driver.handle({"type": "reset", "seq": 6})[0]["epoch"] == 0


@pytest.mark.parametrize(
    "message, name",
    [
        ("step", "message"),
        ({"type": "jump", "seq": 1}, "type"),
        ({"type": "step", "seq": -1}, "seq"),
        ({"type": "step", "seq": 1, "epochs": 0}, "epochs"),
        ({"type": "step", "seq": 1, "epochs": 10**6}, "epochs"),
        ({"type": "settings", "seq": 1, "values": {"width": 99}}, "width"),
        ({"type": "settings", "seq": 1, "values": ["width"]}, "settings"),
    ],
)
def test_a_bad_message_gets_an_error_naming_it_and_changes_nothing(message, name):
    driver = Driver(SMALL)
    before = driver.session.settings
    header, buffers = driver.handle(message)
    assert header["type"] == "error" and name in header["message"] and buffers == []
    assert driver.session.settings == before and driver.session.epoch == 0


def test_the_widget_answers_a_message_with_a_frame_and_shows_a_picture_without_a_kernel():
    pytest.importorskip("anywidget")
    from lab3.playground.widget import Playground

    widget = Playground(SMALL)
    sent = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers))
    widget._on_msg(widget, {"type": "step", "seq": 1}, [])
    assert sent[0][0]["epoch"] == 1 and len(sent[0][1]) == 5
    data, _ = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature


def test_a_classification_task_shows_the_probability_of_class_1_and_learns():
    session = Session(PlaygroundSettings(task="circle", activation="tanh", learning_rate=0.1))
    session.step(60)
    assert session.test_accuracy[-1] >= 0.9 and len(session.test_accuracy) == 61
    x, y = session.task.test_inputs, session.task.test_targets
    with torch.no_grad():
        logits = session.model.forward(x.T)
    expected = float(-(y.T * torch.log_softmax(logits, dim=1)).sum(dim=1).mean())
    assert session.test_loss[-1] == pytest.approx(expected, rel=1e-5)
    header, buffers = frame(session, 1)
    assert header["channels"] == 1 and header["loss"] == "cross_entropy"
    heat, colours = np.frombuffer(buffers[0], np.uint8), np.frombuffer(buffers[4], np.uint8)
    assert set(colours.tolist()) == {0, 255}  # the two classes
    assert heat.min() < 64 and heat.max() > 192  # confident on both sides of the circle


@pytest.mark.parametrize("task", ["xor", "gaussians", "spirals", "swirl"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "identity"])
def test_every_task_and_activation_steps_and_draws(task, activation):
    settings = PlaygroundSettings(task=task, activation=activation, n_samples=100, batch_size=7)
    driver = Driver(settings)
    header, buffers = driver.handle({"type": "step", "seq": 1, "epochs": 2})
    assert header["epoch"] == 2 and header["settings"]["task"] == task
    assert all(np.isfinite(np.frombuffer(buffers[2], np.float32)))


def test_make_explore_refuses_a_busy_port_and_serves_loopback_with_a_token(capsys):
    import socket

    from lab3.playground import serve

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert serve.main(["--port", str(busy.getsockname()[1])]) == 2
    assert "busy" in capsys.readouterr().err
    command = serve.voila_command(8866, "secret")
    assert str(serve.APP) in command and serve.APP.is_file()
    assert {"--Voila.ip=127.0.0.1", "--token=secret", "--strip_sources=True"} <= set(command)
