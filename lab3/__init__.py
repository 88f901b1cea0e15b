"""lab3: the small, tested functions behind the lessons in ``notebooks/``.

The core (data, functional, backprop, mlp, train) imports nothing of Jupyter, so the same code
runs in a notebook, a test or a script. ``lab3.train`` is the training *function*; its module's
other names (``History``, ``DivergedError``) are exported here too.
"""

from lab3.backprop import gradients
from lab3.data import create_linear_training_data, rotation_matrix
from lab3.functional import l2_reg, mse, relu, softmax
from lab3.mlp import MultiLayerPerceptron
from lab3.reproducible import make_reproducible
from lab3.train import DivergedError, History, train

__all__ = [
    "DivergedError",
    "History",
    "MultiLayerPerceptron",
    "create_linear_training_data",
    "gradients",
    "l2_reg",
    "make_reproducible",
    "mse",
    "relu",
    "rotation_matrix",
    "softmax",
    "train",
]
