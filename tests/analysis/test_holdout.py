"""Held-out BLI on a tiny model whose target space is a rotation of the source space: every mapper retrieves."""
import numpy as np

from mosecrot_viz.analysis.holdout import gold_sets, holdout_bli
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import Inputs, map_spaces
from mosecrot_viz.io import models


def test_gold_sets_collect_every_whole_token_translation():
    pairs = [("cat", "chat"), ("kitty", "chat"), ("##s", "chat"), ("dog", "chien")]
    gold = gold_sets(pairs, [0, 1], {"cat": 5, "kitty": 6, "##s": 7, "dog": 8}, {"chat": 0, "chien": 1})
    assert gold == [{5, 6}, {8}]


def test_holdout_bli_on_a_rotated_copy(tiny_bert_dir, tiny_run_args):
    from conftest import WORDS
    from gensim.models import KeyedVectors

    from mosecrot_viz.core import stitching

    cfg = ExperimentConfig(**dict(tiny_run_args), top_k=3)
    tok = models.load_tokenizer(cfg.source_model)
    e_s = stitching.input_embeddings(models.load_classifier(cfg.source_model, 2))
    ids = tok.convert_tokens_to_ids(WORDS)
    rot, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(e_s.shape[1],) * 2))
    kv = KeyedVectors(vector_size=e_s.shape[1])
    kv.add_vectors([f"x{w}" for w in WORDS], (e_s[ids] @ rot).astype(np.float32))
    inputs = Inputs(kv, [(w, f"x{w}") for w in WORDS], None, None, None)
    spaces = map_spaces(cfg, inputs, ["procrustes", "rr-softmax"])
    res = holdout_bli(cfg, inputs, spaces, ["procrustes", "rr-softmax"], n_test=5, ks=(1, 5))
    assert res.n_test == 5 and res.n_train == len(WORDS) - 5
    # an exact rotation is recovered by Procrustes, so held-out words find their translation first
    assert res.precision["procrustes"]["nn"][1] == 1.0
    assert 0.0 <= res.precision["rr-softmax"]["csls"][5] <= 1.0
    assert res.cosines["procrustes"].shape == (5,) and res.cosines["procrustes"].min() > 0.99
