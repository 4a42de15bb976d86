"""Real browser: start the app, run the demo from the landing page, visit every page, upload a .vec.

Drives Debian's Chromium through Playwright (`executable_path`, headless, background networking
off). Screenshots land in $MOSECROT_SCREENSHOTS (default: the test's tmp folder).
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# page -> text that only appears once the page has rendered its real content
PAGES = {"Setup": "Inputs ready", "Run": "Results of", "Anchors": "Relative representations",
         "Alignment": "Neighbour explorer", "Errors": "Misclassified target examples", "Why": "Reading.",
         "Compare": "runs to compare"}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (scripts/ensure_chromium.sh installs it)")
    tmp = tmp_path_factory.mktemp("app")
    port = _free_port()
    env = dict(os.environ, MOSECROT_RUNS=str(tmp / "runs"))
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy: " + (tmp / "server.log").read_text()[-2000:])
    yield url, tmp
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def _wait_idle(page, timeout=60_000):
    """Wait for the app shell, then until no script run, spinner or skeleton is showing."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_timeout(800)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"], [data-testid=\"stSpinner\"], "
        "[data-testid=\"stSkeleton\"]')", timeout=timeout)


def test_demo_tour_and_upload(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, tmp = server
    shots = Path(os.environ.get("MOSECROT_SCREENSHOTS", tmp / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        _wait_idle(page)
        page.get_by_role("button", name="Run the demo").click()
        page.get_by_text("finished").wait_for(timeout=600_000)
        page.screenshot(path=str(shots / "home.png"), full_page=True)
        for name, marker in PAGES.items():
            page.goto(f"{url}/{name.lower()}")
            page.get_by_text(marker).first.wait_for(timeout=300_000)
            _wait_idle(page, timeout=300_000)
            assert page.locator("[data-testid='stException']").count() == 0, f"exception on {name}"
            if name in ("Anchors", "Alignment", "Errors", "Why"):
                assert page.locator(".js-plotly-plot").count() > 0, f"no figure on {name}"
            page.screenshot(path=str(shots / f"{name.lower()}.png"), full_page=True)
            if name == "Why":  # the waterfall leads; the per-example view shows a sentence's words side by side
                assert page.locator(".js-plotly-plot .waterfall").count() > 0, "no waterfall on Why"
                page.get_by_role("tab", name="Per example").click()
                page.get_by_text("importance of each word").first.wait_for(timeout=60_000)
                _wait_idle(page)
                page.screenshot(path=str(shots / "why-example.png"), full_page=True)
        # upload a small .vec through Setup's uploader: good file accepted, bad file refused clearly
        page.goto(f"{url}/setup")
        _wait_idle(page)
        page.get_by_text("My own files").click()
        _wait_idle(page)
        from mosecrot_viz.ui.inputs import demo_inputs

        demo = demo_inputs()
        for kind in ("lexicon", "train", "test"):
            box = page.get_by_label(f"…or server path for {kind}")
            box.fill(demo[kind])
            box.press("Enter")
            _wait_idle(page)
        bad = tmp_path / "bad.vec"
        bad.write_text("2 3\nchat 0.1 0.2 0.3\nchien 0.3 nan 0.2\n")
        page.locator("input[type='file']").first.set_input_files(str(bad))
        # the error shows beside the vectors input and names the file and line
        page.get_by_text("bad.vec:3: row for 'chien' holds NaN or inf").wait_for(timeout=60_000)
        assert page.get_by_text("mosecrot-upload").count() == 0  # the user's file name, not the private copy's
        page.screenshot(path=str(shots / "setup-bad-upload.png"), full_page=True)
        # the app stays usable: a good file replaces the bad one and the inputs are accepted
        good = tmp_path / "good.vec"
        good.write_text("3 3\n上帝 0.1 0.2 0.3\n耶稣 0.3 0.1 0.2\n爱 0.2 0.2 0.1\n")
        page.locator("input[type='file']").first.set_input_files(str(good))
        page.get_by_text("Inputs ready").wait_for(timeout=60_000)
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=str(shots / "setup-good-upload.png"), full_page=True)
        browser.close()
