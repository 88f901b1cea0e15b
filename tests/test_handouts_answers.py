"""The student handouts show no exercise's answer: a cell tagged ``answer-output`` (its output is
a number an exercise asks for, computed by the solution) keeps its code but not its output.

The scan reads every number the tagged cells print, formatted as the lesson prints it, and looks
for it in the lesson's student files; it finds them when a revealing output is put back.
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
    # lesson 03: the loss after exercise A's step; lesson 06: exercise 2's constant mse
    assert REVEALING["03_single_sample_sgd"] >= {"0.0030"}
    assert REVEALING["06_sweep_report"] == {"0.3395"}
    # lesson 08: the cross-entropy gradient of a confidently wrong sample (its last exercise)
    assert REVEALING["08_hidden_units"] == {"0.99995", "-0.99995"}


def test_no_student_handout_shows_an_answer(tmp_path):
    out = build(tmp_path, {name: NOTEBOOKS / f"{name}.ipynb" for name in REVEALING})
    for name, numbers in REVEALING.items():
        assert not leaks(out, name, numbers), name
        instructor = (out / "instructor" / f"{name}.html").read_text(encoding="utf-8")
        assert all(n in instructor for n in numbers)  # the instructor's page keeps them


@pytest.mark.parametrize("name", sorted(REVEALING))
def test_the_scan_finds_a_revealing_output_put_back(tmp_path, name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        cell.metadata["tags"] = [t for t in handouts.tags(cell) if t != ANSWER_OUTPUT]
    untagged = tmp_path / "untagged.ipynb"
    nbformat.write(nb, untagged)
    out = build(tmp_path, {name: untagged})
    assert leaks(out, name, REVEALING[name]) == sorted(REVEALING[name])
