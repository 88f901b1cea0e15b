"""Classroom handouts from the lessons: instructor and student versions, HTML, PDF, nbgrader.

``python -m lab3.handouts [--notebooks notebooks] [--out handouts] [--pdf]`` (``make handouts``,
``make handouts-pdf``) writes::

    handouts/index.html             every lesson's title, linking both versions
    handouts/instructor/NN_x.html   the whole lesson with its outputs, solutions and teaching notes
    handouts/student/NN_x.ipynb     the notebook to work in: solutions, notes and infrastructure
                                    gone, no outputs, no metadata beyond what Jupyter needs
    handouts/student/NN_x.html      the same lesson to read, with the lesson's outputs; the
                                    exercise cells are empty
    handouts/mathjax/               MathJax 2.7, copied from the jupyter-server-mathjax package
    handouts/*/NN_x.pdf             with --pdf: the HTML printed by a headless Chromium

``python -m lab3.handouts --nbgrader [--out handouts/nbgrader]`` (``make handouts-nbgrader``)
writes an nbgrader course root instead (see ``lab3.handouts.nbgrader``).

Cells are told apart by tags (``lab3.handouts.cells``): ``solution``, ``stub``, ``check`` (see
``lab3.exercises``), ``instructor-only`` (teaching notes) and ``infrastructure`` (e.g. writing a
run's metrics: not for students). The modules, one job each:

* ``cells``: tags, reading and checking a lesson, the preprocessors (widgets, renumbering,
  student metadata), ``HandoutError``;
* ``html``: the offline, sanitised ``html_exporter`` (also used for the sweep's report),
  ``sanitize_html``, ``mathjax_source``;
* ``build``: the two versions of every lesson and the index; ``swap``: writing them into
  ``--out`` without deleting anything the build did not write;
* ``chromium``: PDF, DOM and screenshots by a headless Chromium; ``nbgrader``: the course root.
* ``hub`` (a package, ``make classroom``): the course root served on a local JupyterHub with
  nbgrader's exchange, one Unix user per person (docs/classroom.md).

The instructor pages show the outputs committed in ``notebooks/``, which ``make test`` (nbval)
checks against a fresh run, so nothing is executed here and a build takes seconds. lab3's core
does not import this package (nbconvert).
"""

from lab3.handouts.build import Lesson, build, write_index
from lab3.handouts.cells import (
    CHECK,
    EXERCISE_TAGS,
    INFRASTRUCTURE,
    INSTRUCTOR_DROPS,
    INSTRUCTOR_ONLY,
    KNOWN_TAGS,
    SOLUTION,
    STUB,
    STUDENT_DROPS,
    HandoutError,
    lesson_paths,
    near_miss,
    read_lesson,
    tags,
    title,
)
from lab3.handouts.chromium import dump_dom, find_chromium, print_pdf, screenshot
from lab3.handouts.html import (
    MATHJAX_CONFIG,
    MATHJAX_DIR,
    html_exporter,
    mathjax_source,
    sanitize_html,
    student_notebook_exporter,
)

__all__ = [
    "CHECK",
    "EXERCISE_TAGS",
    "INFRASTRUCTURE",
    "INSTRUCTOR_DROPS",
    "INSTRUCTOR_ONLY",
    "KNOWN_TAGS",
    "MATHJAX_CONFIG",
    "MATHJAX_DIR",
    "SOLUTION",
    "STUB",
    "STUDENT_DROPS",
    "HandoutError",
    "Lesson",
    "build",
    "dump_dom",
    "find_chromium",
    "html_exporter",
    "lesson_paths",
    "mathjax_source",
    "near_miss",
    "print_pdf",
    "read_lesson",
    "sanitize_html",
    "screenshot",
    "student_notebook_exporter",
    "tags",
    "title",
    "write_index",
]
