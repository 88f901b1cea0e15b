"""Offline, sanitised HTML pages: nbconvert's HTMLExporter with lab3's template and filters.

``html_exporter(...)`` is what the handouts and the sweep's report use: nbconvert's ``lab``
template made to load nothing from the internet (MathJax from a copy next to the pages), with
every piece of HTML that comes from a notebook (markdown, HTML and SVG outputs, raw cells) passed
through ``sanitize_html``, JavaScript and widget outputs left out, and a navigation bar and table
of contents when the resources carry them (``resources["lab3_nav"]``).
"""

import importlib.util
from pathlib import Path

import bleach
from bleach.css_sanitizer import CSSSanitizer
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter, NotebookExporter
from nbconvert.filters import markdown2html
from nbconvert.preprocessors import Preprocessor
from traitlets.config import Config

from lab3.handouts.cells import (
    STUDENT_DROPS,
    DropWidgets,
    HandoutError,
    RenumberExecution,
    StudentMetadata,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_NAME = "lab3_handout"
MATHJAX_DIR = "mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # the combined config the package bundles

# What a lesson's own HTML may use: text structure, tables, images, links. Everything that can
# run code (script, event handlers, javascript: URLs, iframes, objects, forms) is not on the list.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "var",
    }
)
ALLOWED_ATTRIBUTES = {
    "*": ["class", "id", "title", "style", "align", "lang", "dir"],
    "a": ["href", "name", "rel"],
    "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan", "scope"],
    "ol": ["start", "type"],
    "table": ["border"],
    "col": ["span"],
    "details": ["open"],
}
ALLOWED_PROTOCOLS = ("http", "https", "mailto", "data")  # data: only for images, see _attribute
DROPPED_WHOLE = (
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "template",
    "noscript",
    "form",
    "link",
    "meta",
    "base",
    "svg",
    "math",
)
_CSS = CSSSanitizer()


def _attribute(tag, name, value):
    """bleach's attribute filter: the allowlist above, and ``data:`` URLs only as image sources."""
    allowed = ALLOWED_ATTRIBUTES.get(tag, []) + ALLOWED_ATTRIBUTES["*"]
    if name not in allowed:
        return False
    if value.strip().lower().startswith("data:"):
        return tag == "img" and name == "src" and value.strip().lower().startswith("data:image/")
    return True


def sanitize_html(html):
    """``html`` (a fragment) with nothing left that runs: no script, ``on*`` handler,
    ``javascript:`` URL, iframe, object or form; text structure, tables, images and links stay.

    Elements that only ever carry code or foreign documents (script, style, iframe, ...) go with
    their content; other unknown tags are stripped to their text (bleach, html5lib's parser).
    """
    soup = BeautifulSoup(str(html), "html.parser")
    for element in soup.find_all(DROPPED_WHOLE):
        element.decompose()
    return bleach.clean(
        str(soup),
        tags=ALLOWED_TAGS,
        attributes=_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        css_sanitizer=_CSS,
    )


class TableOfContents(Preprocessor):
    """``resources["lab3_toc"]``: ``[(level, text, anchor)]`` of the markdown headings (levels
    1-3) of the cells that are left, with the anchors nbconvert gives them."""

    def preprocess(self, nb, resources):
        toc = []
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for line in cell.source.splitlines():
                if line.startswith(("# ", "## ", "### ")):
                    heading = BeautifulSoup(markdown2html(line), "html.parser").find(
                        ["h1", "h2", "h3"]
                    )
                    if heading is not None and heading.get("id"):
                        for link in heading.find_all("a", class_="anchor-link"):
                            link.decompose()
                        toc.append(
                            (int(heading.name[1]), heading.get_text("").strip(), heading["id"])
                        )
        resources["lab3_toc"] = toc
        return nb, resources


def mathjax_source():
    """The MathJax 2.7 files of the ``jupyter-server-mathjax`` package (found, not imported)."""
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise HandoutError(
            "the handouts need the jupyter-server-mathjax package for offline math: "
            "run `make setup` (it is in requirements.txt)"
        )
    static = Path(list(spec.submodule_search_locations)[0]) / "static"
    if not (static / "MathJax.js").is_file():
        raise HandoutError(f"{static / 'MathJax.js'} is missing: reinstall jupyter-server-mathjax")
    return static


def html_exporter(drop_cells=(), empty_outputs=(), mathjax_url=f"../{MATHJAX_DIR}/MathJax.js"):
    """An ``HTMLExporter`` with lab3's offline, sanitised template, dropping cells tagged
    ``drop_cells``.

    Cells tagged ``empty_outputs`` keep their code but lose their outputs. ``mathjax_url`` is
    relative to the page (the config name is appended). Execution counts are renumbered after
    the drops; widget outputs are left out. Pass ``resources={"lab3_nav": {...}}`` to
    ``from_notebook_node`` for the navigation bar (keys ``index``, ``prev``, ``next``: ``(href,
    title)`` or ``None``); the table of contents is always there.
    """
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(drop_cells)
    c.TagRemovePreprocessor.remove_all_outputs_tags = set(empty_outputs)
    c.HTMLExporter.preprocessors = [DropWidgets, RenumberExecution, TableOfContents]
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.HTMLExporter.template_name = TEMPLATE_NAME
    c.HTMLExporter.mathjax_url = f"{mathjax_url}?config={MATHJAX_CONFIG}"
    # nbconvert's own switch: notebook HTML goes through the `clean_html` filter, JavaScript
    # outputs are left out; the filter is ours (nbconvert's would strip headings and images).
    c.HTMLExporter.sanitize_html = True
    c.HTMLExporter.filters = {"clean_html": sanitize_html}
    # Not used by the template, which loads none of them; set anyway so nothing points to a CDN.
    c.HTMLExporter.require_js_url = ""
    c.HTMLExporter.jupyter_widgets_base_url = ""
    return HTMLExporter(config=c)


def student_notebook_exporter():
    """A ``NotebookExporter`` for the student's notebook: solution, instructor-only and
    infrastructure cells dropped, outputs and execution counts cleared, metadata stripped to
    what Jupyter needs.

    nbconvert enables ``TagRemovePreprocessor`` by default for HTML but not for notebooks, so it
    is enabled here.
    """
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(STUDENT_DROPS)
    c.ClearOutputPreprocessor.enabled = True
    c.ClearMetadataPreprocessor.enabled = False  # StudentMetadata decides, keeping the tags
    c.NotebookExporter.preprocessors = [DropWidgets, StudentMetadata]
    return NotebookExporter(config=c)
