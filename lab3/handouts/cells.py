"""The lessons' cells as the handouts see them: tags, checks on the input, and the preprocessors.

Every cell-level decision of the handouts lives here: which tags exist (and which near misses are
refused), what a lesson's title is as plain text, and the nbconvert preprocessors that drop
infrastructure and widget outputs, renumber execution counts and strip metadata.
"""

import difflib
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from nbconvert.filters import markdown2html
from nbconvert.preprocessors import Preprocessor

SOLUTION, STUB, CHECK, INSTRUCTOR_ONLY = "solution", "stub", "check", "instructor-only"
INFRASTRUCTURE, PARAMETERS = "infrastructure", "parameters"
# A cell whose output gives an exercise's answer away (a number the exercise asks for, computed
# by the solution): the student page keeps the cell but not its output.
ANSWER_OUTPUT = "answer-output"
EXERCISE_TAGS = (SOLUTION, STUB, CHECK, INSTRUCTOR_ONLY)
KNOWN_TAGS = (*EXERCISE_TAGS, ANSWER_OUTPUT, INFRASTRUCTURE, PARAMETERS)
STUDENT_DROPS = (SOLUTION, INSTRUCTOR_ONLY, INFRASTRUCTURE)  # gone, with outputs, for students
INSTRUCTOR_DROPS = (STUB,)  # the instructor's page shows the solution in the stub's place
STUDENT_TAGS = (STUB, CHECK, PARAMETERS)  # the only cell metadata a student notebook keeps
NOTEBOOK_METADATA = ("kernelspec", "language_info")  # what Jupyter needs to open and run it
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class HandoutError(Exception):
    """Handouts cannot be built as asked; the message says why and what to do."""


def lesson_paths(notebooks_dir):
    """The lessons, ``notebooks_dir/[0-9]*.ipynb`` in order (as the Makefile lists them)."""
    return sorted(Path(notebooks_dir).glob("[0-9]*.ipynb"))


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def plain_text(markdown):
    """Markdown inline text as plain text: ``The `relu` **layer**`` -> ``The relu layer``."""
    html = markdown2html(markdown)
    text = BeautifulSoup(html, "html.parser").get_text("")
    return text.replace("\N{PILCROW SIGN}", "").strip()


def title(nb, default=""):
    """The notebook's first markdown heading, as plain text (``# The `relu` `` -> ``The relu``)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return plain_text(line.lstrip("#").strip())
    return default


def near_miss(tag):
    """The known tag that ``tag`` is a typo of (``Solution``, ``solutions``), or ``None``."""
    if tag in KNOWN_TAGS:
        return None
    folded = tag.strip().lower().replace("_", "-").replace(" ", "-")
    found = difflib.get_close_matches(folded, KNOWN_TAGS, n=1, cutoff=0.8)
    return found[0] if found else None


def read_lesson(path, executed=True):
    """Read and check one lesson (with ``executed``: that it has outputs); raise
    ``HandoutError`` saying what is wrong with it."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 -- unreadable JSON, wrong schema: say which file
        raise HandoutError(f"{path} is not a readable notebook: {error}") from error
    for index, cell in enumerate(nb.cells):
        for tag in sorted(tags(cell)):
            if (meant := near_miss(tag)) is not None:
                raise HandoutError(
                    f"{path}: cell {index} (id {cell.get('id')}) is tagged {tag!r}, "
                    f"which is not a handout tag: did you mean {meant!r}? "
                    f"(known tags: {', '.join(KNOWN_TAGS)})"
                )
    code = [c for c in nb.cells if c.cell_type == "code"]
    if executed and code and not any(c.get("outputs") for c in code):
        raise HandoutError(
            f"{path} has no outputs: run `make notebooks` first (the instructor "
            "handout shows the committed outputs)"
        )
    stubs, solutions = (sum(t in tags(c) for c in nb.cells) for t in (STUB, SOLUTION))
    if stubs != solutions:
        raise HandoutError(
            f"{path} has {stubs} cells tagged 'stub' and {solutions} tagged "
            "'solution': every exercise needs one of each"
        )
    return nb


def read_lessons(notebooks_dir, executed=True):
    """Every lesson of ``notebooks_dir`` as ``[(path, notebook)]``, all checked before use."""
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise HandoutError(f"--notebooks {folder} is not a folder")
    paths = lesson_paths(folder)
    if not paths:
        raise HandoutError(f"--notebooks {folder} has no lesson notebooks (NN_name.ipynb)")
    return [(path, read_lesson(path, executed)) for path in paths]


# ----------------------------------------------------------------------------------------------
# Preprocessors (run after nbconvert's TagRemovePreprocessor)
# ----------------------------------------------------------------------------------------------


class DropWidgets(Preprocessor):
    """Widget outputs cannot work on a static page: an output that shows a widget is dropped
    unless it also has a picture or HTML of its own (its text repr, ``VBox(children=...)``, helps
    no reader); the notebook's widget state is dropped too."""

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        kept = []
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)
                data.pop("text/plain", None)
                if not data:
                    continue
            kept.append(output)
        cell.outputs = kept
        return cell, resources


class RenumberExecution(Preprocessor):
    """Execution counts 1, 2, 3, ... over the cells that are left, so none jumps where one was
    removed; a cell that was never run stays without a number."""

    def preprocess(self, nb, resources):
        count = 0
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.get("execution_count") is not None:
                count += 1
                cell.execution_count = count
                for output in cell.outputs:
                    if "execution_count" in output:
                        output["execution_count"] = count
        return nb, resources


class StudentMetadata(Preprocessor):
    """Only what Jupyter needs: the kernel and language, cell ids, and the tags a student's
    JupyterLab shows (stub, check, parameters); nothing of how the instructor's copy was run."""

    def preprocess(self, nb, resources):
        nb.metadata = nbformat.NotebookNode(
            {k: v for k, v in nb.metadata.items() if k in NOTEBOOK_METADATA}
        )
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        kept = [t for t in cell.metadata.get("tags", []) if t in STUDENT_TAGS]
        cell.metadata = nbformat.NotebookNode({"tags": kept} if kept else {})
        return cell, resources
