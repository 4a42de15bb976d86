"""The analysis pages read or compute through one interface (`ui.cached.analysis`): Why's supporting suspects and
Alignment share one held-out BLI result, computed once for a run that stored none and kept beside it."""
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mosecrot_viz.analysis import registry
from mosecrot_viz.experiment import pipeline
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.store.runs import StoredRun, new_run_dir

ROOT = Path(__file__).resolve().parents[1]


def test_why_and_alignment_share_one_held_out_bli(tmp_path, monkeypatch, tiny_run_args):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "ls", "majority"], epochs=1, top_k=5)
    cfg.out = str(new_run_dir("cli", tmp_path / "runs"))
    pipeline.run_experiment(cfg)  # as the CLI runs it: no analysis.json
    run = StoredRun(Path(cfg.out))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/why.py").run()
    at.selectbox(key="why_method").set_value("rr-softmax").run()
    at.button(key=f"why_support_{run.run_id}_rr-softmax_btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.label.startswith("ladder: ") for m in at.metric)  # the suspects beside the ladder's links
    held_out = registry.stored_result(run, "holdout_bli", n_test=registry.DEFAULT_HELD_OUT)
    assert set(held_out.precision) == {"rr-softmax", "ls"}  # computed once, for every mapper, and kept
    assert not registry.computed_with_run(run, "holdout_bli", n_test=registry.DEFAULT_HELD_OUT)

    def again(*a, **k):
        raise AssertionError("Alignment computed the held-out BLI again")

    for name in ("holdout_bli", "drift"):
        monkeypatch.setitem(registry.ANALYSES, name, replace(registry.ANALYSES[name], compute=again))
    at.switch_page("pages/alignment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    bli = next(d.value for d in at.dataframe if "csls P@1" in d.value.columns)
    assert bli.loc["rr-softmax", "csls P@1"] == pytest.approx(held_out.p_at("rr-softmax"))
    assert not any("computed with the run" in c.value for c in at.caption)  # a page computed it, not the run
    at.text_input(key="alignment_nb_word").set_value("xcat").run()  # the neighbour explorer: a view computed now
    assert not at.exception, [e.value for e in at.exception]
    tokens = next(d.value for d in at.dataframe if "token" in d.value.columns)
    assert len(tokens) == 10 and tokens["cosine"].is_monotonic_decreasing
    assert registry.stored_result(run, "shared_neighbours", mapper="rr-softmax", side="target", word="xcat") is None
    at.text_input(key="alignment_nb_word").set_value("xnothing").run()
    assert any("'xnothing' has no row in the target space" in w.value for w in at.warning)
