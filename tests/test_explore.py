"""Exploring a run like the Embedding Projector and LIT (issue 18): find a word in the anchor space, open a point's
neighbours, try a sentence. Package functions first, then the pages through AppTest (no browser)."""
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mosecrot_viz.analysis import anchor_search
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment
from mosecrot_viz.store.runs import new_run_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def explore_run(tmp_path, monkeypatch, tiny_run_args):
    """A stored tiny run whose vectors hold one word no lexicon pair names (xzebra: never an anchor)."""
    from conftest import WORDS, write_vec

    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    write_vec(tmp_path / "xz.vec", ["x" + w for w in WORDS] + ["xzebra"], dim=6, seed=3)
    args = {**tiny_run_args, "vectors": str(tmp_path / "xz.vec")}
    cfg = ExperimentConfig(**args, methods=["rr-softmax", "ls", "majority"], epochs=1, top_k=5, keep_models=True)
    cfg.out = str(new_run_dir("explore", tmp_path / "runs"))
    run_experiment(cfg)
    return Path(cfg.out)


def _anchors(words, ids, tids):
    from mosecrot_viz.core.anchors import AnchorSet

    return AnchorSet(tuple(words), np.array(ids), tuple("x" + w for w in words), np.array(tids), 0, {}, "first")


def test_find_word_matches_both_sides_and_adds_anchor_matches_to_the_sample():
    anchors = _anchors(["cat", "dog", "sun"], [5, 6, 7], [0, 1, 2])
    vocab = {"cat": 5, "dog": 6, "sun": 7, "moon": 8}
    tvocab = {"xcat": 0, "xdog": 1, "xsun": 2, "xmoon": 3, "xalone": 4}
    pairs = [("cat", "xcat"), ("dog", "xdog"), ("sun", "xsun"), ("moon", "xmoon")]
    m = anchor_search.find_word("xdog", anchors, vocab, tvocab, pairs)
    assert [(x.side, x.word, x.partner, x.anchor) for x in m] == [("target", "xdog", "dog", 1)]
    idx, extra = anchor_search.plotted([0, 2], m)
    assert idx.tolist() == [0, 1, 2] and extra == []  # the anchor outside the sample joins it
    m = anchor_search.find_word("Moon", anchors, vocab, tvocab, pairs)  # uncased: as the anchors match English
    assert [(x.side, x.word, x.partner, x.anchor, x.source_id, x.target_row) for x in m] == [
        ("source", "moon", "xmoon", None, 8, 3)]
    assert anchor_search.plotted([0], m)[1] == m
    assert anchor_search.find_word("xalone", anchors, vocab, tvocab, pairs)[0].partner is None
    assert anchor_search.find_word("nothing", anchors, vocab, tvocab, pairs) == []


def test_extras_share_the_anchor_frame():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(30, 5))
    tgt = src @ np.linalg.qr(rng.normal(size=(5, 5)))[0]
    sxy, txy, exs, ext = anchor_search.layout_with_extras(src, tgt, src[:2] * 1.5, None)
    assert sxy.shape == txy.shape == (30, 2) and exs.shape == (2, 2) and len(ext) == 0
    np.testing.assert_allclose(exs, sxy[:2], atol=1e-9)  # the same directions land on their anchors' points
    from mosecrot_viz.analysis.projection import pair_distance_control

    assert pair_distance_control(sxy, txy)["ratio"] < 0.3  # an exact rotation: pairs close, in one frame


def test_neighbour_tables_gloss_both_spaces():
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=2)
    kv.add_vectors(["xcat", "xdog", "xcar"], np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32))
    e_s = np.array([[1, 0], [0.8, 0.2], [0, 1]], dtype=np.float32)
    t = anchor_search.neighbour_tables("xcat", "target", e_s=e_s, source_words=["cat", "dog", "car"], kv=kv,
                                       pairs=[("cat", "xcat"), ("dog", "xdog"), ("car", "xcar")],
                                       source_vocab={"cat": 0, "dog": 1, "car": 2}, k=2)
    assert t["source_word"] == "cat" and [r["word"] for r in t["target"]] == ["xdog", "xcar"]
    assert t["target"][0]["gloss"] == "dog" and t["source"][0] == {"word": "dog", "cosine": pytest.approx(0.97, abs=0.01),
                                                                   "gloss": "xdog"}


def test_neighbour_table_centres_on_the_partner_the_plot_draws():
    """A word with two lexicon translations: the anchor rule kept the second, so the plot's pair line, the search's
    partner and the neighbour table all use that one, not the lexicon's first (issue 26)."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=2)
    kv.add_vectors(["xchat", "xa", "xb", "xlone"], np.array([[1, 0], [0.9, 0.1], [0, 1], [0.5, 0.5]], dtype=np.float32))
    vocab = {"cat": 0, "puss": 1, "car": 2, "dog": 3}
    e_s = np.array([[1, 0], [0, 1], [0.7, 0.7], [0.2, 0.9]], dtype=np.float32)
    pairs = [("cat", "xchat"), ("puss", "xchat"), ("car", "xa"), ("car", "xb"), ("zzz", "xlone"), ("dog", "xlone")]
    from mosecrot_viz.core.anchors import AnchorSet

    anchors = AnchorSet(("puss", "car"), np.array([1, 2]), ("xchat", "xb"), np.array([0, 2]), 6)  # the kept pairs
    kw = dict(e_s=e_s, source_words=list(vocab), kv=kv, pairs=pairs, source_vocab=vocab, k=2, anchors=anchors)
    t = anchor_search.neighbour_tables("xchat", "target", **kw)
    m = anchor_search.find_word("xchat", anchors, vocab, kv.key_to_index, pairs)
    assert t["source_word"] == m[0].partner == anchors.source_words[m[0].anchor] == "puss"  # not the lexicon's "cat"
    t = anchor_search.neighbour_tables("car", "source", **kw)
    m = anchor_search.find_word("car", anchors, vocab, kv.key_to_index, pairs)
    assert t["target_word"] == m[0].partner == "xb"  # not the lexicon's first, "xa"
    # not an anchor: the first translation the other side has ("zzz" is no PLM token), in both code paths
    assert anchor_search.neighbour_tables("xlone", "target", **kw)["source_word"] == "dog"
    assert anchor_search.find_word("xlone", anchors, vocab, kv.key_to_index, pairs)[0].partner == "dog"


def _app():
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)


def test_searching_a_word_outside_the_sample_highlights_it(explore_run):
    at = _app()
    at.run()
    at.switch_page("pages/anchors.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="anchors_search").set_value("xzebra").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)  # [0] the drop counts, [1] the anchor space
    names = [t.get("name") for t in spec["data"]]
    assert "search" in names, names
    hl = spec["data"][names.index("search")]
    assert "xzebra" in hl["text"]
    drawn = [w for t in spec["data"] if t.get("name", "").startswith("target") for w in t.get("text") or []]
    assert "xzebra" not in drawn  # not an anchor: it was added as a searched point, not part of the sample
    assert any("gloss" in d.value.columns for d in at.dataframe)  # its neighbours, glossed
    at.selectbox(key="anchors_colour").set_value("frequency rank").run()
    assert not at.exception
    at.selectbox(key="anchors_colour").set_value(f"{anchor_search.MISCLASSIFIED}: rr-softmax").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert any("misclassified" in str((t.get("marker") or {}).get("colorbar", {})) for t in spec["data"])


def test_the_sentence_box_returns_each_methods_prediction(explore_run):
    import pandas as pd

    from mosecrot_viz.io.tasks import load_task

    results = json.loads((explore_run / "results.json").read_text())
    test = load_task(results["config"]["test"])
    preds = pd.read_csv(explore_run / "predictions.csv")
    at = _app()
    at.run()
    at.switch_page("pages/errors.py").run()
    assert not at.exception, [e.value for e in at.exception]
    sentence = test["text"].iat[0] + " xzebra"  # a test sentence plus a word the lexicon never names
    at.text_area(key="errors_sentence").set_value(sentence).run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "prediction" in d.value.columns)
    assert list(table["method"]) == ["rr-softmax", "ls"]
    probs = table[[c for c in table.columns if c.startswith("P(")]]
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    words = [d.value for d in at.dataframe if "importance" in d.value.columns]
    assert len(words) == 2 and words[0]["word"].tolist()[-1] == "xzebra"
    assert words[0]["status"].tolist()[-1] == "vector only" and words[0]["status"].iat[0] == "anchor"
    # the same model as the run's: on the test sentence itself, the box gives the run's prediction
    at.text_area(key="errors_sentence").set_value(test["text"].iat[0]).run()
    table = next(d.value for d in at.dataframe if "prediction" in d.value.columns)
    for m in ("rr-softmax", "ls"):
        want = preds[(preds["method"] == m) & (preds["seed"] == 1)]["pred"].iat[0]
        assert table.set_index("method").loc[m, "prediction"] == want
    assert any(b.label == "Hugging Face folder (zip)" for b in at.get("download_button"))


def test_alignment_shows_the_test_dictionary_bli(tmp_path, monkeypatch, tiny_run_args):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "bli.txt").write_text("cat\txcat\ndog\txdog\n")
    cfg = ExperimentConfig(**tiny_run_args, methods=["ls"], epochs=1, ladder=False, bli_test_lexicon=str(tmp_path / "bli.txt"))
    cfg.out = str(new_run_dir("bli", tmp_path / "runs"))
    run_experiment(cfg)
    at = _app()
    at.run()
    at.switch_page("pages/alignment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value == "BLI on the test dictionary" for s in at.subheader)
    table = next(d.value for d in at.dataframe if "csls P@10" in d.value.columns and "ls" in d.value.index)
    assert table.notna().all().all()


def test_anchor_bli_hits_say_whether_each_mapped_word_lands_on_a_translation():
    from types import SimpleNamespace

    from gensim.models import KeyedVectors

    tok = SimpleNamespace(get_vocab=lambda: {"[CLS]": 0, "cat": 1, "dog": 2, "car": 3, "##s": 4},
                          all_special_tokens=["[CLS]"], all_special_ids=[0])
    f_s = np.array([[1, 1], [1, 0], [0, 1], [-1, 0], [1, 0.01]], dtype=np.float32)
    f_t = np.array([[1, 0.05], [0.1, 1], [0.9, 0.1]], dtype=np.float32)  # xcat -> cat, xdog -> dog, xcar -> cat
    kv = KeyedVectors(vector_size=2)
    kv.add_vectors(["xcat", "xdog", "xcar"], f_t)
    spaces = SimpleNamespace(tokenizer=tok, lowercase_source=True, mapped={"m": (f_s, f_t)})
    pairs = [("cat", "xcat"), ("dog", "xdog"), ("car", "xcar")]
    # [CLS] (special) and ##s (a word piece) are never candidates, though ##s is the closest row to xcat
    assert anchor_search.anchor_bli_hits(spaces, kv, pairs, [0, 1, 2], ["m"]) == {"m": [True, True, False]}


def test_colour_by_bli_hit_and_by_misclassified_sentences():
    import pandas as pd

    opts = anchor_search.colour_options(["rr-softmax"], ["rr-softmax"])
    assert opts[:2] == ["side", "frequency rank"] and len(opts) == 4
    v, title, classes = anchor_search.colour_values(opts[2], [5, 9], [1, 1], bli_hits={"rr-softmax": [True, False]})
    assert v.tolist() == [1.0, 0.0] and "rr-softmax" in title and classes == anchor_search.BLI_CLASSES
    preds = pd.DataFrame({"method": ["m"] * 3, "seed": [1, 1, 1], "id": ["a", "b", "c"],
                          "gold": ["x", "y", "x"], "pred": ["y", "y", "y"], "unknown_rate": [0, 0, 0]})
    test = pd.DataFrame({"id": ["a", "b", "c"], "text": ["cat dog dog", "cat", "Dog sun"], "label": ["x", "y", "x"]})
    counts = anchor_search.misclassified_word_counts(preds, test, ["m"], str.split)
    # a and c were wrong; a word counts once per sentence, and `Dog` also as `dog` (the tokenizer's fallback)
    assert counts == {"m": {"cat": 1, "dog": 2, "Dog": 1, "sun": 1}}
    v, _, _ = anchor_search.colour_values(f"{anchor_search.MISCLASSIFIED}: m", [0, 1, 2], [1, 1, 1],
                                       misclassified_counts=counts, target_words=["dog", "bird", "cat"])
    assert v.tolist() == [2.0, 0.0, 1.0]
