"""Classroom handouts from the lessons: instructor and student versions, offline HTML, PDF.

``python -m lab3.handouts [--out handouts] [--pdf]`` (``make handouts``, ``make handouts-pdf``)
writes::

    handouts/index.html             every lesson's title, linking both versions
    handouts/instructor/NN_x.html   the whole lesson with its outputs, solutions and teaching notes
    handouts/student/NN_x.ipynb     the notebook to work in: solutions and notes gone, no outputs
    handouts/student/NN_x.html      the same lesson to read, with the lesson's outputs; the
                                    exercise cells are empty
    handouts/mathjax/               MathJax 2.7, copied from the jupyter-server-mathjax package
    handouts/*/NN_x.pdf             with --pdf: the HTML printed by a headless Chromium

Exercises are cells told apart by tags: ``solution`` (the instructor's code), ``stub`` (the
student's prompt and skeleton), ``check`` (verifies the answer, see ``lab3.exercises``) and
``instructor-only`` (teaching notes). Everything is done by nbconvert's exporters and
preprocessors, configured here: ``TagRemovePreprocessor`` drops cells by tag (and empties the
outputs of stubs and checks in the student HTML), ``ClearOutputPreprocessor`` clears the student
notebook, and the HTML uses the template ``lab3/templates/lab3_handout``, which extends
nbconvert's ``lab`` template so that a page loads no script from the internet.

The instructor pages show the outputs committed in ``notebooks/``: those are only ever produced
by ``make notebooks`` and ``make test`` (nbval) checks that a fresh run prints the same, so
nothing is executed here and a build takes seconds.

This module is the only one in lab3 that imports nbconvert; lab3's core does not import it.
"""

import argparse
import dataclasses
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter, NotebookExporter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "lab3_handout"

SOLUTION, STUB, CHECK, INSTRUCTOR_ONLY = "solution", "stub", "check", "instructor-only"
EXERCISE_TAGS = (SOLUTION, STUB, CHECK, INSTRUCTOR_ONLY)
STUDENT_DROPS = (SOLUTION, INSTRUCTOR_ONLY)  # cells, with their outputs, gone from student files
INSTRUCTOR_DROPS = (STUB,)  # the instructor's page shows the solution in the stub's place

MATHJAX_DIR = "mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # the combined config the package bundles

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROMIUM_MAC = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
# Headless, a throw-away profile and no network at all (every host name fails to resolve): a page
# that typesets here typesets in a classroom without network. --no-sandbox: Chromium refuses to
# run as root (containers, CI) with its sandbox; it only ever opens our own local pages.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                  "--host-resolver-rules=MAP * ~NOTFOUND")
MATH_TIME_MS = 20000  # virtual time for MathJax to typeset a page before it is dumped or printed
NO_CHROMIUM = """\
No headless Chromium was found, so no PDF was printed.
Looked for {names} on PATH and for the $CHROMIUM variable. Install one of:
  Debian/Ubuntu:  sudo apt-get install chromium      (Ubuntu 20.04+: the chromium snap, or Google Chrome)
  Fedora:         sudo dnf install chromium
  macOS:          brew install --cask chromium        (or Google Chrome)
or point CHROMIUM at a Chrome/Chromium binary:  make handouts-pdf CHROMIUM=/path/to/chrome
The HTML handouts need no browser to build (make handouts); any browser can print them too."""


@dataclasses.dataclass
class Lesson:
    """One lesson's handout files, as paths relative to the output folder."""

    name: str  # e.g. "01_derivation"
    title: str  # the notebook's first heading
    exercises: int  # number of `stub` cells
    instructor_html: str
    student_ipynb: str
    student_html: str
    instructor_pdf: str = ""
    student_pdf: str = ""


# ----------------------------------------------------------------------------------------------
# Reading the lessons
# ----------------------------------------------------------------------------------------------


def lesson_paths(notebooks_dir):
    """The lessons, ``notebooks_dir/[0-9]*.ipynb`` in order (as the Makefile lists them)."""
    return sorted(Path(notebooks_dir).glob("[0-9]*.ipynb"))


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def title(nb, default=""):
    """The text of the notebook's first markdown heading (``# 1 · Deriving ...`` -> ``1 · ...``)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip()
    return default


def _check_executed(path, nb):
    """Refuse a lesson whose code cells carry no output at all: it was cleared, not executed."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and not any(c.get("outputs") for c in code):
        raise SystemExit(f"{path} has no outputs: run `make notebooks` first (the instructor "
                         "handout shows the committed outputs)")


# ----------------------------------------------------------------------------------------------
# The exporters: nbconvert, configured
# ----------------------------------------------------------------------------------------------


def html_exporter(drop_cells, empty_outputs=(), mathjax_url=f"../{MATHJAX_DIR}/MathJax.js"):
    """An ``HTMLExporter`` with lab3's offline template, dropping cells tagged ``drop_cells``.

    Cells tagged ``empty_outputs`` keep their code but lose their outputs. ``mathjax_url`` is
    relative to the page (the config name is appended).
    """
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(drop_cells)
    c.TagRemovePreprocessor.remove_all_outputs_tags = set(empty_outputs)
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.HTMLExporter.template_name = TEMPLATE_NAME
    c.HTMLExporter.mathjax_url = f"{mathjax_url}?config={MATHJAX_CONFIG}"
    # Not used by the template, which loads none of them; set anyway so nothing points to a CDN.
    c.HTMLExporter.require_js_url = ""
    c.HTMLExporter.jupyter_widgets_base_url = ""
    return HTMLExporter(config=c)


def student_notebook_exporter():
    """A ``NotebookExporter`` that drops solution and instructor-only cells and clears outputs.

    nbconvert enables ``TagRemovePreprocessor`` by default for HTML but not for notebooks, so it
    is enabled here; ``ClearOutputPreprocessor`` empties every output and execution count (the
    student runs the notebook).
    """
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(STUDENT_DROPS)
    c.ClearOutputPreprocessor.enabled = True
    return NotebookExporter(config=c)


def mathjax_source():
    """The MathJax 2.7 files of the ``jupyter-server-mathjax`` package (not imported: found)."""
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the handouts need the jupyter-server-mathjax package for offline math: "
                         "run `make setup` (it is in requirements.txt)")
    static = Path(list(spec.submodule_search_locations)[0]) / "static"
    if not (static / "MathJax.js").is_file():
        raise SystemExit(f"{static / 'MathJax.js'} is missing: reinstall jupyter-server-mathjax")
    return static


# ----------------------------------------------------------------------------------------------
# Building
# ----------------------------------------------------------------------------------------------


def build(notebooks_dir=ROOT / "notebooks", out=ROOT / "handouts", pdf=False, chromium=None,
          log=print):
    """Write the handouts of every lesson in ``notebooks_dir`` to ``out``; return the ``Lesson``s.

    ``instructor/``, ``student/`` and ``mathjax/`` under ``out`` are replaced. With ``pdf``, every
    page is also printed to PDF with ``chromium`` (default: ``find_chromium()``).
    """
    out = Path(out)
    if pdf:
        chromium = chromium or find_chromium()
        if chromium is None:
            raise SystemExit(NO_CHROMIUM.format(names=", ".join(CHROMIUM_NAMES)))
    instructor_dir, student_dir = out / "instructor", out / "student"
    for folder in (instructor_dir, student_dir, out / MATHJAX_DIR):
        shutil.rmtree(folder, ignore_errors=True)
    instructor_dir.mkdir(parents=True)
    student_dir.mkdir(parents=True)
    shutil.copytree(mathjax_source(), out / MATHJAX_DIR)

    instructor = html_exporter(drop_cells=INSTRUCTOR_DROPS)
    student = html_exporter(drop_cells=STUDENT_DROPS, empty_outputs=(STUB, CHECK))
    student_nb = student_notebook_exporter()
    lessons = []
    for path in lesson_paths(notebooks_dir):
        nb = nbformat.read(path, as_version=4)
        _check_executed(path, nb)
        name = path.stem
        lesson = Lesson(name=name, title=title(nb, default=name),
                        exercises=sum(STUB in tags(c) for c in nb.cells),
                        instructor_html=f"instructor/{name}.html",
                        student_ipynb=f"student/{name}.ipynb", student_html=f"student/{name}.html")
        resources = {"metadata": {"name": lesson.title, "path": str(path.parent)}}
        for exporter, target in ((instructor, lesson.instructor_html),
                                 (student, lesson.student_html),
                                 (student_nb, lesson.student_ipynb)):
            body, _ = exporter.from_notebook_node(nb, resources={**resources})
            (out / target).write_text(body, encoding="utf-8")
        lessons.append(lesson)
        log(f"handouts: {name}: instructor and student versions")

    if pdf:
        for lesson in lessons:
            for page in ("instructor", "student"):
                html = getattr(lesson, f"{page}_html")
                target = html[:-len(".html")] + ".pdf"
                print_pdf(chromium, out / html, out / target)
                setattr(lesson, f"{page}_pdf", target)
            log(f"handouts: {lesson.name}: printed to PDF")
    write_index(out, lessons)
    log(f"handouts: {len(lessons)} lessons -> {out / 'index.html'}")
    return lessons


def write_index(out, lessons, title_text="lab3 · classroom handouts"):
    """``out/index.html``: a table of the lessons' titles linking both versions."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    html = env.get_template("index.html.j2").render(title=title_text, lessons=lessons)
    (Path(out) / "index.html").write_text(html, encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# Headless Chromium: PDF, DOM after scripts ran, screenshot
# ----------------------------------------------------------------------------------------------


def find_chromium():
    """A Chromium or Chrome binary: ``$CHROMIUM``, else the first of ``CHROMIUM_NAMES`` on PATH."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"]) or os.environ["CHROMIUM"]
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    return CHROMIUM_MAC if os.path.isfile(CHROMIUM_MAC) else None


def run_chromium(chromium, page, *args, timeout=180):
    """Run headless ``chromium`` on the local file ``page`` with ``args``; return its stdout.

    Each run gets a fresh profile in a temporary folder, removed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="lab3-chromium-") as profile:
        command = [str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args,
                   Path(page).resolve().as_uri()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{chromium} failed (exit {done.returncode}) on {page}:\n{done.stderr[-2000:]}")
    return done.stdout


def print_pdf(chromium, page, pdf):
    """Print the HTML ``page`` to ``pdf`` once MathJax has typeset it."""
    pdf = Path(pdf).resolve()
    pdf.unlink(missing_ok=True)
    run_chromium(chromium, page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                 f"--virtual-time-budget={MATH_TIME_MS}")
    if not pdf.is_file():
        raise RuntimeError(f"{chromium} printed no {pdf}")


def dump_dom(chromium, page):
    """The page's DOM as HTML after its scripts (MathJax) ran."""
    return run_chromium(chromium, page, "--dump-dom", f"--virtual-time-budget={MATH_TIME_MS}")


def screenshot(chromium, page, png, size=(1280, 2400)):
    """A PNG of the top ``size`` pixels of the page, once MathJax has typeset it."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    run_chromium(chromium, page, f"--screenshot={png}", f"--window-size={size[0]},{size[1]}",
                 f"--virtual-time-budget={MATH_TIME_MS}")
    if not png.is_file():
        raise RuntimeError(f"{chromium} wrote no screenshot {png}")
    return png


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m lab3.handouts",
        description="Build the classroom handouts: instructor and student versions of every "
                    "lesson, as offline HTML (and, with --pdf, PDF), with an index.")
    parser.add_argument("--out", default="handouts", help="output folder (default: handouts)")
    parser.add_argument("--notebooks", default=str(ROOT / "notebooks"),
                        help="folder of the lessons (default: the repository's notebooks/)")
    parser.add_argument("--pdf", action="store_true",
                        help="also print every page to PDF with a headless Chromium")
    args = parser.parse_args(argv)
    build(args.notebooks, args.out, pdf=args.pdf)


if __name__ == "__main__":
    sys.exit(main())
