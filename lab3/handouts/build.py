"""Building the handouts: every lesson in an instructor and a student version, and an index.

Everything is checked before anything is written (the lessons, their tags, MathJax, Chromium for
PDF, what is already in the output folder); the pages are built in a temporary folder inside
``out`` and swapped in by ``lab3.handouts.swap``, which never deletes a file it did not write.
"""

import dataclasses
import shutil
import tempfile
from pathlib import Path

import jinja2

from lab3.handouts import chromium as browser
from lab3.handouts.cells import (
    ANSWER_OUTPUT,
    CHECK,
    INSTRUCTOR_DROPS,
    STUB,
    STUDENT_DROPS,
    HandoutError,
    read_lessons,
    tags,
    title,
)
from lab3.handouts.html import (
    MATHJAX_DIR,
    TEMPLATES,
    html_exporter,
    mathjax_source,
    student_notebook_exporter,
)
from lab3.handouts.swap import validate_out, files_under, swap_in


@dataclasses.dataclass
class Lesson:
    """One lesson's handout files, as paths relative to the output folder."""

    name: str  # e.g. "01_derivation"
    title: str  # the notebook's first heading, as plain text
    exercises: int  # number of `stub` cells
    instructor_html: str
    student_ipynb: str
    student_html: str
    instructor_pdf: str = ""
    student_pdf: str = ""


def plan(lessons, pdf, mathjax):
    """The files a build writes, relative to ``out``."""
    files = ["index.html"] + [f"{MATHJAX_DIR}/{rel}" for rel in files_under(mathjax)]
    for lesson in lessons:
        files += [lesson.instructor_html, lesson.student_html, lesson.student_ipynb]
        if pdf:
            files += [lesson.instructor_html[:-5] + ".pdf", lesson.student_html[:-5] + ".pdf"]
    return files


def build(notebooks_dir, out, pdf=False, chromium=None, log=print):
    """Write the handouts of every lesson in ``notebooks_dir`` to ``out``; return the ``Lesson``s.

    Raises ``HandoutError`` (and writes nothing) when a lesson is unreadable, unexecuted or has
    a near-miss tag, when ``pdf`` is asked for and no Chromium is found, or when ``out`` holds a
    file the build would overwrite that an earlier build did not write.
    """
    out = Path(out)
    notebooks = read_lessons(notebooks_dir)
    if pdf:
        chromium = chromium or browser.find_chromium()
        if chromium is None:
            raise HandoutError(browser.NO_CHROMIUM.format(names=", ".join(browser.CHROMIUM_NAMES)))
    mathjax = mathjax_source()
    lessons = [
        Lesson(
            name=path.stem,
            title=title(nb, default=path.stem),
            exercises=sum(STUB in tags(c) for c in nb.cells),
            instructor_html=f"instructor/{path.stem}.html",
            student_ipynb=f"student/{path.stem}.ipynb",
            student_html=f"student/{path.stem}.html",
        )
        for path, nb in notebooks
    ]
    ours = validate_out(out, plan(lessons, pdf, mathjax))

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".lab3-build-", dir=out) as staging:
        staging = Path(staging)
        shutil.copytree(mathjax, staging / MATHJAX_DIR)
        write_lessons(notebooks, lessons, staging, log)
        if pdf:
            for lesson in lessons:
                for page in ("instructor", "student"):
                    html = getattr(lesson, f"{page}_html")
                    target = html[: -len(".html")] + ".pdf"
                    browser.print_pdf(chromium, staging / html, staging / target)
                    setattr(lesson, f"{page}_pdf", target)
                log(f"handouts: {lesson.name}: printed to PDF")
        write_index(staging, lessons)
        swap_in(staging, out, ours)
    log(f"handouts: {len(lessons)} lessons -> {out / 'index.html'}")
    return lessons


def write_lessons(notebooks, lessons, staging, log):
    """Both versions of every lesson into ``staging``, each page linking its neighbours."""
    instructor = html_exporter(drop_cells=INSTRUCTOR_DROPS)
    student = html_exporter(drop_cells=STUDENT_DROPS, empty_outputs=(STUB, CHECK, ANSWER_OUTPUT))
    student_nb = student_notebook_exporter()
    for i, ((path, nb), lesson) in enumerate(zip(notebooks, lessons)):
        prev = lessons[i - 1] if i > 0 else None
        after = lessons[i + 1] if i + 1 < len(lessons) else None
        nav = {
            "index": "../index.html",
            "prev": (f"{prev.name}.html", prev.title) if prev else None,
            "next": (f"{after.name}.html", after.title) if after else None,
        }
        resources = {"metadata": {"name": lesson.title, "path": str(path.parent)}, "lab3_nav": nav}
        for exporter, target in (
            (instructor, lesson.instructor_html),
            (student, lesson.student_html),
            (student_nb, lesson.student_ipynb),
        ):
            body, _ = exporter.from_notebook_node(nb, resources={**resources})
            (staging / target).parent.mkdir(parents=True, exist_ok=True)
            (staging / target).write_text(body, encoding="utf-8")
        log(f"handouts: {lesson.name}: instructor and student versions")


def write_index(out, lessons, title_text="lab3 · classroom handouts"):
    """``out/index.html``: a table of the lessons' titles linking both versions."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    html = env.get_template("index.html.j2").render(title=title_text, lessons=lessons)
    (Path(out) / "index.html").write_text(html, encoding="utf-8")
