"""Hints: a tier is earned by a changed answer, and no tier holds a line of a solution's code.

Also: every lesson's own solution passes its check, on the visible cases and on the grading
(hidden) ones, which show other shapes than the visible ones.
"""

import re

import pytest
from exercise_checks import checked_functions, lesson_solutions, raising, solution_cells

from lab3 import exercises
from lab3.exercises import CheckFailed
from lab3.exercises.hints import HINTS

CHECKS = sorted(name for name in exercises.__all__ if name.startswith("check_"))


def returns_none(*args):
    return None


@pytest.mark.parametrize("check", CHECKS)
def test_the_same_wrong_answer_again_never_raises_the_tier(check):
    for _ in range(4):  # "check, check, check, check" with no change in between
        with pytest.raises(CheckFailed) as error:
            getattr(exercises, check)(returns_none)
        assert re.search(r"hint 1 of \d", str(error.value)), str(error.value)
    with pytest.raises(CheckFailed, match=r"hint 2 of \d"):  # a changed answer: the next tier
        getattr(exercises, check)(raising("something else"))


def every_hint_tier():
    """``{exercise name: tiers}`` of every check, as the checks give them to a wrong answer."""
    HINTS.clear()
    for check in CHECKS:
        with pytest.raises(CheckFailed):
            getattr(exercises, check)(returns_none)
    return dict(HINTS)


def code_lines(source):
    """The code lines of a solution cell, comments and docstrings out, spaces removed (so that a
    line is found in a hint however the hint spaces it); ``def`` lines and one-word lines out."""
    lines, in_docstring = [], False
    for line in source.splitlines():
        text = line.split("#")[0].strip()
        if text.startswith(('"""', "'''")):
            one_line = text.count('"""') == 2 or text.count("'''") == 2
            in_docstring = not one_line and not in_docstring
            continue
        if in_docstring or not text or text.startswith("def "):
            continue
        squeezed = re.sub(r"\s+", "", text)
        if re.search(r"[=(@*+-]", squeezed) and len(squeezed) >= 8:
            lines.append(squeezed)
    return lines


def code_pieces(line):
    """The pieces of a squeezed code line between its ``=``, ``,``, ``;`` and ``:`` that look like
    code (a call, an attribute, an index) and are long enough to be a solution's own, e.g.
    ``train.mean(axis`` of ``mean,std=train.mean(axis=0),train.std(axis=0)``."""
    pieces = (piece.strip("()") for piece in re.split(r"[=,;:]", line))
    return [piece for piece in pieces if len(piece) >= 12 and re.search(r"[.(\[]", piece)]


def without_lab3_calls(squeezed_hint):
    """A hint may name the lab3 call an exercise builds on (``lab3.gradients(weights, ...)``):
    that is the API the student is told to use, not a line of the student's own."""
    return re.sub(r"lab3\.[\w.]+\([^)]*\)", "", squeezed_hint)


def test_the_scan_finds_a_solution_line_in_a_hint():
    # the scan itself: the old last tier of my_gradients held the solution's lines
    solution = [s for _, s, c in solution_cells() if "check_gradients" in c][0]
    old_tier = "delta = 2 * (y_hat - y) / y.size; for l from last to first: ..."
    assert any(line in re.sub(r"\s+", "", old_tier) for line in code_lines(solution))


def test_no_hint_tier_contains_a_line_of_any_solution():
    tiers = every_hint_tier()
    assert len(tiers) == len(CHECKS)
    lines = {line for _, solution, _ in solution_cells() for line in code_lines(solution)}
    assert len(lines) > 40  # the scan reads the solutions' code
    for name, hints in tiers.items():
        for number, tier in enumerate(hints, start=1):
            squeezed = re.sub(r"\s+", "", tier)
            found = [line for line in lines if line in squeezed]
            assert not found, f"{name}'s hint {number} holds a solution's code: {found}"


def test_the_scan_finds_a_piece_of_a_solution_line_in_a_hint():
    # the old last tier of my_normalise_split spelled the solution with "and" for its comma
    solution = [s for _, s, c in solution_cells() if "check_normalise_split" in c][0]
    old_tier = "mean = train.mean(axis=0), std = train.std(axis=0); return (train - mean) / std"
    pieces = [piece for line in code_lines(solution) for piece in code_pieces(line)]
    assert any(piece in re.sub(r"\s+", "", old_tier) for piece in pieces)
    # ...while naming lab3's own API is allowed
    assert without_lab3_calls("lab3.gradients(weights,biases,x,y,reg=reg)gives") == "gives"


def test_no_hint_tier_contains_a_piece_of_any_solution_line():
    tiers = every_hint_tier()
    pieces = {
        piece
        for _, solution, _ in solution_cells()
        for line in code_lines(solution)
        for piece in code_pieces(line)
    }
    assert len(pieces) > 40  # the scan reads the solutions' code
    for name, hints in tiers.items():
        for number, tier in enumerate(hints, start=1):
            squeezed = without_lab3_calls(re.sub(r"\s+", "", tier))
            found = sorted(piece for piece in pieces if piece in squeezed)
            assert not found, f"{name}'s hint {number} holds a piece of a solution: {found}"


@pytest.mark.parametrize("check, lesson, function", checked_functions())
def test_each_lessons_solution_passes_its_check_visible_and_hidden(check, lesson, function, capsys):
    candidate = lesson_solutions(lesson)[function]
    getattr(exercises, check)(candidate)
    getattr(exercises, check)(candidate, grading=True)
    visible, hidden = capsys.readouterr().out.splitlines()
    assert visible.startswith(f"correct: {function} passes") and hidden.startswith("correct: ")
