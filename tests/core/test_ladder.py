"""The gap ladder (core.ladder) on tiny data with known answers."""
import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import WORDS, write_vec

from mosecrot_viz.core import ladder as gl
from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment


def _english_as_target(tmp_path, tiny_run_args, tiny_task, lexicon_pairs):
    """Run args whose 'target language' is English itself: English vectors, the English test set as target."""
    write_vec(tmp_path / "en.vec", WORDS, dim=6, seed=3)
    (tmp_path / "lex.txt").write_text("\n".join(f"{a}\t{b}" for a, b in lexicon_pairs) + "\n")
    return dict(tiny_run_args, vectors=str(tmp_path / "en.vec"), lexicon=str(tmp_path / "lex.txt"),
                test=str(tiny_task["en_test"]))


def _ladder(res, method):
    return {gl.rung_base(r["rung"]): r for r in res["methods"][method]["ladder"]}


def test_identity_lexicon_oracle_reads_exactly_what_the_english_model_reads(tmp_path, tiny_run_args, tiny_task):
    args = _english_as_target(tmp_path, tiny_run_args, tiny_task, [(w, w) for w in WORDS])
    cfg = ExperimentConfig(**args, methods=["rr-softmax", "lexcopy-procrustes"], seeds=[1, 2], epochs=2, lr=1e-3,
                           top_k=5, out=str(tmp_path / "out"))
    out = run_experiment(cfg)
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    for m in cfg.methods:
        lad = _ladder(res, m)
        assert list(lad) == list(gl.RUNGS), m
        # every test word is translated to itself: the oracle reading is the English model's reading, token for token
        assert lad["oracle_translation"]["per_seed"] == lad["english_method"]["per_seed"], m
        assert lad["oracle_translation"]["per_class"] == lad["english_method"]["per_class"], m
        # the stitched rung is the method's own result, bit for bit
        assert lad["stitched"]["per_seed"] == res["methods"][m]["per_seed"]
    # a keep method's own model is the E_s model: no re-initialisation cost
    keep = _ladder(res, "lexcopy-procrustes")
    assert keep["english_method"]["per_seed"] == keep["english_original"]["per_seed"]
    rungs = pd.read_csv(tmp_path / "out" / "ladder.csv", dtype={"id": str})
    assert set(rungs["rung"]) == {"oracle_translation", "oracle_vector_vocab", "stitched", "dictionary"}
    assert len(rungs) == 2 * 2 * 4 * len(out.predictions) // (2 * 2)
    ex = json.loads((tmp_path / "out" / "ladder_examples.json").read_text())
    assert set(ex) == set(cfg.methods) and ex["rr-softmax"]["seed"] == 1
    first = ex["rr-softmax"]["examples"][0]
    assert len(first["words"]) == len(first["status"]) == len(first["stitched"]["occlusion"])
    assert set(first["status"]) <= set(gl.STATUSES) and first["translation"] == first["words"]


def test_ids_of_each_rung_with_a_known_lexicon(tiny_bert_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    # static vocabulary: xcat, xdog (anchors), xsat (vector, not translated); lexicon also knows xmat (no vector)
    wtok = WordTokenizer(["xcat", "xdog", "xsat"], tok.special_tokens_map)
    table = gl.translation_table([("cat", "xcat"), ("dog", "xdog"), ("mat", "xmat"), ("zzz", "xsat")], tok.get_vocab())
    assert table == {"xcat": tok.convert_tokens_to_ids("cat"), "xdog": tok.convert_tokens_to_ids("dog"),
                     "xmat": tok.convert_tokens_to_ids("mat")}  # zzz is not a PLM token: no translation
    V = len(tok)
    reader = gl.LadderReader(wtok, table, gl.SourceIds.of(tok), n_model_rows=V, n_static=3, anchor_words=["xcat"])
    enc = reader.encode(["xcat xsat xmat qq"])
    cat, mat, unk = table["xcat"], table["xmat"], tok.unk_token_id
    own = wtok.encode(["xcat xsat xmat qq"]).input_ids[0]
    assert enc.ids["stitched"][0] == [V + i for i in own]  # the run's own reading, shifted past M
    assert enc.ids["oracle_translation"][0] == [tok.cls_token_id, cat, V + own[2], mat, V + wtok.unk_token_id,
                                                tok.sep_token_id]
    assert enc.ids["oracle_vector_vocab"][0] == [tok.cls_token_id, cat, V + own[2], V + wtok.unk_token_id,
                                                 V + wtok.unk_token_id, tok.sep_token_id]
    assert enc.ids["dictionary"][0] == [tok.cls_token_id, cat, unk, mat, unk, tok.sep_token_id]
    assert enc.status[0] == [gl.ANCHOR, gl.VECTOR, gl.LEXICON, gl.NONE]
    assert enc.spans["stitched"][0] == [(1, 2), (2, 3), (3, 4), (4, 5)]
    short = reader.encode(["xcat xsat xmat qq"], max_length=4)
    assert short.spans["dictionary"][0] == [(1, 2), (2, 3), (3, 3), (3, 3)]  # truncated words have empty spans
    assert short.ids["stitched"][0] == [V + i for i in wtok.encode(["xcat xsat xmat qq"], 4).input_ids[0]]


def test_stitched_through_the_combined_matrix_equals_the_swapped_model_bit_for_bit(tiny_bert_dir):
    from transformers import AutoTokenizer

    from mosecrot_viz.core import stitching
    from mosecrot_viz.core.training import predict_logits
    from mosecrot_viz.io.models import load_classifier

    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    model = load_classifier(str(tiny_bert_dir), 3).eval()
    words = ["x" + w for w in WORDS]
    wtok = WordTokenizer(words, tok.special_tokens_map)
    rng = np.random.default_rng(0)
    e_s = stitching.input_embeddings(model)
    target = stitching.target_matrix(rng.normal(size=(len(words), e_s.shape[1])), e_s, wtok.special_source_ids(tok))
    texts = ["xcat xdog sat xmat", "xball xgame xteam xwin xthe", "xred"]
    reader = gl.LadderReader(wtok, {}, gl.SourceIds.of(tok), n_model_rows=len(e_s), n_static=len(words))
    enc = reader.encode(texts)
    stitching.set_input_embeddings(model, gl.combined_matrix(e_s, target), pad_token_id=tok.pad_token_id)
    through_c = predict_logits(model, enc.ids["stitched"], enc.pad["stitched"], torch.device("cpu"))
    stitching.set_input_embeddings(model, target, pad_token_id=wtok.pad_token_id)
    real = predict_logits(model, wtok.encode(texts).input_ids, wtok.pad_token_id, torch.device("cpu"))
    assert np.array_equal(through_c, real)


def test_occlusion_measures_the_drop_of_the_predicted_class():
    # a 'model' whose logit for class 1 counts token 7, class 0 is constant
    def predict(seqs, pad):
        return np.array([[1.0, float(s.count(7))] for s in seqs])

    c, drops = gl.occlusion(predict, [2, 7, 7, 5, 3], [(1, 2), (2, 3), (3, 4), (4, 4)], mask_id=0, pad_id=0)
    p = gl.softmax(np.array([[1.0, 2.0], [1.0, 1.0]]))
    assert c == 1
    assert drops[0] == pytest.approx(p[0, 1] - p[1, 1]) and drops[1] == drops[0]
    assert drops[2] == 0 and np.isnan(drops[3])


def test_summary_uses_sample_std_and_keeps_seed_order():
    per_seed = [{"macro_f1": x, "labels": ["a"], "per_class": {"a": {"f1": x}}} for x in (0.5, 0.7, 0.9)]
    s = gl.summarise_rung("stitched", per_seed)
    assert s["per_seed"] == [0.5, 0.7, 0.9] and s["macro_f1"] == pytest.approx(0.7)
    assert s["macro_f1_std"] == pytest.approx(0.2) and s["per_class"]["a"] == pytest.approx(0.7)
    assert gl.summarise_rung("stitched", per_seed[:1])["macro_f1_std"] == 0.0


class _BagOfWords(torch.nn.Module):
    """A stand-in classifier with a known answer: logits = sum of the input rows (no training, no noise)."""

    def __init__(self, rows):
        from types import SimpleNamespace

        super().__init__()
        self.emb = torch.nn.Embedding.from_pretrained(torch.as_tensor(rows, dtype=torch.float32))
        self.config = SimpleNamespace(vocab_size=len(rows), pad_token_id=0, num_labels=rows.shape[1])

    def get_input_embeddings(self):
        return self.emb

    def set_input_embeddings(self, emb):
        self.emb = emb

    def forward(self, input_ids, attention_mask):
        from types import SimpleNamespace

        return SimpleNamespace(logits=(self.emb(input_ids) * attention_mask[..., None]).sum(1))


def _bow_meter(tiny_bert_dir, tiny_task, lexicon, static_words):
    """A meter over the tiny 'x'-language test set, a bag-of-words model whose English topic words vote for
    their class (rows of M), and a useless mapping (every F_t row zero)."""
    from transformers import AutoTokenizer

    from mosecrot_viz.core import stitching
    from mosecrot_viz.io.tasks import load_task

    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    labels = ["animals", "health", "sport"]
    topics = {"animals": ["cat", "dog", "sat", "mat"], "health": ["doctor", "health", "ill", "slow"],
              "sport": ["ball", "game", "team", "win"]}
    m_rows = np.zeros((len(tok), 3))
    for c, lab in enumerate(labels):
        for w in topics[lab]:
            m_rows[tok.convert_tokens_to_ids(w), c] = 1.0
    test = load_task(tiny_task["xx_test"])
    wtok = WordTokenizer(static_words, tok.special_tokens_map)
    target = stitching.target_matrix(np.zeros((len(static_words), 3)), m_rows, wtok.special_source_ids(tok))
    table = gl.translation_table(lexicon, tok.get_vocab())
    reader = gl.LadderReader(wtok, table, gl.SourceIds.of(tok), n_model_rows=len(tok), n_static=len(static_words))
    meter = gl.LadderMeter(reader, test["text"], test["label"], test["id"], labels, torch.device("cpu"), max_length=32,
                           id_to_token=tok.convert_ids_to_tokens, exclude_ids=tok.all_special_ids)
    return meter, _BagOfWords(m_rows), m_rows, target, wtok, test, labels


def _measure(meter, model, m_rows, target, wtok, test, labels):
    from mosecrot_viz.core import stitching
    from mosecrot_viz.core.metrics import classification_metrics
    from mosecrot_viz.core.training import predict_logits

    stitching.set_input_embeddings(model, target, pad_token_id=wtok.pad_token_id)
    logits = predict_logits(model, wtok.encode(test["text"], 32).input_ids, wtok.pad_token_id, torch.device("cpu"))
    stitched = classification_metrics(test["label"].to_list(), [labels[i] for i in logits.argmax(1)], labels)
    meter.target("m", 1, model, m_rows, target, logits, stitched, detail=True)
    res = meter.method_results("m")
    return {r["rung"]: r["macro_f1"] for r in res["ladder"]}, res["ladder_reference"]["dictionary"]["macro_f1"]


def test_a_correct_lexicon_reads_perfectly_and_a_shuffled_one_falls_to_chance(tiny_bert_dir, tiny_task):
    xwords = ["x" + w for w in WORDS]
    good = [(w, "x" + w) for w in WORDS]
    meter, *rest = _bow_meter(tiny_bert_dir, tiny_task, good, xwords)
    rungs, dictionary = _measure(meter, *rest)
    assert rungs["oracle_translation"] == rungs["oracle_vector_vocab"] == dictionary == 1.0
    assert rungs["stitched"] < 0.34  # all-zero mapped rows: the model sees nothing, predicts one class
    shuffled = list(zip(np.random.default_rng(0).permutation(WORDS).tolist(), xwords))
    meter, *rest = _bow_meter(tiny_bert_dir, tiny_task, shuffled, xwords)
    rungs, dictionary = _measure(meter, *rest)
    assert dictionary < 0.5 and rungs["oracle_translation"] < 0.5
    ex = meter.examples["m"]["examples"]
    assert ex and all(len(e["stitched"]["occlusion"]) == len(e["words"]) for e in ex)


def test_words_without_a_vector_separate_the_two_oracle_rungs(tiny_bert_dir, tiny_task):
    # only the animal words have vectors: the lexicon still translates every word for oracle_translation
    animals = ["xcat", "xdog", "xsat", "xmat"]
    meter, *rest = _bow_meter(tiny_bert_dir, tiny_task, [(w, "x" + w) for w in WORDS], animals)
    rungs, _ = _measure(meter, *rest)
    assert rungs["oracle_translation"] == 1.0 and rungs["oracle_vector_vocab"] < 1.0


def test_identity_lexicon_oracle_ids_are_the_english_tokenizer_ids(tiny_bert_dir, tiny_task):
    from transformers import AutoTokenizer

    from mosecrot_viz.io.tasks import load_task

    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    texts = load_task(tiny_task["en_test"])["text"].to_list()
    wtok = WordTokenizer(WORDS, tok.special_tokens_map)
    reader = gl.LadderReader(wtok, gl.translation_table([(w, w) for w in WORDS], tok.get_vocab()),
                             gl.SourceIds.of(tok), n_model_rows=len(tok), n_static=len(WORDS))
    assert reader.encode(texts).ids["oracle_translation"] == tok(texts)["input_ids"]


def test_nearest_source_token_is_the_most_cosine_similar_row_never_a_special():
    rng = np.random.default_rng(1)
    m = rng.normal(size=(10, 4))
    rows = np.vstack([3 * m[5], m[7] + 0.01, m[0]])
    got = gl.nearest_source_tokens(rows, m, exclude_ids=[0, 1])
    assert got[:2].tolist() == [5, 7] and got[2] not in (0, 1)
