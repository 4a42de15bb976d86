"""BLI on a separate test dictionary (issue 18): its pairs are never anchors of the mappers it evaluates."""
import json

import numpy as np
import pytest

from mosecrot_viz.analysis.holdout import dictionary_bli
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import Inputs, configured_mapper, map_spaces, run_experiment
from mosecrot_viz.io import models


@pytest.fixture
def rotated(tiny_bert_dir, tiny_run_args):
    """A target space that is an exact rotation of the tiny BERT's input space (so Procrustes retrieves)."""
    from conftest import WORDS
    from gensim.models import KeyedVectors

    from mosecrot_viz.core import stitching

    cfg = ExperimentConfig(**dict(tiny_run_args), top_k=3)
    tok = models.load_tokenizer(cfg.source_model)
    e_s = stitching.input_embeddings(models.load_classifier(cfg.source_model, 2))
    rot, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(e_s.shape[1],) * 2))
    kv = KeyedVectors(vector_size=e_s.shape[1])
    kv.add_vectors([f"x{w}" for w in WORDS], (e_s[tok.convert_tokens_to_ids(WORDS)] @ rot).astype(np.float32))
    inputs = Inputs(kv, [(w, f"x{w}") for w in WORDS], None, None, None)
    return cfg, inputs, map_spaces(cfg, inputs, ["procrustes", "rr-softmax"])


class Spy:
    """Wraps a mapper and records the target rows it is fitted on."""

    def __init__(self, inner, seen):
        self.inner, self.seen = inner, seen

    def fit(self, src, tgt, **kw):
        self.seen.append(np.array(tgt))
        self.inner.fit(src, tgt, **kw)
        return self

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_dictionary_bli_never_fits_on_its_pairs(rotated):
    cfg, inputs, spaces = rotated
    kv = inputs.vectors
    test_pairs = [("cat", "xcat"), ("dog", "xdog"), ("house", "xhouse"), ("car", "xcar"), ("nothing", "xnothing")]
    seen = []
    res = dictionary_bli(spaces, kv, test_pairs, ["procrustes", "rr-softmax"],
                         lambda m: Spy(configured_mapper(cfg, m), seen))
    assert res.n_test == 4 and res.n_excluded == 4 and res.n_train == len(spaces.anchors) - 4
    assert set(res.excluded_words) == {"xcat", "xdog", "xhouse", "xcar"}
    tested = kv.vectors[[kv.key_to_index[t] for _, t in test_pairs[:4]]]
    assert len(seen) == 2
    for fitted in seen:  # no row a mapper was fitted on is a test word's vector
        assert not (np.abs(fitted[:, None, :] - tested[None, :, :]).max(axis=2) < 1e-7).any()
    assert res.precision["procrustes"]["nn"][1] == 1.0  # the rotation is still recovered from the other anchors
    assert set(res.precision["rr-softmax"]) == {"nn", "csls"} and set(res.precision["rr-softmax"]["csls"]) == {1, 5, 10}


def test_dictionary_bli_refuses_a_dictionary_with_nothing_to_test(rotated):
    cfg, inputs, spaces = rotated
    with pytest.raises(InputError, match="nothing to evaluate"):
        dictionary_bli(spaces, inputs.vectors, [("zzz", "xcat"), ("cat", "nope")], ["procrustes"],
                       lambda m: configured_mapper(cfg, m))


def test_a_run_with_a_test_dictionary_reports_it(tmp_path, tiny_run_args):
    (tmp_path / "bli_test.txt").write_text("cat\txcat\ndog\txdog\nball\txball\n")
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "ls"], epochs=1, top_k=5, ladder=False,
                           bli_test_lexicon=str(tmp_path / "bli_test.txt"), out=str(tmp_path / "run"))
    run_experiment(cfg)
    res = json.loads((tmp_path / "run" / "results.json").read_text())["bli_test"]
    assert res["queries"] == 3 and res["anchors_excluded"] == 3
    assert res["anchors_used"] == json.loads((tmp_path / "run" / "results.json").read_text())["anchors"]["count"] - 3
    assert set(res["precision"]) == {"rr-softmax", "ls"} and set(res["precision"]["ls"]["csls"]) == {"1", "5", "10"}
