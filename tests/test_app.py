"""Every page renders without a browser (AppTest), from a real stored run on tiny data."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mosecrot_viz.config import ExperimentConfig
from mosecrot_viz.pipeline import run_experiment
from mosecrot_viz.runs import new_run_dir

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["pages/setup.py", "pages/run.py", "pages/anchors.py", "pages/alignment.py", "pages/errors.py",
         "pages/why.py", "pages/compare.py"]


@pytest.fixture
def stored_run(tmp_path, monkeypatch, tiny_run_args):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "rr-sparsemax", "ls", "source", "majority"],
                           epochs=1, top_k=5)
    cfg.out = str(new_run_dir("tiny", tmp_path / "runs"))
    return run_experiment(cfg)


def _app():
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def test_home_renders_defaults_and_demo_button(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path))
    at = _app().run()
    assert not at.exception
    assert any("mosecrot_viz" in t.value for t in at.title)
    table = at.dataframe[0].value
    assert {"model:minilm", "vectors:zh", "lexicon:zh"} <= set(table["key"])
    assert "licence" in table.columns
    assert any(b.label == "Run the demo" for b in at.button)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_a_stored_run(stored_run, page):
    at = _app()
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, page


def test_pages_show_the_runs_numbers(stored_run):
    at = _app()
    at.run()
    at.switch_page("pages/run.py").run()
    at.session_state["current_run"] = Path(stored_run.results["config"]["out"]).name
    at.run()
    frames = [d.value for d in at.dataframe]
    results = next(f for f in frames if "macro-F1" in f.columns)
    want = stored_run.results["methods"]["rr-softmax"]["macro_f1"]
    assert results.set_index("method").loc["rr-softmax", "macro-F1"] == pytest.approx(want)
    at.switch_page("pages/why.py").run()
    assert not at.exception
    assert any("best RR" in m.label for m in at.metric)
    at.switch_page("pages/alignment.py").run()
    assert not at.exception
    bli = next(d.value for d in at.dataframe if "csls P@1" in d.value.columns)
    assert set(bli.index) == {"rr-softmax", "rr-sparsemax", "ls"} and bli.notna().all().all()


def test_compare_draws_a_stored_sweep(tmp_path, monkeypatch, tiny_run_args):
    from mosecrot_viz.sweeps import run_sweep, sweep_configs

    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    base = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=1)
    run_sweep(sweep_configs(base, "top_k", [1, None]), root=tmp_path / "runs")
    at = _app()
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    sweep_tables = [d.value for d in at.dataframe if "param" in d.value.columns]
    assert sweep_tables and set(sweep_tables[0]["value"].astype(str)) == {"1", "all"}
    assert at.get("plotly_chart")
