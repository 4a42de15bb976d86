"""Issue 26.3: time left from a per-stage cost model: each fine-tune costs its own model's epoch time."""
import json

import pytest

from mosecrot_viz.analysis import eta

CFG = {"methods": ["rr-softmax", "ls", "source", "mplm", "majority"], "seeds": [1, 2], "epochs": 3,
       "source_model": "small", "multilingual_model": "big", "vectors": "v.vec"}


def test_plan_follows_the_runs_order():
    plan = eta.tune_plan(CFG)
    assert [(t.seed, t.label, t.model) for t in plan] == [
        (1, "rr-softmax", "small"), (1, "source-embeddings", "small"), (1, "mplm", "big"),
        (2, "rr-softmax", "small"), (2, "source-embeddings", "small"), (2, "mplm", "big")]
    assert [t.label for t in eta.tune_plan(dict(CFG, methods=["rr-softmax", "majority"]))] == ["rr-softmax", "rr-softmax"]


def _history_run(root, name, model_rates, n_train=100, analysis=None):
    folder = root / name
    folder.mkdir(parents=True)
    hist = {label: [{"epochs": [{"examples_per_s": rate, "train_seconds": n_train / rate}]}]
            for label, rate in model_rates.items()}
    cfg = {"source_model": "small", "multilingual_model": "big", "vectors": "v.vec"}
    (folder / "results.json").write_text(json.dumps({"config": cfg, "data": {"train": n_train}, "histories": hist}))
    (folder / "config.json").write_text(json.dumps(cfg))
    if analysis is not None:  # as analysis.stored writes it, tied to the run's config
        from mosecrot_viz.analysis.stored import config_key

        (folder / "analysis.json").write_text(json.dumps({"seconds": analysis, "config_key": config_key(cfg)}))
    return folder


def test_a_slow_model_costs_its_own_time_not_the_first_models_pace(tmp_path):
    _history_run(tmp_path, "old", {"rr-softmax": 72.0, "mplm": 7.5}, analysis=40.0)
    seen = eta.Observed()
    for elapsed, epoch in ((10.0, 1), (12.0, 2), (14.0, 3)):  # small: 2 s an epoch in this run (earlier: 100/72 s)
        seen.add(elapsed, f"seed 1, rr-softmax: epoch {epoch}/3, dev F1 0.5")
    est = eta.estimate(CFG, "seed 1, rr-softmax: epoch 3/3, dev F1 0.5", seen, n_train=100, runs_root=tmp_path)
    speed = 2.0 / (100 / 72)  # this run is slower than the earlier one on the model both measured
    big = 100 / 7.5 * speed
    assert est.sources == {"small": "this run", "big": "earlier runs"}
    assert est.tuning == pytest.approx(3 * 2.0 + 3 * big + 3 * 2.0 + 3 * 2.0 + 3 * big)  # 5 fine-tunes left
    assert est.analysis == 40.0
    naive = 14.0 / 3 * 15  # one pace (the small model's) for the 15 epochs left: far too short
    assert est.tuning > 1.8 * naive
    mid = eta.estimate(CFG, "seed 2, mplm: epoch 1/3", seen, n_train=100, runs_root=tmp_path)
    assert mid.tuning == pytest.approx(2 * big)


def test_without_any_measurement_the_flops_estimate_needs_a_model_config(tmp_path, tiny_bert_dir):
    cfg = dict(CFG, source_model=str(tiny_bert_dir), multilingual_model=str(tiny_bert_dir))
    est = eta.estimate(cfg, "loading", eta.Observed(), n_train=100, runs_root=tmp_path / "none", rate_gflops=10.0)
    assert est.tuning > 0 and set(est.sources.values()) == {"FLOPs estimate"} and est.analysis is None
    unknown = eta.estimate(CFG, "loading", eta.Observed(), n_train=100, runs_root=tmp_path / "none", rate_gflops=10.0)
    assert unknown.tuning is None  # no config, no history: no made-up figure
