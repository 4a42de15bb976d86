"""Each check of core.checks with a known answer: what it refuses (naming the input), what it records as a warning,
and what it lets through silently."""
import math

import numpy as np
import pytest

from mosecrot_viz.core.checks import (
    NumericsError,
    RunWarnings,
    check_loss,
    check_mapped,
    check_predictions,
    check_vector_scale,
    degenerate_inputs,
    is_collapsed,
    nonfinite_rows,
)
from mosecrot_viz.core.mappers import LeastSquaresMapper
from mosecrot_viz.errors import FormatError, InputError

RNG = np.random.default_rng(0)
VECTORS = RNG.normal(size=(50, 6)).astype(np.float32)


def test_run_warnings_keep_key_and_message_once_in_order():
    w = RunWarnings()
    w.warn("one_anchor", "only one")
    w.warn("one_anchor", "only one")
    w.extend([("dup_words", "3 duplicates"), {"key": "header", "message": "says 5 rows, has 4"}])
    assert w.keys() == ["one_anchor", "dup_words", "header"] and len(w) == 3
    assert w.to_json()[1] == {"key": "dup_words", "message": "3 duplicates"}


def test_subnormal_vectors_are_refused_naming_the_file():
    tiny = (VECTORS.astype(np.float64) * 1e-44).astype(np.float32)
    with pytest.raises(FormatError, match=r"^data/t\.vec: vectors have norms from .*subnormal.*multiply") as exc:
        check_vector_scale(tiny, "data/t.vec")
    assert isinstance(exc.value, InputError)


def test_vectors_that_are_all_one_vector_are_refused_naming_the_file():
    same = np.tile(VECTORS[:1], (50, 1))
    with pytest.raises(FormatError, match=r"^u\.vec: all 50 vectors are one and the same vector"):
        check_vector_scale(same, "u.vec")
    with pytest.raises(FormatError, match="one and the same"):
        check_vector_scale(same * np.float32(1e20), "u.vec", RunWarnings())  # whatever the scale
    check_vector_scale(VECTORS[:1], "u.vec")  # a single vector is not a collapse
    nearly = same.copy()
    nearly[7] += 1.0  # one word differs: legal (and silent)
    check_vector_scale(nearly, "u.vec", w := RunWarnings())
    assert len(w) == 0


def test_vector_scales_warn_only_when_unusual():
    w = RunWarnings()
    check_vector_scale(VECTORS, "v.vec", w)
    check_vector_scale(VECTORS * np.float32(1e3), "v.vec", w)
    assert len(w) == 0  # ordinary scales: silent
    check_vector_scale(VECTORS * np.float32(1e20), "v.vec", w)
    assert w.keys() == ["vector_scale"] and "v.vec" in w.items[0]["message"] and "e+20" in w.items[0]["message"]
    few = VECTORS.copy()
    few[:2] *= np.float32(1e-40)  # two rows in the subnormal range among normal ones: they run, counted
    w = RunWarnings()
    check_vector_scale(few, "v.vec", w)
    assert w.keys() == ["tiny_vectors", "vector_scale"] and w.items[0]["message"].startswith("2 of 50 vectors")


def test_collapse_and_nonfinite_rows_known_answers():
    assert is_collapsed(np.tile([[1.0, 2.0, 3.0]], (5, 1)))
    assert is_collapsed(np.zeros((4, 3)))
    assert is_collapsed(np.tile([[1.0, 2.0]], (3, 1)) + np.array([[0.0, 1e-9], [0, 0], [0, 0]]))  # below 1e-4
    assert not is_collapsed(VECTORS) and not is_collapsed(VECTORS[:1])
    bad = VECTORS.copy()
    bad[3, 1], bad[7, 0] = np.nan, np.inf
    assert nonfinite_rows(bad) == 2 and nonfinite_rows(VECTORS) == 0


def test_check_mapped_refuses_collapse_and_nan_naming_the_vectors_but_warns_for_one_anchor():
    one_row = np.tile(VECTORS[:1], (50, 1))
    with pytest.raises(NumericsError, match=r"rr-softmax: every one of the 50 rows of F_t is the same row.*t\.vec"):
        check_mapped("rr-softmax", VECTORS, one_row, vectors="t.vec", n_anchors=692, reinit=True)
    with pytest.raises(NumericsError, match=r"ls: F_t: 1 of 50 rows hold NaN or infinity.*t\.vec"):
        nan = VECTORS.copy()
        nan[5] = np.nan
        check_mapped("ls", VECTORS, nan, vectors="t.vec", n_anchors=9, reinit=False)
    w = RunWarnings()
    check_mapped("rr-softmax", one_row, one_row, vectors="t.vec", n_anchors=1, reinit=True, warnings=w)
    assert w.keys() == ["collapsed_map"]  # F_s and F_t: one warning, said once
    check_mapped("ls", one_row, VECTORS, vectors="t.vec", n_anchors=9, reinit=False, warnings=w)  # F_s = E_s: unread
    assert len(w) == 1


def test_least_squares_map_that_overflows_float32_is_an_error_not_a_nan_matrix():
    t = (VECTORS[:20].astype(np.float64) * 1e-44).astype(np.float32)
    with pytest.raises(NumericsError, match="ls: the least-squares map W"):
        LeastSquaresMapper().fit(VECTORS[:20], t)


def test_loss_check_names_the_fine_tune_and_the_likely_cause():
    check_loss(0.7, "rr-softmax", 1, 1e-4)
    for bad in (math.nan, math.inf):
        with pytest.raises(NumericsError, match=r"rr-softmax: the training loss became (nan|inf) in epoch 2.*lr 0.0001"):
            check_loss(bad, "rr-softmax", 2, 1e-4)


def test_constant_predictions_are_recorded_only_when_training_had_several_labels():
    w = RunWarnings()
    check_predictions("rr-softmax", 1, ["a"] * 12, 3, w)
    check_predictions("rr-softmax", 2, ["a", "b"] * 6, 3, w)
    check_predictions("lr", 1, ["a"] * 12, 1, w)
    assert w.keys() == ["constant_predictions"]
    assert w.items[0]["message"] == ("rr-softmax, seed 1: every one of the 12 test predictions is 'a' "
                                     "(training has 3 labels)")


def test_degenerate_inputs_known_answers():
    w = RunWarnings()
    degenerate_inputs(n_anchors=50, dim=300, train_labels=["a", "b"], test_labels=["a", "b", "a"], warnings=w)
    assert len(w) == 0
    degenerate_inputs(n_anchors=1, dim=1, train_labels=["a", "b", "c"], test_labels=["a", "a"], warnings=w)
    assert w.keys() == ["one_anchor", "one_dimensional_vectors", "test_missing_labels"]
    assert "1 of the 3 training labels (none of b, c)" in w.items[2]["message"]


def test_a_fine_tune_on_non_finite_embeddings_stops_at_its_first_step_naming_itself(tiny_bert_dir):
    from mosecrot_viz.core import stitching
    from mosecrot_viz.core.training import TrainConfig, fine_tune, pick_device
    from mosecrot_viz.io import models

    tok = models.load_tokenizer(str(tiny_bert_dir))
    model = models.load_classifier(str(tiny_bert_dir), 2)
    rows = np.full(stitching.input_embeddings(model).shape, np.float32(3e38))  # finite, but overflows the model
    stitching.set_input_embeddings(model, rows, freeze=True)
    ids = tok(["cat dog mat sat", "ball game team win"] * 4)["input_ids"]
    steps = []
    with pytest.raises(NumericsError, match=r"^rr-softmax: the training loss became nan in epoch 1"):
        fine_tune(model, ids, [0, 1] * 4, ids, [0, 1] * 4, pad_id=tok.pad_token_id, device=pick_device("cpu"),
                  cfg=TrainConfig(epochs=3, batch_size=4), seed=1, label="rr-softmax",
                  progress=lambda *a: steps.append(a))
    assert steps == [("rr-softmax: fine-tuning, 3 epochs", 0, 3)]  # refused before a single epoch was reported


def test_a_near_collapse_from_a_huge_temperature_is_refused_naming_the_temperature():
    """The hostile sweep's --temperature 1e6: 26 rows agreeing to 9e-9 on components of about 3e-3 (relative 3e-6)
    passed the old exact-equality tolerance (1e-6); a real map's rows differ in their leading digits."""
    from mosecrot_viz.core.mappers import RelativeMapper

    src, tgt = RNG.normal(size=(30, 8)).astype(np.float32), RNG.normal(size=(26, 8)).astype(np.float32)
    mapper = RelativeMapper(weighting="softmax", temperature=1e6).fit(src[:20], tgt[:20])
    f_t = mapper.transform_target(tgt)
    assert is_collapsed(f_t)
    assert not is_collapsed(RelativeMapper(weighting="softmax", temperature=0.05).fit(src[:20], tgt[:20])
                            .transform_target(tgt))
    with pytest.raises(NumericsError, match=r"a temperature so high \(--temperature 1e\+06\) that every anchor"):
        check_mapped("rr-softmax", mapper.transform_source(src), f_t, vectors="t.vec", n_anchors=20, reinit=True,
                     temperature=1e6)


def test_all_zero_vectors_are_a_recorded_warning():
    w = RunWarnings()
    v = VECTORS.copy()
    v[5:26] = 0
    check_vector_scale(v, "v.vec", w)
    assert w.keys() == ["zero_vectors"] and "21 of 50 vectors in v.vec are all zeros" in w.to_json()[0]["message"]


def test_logits_check_names_the_epoch_and_the_learning_rate():
    from mosecrot_viz.core.checks import check_logits

    check_logits(np.zeros((4, 3), dtype=np.float32), "rr-softmax seed 1", 1, 1e-4)  # finite: passes
    bad = np.zeros((4, 3), dtype=np.float32)
    bad[2, 1] = np.nan
    with pytest.raises(NumericsError, match=r"rr-softmax seed 1: after epoch 2 .* 1 of 4 dev sentences; .*lr 1e\+30"):
        check_logits(bad, "rr-softmax seed 1", 2, 1e30)
