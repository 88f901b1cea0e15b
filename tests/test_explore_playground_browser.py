"""`make explore` in a real browser: the page with its token, play, the loss curve grows; no token,
no page.

The real Makefile target runs (Voila serving lab3/playground/app.ipynb) on a free loopback port with
a known token (JUPYTER_TOKEN). Chromium is Debian's, driven by playwright through
``executable_path``, headless. Screenshots go to test-artifacts/playground/.
"""

import json
import secrets
import time
import urllib.error
import urllib.request

import pytest
from jupyter_lab import ROOT, free_port, start_explore, stop

from lab3.handouts.chromium import find_chromium

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts" / "playground"
PAGE = ".lab3-playground"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at, not to follow


def status_of(url):
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=10) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")
    except (urllib.error.URLError, ConnectionError):
        return None, None  # not listening yet


@pytest.fixture
def explore(tmp_path):
    """``(base_url, token)`` of a running `make explore`; stopped afterwards."""
    port, token = free_port(), secrets.token_hex(16)
    log = (tmp_path / "explore.log").open("w+")
    process = start_explore(port, token, log, wait=120)
    log.seek(0)
    if process is None:
        pytest.fail("`make explore` did not serve the page:\n" + log.read())
    base = f"http://127.0.0.1:{port}"
    try:
        assert f"{base}/?token={token}" in log.read()  # the address it printed
        yield base, token
    finally:
        stop(process)


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def test_make_explore_serves_the_playground_which_plays_and_refuses_without_token(explore):
    base, token = explore
    code, location = status_of(f"{base}/")
    assert code in (302, 403) and (code == 403 or "login" in location)
    assert status_of(f"{base}/?token=wrong")[0] in (302, 403)

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium on PATH: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        try:
            page.goto(f"{base}/?token={token}")
            root = page.locator(PAGE)
            root.wait_for(timeout=120_000)
            wait_until(lambda: root.get_attribute("data-seq") is not None, 60, "the first frame")
            assert "import" not in page.locator("body").inner_text()  # no code shown
            assert int(root.get_attribute("data-curve")) == 1  # epoch 0's loss
            page.locator(f"{PAGE} .lab3-pg-play").click()
            wait_until(lambda: int(root.get_attribute("data-curve")) >= 20, 60, "20 epochs")
            page.locator(f"{PAGE} .lab3-pg-play").click()
            page.screenshot(path=ARTIFACTS / "played.png")
            played = int(root.get_attribute("data-epoch"))
            assert int(root.get_attribute("data-curve")) == played + 1
            text = page.locator(f"{PAGE} .lab3-pg-losses").inner_text()
            assert "train" in text and "test" in text
            # a slider moved while dragging: the network starts again with its width
            slider = page.locator(f"{PAGE} input[name=width]")
            slider.focus()
            page.keyboard.press("ArrowRight")
            wait_until(
                lambda: "[5, 5]" in page.locator(f"{PAGE} .lab3-pg-status").inner_text(),
                30,
                "the wider network",
            )
            assert root.get_attribute("data-epoch") == "0"
            # dragged across its range: the picture ends on the slider's last position
            slider = page.locator(f"{PAGE} input[name=noise]")
            box = slider.bounding_box()
            y = box["y"] + box["height"] / 2
            page.mouse.move(box["x"] + 2, y)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.7, y, steps=25)
            page.mouse.up()
            shown = page.locator(f"{PAGE} input[name=noise] + .lab3-pg-readout").inner_text()
            assert float(shown) > 0

            def drawn_noise():
                return json.loads(root.get_attribute("data-settings"))["noise"]

            wait_until(lambda: drawn_noise() == float(shown), 30, "the last noise drawn")
            page.screenshot(path=ARTIFACTS / "dragged.png")
        finally:
            browser.close()
