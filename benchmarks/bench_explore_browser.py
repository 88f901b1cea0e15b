"""The playground in a real browser: slider to new picture, and pictures per second while playing.

Starts `make explore` (Voila, 127.0.0.1, a fresh port and token), opens the page in headless
Chromium (Debian's, through playwright's ``executable_path``) and measures in the page, with
``performance.now()``:

* latency: from a slider's ``input`` event (a listener on the document, capture phase, so before
  the widget's own) to the new picture on screen (the widget sets ``data-frames`` in the
  animation frame after it drew; a MutationObserver takes the time), over ``--moves`` moves of
  the noise, width and learning-rate sliders, one at a time (each waits for its picture);
* play: pictures drawn per second over ``--seconds`` of play, and the epochs trained.

Goals: median latency <= 100 ms, play >= 10 pictures/s. Its last line is the figure:
``median slider->picture = X ms, play = Y pictures/s``. A screenshot goes to
test-artifacts/playground/bench.png.

    .venv/bin/python benchmarks/bench_explore_browser.py [--moves 30] [--seconds 5]
"""

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "playground"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
ROOT_SELECTOR = ".lab3-playground"

WATCH = """() => {
  // one listener and one observer (installed once); each call starts new records
  const fresh = { inputs: [], pictures: [] };
  if (window.__bench) { Object.assign(window.__bench, fresh); return; }
  window.__bench = fresh;
  const root = document.querySelector('.lab3-playground');
  document.addEventListener('input', () => window.__bench.inputs.push(performance.now()), true);
  new MutationObserver(() => window.__bench.pictures.push(performance.now()))
    .observe(root, { attributes: true, attributeFilter: ['data-frames'] });
}"""


def open_page(playwright, chromium, url, profile):
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium,
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1200, "height": 800},
    )
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(f"{ROOT_SELECTOR}[data-seq]", timeout=120_000)  # the first frame
    return context, page


def frames(page):
    return int(page.locator(ROOT_SELECTOR).get_attribute("data-frames"))


def wait_frames(page, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while frames(page) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no new picture within {timeout} s")
        time.sleep(0.005)


def slider_latencies(page, moves):
    """ms from each slider move's input event to its picture, ``moves`` moves."""
    page.evaluate(WATCH)
    names = ["noise", "width", "learning_rate"]
    latencies = []
    for i in range(moves):
        slider = page.locator(f"{ROOT_SELECTOR} input[name={names[i % len(names)]}]")
        before = frames(page)
        slider.focus()
        page.keyboard.press("ArrowRight" if (i // len(names)) % 2 == 0 else "ArrowLeft")
        wait_frames(page, before + 1)
        time.sleep(0.05)  # let the observer's record land
        bench = page.evaluate("window.__bench")
        start = bench["inputs"][-1]
        after = [t for t in bench["pictures"] if t >= start]
        latencies.append(after[0] - start)
    return latencies


def play_rate(page, seconds):
    """(pictures per second, epochs trained) over ``seconds`` of play, timed in the page."""
    page.evaluate(WATCH)
    epoch0 = int(page.locator(ROOT_SELECTOR).get_attribute("data-epoch"))
    page.locator(f"{ROOT_SELECTOR} .lab3-pg-play").click()
    time.sleep(seconds)
    page.locator(f"{ROOT_SELECTOR} .lab3-pg-play").click()
    pictures = page.evaluate("window.__bench.pictures")
    time.sleep(0.3)
    epochs = int(page.locator(ROOT_SELECTOR).get_attribute("data-epoch")) - epoch0
    span = (pictures[-1] - pictures[0]) / 1000
    return (len(pictures) - 1) / span, epochs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=30, help="slider moves (at least 20)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of play")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))  # the tests' server helpers: one way to start it
    from jupyter_lab import free_port, start_explore, stop
    from playwright.sync_api import sync_playwright

    from lab3.handouts.chromium import find_chromium

    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium on PATH: apt-get install chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), secrets.token_hex(16)
    server = start_explore(port, token, open(ARTIFACTS / "bench-explore.log", "w+"))
    if server is None:
        sys.exit(f"`make explore` did not start: see {ARTIFACTS / 'bench-explore.log'}")
    try:
        with sync_playwright() as playwright:
            profile = ARTIFACTS / "bench-profile"
            context, page = open_page(
                playwright, chromium, f"http://127.0.0.1:{port}/?token={token}", profile
            )
            try:
                latencies = slider_latencies(page, max(args.moves, 20))
                rate, epochs = play_rate(page, args.seconds)
                page.screenshot(path=ARTIFACTS / "bench.png")
            finally:
                context.close()
    finally:
        stop(server)
    median = statistics.median(latencies)
    print(
        f"slider->picture over {len(latencies)} moves: min {min(latencies):.0f} ms, "
        f"max {max(latencies):.0f} ms (goal: median <= 100 ms)"
    )
    print(f"play: {epochs} epochs trained and drawn in {args.seconds:g} s (goal: >= 10 pictures/s)")
    print(f"median slider->picture = {median:.0f} ms, play = {rate:.1f} pictures/s")


if __name__ == "__main__":
    main()
