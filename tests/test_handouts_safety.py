"""Handouts are safe to build and to open: nothing of a notebook runs in a page, --out deletes
nothing it did not write, bad input is refused before anything is touched.

Builds use copies of the lessons (one or two, for speed) with hostile cells added.
"""

import base64
import hashlib
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from lab3 import handouts
from lab3.handouts import INFRASTRUCTURE, HandoutError
from lab3.handouts.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIRST, SECOND = (p.name for p in handouts.lesson_paths(NOTEBOOKS)[:2])
QUIET = {"log": lambda *args: None}

EVIL_MARKDOWN = """## Hostile markdown
<script>alert("markdown script")</script>
<img src="x.png" onerror="alert('img onerror')">
<a href="javascript:alert('a javascript url')">click me</a>
<iframe src="https://example.org/frame"></iframe>
<div onclick="alert('div onclick')" style="color: red">styled text survives</div>
<svg onload="alert('inline svg')"><script>alert('svg script')</script></svg>
<object data="evil.swf"></object><form action="https://example.org"><input name="x"></form>

and the math still reads $$x^2 < y$$"""
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'svg output\')">'
    '<script>alert("svg output script")</script><rect width="5" height="5"/></svg>'
)
WIDGET = {"model_id": "abc", "version_major": 2, "version_minor": 0}


def hostile_cells():
    code = nbformat.v4.new_code_cell("show()", execution_count=99)
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": '<b onmouseover="alert(1)">bold output</b>'
                '<script>alert("html output")</script>',
                "text/plain": "<b>",
            },
        ),
        nbformat.v4.new_output(
            "display_data", data={"application/javascript": "alert('js output')"}
        ),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG}),
        nbformat.v4.new_output(
            "display_data", data={"text/markdown": "[md link](javascript:alert(3))"}
        ),
        nbformat.v4.new_output(
            "display_data", data={"text/vnd.mermaid": "<script>alert('mermaid')</script>"}
        ),
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": WIDGET,
                "text/plain": "interactive(children=(FloatSlider(value=0.1),))",
            },
        ),
    ]
    raw = nbformat.v4.new_raw_cell(
        "<script>alert('raw cell')</script><p onclick='alert(5)'>raw</p>"
    )
    raw.metadata["raw_mimetype"] = "text/html"
    infra = nbformat.v4.new_code_cell(
        "save_metrics(results_path)  # infrastructure", execution_count=100
    )
    infra.metadata["tags"] = [INFRASTRUCTURE]
    return [nbformat.v4.new_markdown_cell(EVIL_MARKDOWN), code, raw, infra]


def copy_lessons(folder, names=(FIRST,), hostile=False):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        if hostile:
            nb.cells.extend(hostile_cells())
            nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
            nb.metadata["papermill"] = {"parameters": {"secret": 1}}
            nb.cells[0].metadata.update(
                {"collapsed": True, "editable": False, "execution": {"x": 1}}
            )
        nbformat.write(nb, folder / name)
    return folder


def tiny_lessons(folder, names=("01_tiny.ipynb", "02_tiny.ipynb")):
    """Small executed lessons with one exercise each: what --out does does not need real ones."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        cells = [
            nbformat.v4.new_markdown_cell(f"# {name}"),
            nbformat.v4.new_code_cell("x = 1\nprint(x)", execution_count=1),
            nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError", execution_count=2),
            nbformat.v4.new_code_cell("def f():\n    return 1", execution_count=3),
        ]
        cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
        cells[2].metadata["tags"], cells[3].metadata["tags"] = ["stub"], ["solution"]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / name)
    return folder


def pages(out):
    return sorted(out.rglob("*.html"))


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    notebooks = copy_lessons(root / "notebooks", (FIRST, SECOND), hostile=True)
    handouts.build(notebooks, root / "out", **QUIET)
    return root / "out"


def test_nothing_of_a_notebook_can_run_in_a_page(hostile_build):
    assert len(pages(hostile_build)) == 5
    for page in pages(hostile_build):
        text = page.read_text()
        assert (
            "onerror" not in text and "<script>alert" not in text and "javascript:" not in text
        ), page
        soup = BeautifulSoup(text, "html.parser")
        for element in soup.find_all(True):
            assert not [a for a in element.attrs if a.lower().startswith("on")], (
                page.name,
                element.name,
            )
        assert not soup.find_all(["iframe", "object", "embed", "form", "svg"]), page.name
        for script in soup.find_all("script"):  # only the handouts' own MathJax and its config
            assert script.get("type") == "text/x-mathjax-config" or script["src"].endswith(
                f"MathJax.js?config={handouts.MATHJAX_CONFIG}"
            ), (page.name, script)
            assert "alert" not in script.get_text()
        for image in soup.find_all("img"):
            if image["src"].startswith("data:image/svg+xml;base64,"):  # an image never runs script
                assert b"<svg" in base64.b64decode(image["src"].split(",", 1)[1])


def test_what_is_not_dangerous_survives_and_the_math_is_left_for_mathjax(hostile_build):
    soup = BeautifulSoup(
        (hostile_build / "instructor" / FIRST.replace(".ipynb", ".html")).read_text(), "html.parser"
    )
    shown = soup.get_text(" ")
    for kept in (
        "Hostile markdown",
        "styled text survives",
        "click me",
        "bold output",
        "$$x^2 < y$$",
    ):
        assert kept in shown
    assert soup.find("div", style="color: red;") is not None  # sanitised CSS, kept
    assert "alert('mermaid')" in shown  # a mermaid source is shown as text, not run


def test_widgets_leave_no_dead_output_and_no_state(hostile_build):
    for page in pages(hostile_build):
        text = page.read_text()
        assert "interactive(children" not in text and "jupyter-widgets" not in text
        assert "widget-state" not in text and "widget-view" not in text
    student = nbformat.read(hostile_build / "student" / FIRST, as_version=4)
    assert set(student.metadata) <= {"kernelspec", "language_info"}
    assert all(set(c.metadata) <= {"tags"} for c in student.cells)


def test_infrastructure_cells_are_for_the_instructor_only(hostile_build):
    name = FIRST.replace(".ipynb", ".html")
    assert "save_metrics" in (hostile_build / "instructor" / name).read_text()
    assert "save_metrics" not in (hostile_build / "student" / name).read_text()
    assert "save_metrics" not in (hostile_build / "student" / FIRST).read_text()


def test_sanitize_html_is_public_and_keeps_structure():
    clean = handouts.sanitize_html(
        '<h2 id="a">T</h2><table><tr><td onclick="x()">1</td></tr></table>'
        '<a href="data:text/html,hi">d</a><img src="data:image/png;base64,AA==">'
    )
    assert clean == (
        '<h2 id="a">T</h2><table><tbody><tr><td>1</td></tr></tbody></table>'
        '<a>d</a><img src="data:image/png;base64,AA==">'
    )


# ----------------------------------------------------------------------------------------------
# --out: nothing that a build did not write is deleted
# ----------------------------------------------------------------------------------------------


def snapshot(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_foreign_file_in_out_survives_a_build_and_what_was_built_is_replaced(tmp_path):
    notebooks = tiny_lessons(tmp_path / "notebooks", (FIRST, SECOND))
    out = tmp_path / "out"
    (out / "student").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "student" / "my_work.ipynb").write_text("{}")
    handouts.build(notebooks, out, **QUIET)
    (notebooks / SECOND).unlink()  # a lesson gone: its pages go too, nothing else
    handouts.build(notebooks, out, **QUIET)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "student" / "my_work.ipynb").read_text() == "{}"
    assert (out / "student" / FIRST).is_file() and not (out / "student" / SECOND).exists()
    assert not list(out.glob(".lab3-build-*"))


def test_a_build_that_would_overwrite_a_changed_or_foreign_file_touches_nothing(tmp_path):
    notebooks = tiny_lessons(tmp_path / "notebooks", (FIRST,))
    out = tmp_path / "out"
    handouts.build(notebooks, out, **QUIET)
    work = out / "student" / FIRST
    work.write_text(work.read_text().replace("raise NotImplementedError", "return 0  # my answer"))
    before = snapshot(out)
    with pytest.raises(HandoutError, match=f"changed since the last build.*{FIRST}"):
        handouts.build(notebooks, out, **QUIET)
    assert snapshot(out) == before

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "index.html").write_text("my own index")
    with pytest.raises(HandoutError, match="not written by a handouts build.*index.html"):
        handouts.build(notebooks, fresh, **QUIET)
    assert [p.name for p in fresh.iterdir()] == ["index.html"]


# ----------------------------------------------------------------------------------------------
# Input checked first
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag, meant",
    [
        ("Solution", "solution"),
        ("solutions", "solution"),
        ("instructor_only", "instructor-only"),
        ("checks", "check"),
        ("infrastucture", "infrastructure"),
    ],
)
def test_a_near_miss_tag_is_refused_with_what_was_meant(tmp_path, tag, meant):
    notebooks = copy_lessons(tmp_path / "notebooks")
    nb = nbformat.read(notebooks / FIRST, as_version=4)
    nb.cells[1].metadata["tags"] = [tag]
    nbformat.write(nb, notebooks / FIRST)
    with pytest.raises(HandoutError, match=f"tagged '{tag}'.*did you mean '{meant}'"):
        handouts.build(notebooks, tmp_path / "out", **QUIET)
    assert not (tmp_path / "out").exists()


def test_other_tags_are_fine():
    for tag in ("parameters", "nbval-ignore-output", "hide-input", "raises-exception", "check"):
        assert handouts.near_miss(tag) is None


def test_bad_input_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--notebooks", str(tmp_path / "missing"), "--out", str(out)]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["--notebooks", str(tmp_path / "empty"), "--out", str(out)]) == 2
    unexecuted = copy_lessons(tmp_path / "unexecuted")
    nb = nbformat.read(unexecuted / FIRST, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nbformat.write(nb, unexecuted / FIRST)
    assert main(["--notebooks", str(unexecuted), "--out", str(out)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors[0] == f"handouts: error: --notebooks {tmp_path / 'missing'} is not a folder"
    assert (
        errors[1] == f"handouts: error: --notebooks {tmp_path / 'empty'} has no lesson notebooks "
        "(NN_name.ipynb)"
    )
    assert errors[2].startswith(
        f"handouts: error: {unexecuted / FIRST} has no outputs: run `make notebooks`"
    )
    assert len(errors) == 3 and not out.exists()


def test_the_library_raises_its_own_error_not_systemexit(tmp_path):
    with pytest.raises(HandoutError):
        handouts.build(tmp_path / "missing", tmp_path / "out", **QUIET)
    assert not issubclass(HandoutError, SystemExit)
