"""What the readers let through (NFC duplicates, lexicon repeats) reaches the run as warnings and keeps the anchor
report's counts as they were before the reader dropped repeats."""
import numpy as np
import pandas as pd

from mosecrot_viz.core.anchors import DROP_DUPLICATE, extract_anchors
from mosecrot_viz.experiment.inputs import Inputs
from mosecrot_viz.io.lexicon import load_lexicon
from mosecrot_viz.io.vectors import load_vectors


def _frame():
    return pd.DataFrame({"id": ["1"], "label": ["a"], "text": ["x"]})


def test_nfc_duplicates_and_lexicon_repeats_become_warnings(tmp_path):
    vec = tmp_path / "v.vec"
    vec.write_text("caf\u00e9 1 0\ncafe\u0301 0 1\nchat 1 1\n", encoding="utf-8")  # NFC and NFD of one word
    lex = tmp_path / "lex.txt"
    lex.write_text("cat chat\ncat chat\ncat chat\ncoffee caf\u00e9\n", encoding="utf-8")
    kv, pairs = load_vectors(vec), load_lexicon(lex)
    inputs = Inputs(kv, pairs, _frame(), _frame(), _frame())
    keys = dict(inputs.warnings)
    assert "duplicate_words" in keys and keys["duplicate_words"].startswith("vectors: 1 rows")
    assert "duplicate_pairs" in keys and "2 lines" in keys["duplicate_pairs"]


def test_clean_inputs_give_no_reader_warnings(tmp_path):
    vec = tmp_path / "v.vec"
    vec.write_text("chat 1 0\nchien 0 1\n", encoding="utf-8")
    lex = tmp_path / "lex.txt"
    lex.write_text("cat chat\ndog chien\n", encoding="utf-8")
    assert Inputs(load_vectors(vec), load_lexicon(lex), _frame(), _frame(), _frame()).warnings == []


def test_anchor_report_counts_the_repeats_the_reader_dropped(tmp_path):
    lex = tmp_path / "lex.txt"
    lex.write_text("cat chat\ncat chat\ndog chien\ncat chat\n", encoding="utf-8")
    streamed = load_lexicon(lex)
    plain = [("cat", "chat"), ("cat", "chat"), ("dog", "chien"), ("cat", "chat")]
    vocab_en, vocab_t = {"cat": 0, "dog": 1}, {"chat": 0, "chien": 1}
    a, b = extract_anchors(streamed, vocab_en, vocab_t), extract_anchors(plain, vocab_en, vocab_t)
    assert a.summary() == b.summary()
    assert a.summary()["lexicon_pairs"] == 4 and a.summary()["dropped"][DROP_DUPLICATE] == 2
    assert np.array_equal(a.target_ids, b.target_ids)
