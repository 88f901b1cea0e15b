"""Headless Chromium: the handouts printed to PDF, a page's DOM after its scripts ran, screenshots.

Every run is offline (every host name fails to resolve) with a throw-away profile, so a page that
typesets here typesets in a classroom without network.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROMIUM_MAC = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
# Headless, a throw-away profile and no network at all (every host name fails to resolve): a page
# that typesets here typesets in a classroom without network. --no-sandbox: Chromium refuses to
# run as root (containers, CI) with its sandbox; it only ever opens our own local pages.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
MATH_TIME_MS = 20000  # virtual time for MathJax to typeset a page before it is dumped or printed
NO_CHROMIUM = """\
No headless Chromium was found, so no PDF was printed.
Looked for {names} on PATH and for the $CHROMIUM variable. Install one of:
  Debian/Ubuntu:  sudo apt-get install chromium   (Ubuntu 20.04+: the chromium snap, or Chrome)
  Fedora:         sudo dnf install chromium
  macOS:          brew install --cask chromium        (or Google Chrome)
or point CHROMIUM at a Chrome/Chromium binary:  make handouts-pdf CHROMIUM=/path/to/chrome
The HTML handouts need no browser to build (make handouts); any browser can print them too."""


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
        command = [
            str(chromium),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            *args,
            Path(page).resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(
            f"{chromium} failed (exit {done.returncode}) on {page}:\n{done.stderr[-2000:]}"
        )
    return done.stdout


def print_pdf(chromium, page, pdf):
    """Print the HTML ``page`` to ``pdf`` once MathJax has typeset it."""
    pdf = Path(pdf).resolve()
    pdf.unlink(missing_ok=True)
    run_chromium(
        chromium,
        page,
        f"--print-to-pdf={pdf}",
        "--no-pdf-header-footer",
        f"--virtual-time-budget={MATH_TIME_MS}",
    )
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
    run_chromium(
        chromium,
        page,
        f"--screenshot={png}",
        f"--window-size={size[0]},{size[1]}",
        f"--virtual-time-budget={MATH_TIME_MS}",
    )
    if not png.is_file():
        raise RuntimeError(f"{chromium} wrote no screenshot {png}")
    return png
