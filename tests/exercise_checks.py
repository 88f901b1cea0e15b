"""What the lessons' check tests share: the untouched stub, the slips, the hints they reveal.

A lesson's test file lists ``CHECKS = {check_name: (right_answer, [typical slips])}``; these
helpers run ``lab3.exercises.<check_name>`` on them.
"""

import ast
from pathlib import Path

import nbformat
import pytest

from lab3 import exercises
from lab3.exercises import CheckFailed


def not_done(*args):
    """A stub as the student gets it."""
    raise NotImplementedError


def slips(checks):
    """``[(check_name, slip), ...]`` of every check's typical slips, for ``parametrize``."""
    return [(check, wrong) for check, (_, wrongs) in sorted(checks.items()) for wrong in wrongs]


def failure_messages(check, wrong, tries=3):
    """The messages of ``tries`` failed attempts in a row, ``wrong`` first, then other wrong
    answers (the tier widens only when the answer changes): each reveals one more hint tier."""
    messages = []
    for attempt in [wrong] + [raising(f"attempt {k}") for k in range(2, tries + 1)]:
        with pytest.raises(CheckFailed) as error:
            getattr(exercises, check)(attempt)
        messages.append(str(error.value))
    return messages


def raising(message):
    """A wrong answer that raises ``ValueError(message)``: a different one for each message."""

    def wrong(*args):
        raise ValueError(message)

    return wrong


def assert_stub_is_not_done(check):
    with pytest.raises(CheckFailed, match=r"is not done yet: fill in the cell above"):
        getattr(exercises, check)(not_done)


def assert_right_answer_passes(check, right, capsys, start="correct: "):
    getattr(exercises, check)(right)
    assert capsys.readouterr().out.startswith(start)


def assert_hints_widen(messages, formula):
    """The first failure gives the vague tier only (no ``formula``), the second the next tier."""
    assert "hint 1 of 3" in messages[0] and formula not in messages[0].split("Hint")[-1]
    assert "hint 2 of 3" in messages[1]


# ----------------------------------------------------------------------------------------------
# The lessons' own solutions, for the tests that run every check on them
# ----------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
PRELUDE = "import math\nimport numpy as np\nimport torch\nimport lab3\n"


def solution_cells():
    """``[(lesson stem, solution source, check source)]`` of every exercise in ``notebooks/``."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        mine = []  # each solution with the check cell after it ("" for one without a check:
        # lesson 3's pasted my_gradients, which a choosing cell checks instead)
        for cell in nbformat.read(path, as_version=4).cells:
            tags = cell.metadata.get("tags", [])
            if "solution" in tags:
                mine.append([path.stem, cell.source, ""])
            elif "check" in tags and mine and not mine[-1][2]:
                mine[-1][2] = cell.source
        found += [tuple(entry) for entry in mine]
    return found


def lesson_solutions(stem):
    """The namespace of lesson ``stem``'s solution cells, run in order after the usual imports
    (as in the notebook: a later solution may call an earlier one)."""
    namespace = {"__name__": "__main__"}
    exec(compile(PRELUDE, f"<{stem} prelude>", "exec"), namespace)
    for lesson, solution, _ in solution_cells():
        if lesson == stem:
            exec(compile(solution, f"<{stem} solution>", "exec"), namespace)
    if "my_gradients" in namespace:  # lesson 3's gradients: the pasted my_gradients, which passes
        namespace["gradients"] = namespace["my_gradients"]
    return namespace


def checked_functions():
    """``[(check name, lesson stem, function name)]``: every check cell's call, as written."""
    calls = []
    for lesson, _, check in solution_cells():
        for node in ast.walk(ast.parse(check)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "").startswith("check_"):
                calls.append((node.func.attr, lesson, node.args[0].id))
    return calls
