"""The nbgrader course root (python -m lab3.handouts --nbgrader), checked by nbgrader itself.

Fast: the format (nbgrader's cell metadata, one solution cell per exercise, one locked graded
cell per check, no teaching notes). Slow, with nbgrader (installed by `make test` and `make
handouts-nbgrader` from requirements-nbgrader.txt): generate_assignment succeeds for every lesson
with exercises and releases no hidden test; autograding one lesson (the quickest to run) gives
the instructor's version full points, the released, unfilled version 0, and an answer hard-coded
for the visible cases (tests/hard_coded_answers.py) 0: the hidden tests catch it.
"""

import copy
import os
import sys
from pathlib import Path

import nbformat
import pytest
from hard_coded_answers import KEYS, hard_coded_source

from lab3 import exercises, handouts
from lab3.handouts.nbgrader import (
    BEGIN,
    BEGIN_HIDDEN,
    END,
    END_HIDDEN,
    export,
    merge_exercise,
    with_hidden_tests,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = [p.stem for p in handouts.lesson_paths(NOTEBOOKS)]
WITH_EXERCISES = [
    p.stem
    for p in handouts.lesson_paths(NOTEBOOKS)
    if any(handouts.STUB in handouts.tags(c) for c in nbformat.read(p, as_version=4).cells)
]
AUTOGRADED = "04_batched_sgd"  # one lesson is enough for the scores; this one runs in seconds


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    assert export(NOTEBOOKS, root, log=lambda *args: None) == LESSONS
    return root


def source(root, name):
    return nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)


def test_the_course_root_has_one_assignment_per_lesson_in_nbgraders_format(course):
    assert (course / "nbgrader_config.py").is_file()
    assert sorted(p.name for p in (course / "source").iterdir()) == LESSONS
    for name in LESSONS:
        original = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        nb = source(course, name)
        nbformat.validate(nb)
        count = lambda tag: sum(tag in handouts.tags(c) for c in original.cells)
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert len(graded) == count(handouts.CHECK) and len(answers) == count(handouts.STUB)
        for cell in graded:
            meta = cell.metadata.nbgrader
            assert meta["locked"] and meta["points"] > 0 and meta["schema_version"] == 3
            assert cell.source.startswith("exercises.check_") or "check_" in cell.source
            visible, hidden = cell.source.split(BEGIN_HIDDEN)
            assert hidden.strip().endswith(END_HIDDEN) and "grading=True" in hidden
            assert "grading" not in visible
        for cell in answers:
            assert cell.source.count(BEGIN) >= 1 and cell.source.count(BEGIN) == cell.source.count(
                END
            )
        ids = [c.metadata.nbgrader["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids))
        hidden = [
            c.source
            for c in original.cells
            if handouts.tags(c) & {handouts.INSTRUCTOR_ONLY, handouts.INFRASTRUCTURE}
        ]
        assert not [c for c in nb.cells if c.source in hidden]  # teaching notes are not sent out
        assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")


def test_a_stub_and_its_solution_become_one_cell_with_the_prompt_kept():
    stub = (
        'def f(x):\n    """Doc."""\n    y = x + 1\n    # z = ...  the hint\n'
        '    raise NotImplementedError("fill in f")\n'
    )
    solution = 'def f(x):\n    """Doc."""\n    y = x + 1\n    z = y * 2  # why\n\n    return z\n'
    assert merge_exercise(stub, solution) == (
        'def f(x):\n    """Doc."""\n    y = x + 1\n    # z = ...  the hint\n'
        "    ### BEGIN SOLUTION\n"
        "    z = y * 2  # why\n\n    return z\n    ### END SOLUTION"
    )
    assert (
        merge_exercise("# compute a\na = None", "a = 3")
        == "# compute a\n### BEGIN SOLUTION\na = 3\n### END SOLUTION"
    )


def test_a_check_cell_gets_its_check_again_on_the_grading_cases_as_hidden_tests():
    assert with_hidden_tests("exercises.check_gradients(my_gradients)\n") == (
        "exercises.check_gradients(my_gradients)\n### BEGIN HIDDEN TESTS\n"
        "exercises.check_gradients(my_gradients, grading=True)\n### END HIDDEN TESTS"
    )
    assert with_hidden_tests("print('no check here')") == "print('no check here')"


def test_a_rebuild_keeps_what_the_instructor_added(tmp_path):
    export(NOTEBOOKS, tmp_path, log=lambda *args: None)
    (tmp_path / "gradebook.db").write_text("grades")
    (tmp_path / "release").mkdir()
    export(NOTEBOOKS, tmp_path, log=lambda *args: None)
    assert (tmp_path / "gradebook.db").read_text() == "grades" and (tmp_path / "release").is_dir()


# ----------------------------------------------------------------------------------------------
# nbgrader itself
# ----------------------------------------------------------------------------------------------


def nbgrader_api(root):
    """nbgrader's Python API on the course root, configured by its nbgrader_config.py."""
    pytest.importorskip(
        "nbgrader", reason="nbgrader is installed by `make test` and `make handouts-nbgrader`"
    )
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return NbGraderAPI(CourseDirectory(config=config), config=config)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Object of type <Submitted")  # nbgrader's own SQLAlchemy use
def test_nbgrader_generates_every_assignment_and_grades_the_solutions_full_and_the_release_less(
    course, monkeypatch
):
    api = nbgrader_api(course)
    from nbgrader.api import Gradebook

    # nbgrader runs `alembic` (its gradebook migrations) from PATH: the one of this environment.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert WITH_EXERCISES and AUTOGRADED in WITH_EXERCISES
    for name in WITH_EXERCISES:
        result = api.generate_assignment(name, force=True, create=True)
        assert result["success"], f"{name}: {result['error']}\n{result['log']}"
        released = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        assert BEGIN not in str(released) and "raise NotImplementedError()" in str(released)
        assert "HIDDEN TESTS" not in str(released) and "grading" not in str(released)

    submissions = {
        "instructor": source(course, AUTOGRADED),
        "unfilled": nbformat.read(course / "release" / AUTOGRADED / f"{AUTOGRADED}.ipynb", 4),
        "hard-coded": hard_coded_submission(source(course, AUTOGRADED)),
    }
    for student, notebook in submissions.items():
        submitted = course / "submitted" / student / AUTOGRADED
        submitted.mkdir(parents=True)
        nbformat.write(notebook, submitted / f"{AUTOGRADED}.ipynb")
        result = api.autograde(AUTOGRADED, student, force=True, create=True)
        assert result["success"], f"{student}: {result['error']}\n{result['log']}"

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        full = gradebook.find_submission(AUTOGRADED, "instructor")
        unfilled = gradebook.find_submission(AUTOGRADED, "unfilled")
        hard_coded = gradebook.find_submission(AUTOGRADED, "hard-coded")
        assert full.max_score > 0 and full.score == full.max_score
        assert unfilled.score == 0 and unfilled.max_score == full.max_score
        assert hard_coded.score == 0 and hard_coded.max_score == full.max_score


def hard_coded_submission(nb):
    """The lesson with each answer cell replaced by one hard-coded for the visible cases (and
    checked to pass them: a score of 0 is then the hidden tests' doing)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        defined = [name for name in KEYS if f"def {name}(" in cell.source]
        if cell.metadata.get("nbgrader", {}).get("solution") and defined:
            cell.source = hard_coded_source(AUTOGRADED, defined[0])
            namespace = {"__name__": "__main__"}
            exec(compile(cell.source, "<hard-coded>", "exec"), namespace)
            check = getattr(exercises, KEYS[defined[0]][0])
            check(namespace[defined[0]])  # passes the visible cases
            with pytest.raises(exercises.CheckFailed):
                check(namespace[defined[0]], grading=True)
    assert sum("_VISIBLE" in c.source for c in nb.cells) == len(KEYS)
    return nb
