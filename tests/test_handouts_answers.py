"""The student handouts show no exercise's answer: a cell tagged ``answer-output`` (its output is
a number an exercise asks for, computed by the solution) keeps its code but not its output.

The scan reads every number the tagged cells print, formatted as the lesson prints it, and looks
for it in the lesson's student files; it finds them when a revealing output is put back. A second
scan takes what every checked exercise expects on the lesson's own example (the check's cases
labelled "the lab's ..." or "worked example"), whichever cell would print it.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from lab3 import handouts
from lab3.handouts.cells import ANSWER_OUTPUT

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NUMBER = re.compile(r"-?\d+\.\d{2,}")  # as the lessons print them: 0.0030, 0.3395


def answers(path):
    """The numbers the ``answer-output`` cells of lesson ``path`` print, as printed."""
    found = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if ANSWER_OUTPUT in handouts.tags(cell):
            for output in cell.get("outputs", []):
                text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
                found |= set(NUMBER.findall(text))
    return found


REVEALING = {p.stem: answers(p) for p in handouts.lesson_paths(NOTEBOOKS) if answers(p)}


def leaks(out, name, numbers):
    """The numbers of ``numbers`` that lesson ``name``'s student files show."""
    shown = "".join(
        (out / "student" / f"{name}{ext}").read_text(encoding="utf-8")
        for ext in (".html", ".ipynb")
    )
    return sorted(n for n in numbers if re.search(rf"(?<![\d.]){re.escape(n)}(?!\d)", shown))


def build(tmp_path, lessons):
    """Handouts of just ``{name: notebook path}`` (a quick build), into ``tmp_path / "out"``."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name, path in lessons.items():
        shutil.copy(path, folder / f"{name}.ipynb")
    handouts.build(folder, tmp_path / "out", log=lambda *args: None)
    return tmp_path / "out"


def test_the_lessons_tag_the_outputs_that_give_an_answer_away():
    # lesson 02: exercise C's dJ/dc on the worked example; lesson 03: the loss after exercise A's
    # step; lesson 06: exercise 2's constant mse
    assert REVEALING["02_forward_pass"] >= {"-0.0741", "0.1481"}
    assert REVEALING["03_single_sample_sgd"] >= {"0.0030"}
    assert REVEALING["06_sweep_report"] == {"0.3395"}
    # lesson 08: the cross-entropy gradient of a wrong sample (exercise 3's prediction)
    assert REVEALING["08_hidden_units"] == {"0.95257", "-0.95257"}


LESSONS = [path.stem for path in handouts.lesson_paths(NOTEBOOKS)]
# an answer that another lesson prints for its own reason, with the lessons and the reason
PRINTED_FOR_ANOTHER_REASON = {
    "0.3395": (
        {"01_derivation", "03_single_sample_sgd", "05_mlp_class"},
        "mean(y^2) of the lab's data, the expected loss of a fresh network; lesson 6's exercise 2 "
        "asks why the best constant's mse agrees with it, not for the number",
    ),
}


@pytest.fixture(scope="module")
def every_handout(tmp_path_factory):
    """The handouts of every lesson, built once for the scans below."""
    return build(
        tmp_path_factory.mktemp("every"), {name: NOTEBOOKS / f"{name}.ipynb" for name in LESSONS}
    )


def shown_anywhere(out, owner, numbers):
    """``{lesson: numbers}``: which of lesson ``owner``'s answers each student handout shows,
    the numbers another lesson prints for its own reason left out."""
    found = {}
    for name in LESSONS:
        allowed = {n for n, (where, _) in PRINTED_FOR_ANOTHER_REASON.items() if name in where}
        shown = [n for n in leaks(out, name, numbers) if not (name != owner and n in allowed)]
        if shown:
            found[name] = shown
    return found


def test_no_student_handout_shows_an_answer_of_any_lesson(every_handout):
    out = every_handout
    for name, numbers in REVEALING.items():
        shown = shown_anywhere(out, name, numbers)
        assert not shown, f"student handouts show {name}'s answers: {shown}"
        instructor = (out / "instructor" / f"{name}.html").read_text(encoding="utf-8")
        assert all(n in instructor for n in numbers)  # the instructor's page keeps them


def test_the_scan_finds_an_answer_printed_by_another_lesson(tmp_path):
    # lesson 1 once printed lesson 2's exercise C, dJ/dc on the worked example, in its section 6
    nb = nbformat.read(NOTEBOOKS / "01_derivation.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("dJ/dc = [[-0.0741  0.1481 -0.0741]]"))
    mutated = tmp_path / "mutated.ipynb"
    nbformat.write(nb, mutated)
    out = build(tmp_path, {"01_derivation": mutated})
    assert leaks(out, "01_derivation", REVEALING["02_forward_pass"]) == ["-0.0741", "0.1481"]


@pytest.mark.parametrize("name", sorted(REVEALING))
def test_the_scan_finds_a_revealing_output_put_back(tmp_path, name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        cell.metadata["tags"] = [t for t in handouts.tags(cell) if t != ANSWER_OUTPUT]
    untagged = tmp_path / "untagged.ipynb"
    nbformat.write(nb, untagged)
    out = build(tmp_path, {name: untagged})
    assert leaks(out, name, REVEALING[name]) == sorted(REVEALING[name])


# ----------------------------------------------------------------------------------------------
# The checked exercises' own cases: the values a check expects on the lesson's example
# ----------------------------------------------------------------------------------------------

OWN_CASE = re.compile(r"the lab's|worked example")  # a case on the lesson's own numbers
# values a student handout shows on purpose, with the reason (the lab's published numbers that
# the lesson reproduces before the exercise asks for the code)
SHOWN_ON_PURPOSE = {
    "02_forward_pass": {
        "207.3333": "the lab's published objective, reproduced step by step in sections 1-5",
        "0.3333": "the lab's uniform softmax output and its published loss, reproduced likewise",
    },
}


def checks_by_lesson():
    """``{lesson stem: {check name}}``: the checks each lesson's check cells call."""
    found = {}
    for path in handouts.lesson_paths(NOTEBOOKS):
        for cell in nbformat.read(path, as_version=4).cells:
            if "check" in handouts.tags(cell):
                found.setdefault(path.stem, set()).update(re.findall(r"check_\w+", cell.source))
    return found


def own_case_values(check):
    """Every entry, as ``%.4f``, of what ``check`` expects on the cases of the lesson's own
    example (its ``check_function`` is intercepted; nothing runs the student's code)."""
    import importlib

    import numpy as np

    from lab3 import exercises

    captured = []
    module = importlib.import_module(getattr(exercises, check).__module__)
    real = module.check_function
    module.check_function = lambda name, candidate, reference, cases, hint, **kw: captured.append(
        (reference, cases)
    )
    try:
        getattr(exercises, check)(lambda *args: None)
    finally:
        module.check_function = real
    values = set()
    for reference, cases in captured:
        for label, args in cases.items() if isinstance(cases, dict) else []:
            if OWN_CASE.search(label):
                flat = np.concatenate(list(_arrays(reference(*args))) or [np.zeros(0)])
                given = {f"{v:.4f}" for v in _numbers(args)}  # what the case hands the student
                values |= {f"{v:.4f}" for v in flat if 1e-3 < abs(v) and abs(v) != 1} - given
    return values


def _numbers(args):
    """Every number among a case's arguments, flat (``_arrays`` of each, a function skipped):
    an expected value that equals one of them (a weight a step leaves unchanged to 4 decimals,
    say) gives nothing away."""
    import numpy as np

    found = []
    for arg in args:
        try:
            found.extend(np.concatenate(list(_arrays(arg)) or [np.zeros(0)]))
        except (TypeError, ValueError):  # lesson 7 hands the student a function
            pass
    return found


def _arrays(value):
    """Every number of ``value`` (an array, a number, or tuples and lists of them), flat."""
    import numpy as np

    if isinstance(value, (tuple, list)) and value and not np.isscalar(value[0]):
        for part in value:
            yield from _arrays(part)
    else:
        yield np.asarray(value, dtype=float).ravel()


def test_no_student_handout_shows_what_a_check_expects_on_a_lessons_own_example(every_handout):
    lessons = {
        stem: set().union(*(own_case_values(c) for c in checks))
        for stem, checks in checks_by_lesson().items()
    }
    lessons = {stem: values for stem, values in lessons.items() if values}
    assert lessons.get("02_forward_pass", set()) >= {"-0.0741", "0.1481"}  # exercise C's dJ/dc
    for stem, values in lessons.items():  # in its own lesson's handout and in every other one
        expected = values - set(SHOWN_ON_PURPOSE.get(stem, {}))
        shown = shown_anywhere(every_handout, stem, expected)
        assert not shown, f"student handouts show what {stem}'s checks expect: {shown}"


def test_the_own_case_scan_finds_lesson_2s_dj_dc_put_back(tmp_path):
    nb = nbformat.read(NOTEBOOKS / "02_forward_pass.ipynb", as_version=4)
    for cell in nb.cells:
        cell.metadata["tags"] = [t for t in handouts.tags(cell) if t != ANSWER_OUTPUT]
    untagged = tmp_path / "untagged.ipynb"
    nbformat.write(nb, untagged)
    out = build(tmp_path, {"02_forward_pass": untagged})
    assert {"-0.0741", "0.1481"} <= set(
        leaks(out, "02_forward_pass", own_case_values("check_dJ_dc"))
    )
