"""lab3: the small, tested functions behind the lessons in ``notebooks/``.

The core (data, functional, backprop, mlp, training) imports nothing of Jupyter, so the same code
runs in a notebook, a test or a script. ``lab3.train`` is the training *function*, defined in
``lab3.training.loop``; ``History`` and ``DivergedError`` are in ``lab3.training.history``.
``lab3.make_task`` makes the lab's data or a nonlinear task with a train/test split.

The names are imported lazily (PEP 562): ``import lab3`` costs nothing, and a module that needs
neither torch nor matplotlib (the sweep runner, the handouts builder) never loads them.
``lab3.<name>`` imports its module on first use.
"""

import importlib

# public name -> the module that defines it
_EXPORTS = {
    "DivergedError": "lab3.training.history",
    "History": "lab3.training.history",
    "MultiLayerPerceptron": "lab3.mlp",
    "Task": "lab3.tasks",
    "TASKS": "lab3.tasks",
    "accuracy": "lab3.functional",
    "cross_entropy": "lab3.functional",
    "create_linear_training_data": "lab3.data",
    "find_learning_rate": "lab3.training.lr_finder",
    "gradients": "lab3.backprop",
    "l2_reg": "lab3.functional",
    "layer_statistics": "lab3.training.statistics",
    "make_reproducible": "lab3.reproducible",
    "make_task": "lab3.tasks",
    "mse": "lab3.functional",
    "relu": "lab3.functional",
    "rotation_matrix": "lab3.data",
    "sharpness": "lab3.curvature",
    "sigmoid": "lab3.functional",
    "softmax": "lab3.functional",
    "stability_limit": "lab3.curvature",
    "tanh": "lab3.functional",
    "train": "lab3.training.loop",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # the next lookup finds it without calling __getattr__
        return value
    raise AttributeError(f"module 'lab3' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])
