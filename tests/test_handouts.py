"""Classroom handouts (lab3.handouts): both versions, nothing leaks, exercises work, math offline.

The handouts are built once, into a temporary folder. Only the lessons with exercises are
executed (a student notebook with its stubs unfilled, then with the solutions put back).
"""

import copy
import html
import re
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient

from lab3 import handouts
from lab3.exercises import NOT_DONE
from lab3.handouts import CHECK, INSTRUCTOR_ONLY, SOLUTION, STUB, tags

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts" / "handouts"
LESSONS = [p.stem for p in handouts.lesson_paths(NOTEBOOKS)]
WITH_EXERCISES = [p.stem for p in handouts.lesson_paths(NOTEBOOKS)
                  if any(STUB in tags(c) for c in nbformat.read(p, as_version=4).cells)]
SHINGLE = 6  # a leak is any run of this many words of a hidden cell that no kept cell has


def source(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts")
    lessons = handouts.build(NOTEBOOKS, out, log=lambda *args: None)
    return out, {lesson.name: lesson for lesson in lessons}


def test_the_lessons_with_exercises_are_the_ones_we_think():
    assert {"01_derivation", "04_batched_sgd"} <= set(WITH_EXERCISES)


# ----------------------------------------------------------------------------------------------
# What is built
# ----------------------------------------------------------------------------------------------


def test_both_versions_and_an_index_with_the_titles(built):
    out, lessons = built
    assert sorted(lessons) == LESSONS
    index = (out / "index.html").read_text()
    links = set(re.findall(r'href="([^"]+)"', index))
    for name, lesson in lessons.items():
        assert lesson.title == handouts.title(source(name))
        assert html.escape(lesson.title, quote=False) in index
        for path in (lesson.instructor_html, lesson.student_html, lesson.student_ipynb):
            assert path in links and (out / path).is_file()
    assert handouts.title(source("01_derivation")) == "1 · Deriving backpropagation, checked three ways"
    assert (out / "mathjax" / "MathJax.js").is_file()


def test_student_notebooks_keep_stubs_and_checks_and_nothing_else_of_the_exercises(built):
    out, _ = built
    for name in LESSONS:
        original = source(name)
        student = nbformat.read(out / "student" / f"{name}.ipynb", as_version=4)
        nbformat.validate(student)
        kept = [c for c in original.cells if not tags(c) & {SOLUTION, INSTRUCTOR_ONLY}]
        assert [c.id for c in student.cells] == [c.id for c in kept]
        assert [c.source for c in student.cells] == [c.source for c in kept]
        for cell in student.cells:
            assert not tags(cell) & {SOLUTION, INSTRUCTOR_ONLY}
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
        assert student.metadata.kernelspec.name == "lab3"


def test_instructor_pages_show_solutions_and_notes_but_not_stubs(built):
    out, _ = built
    for name in WITH_EXERCISES:
        page = (out / "instructor" / f"{name}.html").read_text()
        for cell in source(name).cells:
            present = f'id="cell-id={cell.id}"' in page
            assert present == (STUB not in tags(cell)), (name, cell.id, tags(cell))
        assert page.count("correct: ") == sum(CHECK in tags(c) for c in source(name).cells)


# ----------------------------------------------------------------------------------------------
# Nothing of a solution or of the teaching notes reaches a student
# ----------------------------------------------------------------------------------------------


def words(text):
    return re.findall(r"[A-Za-z0-9_]+", text)


def shingles(text, n=SHINGLE):
    w = words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def cell_text(cell):
    """A cell's source and every text of its outputs (streams, results, errors)."""
    parts = [cell.source]
    for output in cell.get("outputs", []):
        parts.append(str(output.get("text", "")))
        parts.extend(str(v) for v in output.get("data", {}).values())
        parts.append(f"{output.get('ename', '')} {output.get('evalue', '')}")
    return "\n".join(parts)


def page_text(path):
    soup = BeautifulSoup(path.read_text(), "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return html.unescape(soup.get_text(" "))


def hidden_shingles(name):
    """Per hidden cell: its runs of words that no kept cell of the lesson has."""
    cells = source(name).cells
    kept = set().union(*(shingles(cell_text(c)) for c in cells if not tags(c) & {SOLUTION, INSTRUCTOR_ONLY}))
    return {c.id: shingles(cell_text(c)) - kept for c in cells if tags(c) & {SOLUTION, INSTRUCTOR_ONLY}}


@pytest.mark.parametrize("name", LESSONS)
def test_no_solution_or_teaching_note_reaches_a_student_file(built, name):
    out, _ = built
    hidden = hidden_shingles(name)
    if name in WITH_EXERCISES:
        assert any(tags(c) & {SOLUTION} for c in source(name).cells)
    for cell_id, runs in hidden.items():
        assert runs, f"{name}: hidden cell {cell_id} has nothing of its own: this test could not see it leak"
    instructor = shingles(page_text(out / "instructor" / f"{name}.html"))
    for cell_id, runs in hidden.items():  # the detector sees them where they belong
        assert runs <= instructor, f"{name}: {cell_id} is not (all) on the instructor page"
    student_nb = nbformat.read(out / "student" / f"{name}.ipynb", as_version=4)
    student_files = {
        "student notebook": set().union(*(shingles(cell_text(c)) for c in student_nb.cells)),
        "student page": shingles(page_text(out / "student" / f"{name}.html")),
    }
    student_html = (out / "student" / f"{name}.html").read_text()
    for cell_id, runs in hidden.items():
        assert f"cell-id={cell_id}" not in student_html
        for what, found in student_files.items():
            leaked = runs & found
            assert not leaked, f"{name}: the {what} has words of hidden cell {cell_id}: {sorted(leaked)[:3]}"


# ----------------------------------------------------------------------------------------------
# Offline: no script from the internet
# ----------------------------------------------------------------------------------------------


def remote(url):
    return bool(urlsplit(url.strip()).netloc) or url.strip().lower().startswith(("http:", "https:"))


def test_no_handout_page_loads_anything_from_the_internet(built):
    out, _ = built
    pages = sorted(out.glob("*.html")) + sorted(out.glob("instructor/*.html")) + sorted(out.glob("student/*.html"))
    assert len(pages) == 1 + 2 * len(LESSONS)
    for page in pages:
        text = page.read_text()
        assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", text, re.I), page
        soup = BeautifulSoup(text, "html.parser")
        for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
                               ("source", "src"), ("object", "data")):
            for element in soup.find_all(tag):
                url = element.get(attribute)
                assert not (url and remote(url)), f"{page.name}: <{tag} {attribute}={url}>"
        for script in soup.find_all("script"):
            assert not re.search(r"https?://", script.get_text()), f"{page.name}: a script names a URL"
            if script.get("src"):  # the local MathJax, next to the page
                assert (page.parent / urlsplit(script["src"]).path).resolve().is_file()
        if page.name != "index.html":
            assert any("MathJax.js" in (s.get("src") or "") for s in soup.find_all("script"))


# ----------------------------------------------------------------------------------------------
# The student's exercises, executed
# ----------------------------------------------------------------------------------------------


def execute(nb, allow_errors=False):
    NotebookClient(nb, kernel_name="lab3", timeout=600, allow_errors=allow_errors,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_unfilled_stubs_fail_at_their_checks_with_the_friendly_message(built, name):
    out, _ = built
    nb = nbformat.read(out / "student" / f"{name}.ipynb", as_version=4)
    last_check = max(i for i, c in enumerate(nb.cells) if CHECK in tags(c))
    nb.cells = nb.cells[:last_check + 1]  # what comes after the exercises does not matter here
    execute(nb, allow_errors=True)
    for cell in nb.cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if CHECK in tags(cell):
            assert len(errors) == 1, cell.source
            assert errors[0].ename == "AssertionError"
            assert f"is {NOT_DONE}" in errors[0].evalue
            assert not any(o.output_type == "stream" and "correct" in o.text for o in cell.outputs)
        else:
            assert not errors, (cell.source, errors)


@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_with_the_solutions_in_place_of_the_stubs_it_runs_and_passes_every_check(built, name):
    out, _ = built
    nb = nbformat.read(out / "student" / f"{name}.ipynb", as_version=4)
    solutions = [c for c in source(name).cells if SOLUTION in tags(c)]
    stubs = [c for c in nb.cells if STUB in tags(c)]
    assert len(stubs) == len(solutions) > 0
    for stub, solution in zip(stubs, solutions):
        defines = lambda text: re.findall(r"^def (\w+)", text, re.M)
        assert defines(stub.source) == defines(solution.source)
        stub.source = copy.copy(solution.source)
    execute(nb)  # raises CellExecutionError at the first cell that fails
    checks = [c for c in nb.cells if CHECK in tags(c)]
    assert checks
    for cell in checks:
        printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        assert printed.startswith("correct: "), printed


# ----------------------------------------------------------------------------------------------
# A real browser typesets the math, offline
# ----------------------------------------------------------------------------------------------


def test_a_headless_chromium_typesets_the_math(built):
    chromium = handouts.find_chromium()
    if chromium is None:
        pytest.skip("no headless Chromium on PATH: install Debian's chromium "
                    "(apt-get install chromium; .ci/run does) or set CHROMIUM=/path/to/chrome")
    out, lessons = built
    page = out / lessons["01_derivation"].instructor_html
    dom = handouts.dump_dom(chromium, page)
    assert dom.count('class="MathJax"') >= 50  # HTML-CSS output: one span per formula
    assert dom.count('class="MathJax_Display"') >= 10  # the displayed equations
    for failure in ('class="MathJax_Error"', 'class="noError"', "Math Processing Error"):
        assert failure not in dom
    soup = BeautifulSoup(dom, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()  # MathJax keeps each formula's TeX in a script element; the page shows none
    shown = soup.get_text(" ")
    assert "$$" not in shown and "\\frac" not in shown and "\\partial" not in shown
    assert "Deriving backpropagation" in shown and "correct: my_relu_backward" in shown

    png = handouts.screenshot(chromium, page, ARTIFACTS / "01_derivation.png", size=(1280, 1800))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
