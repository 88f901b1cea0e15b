"""Answers that cheat the visible checks: each returns, for the visible cases only, the values
the lesson's solution gives there (written into the source as literals), and nothing right for
any other input. nbgrader's hidden tests must score them 0 (tests/test_nbgrader.py)."""

import copy

import numpy as np
from exercise_checks import lesson_solutions

from lab3 import exercises

# function name -> (its check, the positions of the arguments that tell the visible cases apart)
KEYS = {
    "minibatch_sgd": ("check_minibatch_sgd", (4, 5)),  # epochs, batch size
    "lr_finder": ("check_lr_finder", (6, 7)),  # steps, batch size
}


def as_literal(value):
    """``value`` (arrays, lists, tuples of them) as Python source that rebuilds it exactly."""
    if isinstance(value, (list, tuple)):
        items = ", ".join(as_literal(v) for v in value)
        return f"[{items}]" if isinstance(value, list) else f"({items},)"
    return f"np.array({np.asarray(value).tolist()!r})"


def hard_coded_source(lesson, name):
    """The source of ``name`` answering the visible cases of its check from a table."""
    check, positions = KEYS[name]
    solution = lesson_solutions(lesson)[name]
    table = {}

    def recording(*args):
        got = solution(*args)
        table[tuple(args[i] for i in positions)] = copy.deepcopy(got)
        return got

    getattr(exercises, check)(recording)  # the solution on the visible cases, recorded
    rows = ",\n".join(f"    {k!r}: {as_literal(v)}" for k, v in table.items())
    return (
        f"import numpy as np\n\n_VISIBLE = {{\n{rows},\n}}\n\n\n"
        f"def {name}(*args):\n"
        f"    return _VISIBLE[tuple(args[i] for i in {positions!r})]\n"
    )
