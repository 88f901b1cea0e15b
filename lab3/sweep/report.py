"""The sweep report: notebook 06's report cells executed on a sweep's records, then offline HTML.

``write_report(sweep_dir)`` takes ``notebooks/06_sweep_report.ipynb`` without the cells that only
belong to the lesson (``REPORT_DROPS``: the exercises, teaching notes and the cells that read the
default sweep, tagged ``lesson-only``), so those cells never execute on another sweep's records.
papermill runs what is left (parameter ``sweep_dir``) into ``<sweep_dir>/report.ipynb``, and the
handouts' exporter (``lab3.handouts.html_exporter``: nbconvert's lab template made offline, no
script from the internet) turns it into ``report.html``, titled with the sweep's name, code hidden
(it is in ``report.ipynb``). Its math is typeset by the MathJax copy in ``<runs dir>/mathjax/``
(from ``lab3.handouts.mathjax_source``), so keep the runs folder together when moving it.
"""

import os
import shutil
from pathlib import Path

from lab3.sweep.spec import LAB3_PROJECT as ROOT

REPORT_NOTEBOOK = ROOT / "notebooks" / "06_sweep_report.ipynb"
# The default sweep's records, as `python -m lab3.sweep sweeps/default.yaml` writes them: what
# notebook 06 shows when it is given no sweep folder (tests/test_sweep_report.py re-trains them).
EXAMPLE_RECORDS = Path(__file__).resolve().parent / "data" / "default.results.jsonl"
REPORT_DROPS = ("stub", "solution", "check", "instructor-only", "infrastructure", "lesson-only")
MATHJAX_DIR = "mathjax"


def write_report(sweep_dir, notebook=REPORT_NOTEBOOK, kernel_name="lab3", force=False):
    """Execute the report notebook on a sweep: ``<sweep_dir>/report.ipynb`` and ``report.html``.

    Nothing is done when ``report.html`` is newer than ``results.jsonl`` and the notebook (a
    rerun sweep that ran nothing leaves ``results.jsonl`` untouched), unless ``force``. Returns
    the HTML's path.
    """
    import papermill

    from lab3.files import current_umask

    sweep_dir = Path(sweep_dir).resolve()
    html = sweep_dir / "report.html"
    sources = [sweep_dir / "results.jsonl", Path(notebook)]
    if (
        not force
        and html.exists()
        and all(html.stat().st_mtime >= p.stat().st_mtime for p in sources)
    ):
        return html
    from lab3.sweep.execute import logging_kernel_manager

    with open(sweep_dir / "report.kernel.log", "ab") as log:  # the kernel's own chatter
        executed = papermill.execute_notebook(
            report_cells(notebook),
            str(sweep_dir / "report.ipynb"),
            parameters={"sweep_dir": str(sweep_dir)},
            kernel_name=kernel_name,
            progress_bar=False,
            cwd=str(Path(notebook).parent),
            kernel_manager_class=logging_kernel_manager(log),
        )
    os.chmod(sweep_dir / "report.ipynb", 0o666 & ~current_umask())
    write_html(executed, html, title=sweep_dir.name, mathjax_url=f"../{MATHJAX_DIR}/MathJax.js")
    copy_mathjax(sweep_dir.parent / MATHJAX_DIR)
    return html


def report_cells(notebook=REPORT_NOTEBOOK):
    """The report notebook (a NotebookNode): ``notebook`` without its cells tagged
    ``REPORT_DROPS``. What is left reads any sweep's records, whatever its grid."""
    import nbformat

    lesson = nbformat.read(str(notebook), as_version=4)
    lesson.cells = [
        cell for cell in lesson.cells if not set(cell.metadata.get("tags", [])) & set(REPORT_DROPS)
    ]
    return lesson


def report_exporter(mathjax_url):
    """The handouts' offline HTML exporter, configured for a report: code and prompts hidden.

    A thin wrapper: ``lab3.handouts.html_exporter`` does the work (offline template, MathJax
    from ``mathjax_url``); the report only adds ``exclude_input``.
    """
    from lab3.handouts import html_exporter

    exporter = html_exporter(mathjax_url=mathjax_url)
    exporter.exclude_input = True  # the code is in report.ipynb
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def write_html(notebook, html, title, mathjax_url):
    """``notebook`` (a NotebookNode) as offline HTML in ``html``, titled ``title``."""
    from lab3.files import atomic_write

    body, _ = report_exporter(mathjax_url).from_notebook_node(
        notebook, resources={"metadata": {"name": title}}
    )
    atomic_write(html, lambda handle: handle.write(body))  # mode: 0666 minus the umask


def copy_mathjax(target):
    """Copy MathJax (``lab3.handouts.mathjax_source``) to ``target`` unless it is there."""
    from lab3.handouts import mathjax_source

    target = Path(target)
    if not (target / "MathJax.js").is_file():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(mathjax_source(), target)
    return target


def sweep_folder(sweep_dir=""):
    """The folder (or results.jsonl) notebook 06 reads: ``sweep_dir`` resolved, or the shipped
    example when it is empty. Relative paths are tried from the working directory, then from the
    project root, so the notebook runs from ``notebooks/`` and from anywhere else."""
    if not sweep_dir:
        return EXAMPLE_RECORDS
    path = Path(sweep_dir).expanduser()
    if path.is_absolute() or path.exists():
        return path.resolve()
    return (ROOT / path).resolve()
