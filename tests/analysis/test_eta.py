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
    big = 100 / 7.5  # as the earlier run measured it: not scaled by how this run compares on the small model
    assert est.sources == {"small": "this run", "big": "earlier runs"}
    assert est.tuning == pytest.approx(3 * 2.0 + 3 * big + 3 * 2.0 + 3 * 2.0 + 3 * big)  # 5 fine-tunes left
    assert est.analysis == 40.0
    naive = 14.0 / 3 * 15  # one pace (the small model's) for the 15 epochs left: far too short
    assert est.tuning > 1.3 * naive
    mid = eta.estimate(CFG, "seed 2, mplm: epoch 1/3", seen, n_train=100, runs_root=tmp_path)
    assert mid.tuning == pytest.approx(2 * big)


def test_without_any_measurement_the_flops_estimate_needs_a_model_config(tmp_path, tiny_bert_dir):
    cfg = dict(CFG, source_model=str(tiny_bert_dir), multilingual_model=str(tiny_bert_dir))
    est = eta.estimate(cfg, "loading", eta.Observed(), n_train=100, runs_root=tmp_path / "none", rate_gflops=10.0)
    assert est.tuning > 0 and set(est.sources.values()) == {"FLOPs estimate"} and est.analysis is None
    unknown = eta.estimate(CFG, "loading", eta.Observed(), n_train=100, runs_root=tmp_path / "none", rate_gflops=10.0)
    assert unknown.tuning is None  # no config, no history: no made-up figure


SIZES = eta.RunSizes(n_train=100, n_dev=20, n_test=50, n_source_test=40)


def _tune(seen, start, label, seed=1, epochs=3, each=2.0):
    for e in range(1, epochs + 1):
        seen.add(start + e * each, f"seed {seed}, {label}: epoch {e}/{epochs}, dev F1 0.5")
    return start + epochs * each


def test_the_stage_messages_are_the_pipelines():
    from mosecrot_viz.experiment.run import FINE_TUNING

    assert eta.MAPPED_MESSAGE == FINE_TUNING
    assert eta.MAPPING_RE.match("17644 anchors; mapping embeddings")  # experiment.run's on_anchors step


def test_each_fine_tunes_tail_of_forward_passes_is_counted(tmp_path):
    cfg = dict(CFG, seeds=[1])
    plan = eta.tune_plan(cfg)
    # rr-softmax: English test 40 + its target test 50 + ladder 3 x 50 + occlusion 2 x 16 x 31 (first seed)
    assert eta.tail_forwards(cfg, plan, 0, SIZES) == 40 + 50 + 150 + 992
    # the shared tune: ls and source read on it, ls with its ladder
    assert eta.tail_forwards(cfg, plan, 1, SIZES) == 40 + 2 * 50 + 150 + 992
    assert eta.tail_forwards(cfg, plan, 2, SIZES) == 40 + 50  # mplm: no ladder
    assert eta.tail_forwards(dict(cfg, ladder=False), plan, 0, SIZES) == 40 + 50
    seen = eta.Observed()
    _tune(seen, 0.0, "rr-softmax")  # 2 s an epoch of 100 + 20 dev examples: 2 / 320 s a forward pass
    forward = 2.0 / 320
    _history_run(tmp_path, "old", {"mplm": 50.0})  # big: 2 s an epoch as well, from an earlier run
    est = eta.estimate(cfg, "seed 1, rr-softmax: epoch 3/3, dev F1 0.5", seen, n_train=100, runs_root=tmp_path,
                       sizes=SIZES)
    tails = forward * (1232 + 1282) + (100 / 50.0) / 320 * 90  # rr's and the shared tune's tails, mplm's
    assert est.tuning == pytest.approx(3 * 2.0 + 3 * 2.0 + tails)


def test_a_measured_tail_scales_the_predicted_ones_and_a_tail_message_keeps_the_position(tmp_path):
    cfg = dict(CFG, seeds=[1], methods=["rr-softmax", "ls"])
    plan = eta.tune_plan(cfg)
    seen = eta.Observed()
    end = _tune(seen, 0.0, "rr-softmax")
    seen.add(end + 1.0, "seed 1, rr-softmax: measuring the gap ladder")
    est = eta.estimate(cfg, "seed 1, rr-softmax: measuring the gap ladder", seen, n_train=100, runs_root=tmp_path,
                       sizes=SIZES)
    forward = 2.0 / 320
    first = forward * eta.tail_forwards(cfg, plan, 0, SIZES)
    second = forward * eta.tail_forwards(cfg, plan, 1, SIZES)
    # not back at the first fine-tune: its tail less the second spent in it, then the shared tune
    assert est.tuning == pytest.approx(first - 1.0 + 3 * 2.0 + second)
    took = 10.0  # the rr tail measured: 10 s from its last epoch to the next tune's first, less that epoch
    _tune(seen, end + took, "source-embeddings", epochs=1)
    assert seen.tails(plan, {"small": 2.0}) == {0: pytest.approx(took)}
    est = eta.estimate(cfg, "seed 1, source-embeddings: epoch 1/3, dev F1 0.5", seen, n_train=100,
                       runs_root=tmp_path, sizes=SIZES)
    assert est.tuning == pytest.approx(2 * 2.0 + took / first * second)


def test_without_an_earlier_run_the_analysis_stage_is_priced_from_this_runs_mapping(tmp_path):
    seen = eta.Observed()
    seen.add(5.0, "120 anchors; mapping embeddings")
    assert eta.estimate(CFG, "120 anchors; mapping embeddings", seen, n_train=100, runs_root=tmp_path).analysis is None
    seen.add(25.0, "mapped; fine-tuning")
    est = eta.estimate(CFG, "mapped; fine-tuning", seen, n_train=100, runs_root=tmp_path)
    assert est.analysis == pytest.approx(eta.ANALYSIS_PER_MAPPING * 20.0)
    _history_run(tmp_path, "old", {"rr-softmax": 72.0}, analysis=40.0)  # an earlier run's own figure wins
    assert eta.estimate(CFG, "mapped; fine-tuning", seen, n_train=100, runs_root=tmp_path).analysis == 40.0


def test_run_sizes_follow_the_runs_own_dev_split():
    rows = {"tr.tsv": 500, "dev.tsv": 100, "te.tsv": 300, "en.tsv": 300}.__getitem__
    assert eta.RunSizes.of({"train": "tr.tsv", "dev": "dev.tsv", "test": "te.tsv", "source_test": "en.tsv"},
                           rows) == eta.RunSizes(500, 100, 300, 300)
    assert eta.RunSizes.of({"train": "tr.tsv", "test": "te.tsv"}, rows) == eta.RunSizes(450, 50, 300, 0)


def test_earlier_runs_price_a_whole_epoch_dev_evaluation_included_when_they_stored_it(tmp_path):
    folder = _history_run(tmp_path, "old", {"mplm": 50.0})  # training alone: 100 examples at 50/s = 2 s an epoch
    res = json.loads((folder / "results.json").read_text())
    assert eta._history_epoch_seconds(tmp_path, 100) == {"big": pytest.approx(2.0)}
    res["histories"]["mplm"][0]["epochs"][0]["epoch_seconds"] = 3.0  # the epoch as waited for: dev evaluation too
    (folder / "results.json").write_text(json.dumps(res))
    assert eta._history_epoch_seconds(tmp_path, 200) == {"big": pytest.approx(6.0)}  # scaled to 200 examples



def test_the_start_message_is_the_trainings():
    from mosecrot_viz.core.training import start_message

    for epochs in (1, 3):
        m = eta.START_RE.search("seed 2, rr-softmax: " + start_message("rr-softmax", epochs).split(": ", 1)[1])
        assert m and (m[1], m[2], m[3]) == ("2", "rr-softmax", str(epochs))
    assert eta.position(eta.tune_plan(CFG), "seed 1, mplm: " + start_message("mplm", 3).split(": ", 1)[1]) == (2, 0)


def test_one_finished_epoch_is_a_measurement_when_the_start_was_seen(tmp_path):
    """The first epoch is timed from its fine-tune's start message: no FLOPs guess (or none at all) after it."""
    cfg = dict(CFG, seeds=[1], methods=["rr-softmax", "ls"])
    seen = eta.Observed()
    seen.add(20.0, "mapped; fine-tuning")
    seen.add(20.5, "seed 1, rr-softmax: fine-tuning, 3 epochs")
    seen.add(25.5, "seed 1, rr-softmax: epoch 1/3, dev F1 0.5")
    assert seen.epoch_seconds(eta.tune_plan(cfg)) == {"small": [5.0]}
    est = eta.estimate(cfg, "seed 1, rr-softmax: epoch 1/3, dev F1 0.5", seen, n_train=100, runs_root=tmp_path,
                       sizes=SIZES)
    assert est.sources == {"small": "this run"}
    forward = 5.0 / 320
    plan = eta.tune_plan(cfg)
    tails = forward * (eta.tail_forwards(cfg, plan, 0, SIZES) + eta.tail_forwards(cfg, plan, 1, SIZES))
    assert est.tuning == pytest.approx(2 * 5.0 + 3 * 5.0 + tails)


def test_a_tail_is_measured_to_the_next_fine_tunes_start(tmp_path):
    cfg = dict(CFG, seeds=[1], methods=["rr-softmax", "ls"])
    plan = eta.tune_plan(cfg)
    seen = eta.Observed()
    end = _tune(seen, 0.0, "rr-softmax")
    seen.add(end + 7.0, "seed 1, source-embeddings: fine-tuning, 3 epochs")  # 7 s of evaluation and ladder
    seen.add(end + 17.0, "seed 1, source-embeddings: epoch 1/3, dev F1 0.5")  # its first epoch: 10 s, not 2
    assert seen.tails(plan, {"small": 2.0}) == {0: pytest.approx(7.0)}  # no epoch cost subtracted: it was seen
    assert seen.epoch_seconds(plan) == {"small": [2.0, 2.0, 10.0]}


def test_the_mapping_stage_ends_at_the_next_message_seen_even_when_the_fine_tuning_one_was_missed():
    seen = eta.Observed()
    seen.add(5.0, "120 anchors; mapping embeddings")
    assert seen.mapping_seconds() is None
    seen.add(21.0, "seed 1, rr-softmax: fine-tuning, 3 epochs")  # "mapped; fine-tuning" lasted under one 2 s read
    assert seen.mapping_seconds() == 16.0
