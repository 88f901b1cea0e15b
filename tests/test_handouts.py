"""Classroom handouts (lab3.handouts): both versions, nothing leaks, navigation, exercises work,
math offline.

The handouts are built once, into a temporary folder. Kernels (slow): each lesson with exercises
runs once from the student folder, with its stubs unfilled up to the last check, then each
solution and its checks again; lesson 06 runs whole from there. Safety (sanitising, --out) is in
test_handouts_safety.py.
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
from lab3.handouts import CHECK, INFRASTRUCTURE, INSTRUCTOR_ONLY, SOLUTION, STUB, tags
from lab3.handouts.cells import NOTEBOOK_METADATA, STUDENT_TAGS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts" / "handouts"
LESSONS = [p.stem for p in handouts.lesson_paths(NOTEBOOKS)]
WITH_EXERCISES = [
    p.stem
    for p in handouts.lesson_paths(NOTEBOOKS)
    if any(STUB in tags(c) for c in nbformat.read(p, as_version=4).cells)
]
SHINGLE = 6  # a leak is any run of this many words of a hidden cell that no kept cell has
HIDDEN = {SOLUTION, INSTRUCTOR_ONLY, INFRASTRUCTURE}  # what a student never gets
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def source(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts")
    lessons = handouts.build(NOTEBOOKS, out, log=lambda *args: None)
    return out, {lesson.name: lesson for lesson in lessons}


def test_the_lessons_with_exercises_are_the_ones_we_think():
    assert set(WITH_EXERCISES) == {
        n for n in LESSONS if n[:2] in {"01", "02", "03", "04", "05", "06", "07", "08"}
    }
    for name in WITH_EXERCISES:  # an exercise is a stub, its solution and at least one check
        cells = source(name).cells
        stubs, solutions, checks = (
            sum(t in tags(c) for c in cells) for t in (STUB, SOLUTION, CHECK)
        )
        # lesson 3's pasted my_gradients is checked by the cell that chooses what trains with it
        checks += sum("exercises.yours_if_correct(exercises.check_" in c.source for c in cells)
        assert stubs == solutions and checks >= stubs, name


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
        assert "`" not in lesson.title and "*" not in lesson.title  # plain text, not markdown
        for path in (lesson.instructor_html, lesson.student_html, lesson.student_ipynb):
            assert path in links and (out / path).is_file()
    assert (
        handouts.title(source("01_derivation"))
        == "1 · Deriving backpropagation, checked three ways"
    )
    assert (out / "mathjax" / "MathJax.js").is_file()


def test_student_notebooks_keep_stubs_and_checks_and_nothing_else_of_the_exercises(built):
    out, _ = built
    for name in LESSONS:
        original = source(name)
        student = nbformat.read(out / "student" / f"{name}.ipynb", as_version=4)
        nbformat.validate(student)
        kept = [c for c in original.cells if not tags(c) & HIDDEN]
        assert [c.id for c in student.cells] == [c.id for c in kept]
        assert [c.source for c in student.cells] == [c.source for c in kept]
        for cell in student.cells:
            assert set(cell.metadata) <= {"tags"} and tags(cell) <= set(STUDENT_TAGS)
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
        assert student.metadata.kernelspec.name == "lab3"
        assert set(student.metadata) <= set(NOTEBOOK_METADATA)


def test_instructor_pages_show_solutions_and_notes_but_not_stubs(built):
    out, _ = built
    for name in WITH_EXERCISES:
        page = (out / "instructor" / f"{name}.html").read_text()
        for cell in source(name).cells:
            present = f'id="cell-id={cell.id}"' in page
            assert present == (STUB not in tags(cell)), (name, cell.id, tags(cell))
        assert page.count("correct: ") == sum(CHECK in tags(c) for c in source(name).cells)


def soup_of(path):
    return BeautifulSoup(path.read_text(), "html.parser")


@pytest.mark.parametrize("version", ["instructor", "student"])
def test_every_page_links_the_index_its_neighbours_and_its_own_headings(built, version):
    out, lessons = built
    for i, name in enumerate(LESSONS):
        page = soup_of(out / version / f"{name}.html")
        assert page.title.get_text() == lessons[name].title
        for nav in page.select("nav.lab3-nav"):  # above and below the lesson
            links = {a.get_text(): a["href"] for a in nav.find_all("a")}
            assert links.pop("all lessons") == "../index.html"
            expected = {}
            if i > 0:
                expected[f"\u2190 {lessons[LESSONS[i - 1]].title}"] = f"{LESSONS[i - 1]}.html"
            if i + 1 < len(LESSONS):
                expected[f"{lessons[LESSONS[i + 1]].title} \u2192"] = f"{LESSONS[i + 1]}.html"
            assert links == expected
        assert len(page.select("nav.lab3-nav")) == 2
        toc = page.select("nav.lab3-toc a")
        headings = page.select(
            ".jp-MarkdownCell h1[id], .jp-MarkdownCell h2[id], .jp-MarkdownCell h3[id]"
        )
        assert len(toc) == len(headings) >= 3
        for link, heading in zip(toc, headings):
            assert link["href"] == "#" + heading["id"]
            assert link.get_text() == heading.get_text().replace("\N{PILCROW SIGN}", "").strip()


@pytest.mark.parametrize("version", ["instructor", "student"])
def test_execution_numbers_count_up_without_gaps(built, version):
    out, _ = built
    for name in LESSONS:
        prompts = soup_of(out / version / f"{name}.html").select(".jp-InputPrompt")
        found = (
            re.fullmatch(r"In\s*\[(\d+)\]:", p.get_text(strip=True).replace("\xa0", " "))
            for p in prompts
        )
        numbers = [int(m.group(1)) for m in found if m]
        assert numbers == list(range(1, len(numbers) + 1)), (version, name, numbers)
        assert numbers, name


# ----------------------------------------------------------------------------------------------
# Nothing of a solution or of the teaching notes reaches a student
# ----------------------------------------------------------------------------------------------


def words(text):
    return re.findall(r"[A-Za-z0-9_]+", text)


def shingles(text, n=SHINGLE):
    w = words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


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
    kept = set().union(*(shingles(cell_text(c)) for c in cells if not tags(c) & HIDDEN))
    return {c.id: shingles(cell_text(c)) - kept for c in cells if tags(c) & HIDDEN}


@pytest.mark.parametrize("name", LESSONS)
def test_no_solution_or_teaching_note_reaches_a_student_file(built, name):
    out, _ = built
    hidden = hidden_shingles(name)
    if name in WITH_EXERCISES:
        assert any(tags(c) & {SOLUTION} for c in source(name).cells)
    for cell_id, runs in hidden.items():
        assert runs, (
            f"{name}: hidden cell {cell_id} has nothing of its own: this test could not see it leak"
        )
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
            assert not leaked, (
                f"{name}: the {what} has words of hidden cell {cell_id}: {sorted(leaked)[:3]}"
            )


# ----------------------------------------------------------------------------------------------
# Offline: no script from the internet
# ----------------------------------------------------------------------------------------------


def remote(url):
    return bool(urlsplit(url.strip()).netloc) or url.strip().lower().startswith(("http:", "https:"))


def test_no_handout_page_loads_anything_from_the_internet(built):
    out, _ = built
    pages = (
        sorted(out.glob("*.html"))
        + sorted(out.glob("instructor/*.html"))
        + sorted(out.glob("student/*.html"))
    )
    assert len(pages) == 1 + 2 * len(LESSONS)
    for page in pages:
        text = page.read_text()
        assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", text, re.I), page
        soup = BeautifulSoup(text, "html.parser")
        for tag, attribute in (
            ("script", "src"),
            ("link", "href"),
            ("img", "src"),
            ("iframe", "src"),
            ("source", "src"),
            ("object", "data"),
        ):
            for element in soup.find_all(tag):
                url = element.get(attribute)
                assert not (url and remote(url)), f"{page.name}: <{tag} {attribute}={url}>"
        for script in soup.find_all("script"):
            assert not re.search(r"https?://", script.get_text()), (
                f"{page.name}: a script names a URL"
            )
            if script.get("src"):  # the local MathJax, next to the page
                assert (page.parent / urlsplit(script["src"]).path).resolve().is_file()
        if page.name != "index.html":
            assert any("MathJax.js" in (s.get("src") or "") for s in soup.find_all("script"))


# ----------------------------------------------------------------------------------------------
# The student's exercises, executed
# ----------------------------------------------------------------------------------------------


def execute(nb, folder, allow_errors=False):
    """Run ``nb`` in a fresh lab3 kernel whose working folder is ``folder`` (the student's)."""
    NotebookClient(
        nb,
        kernel_name="lab3",
        timeout=600,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(folder)}},
    ).execute()
    return nb


WHOLE = {"06_sweep_report"}  # run to the end from the student folder: its paths must resolve there


def with_solutions_appended(nb, name):
    """``nb`` followed by every exercise's solution and the checks after its stub, once more."""
    solutions = [c for c in source(name).cells if SOLUTION in tags(c)]
    stubs = [i for i, c in enumerate(nb.cells) if STUB in tags(c)]
    assert len(stubs) == len(solutions) > 0
    appended = []
    for k, (i, solution) in enumerate(zip(stubs, solutions)):
        defines = lambda text: re.findall(r"^def (\w+)", text, re.M)
        assert defines(nb.cells[i].source) == defines(solution.source)
        appended.append(nbformat.v4.new_code_cell(solution.source))
        end = stubs[k + 1] if k + 1 < len(stubs) else len(nb.cells)
        appended.extend(copy.deepcopy(c) for c in nb.cells[i:end] if CHECK in tags(c))
    return appended


@pytest.mark.slow
@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_in_the_student_notebook_a_stub_fails_kindly_and_the_solution_passes(built, name):
    # One kernel per lesson, in the student folder: the student notebook as handed out (up to
    # its last check), then each solution and its checks again (then, for WHOLE, the rest).
    out, _ = built
    nb = nbformat.read(out / "student" / f"{name}.ipynb", as_version=4)
    last_check = max(i for i, c in enumerate(nb.cells) if CHECK in tags(c))
    rest = nb.cells[last_check + 1 :] if name in WHOLE else []  # may use the student's functions
    nb.cells = nb.cells[: last_check + 1]
    handed_out = len(nb.cells)
    nb.cells += with_solutions_appended(nb, name) + rest  # rest: once the exercises are done
    execute(nb, out / "student", allow_errors=True)
    for cell in nb.cells[:handed_out]:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if CHECK in tags(cell):
            assert len(errors) == 1, cell.source
            assert errors[0].ename == "CheckFailed"
            assert f"is {NOT_DONE}" in errors[0].evalue
            # The notebook shows the message alone: no frame, no line of lab3's source.
            assert [ANSI.sub("", line) for line in errors[0].traceback] == [errors[0].evalue]
            assert not any(o.output_type == "stream" and "correct" in o.text for o in cell.outputs)
        else:
            assert not errors, (cell.source, errors)
    for cell in nb.cells[handed_out:]:
        assert not [o for o in cell.get("outputs", []) if o.output_type == "error"], cell.source
        if CHECK in tags(cell):
            printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
            assert printed.startswith("correct: "), printed


# ----------------------------------------------------------------------------------------------
# A real browser typesets the math, offline
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_headless_chromium_typesets_the_math(built):
    chromium = handouts.find_chromium()
    if chromium is None:
        pytest.skip(
            "no headless Chromium on PATH: install Debian's chromium "
            "(apt-get install chromium; .ci/run does) or set CHROMIUM=/path/to/chrome"
        )
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
    assert "Deriving backpropagation" in shown and "correct: my_leaky_relu_backward" in shown

    png = handouts.screenshot(chromium, page, ARTIFACTS / "01_derivation.png", size=(1280, 1800))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
