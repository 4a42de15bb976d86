"""Real browser: Compare draws a script-shift sweep (issue 27's unseen-script control) as a new user sees it.

A two-trial sweep over the simulated share (0 and 1) on the tiny fixtures goes into a fresh run store; the app is
started on that store and Compare is opened by its own URL as the server's first request (a bookmark after a
restart: it must still run inside app.py's navigation, `ui.entry`). The page must show the crossover figure (its title, drawn by
plotly), the crossover table and the note that says it is a simulation, with no exception. Screenshot:
$MOSECROT_SCREENSHOTS/compare_script_shift.png (default: the test's tmp folder).
"""
import os
from pathlib import Path

import pytest
from app_server import CHROMIUM, ROOT, require_chromium, streamlit_server

from mosecrot_viz.analysis.script_shift import SIMULATION_NOTE
from mosecrot_viz.experiment.config import ExperimentConfig

pytestmark = pytest.mark.browser


def test_compare_draws_a_script_shift_sweeps_crossover_in_the_browser(tmp_path, tiny_run_args):
    require_chromium()
    from playwright.sync_api import sync_playwright

    from mosecrot_viz.store.sweeps import run_sweep, sweep_configs

    runs = tmp_path / "runs"
    base = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "source", "majority"], epochs=1)
    run_sweep(sweep_configs(base, "script_shift", [0.0, 1.0]), root=runs)
    with streamlit_server(ROOT / "app.py", tmp_path / "server.log", dict(os.environ, MOSECROT_RUNS=str(runs))) as url:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(url + "/compare")
            page.wait_for_selector("text=Unseen-script simulation", timeout=90_000)  # the figure's title (SVG)
            page.wait_for_selector(f"text={SIMULATION_NOTE[:60]}", timeout=30_000)
            page.locator("text=Unseen-script simulation").first.scroll_into_view_if_needed()
            page.wait_for_timeout(1500)
            shots = Path(os.environ.get("MOSECROT_SCREENSHOTS", tmp_path))
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "compare_script_shift.png"), full_page=True)
            nav = page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
            exceptions = page.locator("[data-testid='stException']").count()
            frames = page.locator("[data-testid='stDataFrame']").count()
            browser.close()
    assert exceptions == 0
    # the first request of a fresh server was a page's own URL: it still ran through app.py's navigation (ui.entry)
    assert nav[:2] == ["Home", "Setup"] and "app" not in nav, nav
    assert frames >= 2  # the runs table and the crossover table (the sweep's own table follows)
