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
from lab3.functional import activation_names
from lab3.mlp import MultiLayerPerceptron, validate_init, validate_sizes
from lab3.tasks import CLASSIFICATION, TASKS, split_indices, validate_task
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
# it writes its metrics; and the task (lab3.make_task's knobs: "linear" is the lab's map, rotated
# by `angle`; the others ignore `angle`).
LESSON_EXTRAS = {"hidden_sizes": [3], "angle": 90.0, "demos": True, "results_path": ""}
TASK_EXTRAS = {
    "task": "linear",
    "activation": "relu",
    "init": "lab",  # the model's initial weights: "lab" (U[0, 0.1)) or "he" (N(0, 2 / fan_in))
    "noise": 0.0,
    "test_fraction": 0.0,
}
# Every knob of a training notebook's `parameters` cell, with the lab's defaults.
DEFAULTS = {**asdict(LESSON_RUN), **LESSON_EXTRAS, **TASK_EXTRAS}
# Issue 22's knobs: a run lists them (its printout, its metrics' "parameters") only when they differ
# from the lab's, so the lab's runs and sweeps read exactly as before they existed.
QUIET_AT_DEFAULT = ("loss", *TASK_EXTRAS)
MIN_SAMPLES = 3  # the effective matrix of 2-D points is a least-squares fit of 3 unknowns


class Parameters(Mapping):
    """A notebook's parameters after ``validate_parameters``: read-only, with their ``settings``.

    It reads like the dict it was made from (``params["epochs"]``, ``{**params, "epochs": 5}``
    gives a plain dict again, which ``run`` then checks). ``settings`` is the checked
    ``lab3.training.settings.TrainingSettings`` that ``run`` trains with. The knobs of
    ``QUIET_AT_DEFAULT`` can always be read (``params["task"]``) but are listed (iteration,
    ``len``, ``repr``) only when they differ from ``DEFAULTS``.
    """

    def __init__(self, values, settings):
        self._values, self.settings = dict(values), settings
        self._shown = {
            k: v
            for k, v in self._values.items()
            if k not in QUIET_AT_DEFAULT or v != DEFAULTS[k] or type(v) is not type(DEFAULTS[k])
        }

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._shown)

    def __len__(self):
        return len(self._shown)

    def __repr__(self):
        return repr(self._shown)


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
    test_inputs: torch.Tensor = None  # (2, n_test), n_test may be 0
    test_targets: torch.Tensor = None  # (k, n_test)


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
    require(isinstance(p["task"], str) and p["task"] in TASKS, "task", p["task"], f"one of {TASKS}")
    validate_task(p["task"], n, p["noise"], p["test_fraction"], p["seed"])
    n_train = n - round(p["test_fraction"] * n)  # the training set's size after the split
    require(
        n_train >= MIN_SAMPLES,
        "test_fraction",
        p["test_fraction"],
        f"a split that leaves at least {MIN_SAMPLES} training samples of n_samples={n}",
    )
    require(
        settings.batch_size <= n_train,
        "batch_size",
        p["batch_size"],
        f"an integer from 1 to the number of training samples ({n_train} after the test split)",
    )
    settings = settings.replace(n_samples=n_train)  # fewer steps than checked: still in range
    require(
        isinstance(p["demos"], bool),
        "demos",
        p["demos"],
        "True (the lesson's comparisons and figures) or False (train and save metrics only)",
    )
    validate_sizes(2, p["hidden_sizes"], 2)
    require(is_finite_number(p["angle"]), "angle", p["angle"], "a finite number of degrees")
    _validate_task_knobs(p, settings)
    require(
        isinstance(p["results_path"], str),
        "results_path",
        p["results_path"],
        'a file path as a string ("" to write nothing)',
    )
    if p["results_path"]:
        require_writable_file("results_path", p["results_path"])
    return Parameters({**p, "hidden_sizes": list(p["hidden_sizes"])}, settings)


def _validate_task_knobs(p, settings):
    """The activation and the pairings: cross-entropy needs a classification task; the lesson's
    demos show the linear map only. (The task's own knobs were checked with the settings.)"""
    activation_names(p["activation"], len(p["hidden_sizes"]))
    validate_init(p["init"], 1.0)
    require(
        settings.loss == "mse" or p["task"] in CLASSIFICATION,
        "loss",
        settings.loss,
        f'"mse" for the regression task {p["task"]!r} '
        f"(cross_entropy needs one of {CLASSIFICATION})",
    )
    require(
        p["task"] == "linear" or not p["demos"],
        "demos",
        p["demos"],
        f"False for task={p['task']!r} "
        "(the lesson's comparisons and figures are of the linear map)",
    )


def _data(p):
    """``(inputs, targets, test_inputs, test_targets, true_matrix)`` of a run's task.

    ``"linear"`` is the lab's data rotated by ``angle`` (byte-identical with no test set); the
    other tasks are ``lab3.make_task``'s (``true_matrix`` is then the identity, unused).
    """
    from lab3.tasks import make_task

    true_matrix = rotation_matrix(p["angle"])
    n, seed = p["n_samples"], p["seed"]
    if p["task"] != "linear":
        task = make_task(p["task"], n, p["noise"], p["test_fraction"], seed)
        data = (task.train_inputs, task.train_targets, task.test_inputs, task.test_targets)
        return (*data, true_matrix)
    inputs, targets = create_linear_training_data(n, true_matrix, noise=p["noise"], seed=seed)
    train, test = split_indices(n, p["test_fraction"], seed)
    if len(test) == 0:
        return inputs, targets, inputs[:, :0], targets[:, :0], true_matrix
    return (
        inputs[:, train].contiguous(),
        targets[:, train].contiguous(),
        inputs[:, test].contiguous(),
        targets[:, test].contiguous(),
        true_matrix,
    )


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
    inputs, targets, test_inputs, test_targets, true_matrix = _data(p)
    model = MultiLayerPerceptron(
        2, p["hidden_sizes"], 2, p["activation"], seed=p["seed"], init=p["init"]
    )
    initial_model = model.copy()
    test = (test_inputs, test_targets) if test_inputs.shape[1] > 0 else None
    history = train_validated(model, inputs, targets, settings, test=test)
    return Run(
        p, model, initial_model, inputs, targets, true_matrix, history, test_inputs, test_targets
    )


def metrics(result):
    """The JSON-ready summary of a ``Run``: its parameters and what training achieved.

    ``final_loss`` is the mse on the whole training set after the last epoch; ``matrix_error`` is
    the Frobenius norm of (effective matrix - true matrix). A run with a test set adds
    ``test_loss`` (after the last epoch) and ``epoch_test_loss``; a cross-entropy run adds
    ``final_accuracy`` and ``test_accuracy`` (fractions classified right).
    """
    learned = result.model.effective_matrix(result.inputs)
    h = result.history
    extra = {}
    if h.test_loss:
        extra.update(test_loss=h.test_loss[-1], epoch_test_loss=h.test_loss)
    if h.epoch_accuracy:
        extra["final_accuracy"] = h.epoch_accuracy[-1]
    if h.test_accuracy:
        extra["test_accuracy"] = h.test_accuracy[-1]
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
        **extra,
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
