"""lab3.experiment: the parameter check, a run's metrics and their atomic JSON file."""

import json
import os

import pytest
import torch

import lab3
from lab3 import experiment


def test_defaults_are_the_labs_batched_run():
    p = experiment.check_parameters()
    assert p == {**experiment.DEFAULTS, "hidden_sizes": [3]}
    assert (p["learning_rate"], p["reg"], p["epochs"], p["batch_size"], p["n_samples"]) == (0.1, 0.001, 100, 100, 1000)


@pytest.mark.parametrize("override, message", [
    ({"batch_size": 0}, "batch_size=0 is not allowed"),
    ({"batch_size": 5000}, "batch_size=5000 is not allowed: an integer from 1 to the number of samples (1000)"),
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
])
def test_bad_parameters_name_the_parameter_value_and_what_is_allowed(override, message):
    with pytest.raises(ValueError) as error:
        experiment.check_parameters(**override)
    assert message in str(error.value)


def test_run_and_metrics():
    result = experiment.run({"epochs": 30, "batch_size": 10})
    values = experiment.metrics(result)
    assert values["status"] == "ok"
    assert values["steps"] == 30 * 100 == result.history.steps
    assert values["final_loss"] == result.history.epoch_loss[-1] < 1e-3
    assert values["matrix_error"] < 0.05
    assert values["true_matrix"] == lab3.rotation_matrix(90).tolist()
    learned = torch.tensor(values["effective_matrix"])
    assert values["matrix_error"] == pytest.approx(torch.linalg.matrix_norm(learned - lab3.rotation_matrix(90)).item(), rel=1e-6)
    assert values["parameters"]["batch_size"] == 10 and "results_path" not in values["parameters"]
    assert len(values["epoch_loss"]) == 30
    json.dumps(values)  # JSON-ready
    # the run started from the model's initial weights, which the Run keeps
    assert not torch.equal(result.initial_model.weights[0], result.model.weights[0])
    assert torch.equal(result.initial_model.weights[0], lab3.MultiLayerPerceptron(seed=0).weights[0])


def test_engine_override_gives_the_same_run():
    manual = experiment.run({"epochs": 2, "batch_size": 50})
    autograd = experiment.run({"epochs": 2, "batch_size": 50}, engine="autograd")
    assert autograd.history.engine == "autograd"
    for a, m in zip(autograd.model.parameters(), manual.model.parameters()):
        torch.testing.assert_close(a, m, atol=1e-5, rtol=0)


def test_save_metrics_writes_whole_json(tmp_path):
    path = tmp_path / "deep" / "metrics.json"
    experiment.save_metrics(str(path), {"status": "ok", "x": [1, 2]})
    assert json.loads(path.read_text()) == {"status": "ok", "x": [1, 2]}
    assert os.listdir(path.parent) == ["metrics.json"]


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
