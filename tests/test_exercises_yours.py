"""Lesson 3 trains with the student's own ``my_gradients`` when it passes lesson 1's check, and
with ``lab3.gradients`` otherwise, saying which (``exercises.yours_if_correct``)."""

import contextlib
import io
import shutil

import nbformat
import numpy as np

import lab3
from lab3 import exercises, handouts
from tests.test_handouts_answers import NOTEBOOKS


def my_gradients(weights, biases, x, y, reg):  # a correct, loop-based answer
    a, zs = [x], []
    for W, b in zip(weights, biases):
        zs.append(a[-1] @ W + b)
        a.append(np.maximum(zs[-1], 0))
    delta, dW, db = 2 * (zs[-1] - y) / y.size, [], []
    for layer in reversed(range(len(weights))):
        dW.insert(0, a[layer].T @ delta + 2 * reg * weights[layer])
        db.insert(0, delta.sum(axis=0, keepdims=True))
        delta = (delta @ weights[layer].T) * (zs[layer - 1] > 0) if layer else delta
    return dW, db


def choose(candidate):
    return exercises.yours_if_correct(
        exercises.check_gradients, candidate, lab3.gradients, uses="sgd_step below"
    )


def test_a_passing_answer_is_used_and_the_line_says_so(capsys):
    assert choose(my_gradients) is my_gradients
    assert capsys.readouterr().out == "sgd_step below uses your my_gradients: it passes its check\n"


def test_a_stub_or_a_wrong_answer_falls_back_to_lab3_and_says_why(capsys):
    def stub(weights, biases, x, y, reg):
        raise NotImplementedError

    stub.__name__ = "my_gradients"
    assert choose(stub) is lab3.gradients
    out = capsys.readouterr().out
    assert out.startswith("sgd_step below uses lab3.gradients: your my_gradients does not pass")
    assert "not done yet" in out and out.count("\n") == 1

    def averaged_db(*args):
        dW, db = my_gradients(*args)
        return dW, [g / len(args[2]) for g in db]

    averaged_db.__name__ = "my_gradients"
    assert choose(averaged_db) is lab3.gradients
    assert "is not right yet" in capsys.readouterr().out


def test_the_student_notebook_of_lesson_3_runs_the_fallback_and_says_so(tmp_path):
    # the student's notebook, as the handouts give it: the solution is gone, the stub raises
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / "03_single_sample_sgd.ipynb", folder)
    handouts.build(folder, tmp_path / "out", log=lambda *args: None)
    nb = nbformat.read(tmp_path / "out" / "student" / "03_single_sample_sgd.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    chooser = next(i for i, source in enumerate(code) if "yours_if_correct" in source)
    assert "raise NotImplementedError" in code[chooser - 1]  # the stub right above it
    namespace, out = {"__name__": "__main__"}, io.StringIO()
    with contextlib.redirect_stdout(out):
        for source in code[: chooser + 1]:
            exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102 -- the lesson's own cells
    assert namespace["gradients"] is lab3.gradients
    assert (
        out.getvalue()
        .splitlines()[-1]
        .startswith(
            "sgd_step below uses lab3.gradients: your my_gradients does not pass its check yet "
            "(my_gradients is not done yet"
        )
    )
