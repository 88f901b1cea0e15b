"""lab3.experiment: the parameter check, a run's metrics and their atomic JSON file."""

import json
import math
import os
import re
import stat
import time
from pathlib import Path

import pytest
import torch

import lab3
from lab3 import experiment


def test_defaults_are_the_labs_batched_run():
    p = experiment.validate_parameters()
    quiet = experiment.QUIET_AT_DEFAULT  # issue 22's knobs: readable, listed only off default
    assert p == {k: v for k, v in experiment.DEFAULTS.items() if k not in quiet}
    assert all(p[k] == experiment.DEFAULTS[k] for k in quiet)
    assert (p["learning_rate"], p["reg"], p["epochs"], p["batch_size"], p["n_samples"]) == (
        0.1,
        0.001,
        100,
        100,
        1000,
    )


@pytest.mark.parametrize(
    "override, message",
    [
        ({"batch_size": 0}, "batch_size=0 is not allowed"),
        (
            {"batch_size": 5000},
            "batch_size=5000 is not allowed: an integer from 1 to the number of samples (1000)",
        ),
        ({"learning_rate": 0}, "learning_rate=0 is not allowed"),
        ({"learning_rate": -0.1}, "learning_rate=-0.1 is not allowed"),
        ({"epochs": 0}, "epochs=0 is not allowed"),
        ({"epochs": 2.5}, "epochs=2.5 is not allowed"),
        ({"hidden_sizes": [3, 0]}, "hidden_sizes=[3, 0] is not allowed"),
        ({"hidden_sizes": 3}, "hidden_sizes=3 is not allowed"),
        ({"engine": "jax"}, "engine='jax' is not allowed: one of ('autograd', 'manual')"),
        ({"n_samples": 0}, "n_samples=0 is not allowed"),
        ({"angle": "ninety"}, "angle='ninety' is not allowed"),
        ({"reg": -1.0}, "reg=-1.0 is not allowed"),
        ({"results_path": 3}, "results_path=3 is not allowed"),
        ({"learning_rte": 0.1}, "parameter='learning_rte' is not allowed"),
        ({"n_samples": 2, "batch_size": 1}, "n_samples=2 is not allowed: an integer >= 3"),
        ({"n_samples": 10**12}, "n_samples=1000000000000 is not allowed: an integer from 1 to "),
        ({"epochs": 10**9}, "epochs=1000000000 is not allowed: an integer from 1 to 1,000,000"),
        (
            {"hidden_sizes": [10**5]},
            "hidden_sizes=[100000] is not allowed: widths from 1 to 10,000",
        ),
        ({"hidden_sizes": [5000, 5000]}, "a network of at most 10,000,000 weights and biases"),
        ({"seed": -1}, "seed=-1 is not allowed: an integer from 0 to 4,294,967,295"),
        (
            {"results_path": "no/such/folder/r.json"},
            "results_path='no/such/folder/r.json' is not allowed: a file in an existing folder",
        ),
        ({"results_path": "no/such/r.json"}, "results_path='no/such/r.json' is not allowed"),
    ],
)
def test_bad_parameters_name_the_parameter_value_and_what_is_allowed(override, message):
    with pytest.raises(ValueError) as error:
        experiment.validate_parameters(**override)
    assert message in str(error.value)


def test_huge_values_are_refused_in_well_under_a_second():
    start = time.perf_counter()
    for override in ({"n_samples": 10**12}, {"epochs": 10**9}, {"hidden_sizes": [10**6] * 50}):
        with pytest.raises(ValueError):
            experiment.validate_parameters(**override)
    assert time.perf_counter() - start < 0.5


def test_a_folder_is_not_a_results_path(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"^results_path='.*' is not allowed: a regular file, but "
        r"this is a folder$",
    ):
        experiment.validate_parameters(results_path=str(tmp_path))
    path = str(tmp_path / "r.json")
    assert experiment.validate_parameters(results_path=path)["results_path"] == path


@pytest.mark.parametrize(
    "kind",
    ["character device", "folder", "FIFO (named pipe)", "missing folder", "unwritable folder"],
)
def test_a_results_path_that_is_no_regular_file_is_refused_before_training(
    tmp_path, kind, monkeypatch
):
    """Refused by the parameters check, naming results_path, before any data or model exists;
    and nothing at that path is replaced."""
    path = {
        "character device": "/dev/null",
        "folder": str(tmp_path),
        "FIFO (named pipe)": str(tmp_path / "pipe"),
        "missing folder": str(tmp_path / "no-such-folder" / "r.json"),
        "unwritable folder": str(tmp_path / "r.json"),
    }[kind]
    if kind.startswith("FIFO"):
        os.mkfifo(path)
    if kind == "unwritable folder":  # root may write anywhere: ask os.access what we pretend
        monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    expected = {
        "missing folder": "the folder .* does not exist",
        "unwritable folder": "is not writable",
    }.get(kind, re.escape(f"this is a {kind}"))
    monkeypatch.setattr(experiment, "train_validated", lambda *a: pytest.fail("trained"))
    with pytest.raises(ValueError, match=rf"^results_path='{path}' is not allowed: .*{expected}"):
        experiment.run({"epochs": 1, "results_path": path})
    with pytest.raises(ValueError, match=expected):
        experiment.save_metrics(path, {"status": "ok"})
    assert not Path(path).is_file()  # a device, FIFO or folder is never replaced by a file


def test_checked_parameters_are_read_only_and_run_does_not_check_them_again(monkeypatch):
    params = experiment.validate_parameters(epochs=2, batch_size=50)
    assert params.settings.epochs == 2 and dict(params)["batch_size"] == 50
    with pytest.raises(TypeError):
        params["epochs"] = 10**9
    calls = []
    original = experiment.validate_settings
    monkeypatch.setattr(
        experiment, "validate_settings", lambda *a, **k: calls.append(a) or original(*a, **k)
    )
    assert experiment.run(params).history.settings == params.settings
    assert calls == []
    # A changed copy is a plain dict: run checks it.
    changed = experiment.run({**params, "epochs": 1})
    assert len(calls) == 1 and changed.history.steps == 20
    with pytest.raises(ValueError, match="engine='jax' is not allowed"):
        experiment.run(params, engine="jax")


def test_run_and_metrics():
    result = experiment.run({"epochs": 30, "batch_size": 10})
    values = experiment.metrics(result)
    assert values["status"] == "ok"
    assert values["steps"] == 30 * 100 == result.history.steps
    assert values["final_loss"] == result.history.epoch_loss[-1] < 1e-3
    assert values["matrix_error"] < 0.05
    assert values["true_matrix"] == lab3.rotation_matrix(90).tolist()
    learned = torch.tensor(values["effective_matrix"])
    error = torch.linalg.matrix_norm(learned - lab3.rotation_matrix(90)).item()
    assert values["matrix_error"] == pytest.approx(error, rel=1e-6)
    assert values["parameters"]["batch_size"] == 10 and "results_path" not in values["parameters"]
    assert len(values["epoch_loss"]) == 30
    json.dumps(values)  # JSON-ready
    # the run started from the model's initial weights, which the Run keeps
    assert not torch.equal(result.initial_model.weights[0], result.model.weights[0])
    fresh = lab3.MultiLayerPerceptron(seed=0)
    assert torch.equal(result.initial_model.weights[0], fresh.weights[0])


def test_engine_override_gives_the_same_run():
    manual = experiment.run({"epochs": 2, "batch_size": 50})
    autograd = experiment.run({"epochs": 2, "batch_size": 50}, engine="autograd")
    assert autograd.history.engine == "autograd"
    for a, m in zip(autograd.model.parameters(), manual.model.parameters()):
        torch.testing.assert_close(a, m, atol=1e-5, rtol=0)


def test_save_metrics_writes_whole_json(tmp_path):
    path = tmp_path / "metrics.json"
    experiment.save_metrics(str(path), {"status": "ok", "x": [1, 2]})
    assert json.loads(path.read_text()) == {"status": "ok", "x": [1, 2]}
    assert os.listdir(path.parent) == ["metrics.json"]


def test_save_metrics_creates_no_folder(tmp_path):
    path = tmp_path / "deep" / "metrics.json"
    with pytest.raises(ValueError, match="a file in an existing folder, but the folder"):
        experiment.save_metrics(path, {"status": "ok"})
    assert os.listdir(tmp_path) == []  # a typo in a folder name makes no folder
    with pytest.raises(ValueError, match="a regular file, but this is a folder"):
        experiment.save_metrics(tmp_path, {"status": "ok"})
    with pytest.raises(ValueError, match="path='' is not allowed"):
        experiment.save_metrics("", {"status": "ok"})


def test_save_metrics_writes_standard_json_without_nan(tmp_path):
    path = tmp_path / "metrics.json"
    experiment.save_metrics(
        path,
        {"final_loss": math.nan, "epoch_loss": [1.0, math.inf], "nested": {"x": (-math.inf, 2)}},
    )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {
        "final_loss": None,
        "epoch_loss": [1.0, None],
        "nested": {"x": [None, 2]},
    }


def test_save_metrics_that_fails_leaves_no_file(tmp_path):
    path = tmp_path / "metrics.json"
    with pytest.raises(TypeError):
        experiment.save_metrics(str(path), {"not json": object()})
    assert os.listdir(tmp_path) == []


def test_save_metrics_replaces_an_old_result_only_when_complete(tmp_path):
    path = tmp_path / "metrics.json"
    experiment.save_metrics(str(path), {"status": "old"})
    with pytest.raises(TypeError):
        experiment.save_metrics(str(path), {"status": "new", "bad": object()})
    assert json.loads(path.read_text()) == {"status": "old"}


def test_save_metrics_gives_the_file_the_umask_mode_not_0600(tmp_path):
    # atomic_write goes through a NamedTemporaryFile (0600); the result must not stay private.
    old = os.umask(0o022)
    try:
        experiment.save_metrics(tmp_path / "r.json", {"status": "ok"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644
