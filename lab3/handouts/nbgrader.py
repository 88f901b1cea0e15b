"""An nbgrader course root from the lessons: ``python -m lab3.handouts --nbgrader``.

Writes ``nbgrader_config.py`` and ``source/<lesson>/<lesson>.ipynb`` (one assignment per lesson,
named after the notebook's stem) into the output folder, with nbgrader's cell metadata
(``nbgrader: {grade, solution, locked, points, grade_id, schema_version: 3}``):

* each exercise (a ``stub`` cell and its ``solution``) becomes one autograded-answer cell: the
  stub's prompt and skeleton, with its ``raise NotImplementedError(...)`` line replaced by the
  solution's body between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (``nbgrader
  generate_assignment`` puts nbgrader's own ``raise NotImplementedError()`` back);
* each ``check`` cell becomes an autograder test cell, locked, worth ``POINTS`` points; below the
  visible check it runs the same check on its grading cases (``grading=True``: other shapes and
  values) between nbgrader's ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``, which
  ``generate_assignment`` removes from the release and ``autograde`` puts back, so an answer
  written for the visible cases alone scores 0;
* teaching notes (``instructor-only``) and ``infrastructure`` cells are left out; outputs are
  cleared and the notebook keeps only the metadata Jupyter needs.

nbgrader itself is not imported here (it is an optional extra: ``make handouts-nbgrader``
installs it); only its file formats are written. The files go in through ``lab3.handouts.swap``,
so a rebuild never deletes the gradebook, releases or submissions an instructor has there.
"""

import ast
import copy
import tempfile
from pathlib import Path

import nbformat

from lab3.handouts.cells import (
    CHECK,
    INFRASTRUCTURE,
    INSTRUCTOR_ONLY,
    NOTEBOOK_METADATA,
    PARAMETERS,
    SOLUTION,
    STUB,
    read_lessons,
    tags,
)
from lab3.handouts.swap import validate_out, swap_in

POINTS = 1  # per check cell
SCHEMA_VERSION = 3
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CONFIG = """\
# nbgrader's configuration for the lab3 course (written by `python -m lab3.handouts --nbgrader`).
c = get_config()  # noqa: F821 -- nbgrader provides it
c.CourseDirectory.course_id = "lab3"
# The lessons train small networks: cells take seconds, not nbgrader's default limit of 30 s.
c.ExecutePreprocessor.timeout = 600
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
"""


def export(notebooks_dir, out, log=print):
    """Write the course root of every lesson in ``notebooks_dir`` to ``out``; return the
    assignment names. Raises ``HandoutError`` (writing nothing) on bad input or foreign files."""
    out = Path(out)
    lessons = read_lessons(notebooks_dir, executed=False)  # outputs are cleared anyway
    names = [path.stem for path, _ in lessons]
    ours = validate_out(out, ["nbgrader_config.py"] + [f"source/{n}/{n}.ipynb" for n in names])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".lab3-build-", dir=out) as staging:
        staging = Path(staging)
        (staging / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
        for (path, nb), name in zip(lessons, names):
            target = staging / "source" / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True)
            assignment = assignment_notebook(nb)
            nbformat.validate(assignment)
            nbformat.write(assignment, target)
            graded = sum(
                "nbgrader" in c.metadata and c.metadata.nbgrader["grade"] for c in assignment.cells
            )
            log(f"handouts: nbgrader: {name}: {graded} graded check(s)")
        swap_in(staging, out, ours)
    log(f"handouts: nbgrader course root in {out} (nbgrader generate_assignment <lesson> there)")
    return names


def assignment_notebook(nb):
    """The nbgrader source version of one lesson (a new notebook; ``nb`` is left alone)."""
    nb = copy.deepcopy(nb)
    solutions = iter([c for c in nb.cells if SOLUTION in tags(c)])
    cells = []
    for cell in nb.cells:
        cell_tags = tags(cell)
        if cell_tags & {SOLUTION, INSTRUCTOR_ONLY, INFRASTRUCTURE}:
            continue
        if STUB in cell_tags:
            solution = next(solutions)
            cell.source = merge_exercise(cell.source, solution.source)
            cell.metadata = {"nbgrader": _metadata(f"answer-{cell.id}", solution=True)}
        elif CHECK in cell_tags:
            cell.source = with_hidden_tests(cell.source)
            cell.metadata = {
                "nbgrader": _metadata(f"check-{cell.id}", grade=True, locked=True, points=POINTS)
            }
        else:
            cell.metadata = {"tags": [PARAMETERS]} if PARAMETERS in cell_tags else {}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in NOTEBOOK_METADATA}
    return nb


def with_hidden_tests(check):
    """The check cell's source, then each of its ``exercises.check_*(...)`` calls again with
    ``grading=True`` between nbgrader's hidden-test markers (the source unchanged if it calls
    no check)."""
    hidden = [
        ast.unparse(_graded(node))
        for node in ast.parse(check).body
        if isinstance(node, ast.Expr) and _is_check_call(node.value)
    ]
    if not hidden:
        return check
    return "\n".join([check.rstrip("\n"), BEGIN_HIDDEN, *hidden, END_HIDDEN])


def _is_check_call(node):
    return isinstance(node, ast.Call) and getattr(node.func, "attr", "").startswith("check_")


def _graded(statement):
    """A copy of ``exercises.check_x(f)`` as ``exercises.check_x(f, grading=True)``."""
    call = copy.deepcopy(statement.value)
    call.keywords = [k for k in call.keywords if k.arg != "grading"]
    call.keywords.append(ast.keyword("grading", ast.Constant(True)))
    return call


def _metadata(grade_id, grade=False, solution=False, locked=False, points=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def merge_exercise(stub, solution):
    """One nbgrader solution cell from a stub and its solution.

    Each function of the stub whose body raises ``NotImplementedError`` gets the body of the
    solution's function of the same name in place of that line, between the markers (the stub's
    prompt comments stay above it). A stub that does not have that shape: the stub's leading
    comments, then the whole solution between the markers.
    """
    stub_lines, solution_lines = stub.splitlines(), solution.splitlines()
    solved = {
        node.name: node for node in ast.parse(solution).body if isinstance(node, ast.FunctionDef)
    }
    merged = False
    stub_functions = [n for n in ast.parse(stub).body if isinstance(n, ast.FunctionDef)]
    for function in reversed(stub_functions):  # bottom up: earlier line numbers stay valid
        raises = [s for s in function.body if _raises_not_implemented(s)]
        if function.name not in solved or len(raises) != 1:
            continue
        line = raises[0]
        indent = stub_lines[line.lineno - 1][: line.col_offset]
        body = _reindent(_body_lines(solved[function.name], solution_lines), indent)
        given = {
            text.strip()
            for text in stub_lines[function.body[0].lineno - 1 : line.lineno - 1]
            if text.strip() and not text.strip().startswith("#")
        }
        while body and (not body[0].strip() or body[0].strip() in given):
            body.pop(0)  # what the stub already gives (e.g. a first line) is not repeated
        stub_lines[line.lineno - 1 : line.end_lineno] = [indent + BEGIN, *body, indent + END]
        merged = True
    if merged:
        return "\n".join(stub_lines)
    prompt = [line for line in stub_lines[: _leading_comments(stub_lines)]]
    return "\n".join([*prompt, BEGIN, *solution_lines, END])


def _raises_not_implemented(statement):
    if not isinstance(statement, ast.Raise) or statement.exc is None:
        return False
    exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def _body_lines(function, lines):
    """The source lines of ``function``'s body after its docstring (comments included)."""
    body = function.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(getattr(body[0], "value", None), ast.Constant)
        and isinstance(body[0].value.value, str)
        and len(body) > 1
    ):
        start = body[0].end_lineno  # the line after the docstring
    else:
        start = body[0].lineno - 1
        while start - 1 >= function.lineno and lines[start - 1].strip().startswith("#"):
            start -= 1  # comments just above the first statement belong to the body
    return lines[start : function.end_lineno]


def _reindent(lines, indent):
    """``lines`` with their common indentation replaced by ``indent`` (blank lines kept blank)."""
    widths = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(widths, default=0)
    return [indent + line[cut:] if line.strip() else "" for line in lines]


def _leading_comments(lines):
    count = 0
    while count < len(lines) and lines[count].lstrip().startswith("#"):
        count += 1
    return count
