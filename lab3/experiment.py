"""One training run, as the training lessons and the sweep do it: parameters in, metrics out.

A notebook's ``parameters`` cell holds the knobs (papermill overrides them); ``check_parameters``
refuses a bad one before anything runs; ``run`` makes the data and the model and trains;
``metrics`` summarises the run; ``save_metrics`` writes it, atomically, so that a run killed
half-way never leaves a file that looks like a result.
"""

from dataclasses import dataclass

import torch

from lab3.checks import is_count, is_finite_number, require
from lab3.data import create_linear_training_data, rotation_matrix
from lab3.files import write_json
from lab3.mlp import MultiLayerPerceptron, check_sizes
from lab3.training import History, check_settings, train

# Every knob of a training notebook's `parameters` cell, with the lab's defaults.
DEFAULTS = {
    "learning_rate": 0.1,
    "epochs": 100,
    "batch_size": 100,
    "hidden_sizes": [3],
    "reg": 0.001,
    "seed": 0,
    "n_samples": 1000,
    "angle": 90.0,
    "engine": "manual",
    "shuffle": False,
    "demos": True,
    "results_path": "",
}


@dataclass
class Run:
    """A finished run: the trained model, the model it started from, the data and the history."""

    parameters: dict
    model: MultiLayerPerceptron
    initial_model: MultiLayerPerceptron
    inputs: torch.Tensor  # (2, n)
    targets: torch.Tensor  # (2, n)
    true_matrix: torch.Tensor  # (2, 2)
    history: History


def check_parameters(**parameters):
    """Return the parameters (``DEFAULTS`` filled in) or raise ``ValueError`` naming the bad one."""
    unknown = sorted(set(parameters) - set(DEFAULTS))
    require(not unknown, "parameter", unknown[0] if unknown else None, f"one of {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **parameters}
    require(is_count(p["n_samples"]), "n_samples", p["n_samples"], "an integer >= 1")
    check_settings(p["n_samples"], p["epochs"], p["batch_size"], p["learning_rate"], p["reg"],
                   p["engine"], shuffle=p["shuffle"], seed=p["seed"])
    require(isinstance(p["demos"], bool), "demos", p["demos"],
            "True (the lesson's comparisons and figures) or False (train and save metrics only)")
    check_sizes(2, p["hidden_sizes"], 2)
    require(is_finite_number(p["angle"]), "angle", p["angle"], "a finite number of degrees")
    require(isinstance(p["results_path"], str), "results_path", p["results_path"],
            'a file path as a string ("" to write nothing)')
    return {**p, "hidden_sizes": list(p["hidden_sizes"])}


def run(parameters, engine=None):
    """Make the data and a fresh model from ``parameters`` (checked first), train, return a ``Run``.

    ``engine`` overrides ``parameters["engine"]`` (a lesson trains the same run with both).
    """
    p = check_parameters(**parameters)
    true_matrix = rotation_matrix(p["angle"])
    inputs, targets = create_linear_training_data(p["n_samples"], true_matrix, seed=p["seed"])
    model = MultiLayerPerceptron(2, p["hidden_sizes"], 2, seed=p["seed"])
    initial_model = model.copy()
    history = train(model, inputs, targets, epochs=p["epochs"], batch_size=p["batch_size"],
                    learning_rate=p["learning_rate"], reg=p["reg"], engine=engine or p["engine"],
                    shuffle=p["shuffle"], seed=p["seed"])
    return Run(p, model, initial_model, inputs, targets, true_matrix, history)


def metrics(result):
    """The JSON-ready summary of a ``Run``: its parameters and what training achieved.

    ``final_loss`` is the mse on the whole training set after the last epoch; ``matrix_error`` is
    the Frobenius norm of (effective matrix - true matrix).
    """
    learned = result.model.effective_matrix(result.inputs)
    return {
        "parameters": {k: v for k, v in result.parameters.items() if k != "results_path"},
        "status": "ok",
        "final_loss": result.history.epoch_loss[-1],
        "effective_matrix": learned.tolist(),
        "true_matrix": result.true_matrix.tolist(),
        "matrix_error": float(torch.linalg.matrix_norm(learned - result.true_matrix)),
        "train_seconds": result.history.train_seconds,
        "steps": result.history.steps,
        "epoch_loss": result.history.epoch_loss,
    }


def save_metrics(path, values):
    """Write ``values`` as JSON to ``path`` atomically: a reader sees the whole file or none.

    A run killed mid-write leaves at most a stray ``*.tmp`` file, never a truncated ``path``
    (``lab3.files.atomic_write``).
    """
    write_json(path, values)
