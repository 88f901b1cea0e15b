"""Sweeps and papermill know issue 22's knobs: task, activation, noise, test_fraction, loss.

sweeps/tasks.yaml validates run by run against lesson 04's parameters cell; a bad value of each
new knob is refused naming it, before any kernel starts; a run of a classification task records
its test loss and accuracies (trained in-process here, as the sweep's kernels would)."""

import json
from pathlib import Path

import pytest
from sweep_records import write_sweep_records
from test_sweep import LESSON, ROOT, write_sweep

from lab3 import experiment
from lab3.sweep import SweepError, load_sweep, validate
from lab3.sweep.validate import notebook_parameters

NEW_KNOBS = {"task": "linear", "activation": "relu", "init": "lab", "loss": "mse", "noise": 0.0}


def test_the_training_notebooks_have_the_new_knobs_with_the_labs_defaults():
    for notebook in ("03_single_sample_sgd.ipynb", "04_batched_sgd.ipynb"):
        known = notebook_parameters(ROOT / "notebooks" / notebook)
        assert set(known) == set(experiment.DEFAULTS), notebook
        for name, value in {**NEW_KNOBS, "test_fraction": 0.0}.items():
            assert known[name][2] == value == experiment.DEFAULTS[name]


def test_the_tasks_sweep_validates_every_run():
    sweep = validate(load_sweep(ROOT / "sweeps" / "tasks.yaml"))
    points = list(sweep.points())
    assert len(points) == 8
    assert {p["task"] for p in points} == {"circle", "xor"}
    assert {p["activation"] for p in points} == {"relu", "tanh"}


@pytest.mark.parametrize(
    "grid, name",
    [
        ({"task": ["circle", "moons"]}, "task"),
        ({"activation": ["relu", "gelu"]}, "activation"),
        ({"init": ["lab", "xavier"]}, "init"),
        ({"noise": [0.0, -0.5]}, "noise"),
        ({"test_fraction": [0.2, 0.95]}, "test_fraction"),
        ({"loss": ["mse", "hinge"]}, "loss"),
        ({"task": ["linear", "swirl"]}, "loss"),  # cross_entropy on a regression task
    ],
)
def test_a_bad_value_of_each_new_knob_is_refused_naming_it(tmp_path, grid, name):
    fixed = {"demos": False, "loss": "cross_entropy", "task": "circle"}
    fixed = {k: v for k, v in fixed.items() if k not in grid}
    if name == "loss" and "task" in grid:
        fixed["loss"] = "cross_entropy"
    with pytest.raises(SweepError) as error:
        validate(load_sweep(write_sweep(tmp_path, grid, fixed, notebook=LESSON)))
    assert f"{name}=" in str(error.value), str(error.value)


def test_a_wrong_type_of_a_new_knob_is_refused_naming_it(tmp_path):
    with pytest.raises(SweepError, match="test_fraction"):
        validate(load_sweep(write_sweep(tmp_path, {"test_fraction": ["half"]}, notebook=LESSON)))


def test_a_classification_run_records_test_loss_and_accuracy(tmp_path):
    folder = write_sweep_records(
        tmp_path,
        "tasks",
        {"hidden_sizes": [[], [8]]},
        {
            "task": "xor",
            "loss": "cross_entropy",
            "activation": "tanh",
            "init": "he",
            "test_fraction": 0.5,
            "n_samples": 400,
            "epochs": 100,
            "batch_size": 20,
            "learning_rate": 0.5,
        },
        notebook=LESSON,
    )
    lines = (Path(folder) / "results.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    by_hidden = {tuple(r["parameters"]["hidden_sizes"]): r for r in records}
    for record in records:
        for key in ("test_loss", "final_accuracy", "test_accuracy", "epoch_test_loss"):
            assert key in record, record.keys()
        assert len(record["epoch_test_loss"]) == 100
    mlp, affine = by_hidden[(8,)]["test_accuracy"], by_hidden[()]["test_accuracy"]
    assert mlp >= 0.85 and affine <= mlp - 0.2, (mlp, affine)


def test_the_labs_run_records_no_test_numbers():
    result = experiment.run(experiment.validate_parameters(demos=False, epochs=2))
    metrics = experiment.metrics(result)
    assert not {"test_loss", "final_accuracy", "test_accuracy"} & set(metrics)
    assert result.inputs.shape == (2, 1000)


def test_the_report_table_shows_test_loss_and_accuracy_only_when_runs_have_them(tmp_path):
    from lab3.sweep import figures, load_records

    task = {"task": "circle", "loss": "cross_entropy", "init": "he", "test_fraction": 0.5}
    task |= {"n_samples": 200, "epochs": 5, "batch_size": 20}
    folder = write_sweep_records(tmp_path, "t", {"hidden_sizes": [[], [4]]}, task, notebook=LESSON)
    records = load_records(folder)
    text = figures.table(records, figures.varying(records))
    heading = text.splitlines()[0].split()
    assert heading[:4] == ["hidden_sizes", "steps", "final", "loss"]
    assert "test" in heading and "acc" in heading
    assert all(format(r["test_accuracy"], ".3f") in text for r in records)
    fixed = {"n_samples": 50, "batch_size": 10}
    lab = write_sweep_records(tmp_path, "lab", {"epochs": [1, 2]}, fixed, LESSON)
    plain = figures.table(load_records(lab), ["epochs"]).splitlines()[0].split()
    assert plain == ["epochs", "steps", "final", "mse", "matrix", "error", "learned"]


def test_a_classification_run_learned_by_its_accuracy_and_shows_no_matrix_error(tmp_path):
    from lab3.sweep import figures, load_records
    from lab3.sweep.records import LEARNED_ACCURACY, OK, RunRecord

    task = {"task": "circle", "loss": "cross_entropy", "init": "he", "test_fraction": 0.5}
    task |= {"n_samples": 200, "epochs": 5, "batch_size": 20}
    folder = write_sweep_records(tmp_path, "t", {"hidden_sizes": [[], [4]]}, task, notebook=LESSON)
    records = load_records(folder)
    for r in records:
        assert r["learned"] is (r["test_accuracy"] >= LEARNED_ACCURACY)
    heading = figures.table(records, figures.varying(records)).splitlines()[0]
    assert "matrix" not in heading  # the matrix error compares with the linear map only
    assert "learned their task" in figures.status_line(records)

    def record(metrics, **parameters):
        return RunRecord("r", parameters, OK, "out", metrics=metrics)

    assert record({"test_accuracy": 0.96, "matrix_error": 5.0}, task="xor").learned is True
    assert record({"final_accuracy": 0.9, "matrix_error": 0.0}, task="xor").learned is False
    assert record({"matrix_error": 0.01}, task="swirl").learned is None  # no matrix to compare
    assert record({"matrix_error": 0.01}).learned is True  # the lab's map, task at its default


def test_a_run_with_a_knob_at_its_default_is_reused_though_its_metrics_do_not_list_it(tmp_path):
    """A run lists issue 22's knobs only off the lab's defaults (experiment.QUIET_AT_DEFAULT): a
    sweep that sets activation=relu must still find its finished runs (the second run-all)."""
    from lab3.sweep.plan import PlannedRun, belongs

    defaults = {"activation": "relu", "task": "linear", "epochs": 100}
    recorded = {"parameters": {"task": "xor", "epochs": 5}, "status": "ok"}

    def plan(**parameters):
        return PlannedRun("r", parameters, defaults, tmp_path)

    assert belongs(plan(task="xor", activation="relu", epochs=5), recorded)
    assert not belongs(plan(task="xor", activation="tanh", epochs=5), recorded)
    assert not belongs(plan(task="circle", activation="relu", epochs=5), recorded)
