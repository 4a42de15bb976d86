"""Issue 26: the stitched chain against the multilingual model's, the gap split into parts with paired intervals."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mosecrot_viz.analysis import ladder as al
from mosecrot_viz.core.ladder import gap_parts_bootstrap
from mosecrot_viz.core.metrics import classification_metrics

LABELS = ["a", "b"]


def _f1(gold, pred):
    return classification_metrics(gold, pred, LABELS)["macro_f1"]


def _noisy(gold, acc, rng):
    flip = rng.random(len(gold)) > acc
    return [("b" if g == "a" else "a") if f else g for g, f in zip(gold, flip)]


def test_parts_add_up_to_the_gap_with_intervals_around_them():
    rng = np.random.default_rng(0)
    gold = list(rng.choice(LABELS, 300))
    e_en, m_en = [_noisy(gold, 0.75, rng)], [_noisy(gold, 0.9, rng)]
    s_t, m_t = [_noisy(gold, 0.65, rng)], [_noisy(gold, 0.68, rng)]
    parts = gap_parts_bootstrap(LABELS, gold, e_en, m_en, gold, s_t, m_t, paired=True, n_boot=300)
    assert parts["gap"][0] == pytest.approx(_f1(gold, s_t[0]) - _f1(gold, m_t[0]))
    assert parts["classifier"][0] == pytest.approx(_f1(gold, e_en[0]) - _f1(gold, m_en[0]))
    assert parts["gap"][0] == pytest.approx(parts["classifier"][0] + parts["transfer"][0])
    for v, lo, hi in parts.values():
        assert lo <= v <= hi
    assert parts["classifier"][2] < 0  # the English model is clearly the weaker classifier here
    unpaired = gap_parts_bootstrap(LABELS, gold, e_en, m_en, gold[:200], [s_t[0][:200]], [m_t[0][:200]],
                                   paired=False, n_boot=300)
    assert unpaired["gap"][0] == pytest.approx(_f1(gold[:200], s_t[0][:200]) - _f1(gold[:200], m_t[0][:200]))


def test_identical_models_have_a_zero_gap_inside_its_interval():
    gold = ["a", "b"] * 50
    pred = [["a"] * 100]
    parts = gap_parts_bootstrap(LABELS, gold, pred, pred, gold, pred, pred, paired=True, n_boot=100)
    assert parts["gap"] == (0.0, 0.0, 0.0) and al.within_noise(parts["gap"])


def _results_and_predictions(stitched_acc, mplm_acc, n=400, seeds=(1, 2)):
    rng = np.random.default_rng(1)
    gold = list(rng.choice(LABELS, n))
    ids = [str(i) for i in range(n)]
    en = {"source-embeddings": [_noisy(gold, 0.78, rng) for _ in seeds], "mplm": [_noisy(gold, 0.88, rng) for _ in seeds]}
    rows = []
    preds = {"rr-softmax": [_noisy(gold, stitched_acc, rng) for _ in seeds], "mplm": [_noisy(gold, mplm_acc, rng) for _ in seeds]}
    for m, per_seed in preds.items():
        for seed, p in zip(seeds, per_seed):
            rows.append(pd.DataFrame({"method": m, "seed": seed, "id": ids, "gold": gold, "pred": p}))
    f1 = {m: float(np.mean([_f1(gold, p) for p in v])) for m, v in preds.items()}
    e_f1 = [_f1(gold, p) for p in en["source-embeddings"]]
    rung = {"rung": "english_original", "macro_f1": float(np.mean(e_f1)), "macro_f1_std": 0.0, "per_seed": e_f1,
            "per_class": {}}
    stitched_rung = {"rung": "stitched", "macro_f1": f1["rr-softmax"], "macro_f1_std": 0.0,
                     "per_seed": [_f1(gold, p) for p in preds["rr-softmax"]], "per_class": {}}
    results = {"labels": LABELS, "ladder": {"english_predictions": {"split": "test", "ids": ids, "gold": gold,
                                                                     "by_model": en}},
               "methods": {"rr-softmax": {"macro_f1": f1["rr-softmax"], "per_seed": [0, 0],
                                          "ladder": [rung, stitched_rung]},
                           "mplm": {"macro_f1": f1["mplm"], "english_macro_f1": 0.0, "per_seed": [0, 0]}}}
    return results, pd.concat(rows, ignore_index=True)


def test_the_title_and_reading_follow_the_sign_and_say_when_the_gap_is_noise():
    res, preds = _results_and_predictions(0.66, 0.67)
    v = al.versus_mplm(res, "rr-softmax", preds, n_boot=300)
    assert v.paired and set(v.parts) == {"gap", "classifier", "transfer"}
    assert v.mplm_english == pytest.approx(np.mean([_f1(res["ladder"]["english_predictions"]["gold"], p)
                                                    for p in res["ladder"]["english_predictions"]["by_model"]["mplm"]]))
    text = al.versus_reading(v)
    assert al.within_noise(v.parts["gap"]) and "within noise" in text and "within noise" in al.versus_title(v)
    assert "English model is the weaker classifier" in text and "95% CI" in text
    res, preds = _results_and_predictions(0.9, 0.6)  # stitched clearly wins
    v = al.versus_mplm(res, "rr-softmax", preds, n_boot=300)
    assert v.parts["gap"][1] > 0 and al.versus_title(v) == "Why does the stitched model beat the multilingual model?"
    assert al.versus_reading(v).startswith("rr-softmax beats the multilingual model") and "supports" in al.versus_reading(v)
    res, preds = _results_and_predictions(0.55, 0.85)
    v = al.versus_mplm(res, "rr-softmax", preds, n_boot=300)
    assert al.versus_title(v) == "Why does the stitched model trail the multilingual model?"
    assert al.versus_table(v)["transfer change"].notna().all() and len(al.parts_table(v)) == 3


def test_a_run_stores_both_chains_and_why_and_explain_show_them(tmp_path, tiny_run_args, monkeypatch, capsys):
    from streamlit.testing.v1 import AppTest

    from mosecrot_viz.cli import main
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.pipeline import run_experiment
    from mosecrot_viz.store.runs import new_run_dir

    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "source", "mplm"], seeds=[1, 2], epochs=1, top_k=5)
    cfg.out = str(new_run_dir("versus", tmp_path / "runs"))
    res = run_experiment(cfg).results
    eng = res["ladder"]["english_predictions"]
    assert eng["split"] == "test" and {"source-embeddings", "mplm", "rr-softmax"} <= set(eng["by_model"])
    assert all(len(p) == 2 and len(p[0]) == len(eng["ids"]) for p in eng["by_model"].values())  # two seeds each
    mplm_en = np.mean([_f1_labels(eng["gold"], p, res["labels"]) for p in eng["by_model"]["mplm"]])
    assert mplm_en == pytest.approx(res["methods"]["mplm"]["english_macro_f1"])  # the same score the run reports
    assert main(["explain", cfg.out]) == 0
    out = capsys.readouterr().out
    assert "English classifier difference" in out and "transfer-loss difference" in out and "95% CI" in out
    assert main(["explain", cfg.out, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    parts = data["versus_mplm"]["rr-softmax"]["parts"]
    assert parts["gap"][0] == pytest.approx(res["methods"]["rr-softmax"]["macro_f1"] - res["methods"]["mplm"]["macro_f1"])
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120).run()
    at.switch_page("pages/why.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Against the strong baseline" in h.value for h in at.subheader)
    chains = next(d.value for d in at.dataframe if "English in-language" in d.value.columns)
    assert chains["target"].tolist() == pytest.approx([res["methods"]["rr-softmax"]["macro_f1"],
                                                       res["methods"]["mplm"]["macro_f1"]])
    assert any(m.value.startswith("**Reading, against the multilingual model.**") for m in at.markdown)
    assert at.title[0].value == data["versus_mplm"]["rr-softmax"]["title"]


def _f1_labels(gold, pred, labels):
    return classification_metrics(gold, pred, labels)["macro_f1"]
