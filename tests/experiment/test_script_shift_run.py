"""The unseen-script control end to end on tiny real-shaped data: at share 1 every static-vector method predicts
exactly as without the shift, while the PLMs reading the target text meet nothing but unknown tokens."""
import numpy as np
import pandas as pd
import pytest
from conftest import WORDS, write_vec

from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.inputs import load_inputs
from mosecrot_viz.experiment.pipeline import run_experiment
from mosecrot_viz.io.models import load_tokenizer

STATIC = ["rr-softmax", "ls", "rr-softmax-keep", "lr", "majority"]
READERS = ["source", "mplm"]


@pytest.fixture
def readable_target(tmp_path, tiny_run_args, tiny_task):
    """A 'target language' the tiny PLM can read (its own words, capitalised at random), so a shift has something
    to take away from `source` and `mplm`."""
    rng = np.random.default_rng(1)
    write_vec(tmp_path / "en.vec", WORDS, dim=6, seed=4)
    (tmp_path / "id-lex.txt").write_text("\n".join(f"{w}\t{w}" for w in WORDS) + "\n")
    for split in ("test", "train"):
        frame = pd.read_csv(tiny_task[f"en_{split}"], sep="\t")
        frame["text"] = [" ".join(w.capitalize() if rng.random() < 0.3 else w for w in t.split())
                         for t in frame["text"]]
        frame.to_csv(tmp_path / f"tgt_{split}.tsv", sep="\t", index=False)
    return {**tiny_run_args, "vectors": str(tmp_path / "en.vec"), "lexicon": str(tmp_path / "id-lex.txt"),
            "test": str(tmp_path / "tgt_test.tsv"), "target_train": str(tmp_path / "tgt_train.tsv"), "lang": "de"}


def _run(args, share):
    cfg = ExperimentConfig(**args, methods=STATIC + READERS, seeds=[1], epochs=1, top_k=5, script_shift=share)
    return cfg, run_experiment(cfg)


def test_share_one_leaves_static_methods_identical_and_blinds_the_plm_readers(readable_target):
    _, plain = _run(readable_target, None)
    cfg, shifted = _run(readable_target, 1.0)
    a, b = plain.predictions, shifted.predictions
    for m in STATIC:
        assert a[a["method"] == m]["pred"].tolist() == b[b["method"] == m]["pred"].tolist(), m
        np.testing.assert_array_equal(a[a["method"] == m]["unknown_rate"], b[b["method"] == m]["unknown_rate"])
        assert plain.results["methods"][m]["macro_f1"] == shifted.results["methods"][m]["macro_f1"]
    for m in ("rr-softmax", "ls"):  # the gap ladder reads renamed words too, rung for rung
        assert [r["per_seed"] for r in plain.results["methods"][m]["ladder"]] == \
            [r["per_seed"] for r in shifted.results["methods"][m]["ladder"]]
    assert plain.results["anchors"]["count"] == shifted.results["anchors"]["count"] == len(WORDS)
    summary = shifted.results["data"]["script_shift"]
    assert summary["share"] == 1.0 and summary["renamed"] == summary["letters"] > 10
    assert summary["known_to_source"] == 0 and summary["known_to_multilingual"] == 0 and not summary["warnings"]
    assert plain.results["data"]["script_shift"] is None

    # what source and mplm read: their own tokenizer on the renamed text, every word an unknown token
    tok = load_tokenizer(readable_target["source_model"])
    texts = load_inputs(cfg).test["text"]
    ids = [i for row in tok(list(texts), add_special_tokens=False)["input_ids"] for i in row]
    unk = tok.unk_token_id
    assert ids and all(i == unk for i in ids)
    plain_ids = [i for row in tok(list(load_inputs(ExperimentConfig(**readable_target)).test["text"]),
                                  add_special_tokens=False)["input_ids"] for i in row]
    assert np.mean([i == unk for i in plain_ids]) == 0.0  # without the shift it read every word


def test_the_share_is_checked_before_any_work(readable_target):
    with pytest.raises(Exception, match=r"--script-shift must be a share in \[0, 1\]"):
        ExperimentConfig(**readable_target, script_shift=1.5).validate()
    with pytest.raises(Exception, match="BLI test dictionary is not renamed"):
        ExperimentConfig(**readable_target, script_shift=0.5, bli_test_lexicon="x.txt").validate()


@pytest.mark.parametrize("lang, folder, vectors, lexicon", [
    ("zh", "zho_Hans", "vectors:zh", ("lexicons", "muse", "en-zh.txt")),  # jieba segments the original characters
    ("fr", "fra_Latn", "vectors:fr", None),  # spaCy's elision and clitic rules
])
def test_real_sib200_target_side_reads_identically_at_share_one(lang, folder, vectors, lexicon):
    from conftest import cached_resource, shared_data

    from mosecrot_viz.defaults import models
    from mosecrot_viz.experiment.spaces import select_anchors, word_tokenizer

    test = shared_data("sib200", folder, "test.tsv")
    cached_resource(vectors)
    cached_resource("model:minilm")
    lex = str(shared_data(*lexicon)) if lexicon else f"default:{lang}"
    if lexicon is None:
        cached_resource(f"lexicon:{lang}")
    tok = models.load_tokenizer("default")
    seen = {}
    for share in (None, 1.0):
        cfg = ExperimentConfig(vectors=f"default:{lang}", lexicon=lex, lang=lang, train=str(test), test=str(test),
                               methods=["ls"], script_shift=share).validate()
        inputs = load_inputs(cfg)
        wtok, _ = word_tokenizer(cfg, inputs, tok)
        seen[share] = (len(select_anchors(cfg, inputs, tok, lambda: None)), wtok.encode(inputs.test["text"]).input_ids)
    assert seen[None] == seen[1.0]
    assert load_inputs(cfg).test["text"].iloc[0] != load_inputs(ExperimentConfig(**{**cfg.to_dict(),
                                                                                    "script_shift": None})).test["text"].iloc[0]
