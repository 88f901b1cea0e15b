"""The training lessons through papermill: their parameters, their results file, their errors."""

import json
from pathlib import Path

import papermill
import pytest

from lab3 import experiment

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ["03_single_sample_sgd.ipynb", "04_batched_sgd.ipynb", "05_mlp_class.ipynb"]
BATCHED = ROOT / "notebooks" / "04_batched_sgd.ipynb"


def execute(tmp_path, **parameters):
    """Run the batched lesson with ``parameters`` in a lab3 kernel, without its demos.

    nbval runs every lesson whole with its defaults; here only the run and its results matter.
    """
    return papermill.execute_notebook(
        str(BATCHED),
        str(tmp_path / "out.ipynb"),
        parameters={"demos": False, **parameters},
        kernel_name="lab3",
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
    )


@pytest.mark.parametrize("name", TRAINING)
def test_every_knob_is_a_commented_parameter(name):
    found = papermill.inspect_notebook(str(ROOT / "notebooks" / name))
    # issue 22's knobs (task, activation, ...) are in lessons 03 and 04; lesson 05 may lack them
    # (its run then uses their defaults, the lab's)
    required = set(experiment.DEFAULTS) - set(experiment.QUIET_AT_DEFAULT)
    assert required <= set(found) <= set(experiment.DEFAULTS)
    if name != "05_mlp_class.ipynb":
        assert set(found) == set(experiment.DEFAULTS)
    for knob, info in found.items():
        assert info["help"], f"{name}: parameter {knob} has no trailing # comment"


@pytest.mark.slow  # each papermill test starts a kernel
def test_batched_run_writes_its_results(tmp_path):
    results = tmp_path / "r.json"
    execute(tmp_path, learning_rate=0.1, epochs=100, batch_size=100, results_path=str(results))
    values = json.loads(results.read_text())
    assert values["status"] == "ok"
    assert values["matrix_error"] < 0.05
    assert values["parameters"]["epochs"] == 100 and values["steps"] == 1000
    for key in ("final_loss", "effective_matrix", "train_seconds"):
        assert key in values


@pytest.mark.slow
def test_a_bad_parameter_stops_at_the_check_with_its_message(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as error:
        execute(tmp_path, batch_size=0, results_path=str(tmp_path / "r.json"))
    assert error.value.ename == "ValueError"
    assert (
        "batch_size=0 is not allowed: an integer from 1 to the number of samples (1000)"
        in error.value.evalue
    )
    assert error.value.source.startswith("params = experiment.validate_parameters(")  # check cell
    assert not (tmp_path / "r.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "parameters, ename, messages",
    [
        # papermill only warns about a name the notebook lacks: the check cell must refuse it
        (
            {"learnig_rate": 0.5},
            "ValueError",
            ["parameter='learnig_rate' is not allowed", "did you mean 'learning_rate'?"],
        ),
        (
            {"learning_rate": 10},
            "DivergedError",
            ["training diverged at epoch 1, step", "try a smaller learning_rate than 10"],
        ),
    ],
    ids=["mistyped-parameter", "diverging-run"],
)
def test_a_run_that_cannot_succeed_says_why_and_writes_nothing(
    tmp_path, parameters, ename, messages
):
    with pytest.raises(papermill.PapermillExecutionError) as error:
        execute(tmp_path, **parameters, results_path=str(tmp_path / "r.json"))
    assert error.value.ename == ename
    for message in messages:
        assert message in error.value.evalue
    assert not (tmp_path / "r.json").exists()
