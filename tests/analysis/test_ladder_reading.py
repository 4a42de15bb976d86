"""Reading a stored ladder: costs telescope, the sentence names the largest loss, casualties are the oracle's wins."""
import pandas as pd
import pytest

from mosecrot_viz.analysis import ladder as al

LABELS = ["a", "b"]


def _rung(name, per_seed):
    mean = sum(per_seed) / len(per_seed)
    return {"rung": name, "macro_f1": mean, "macro_f1_std": 0.01, "per_seed": per_seed,
            "per_class": {"a": mean, "b": mean - 0.1}}


def _results(english_suffix=""):
    ladder = [_rung("english_original" + english_suffix, [0.90, 0.88]), _rung("english_method" + english_suffix, [0.85, 0.85]),
              _rung("oracle_translation", [0.80, 0.78]), _rung("oracle_vector_vocab", [0.60, 0.62]),
              _rung("stitched", [0.62, 0.66])]
    return {"methods": {"rr-softmax": {"macro_f1": 0.64, "ladder": ladder,
                                       "ladder_reference": {"dictionary": _rung("dictionary", [0.5, 0.5])}},
                        "mplm": {"macro_f1": 0.83}, "majority": {"macro_f1": 0.1}, "ls": {"macro_f1": 0.6}}}


def test_costs_telescope_to_first_minus_last_rung_per_seed():
    lad = al.ladder_of(_results(), "rr-softmax")
    st = al.steps(lad)
    assert [s.name for s in st] == ["re-initialised embeddings", "word-by-word transfer", "vector coverage",
                                    "the mapping"]
    for seed in range(2):
        total = sum(s.per_seed[seed] for s in st)
        assert total == pytest.approx(lad.rungs[0]["per_seed"][seed] - lad.rungs[-1]["per_seed"][seed])
    assert st[-1].cost == pytest.approx(-0.03)  # the mapping beats its oracle here: a negative cost, kept


def test_reading_names_the_largest_loss_a_gain_and_the_multilingual_line():
    text = al.reading(al.ladder_of(_results(), "rr-softmax"))
    assert "largest loss is vector coverage, -0.180" in text  # one convention: a signed change, negative = loss
    assert "would reach 0.790 instead of 0.610" in text
    assert "The mapping gains +0.030" in text and "more than one gloss" in text
    assert "multilingual model scores 0.830 (stitched -0.190 against it)" in text


def test_table_and_per_class_and_missing_rungs():
    lad = al.ladder_of(_results(" (dev)"), "rr-softmax")
    assert lad.english_on_dev and al.missing_rungs(lad) == []
    table = al.ladder_table(lad)
    assert table["rung"].tolist()[:2] == ["English model, English sentences (dev)",
                                          "re-initialised model, English sentences (dev)"]  # in words
    assert table["key"].tolist()[:2] == ["english_original (dev)", "english_method (dev)"]
    assert not any("_" in r for r in table["rung"])  # no code names in the displayed column
    assert "(dictionary only, no vectors)" in table["rung"].tolist() and "(multilingual model: mplm)" in table["rung"].tolist()
    changes = table["change"].dropna()
    assert changes.sum() == pytest.approx(table["macro_f1"].iloc[4] - table["macro_f1"].iloc[0])  # this minus above
    pc = al.per_class_steps(lad)
    assert list(pc.index) == ["a", "b"] and al.MAPPING_CHANGE in pc and "stitched (mapped rows)" in pc
    assert al.ladder_of(_results(), "ls") is None and al.laddered_methods(_results()) == ["rr-softmax"]


def test_casualties_are_oracle_right_and_stitched_wrong_most_confident_first():
    rows = []
    for seed, i, gold, s_pred, s_conf, o_pred in [(1, "1", "a", "b", 0.9, "a"), (1, "2", "a", "b", 0.95, "a"),
                                                  (1, "3", "a", "a", 0.99, "a"), (1, "4", "b", "a", 0.99, "a"),
                                                  (2, "1", "a", "b", 0.5, "a")]:
        rows += [{"method": "m", "seed": seed, "rung": "stitched", "id": i, "gold": gold, "pred": s_pred,
                  "confidence": s_conf},
                 {"method": "m", "seed": seed, "rung": "oracle_translation", "id": i, "gold": gold, "pred": o_pred,
                  "confidence": 0.7}]
    out = al.casualties(pd.DataFrame(rows), "m", texts={"1": "one", "2": "two"})
    assert out[["seed", "id"]].values.tolist() == [[1, "2"], [1, "1"], [2, "1"]]
    assert out["text"].tolist() == ["two", "one", "one"] and set(out["oracle"]) == {"a"}
    assert al.casualties(None, "m").empty
    saved = al.rescues(pd.DataFrame(rows), "m")  # the stitched model right where the oracle is wrong
    assert saved[["seed", "id"]].values.tolist() == [] and al.rescues(None, "m").empty
    flipped = pd.DataFrame(rows).assign(pred=lambda d: d["pred"].where(d["rung"] != "oracle_translation", "b"))
    assert al.rescues(flipped, "m")[["seed", "id"]].values.tolist() == [[1, "3"]]  # id 3: stitched a (gold), oracle b


def test_reading_calls_a_loss_within_its_seed_spread_noise():
    res = _results()
    lad = res["methods"]["rr-softmax"]["ladder"]
    lad[3]["per_seed"], lad[4]["per_seed"] = [0.70, 0.90], [0.75, 0.75]  # mapping cost per seed: -0.05, +0.15
    lad[2]["per_seed"] = [0.90, 0.70]
    text = al.reading(al.ladder_of(res, "rr-softmax"))
    assert "read it as noise" in text


def test_a_self_trained_method_reads_its_base_chain_then_its_own_rung():
    res = _results()
    res["methods"]["rr-softmax+st"] = {"macro_f1": 0.70, "macro_f1_std": 0.02, "per_seed": [0.68, 0.72],
                                       "per_class": {"a": {"precision": 0.7, "recall": 0.7, "f1": 0.75, "support": 5},
                                                     "b": {"precision": 0.6, "recall": 0.7, "f1": 0.65, "support": 5}}}
    lad = al.ladder_of(res, "rr-softmax+st")
    assert lad.names == ["english_original", "english_method", "oracle_translation", "oracle_vector_vocab", "stitched",
                         "self_trained"]
    last = al.steps(lad)[-1]
    assert last.name == "self-training on unlabelled target text"
    assert last.per_seed == pytest.approx((0.62 - 0.68, 0.66 - 0.72))  # paired by seed: a gain is a negative cost
    assert dict(lad.rungs[-1].per_class) == {"a": 0.75, "b": 0.65} and set(lad.reference) == {"dictionary"}
    assert "Self-training on unlabelled target text gains +0.060" in al.reading(lad)
    table = al.ladder_table(lad)
    assert table["rung"].iloc[5] == "self-trained on unlabelled target text"
    assert table["change"].iloc[5] == pytest.approx(0.06)
    assert al.laddered_methods(res) == ["rr-softmax+st", "rr-softmax"]  # best macro-F1 first
    del res["methods"]["rr-softmax"]["ladder"]  # a base without a ladder: none for its self-trained copy either
    assert al.ladder_of(res, "rr-softmax+st") is None and al.laddered_methods(res) == []
