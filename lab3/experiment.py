"""One training run, as the training lessons and the sweep do it: parameters in, metrics out.

A notebook's ``parameters`` cell holds the knobs (papermill overrides them); ``validate_parameters``
refuses a bad one before anything runs (and ``refuse_unknown_parameters`` a name papermill
passed that the notebook does not have); ``run`` makes the data and the model and trains;
``metrics`` summarises the run; ``save_metrics`` writes it, atomically, so that a run killed
half-way never leaves a file that looks like a result.
"""

import ast
import difflib
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch

from lab3.data import create_linear_training_data, rotation_matrix
from lab3.files import require_writable_file, write_json
from lab3.mlp import MultiLayerPerceptron, validate_sizes
from lab3.training.loop import History, train_validated
from lab3.training.settings import (
    TRAINING_FIELDS,
    TrainingSettings,
    validate_engine,
    validate_settings,
)
from lab3.validation import is_finite_number, is_int, require

# A training lesson's run: the lab's mini-batch run (lesson 04), on the fast engine.
LESSON_RUN = TrainingSettings(epochs=100, batch_size=100, engine="manual")
# What a lesson adds to the training settings: the network, the target map, what it shows, where
# it writes its metrics.
LESSON_EXTRAS = {"hidden_sizes": [3], "angle": 90.0, "demos": True, "results_path": ""}
# Every knob of a training notebook's `parameters` cell, with the lab's defaults.
DEFAULTS = {**asdict(LESSON_RUN), **LESSON_EXTRAS}
MIN_SAMPLES = 3  # the effective matrix of 2-D points is a least-squares fit of 3 unknowns


class Parameters(Mapping):
    """A notebook's parameters after ``validate_parameters``: read-only, with their ``settings``.

    It reads like the dict it was made from (``params["epochs"]``, ``{**params, "epochs": 5}``
    gives a plain dict again, which ``run`` then checks). ``settings`` is the checked
    ``lab3.training.settings.TrainingSettings`` that ``run`` trains with.
    """

    def __init__(self, values, settings):
        self._values, self.settings = dict(values), settings

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return repr(self._values)


@dataclass
class Run:
    """A finished run: the trained model, the model it started from, the data and the history."""

    parameters: Parameters
    model: MultiLayerPerceptron
    initial_model: MultiLayerPerceptron
    inputs: torch.Tensor  # (2, n)
    targets: torch.Tensor  # (2, n)
    true_matrix: torch.Tensor  # (2, 2)
    history: History


def validate_parameters(**parameters):
    """The checked ``Parameters`` (``DEFAULTS`` filled in), or a ``ValueError`` naming the bad one.

    Everything a run needs is checked here, once, before anything is allocated: the training
    settings (with the size limits of ``lab3.validation``), the network's sizes, ``n_samples >= 3``
    (fewer cannot be read as a matrix), and ``results_path`` ("" or a file that ``save_metrics``
    can write: a regular file or none yet, in an existing, writable folder; never a folder, a
    device or a FIFO), so a wrong path fails before training instead of after it.
    """
    unknown = sorted(set(parameters) - set(DEFAULTS))
    require(not unknown, "parameter", unknown[0] if unknown else None, f"one of {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **parameters}
    n = p["n_samples"]
    require(
        is_int(n) and n >= MIN_SAMPLES,
        "n_samples",
        n,
        f"an integer >= {MIN_SAMPLES} (the learned matrix is a least-squares fit on the data)",
    )
    settings = validate_settings(TrainingSettings(**{name: p[name] for name in TRAINING_FIELDS}))
    require(
        isinstance(p["demos"], bool),
        "demos",
        p["demos"],
        "True (the lesson's comparisons and figures) or False (train and save metrics only)",
    )
    validate_sizes(2, p["hidden_sizes"], 2)
    require(is_finite_number(p["angle"]), "angle", p["angle"], "a finite number of degrees")
    require(
        isinstance(p["results_path"], str),
        "results_path",
        p["results_path"],
        'a file path as a string ("" to write nothing)',
    )
    if p["results_path"]:
        require_writable_file("results_path", p["results_path"])
    return Parameters({**p, "hidden_sizes": list(p["hidden_sizes"])}, settings)


def run(parameters, engine=None):
    """Make the data and a fresh model from ``parameters``, train, return a ``Run``.

    ``parameters``: what ``validate_parameters`` returned (used as it is), or a plain dict (checked
    first). ``engine`` overrides ``parameters["engine"]`` (a lesson trains the same run with both).
    """
    if not isinstance(parameters, Parameters):
        parameters = validate_parameters(**parameters)
    p, settings = parameters, parameters.settings
    if engine is not None:
        settings = settings.replace(engine=validate_engine(engine))
    true_matrix = rotation_matrix(p["angle"])
    inputs, targets = create_linear_training_data(p["n_samples"], true_matrix, seed=p["seed"])
    model = MultiLayerPerceptron(2, p["hidden_sizes"], 2, seed=p["seed"])
    initial_model = model.copy()
    history = train_validated(model, inputs, targets, settings)
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

    ``path`` must be a regular file or not exist yet, in an existing, writable folder
    (``lab3.files.require_writable_file``). The file is standard JSON: a NaN
    or infinite number (a diverged loss) is written as ``null``. A run killed mid-write leaves at
    most a stray ``*.tmp`` file, never a truncated ``path`` (``lab3.files.atomic_write``).
    """
    require(
        isinstance(path, (str, os.PathLike)) and str(path) != "",
        "path",
        path,
        "a file path (str or pathlib.Path)",
    )
    require_writable_file("path", path)
    write_json(path, values)


# ----------------------------------------------------------------------------------------------
# A parameter papermill passed that the notebook does not have
# ----------------------------------------------------------------------------------------------
#
# ``papermill -p learnig_rate 0.5`` only logs a warning: it injects ``learnig_rate = 0.5`` in a
# cell after the ``parameters`` cell, and the run silently trains with the default learning rate.
# A notebook's check cell calls ``refuse_unknown_parameters(known)``: it reads the injected cell
# (papermill's, which starts with ``# Parameters``) from IPython's input history. Outside
# papermill it does nothing.

INJECTED_HEADER = "# Parameters"


def injected_names(history=None):
    """The names assigned by the last papermill-injected cell in ``history`` (default: the
    running IPython's input history, ``In``), in order; [] when there is none."""
    if history is None:
        try:
            history = get_ipython().user_ns.get("In", [])  # noqa: F821 - defined in IPython
        except NameError:
            return []
    for source in reversed(list(history)):
        if isinstance(source, str) and source.lstrip().startswith(INJECTED_HEADER):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [
                target.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Name)
            ]
    return []


def refuse_unknown_parameters(known, history=None):
    """Raise ``ValueError`` naming the first injected parameter not in ``known``.

    ``known``: the notebook's parameter names (e.g. ``lab3.experiment.DEFAULTS``). The message
    reads ``parameter='learnig_rate' is not allowed: one of [...] (did you mean
    'learning_rate'?)``, like ``lab3.experiment.validate_parameters``.
    """
    known = sorted(known)
    for name in injected_names(history):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            require(
                False,
                "parameter",
                name,
                f"one of {known}{hint}; papermill passed it with "
                "-p but the notebook has no such parameter",
            )
