"""Lesson 07 in a real browser: JupyterLab started by `make lab`, the notebook run, a slider moved.

The server is the Makefile's `lab` target (same flags) on a free loopback port with a known token,
its settings and workspaces in a temporary folder (autosave off: the browser never writes the
notebook back). Chromium is Debian's (`chromium` on PATH), driven by playwright through
`executable_path`, headless, with a fresh profile and nothing that reaches the network. The test
runs every cell, checks that none shows an error, drags the learning-rate slider, and fails
unless the explorer's picture changes. Screenshots are kept in test-artifacts/explore/.
"""

import json
import re
import time

import pytest
from jupyter_lab import ROOT, start, stop

from lab3.handouts.chromium import find_chromium

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts" / "explore"
NOTEBOOK = "07_explore.ipynb"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SETTINGS = {  # JupyterLab user settings for the test's server only
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}


@pytest.fixture
def lab(tmp_path):
    """``(base_url, token)`` of a running `make lab`; stopped afterwards, also on failure."""
    settings = tmp_path / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    args = (
        f"--no-browser --LabApp.user_settings_dir={settings} "
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"
    )
    process, base, token, _ = start("lab", tmp_path, lab_args=args, wait=60)
    try:
        yield base, token
    finally:
        stop(process)


@pytest.fixture
def page(tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no Chromium on PATH: install Debian's chromium (apt-get install chromium; "
            ".ci/run does) to run lesson 07 in a real browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        page = context.new_page()
        try:
            yield page
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / "last-state.png")  # what the page showed at the end
            context.close()


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.25)


def test_lesson_07_runs_in_jupyterlab_and_the_slider_changes_the_picture(lab, page):
    base, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=40_000)
    # the status bar says "Python (lab3) | Idle" once the kernel is connected
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=60_000)
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")  # "[3]:" once run, "[*]:" while running
    for attempt in range(3):  # a Run All that reaches the kernel before it is ready is lost
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        started = time.monotonic()
        while time.monotonic() - started < 15 and not re.search(
            r"\[[\d*]+\]", re.sub(r"\s", "", prompts.first.inner_text())
        ):
            time.sleep(0.25)
        if re.search(r"\[[\d*]+\]", re.sub(r"\s", "", prompts.first.inner_text())):
            break
    picture = page.locator(".jp-OutputArea-output img.widget-image").first
    picture.wait_for(state="attached", timeout=90_000)  # in the DOM (maybe off screen)
    wait_until(
        lambda: (
            prompts.count() > 0
            and all(
                re.fullmatch(r"\[\d+\]:", re.sub(r"\s", "", text))
                for text in prompts.all_inner_texts()
            )
        ),
        120,
        "every cell to run",
    )
    page.screenshot(path=ARTIFACTS / "after-run-all.png", full_page=False)

    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, "a cell shows an error:\n" + "\n".join(errors.all_inner_texts())
    status = page.locator(".widget-html", has_text="retrained").first
    assert "LEARNED" in status.inner_text()

    picture.scroll_into_view_if_needed()
    before = picture.screenshot(path=ARTIFACTS / "picture-before.png")
    slider = page.locator(
        ".widget-slider", has=page.locator(".widget-label", has_text="learning rate")
    ).first
    handle = slider.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    readout = slider.locator(".widget-readout").first
    assert float(readout.inner_text()) != 0.1, "the slider did not move"
    picture.scroll_into_view_if_needed()

    def updated():
        """The whole update: the new picture, then the verdict of the slider's run under it."""
        text = page.locator(".widget-html", has_text="lr ").first.inner_text()
        shown = re.search(r"lr ([-+.\de]+),", text)  # the status line's settings
        chosen = float(readout.inner_text())
        verdict = "retrained" in text and shown is not None
        same = verdict and float(shown.group(1)) == pytest.approx(chosen, rel=0.01)
        return same and picture.screenshot() != before

    wait_until(updated, 30, "the new picture with its verdict")
    picture.screenshot(path=ARTIFACTS / "picture-after.png")
    assert errors.count() == 0
