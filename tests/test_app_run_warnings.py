"""The Run page shows a stored run's warnings (results.json `warnings`, core.checks) above its results table."""
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment
from mosecrot_viz.store.runs import new_run_dir

ROOT = Path(__file__).resolve().parents[1]


def test_run_page_shows_the_runs_warnings(tmp_path, monkeypatch, tiny_run_args):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    test = pd.read_csv(tiny_run_args["test"], sep="\t")
    one = tmp_path / "one_label.tsv"
    test[test["category"] == "sport"].to_csv(one, sep="\t", index=False)  # 1 of the 3 training labels
    cfg = ExperimentConfig(**{**tiny_run_args, "test": str(one)}, methods=["rr-softmax", "majority"], epochs=1,
                           top_k=5, ladder=False)
    cfg.out = str(new_run_dir("warn", tmp_path / "runs"))
    out = run_experiment(cfg)
    assert "test_missing_labels" in [w["key"] for w in out.results["warnings"]]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/run.py").run()
    at.session_state["current_run"] = Path(cfg.out).name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [w.value for w in at.warning]
    assert any("the test set has 1 of the 3 training labels" in s and "test_missing_labels" in s for s in shown), shown
