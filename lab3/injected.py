"""Refusing a papermill parameter that the notebook does not have.

``papermill -p learnig_rate 0.5`` only logs a warning: it injects ``learnig_rate = 0.5`` in a
cell after the ``parameters`` cell and the run silently trains with the default learning rate.
A notebook's check cell can call ``refuse_unknown_parameters(known)``: it reads the injected
cell (papermill's, which starts with ``# Parameters``) from IPython's input history and raises
``ValueError`` for any name not in ``known``. Outside papermill it does nothing.
"""

import ast
import difflib

from lab3.checks import require

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
            return [target.id for node in tree.body if isinstance(node, ast.Assign)
                    for target in node.targets if isinstance(target, ast.Name)]
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
            require(False, "parameter", name, f"one of {known}{hint}; papermill passed it with "
                    "-p but the notebook has no such parameter")
