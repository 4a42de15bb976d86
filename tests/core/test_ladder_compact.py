"""The ladder's compact matrix C' = [M ; T[rows]] (core.ladder.compact_target_rows): every rung reads exactly what
it reads over the full C = [M ; T], with only the rows of T its sentences use."""
import numpy as np
import torch
from conftest import WORDS

from mosecrot_viz.core import ladder as gl
from mosecrot_viz.core import stitching
from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.core.training import predict_logits


def test_every_rung_predicts_the_same_through_the_compact_matrix(tiny_bert_dir):
    from transformers import AutoTokenizer

    from mosecrot_viz.io.models import load_classifier

    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    model = load_classifier(str(tiny_bert_dir), 3).eval()
    words = ["x" + w for w in WORDS]
    wtok = WordTokenizer(words, tok.special_tokens_map)
    e_s = stitching.input_embeddings(model)
    rng = np.random.default_rng(1)
    target = stitching.target_matrix(rng.normal(size=(len(words), e_s.shape[1])), e_s, wtok.special_source_ids(tok))
    table = {"x" + w: tok.convert_tokens_to_ids(w) for w in WORDS[:5] if w in tok.get_vocab()}
    texts = ["xcat xdog sat xmat", "xball xgame xteam xwin xthe", "xred unknownword"]
    reader = gl.LadderReader(wtok, table, gl.SourceIds.of(tok), n_model_rows=len(e_s), n_static=len(words))
    full = reader.encode(texts)
    rows, compact = gl.compact_target_rows(full, reader.offset)
    used = {i - reader.offset for seqs in full.ids.values() for s in seqs for i in s if i >= reader.offset}
    assert set(rows.tolist()) == used | {v - reader.offset for v in (full.pad["stitched"], full.mask["stitched"])}
    assert len(rows) < len(target)  # the point: fewer rows than T (here most words are never read)
    assert compact.mapped == full.mapped  # rows of T itself, for the examples' nearest-token search
    cpu = torch.device("cpu")
    logits = {}
    for name, enc, matrix in (("full", full, gl.combined_matrix(e_s, target)),
                              ("compact", compact, gl.combined_matrix(e_s, target, rows))):
        stitching.set_input_embeddings(model, matrix, pad_token_id=tok.pad_token_id)
        logits[name] = {r: predict_logits(model, enc.ids[r], enc.pad[r], cpu) for r in enc.ids}
        if name == "compact":
            assert matrix.shape == (len(e_s) + len(rows), e_s.shape[1])
    for rung in full.ids:
        assert np.array_equal(logits["full"][rung], logits["compact"][rung]), rung
    # the occlusion mask of the stitched rung names the same vector ([UNK] of T) in both
    c = gl.combined_matrix(e_s, target, rows)
    assert np.array_equal(c[compact.mask["stitched"]], gl.combined_matrix(e_s, target)[full.mask["stitched"]])
