"""Metrics against hand-computed values; fine-tuning learns a separable toy task and keeps the best epoch."""
import numpy as np
import pytest
import torch

from mosecrot_viz.core.metrics import aggregate_seeds, classification_metrics
from mosecrot_viz.core.training import TrainConfig, bucket_batches, collate, fine_tune, pick_device, predict_logits
from mosecrot_viz.io import models


def test_metrics_hand_computed():
    m = classification_metrics(["a", "a", "b", "c"], ["a", "b", "b", "b"], ["a", "b", "c"])
    # a: P=1 R=.5 F=2/3; b: P=1/3 R=1 F=.5; c: 0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0) / 3)
    assert m["accuracy"] == 0.5
    assert m["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    second = classification_metrics(["a", "b"], ["a", "b"], ["a", "b", "c"])
    agg = aggregate_seeds([m, second])
    # c is not in the second gold set: macro-F1 averages over a and b only (both right), not over a zero for c
    assert agg["per_seed"][1] == 1.0 and second["per_class"]["c"]["support"] == 0
    assert agg["macro_f1_std"] > 0


def test_macro_f1_averages_over_the_labels_the_gold_set_holds():
    # the case: one of three training labels in the test set, every prediction right -> 1.0, not 0.333
    m = classification_metrics(["a"] * 5, ["a"] * 5, ["a", "b", "c"])
    assert m["macro_f1"] == 1.0 and m["macro_f1_labels"] == ["a"]
    # a label predicted but absent from gold still costs: the missed 'a' lowers a's recall (F1 2/3 over {a})
    m = classification_metrics(["a", "a", "a"], ["a", "a", "b"], ["a", "b", "c"])
    assert m["macro_f1"] == pytest.approx(0.8) and m["macro_f1_labels"] == ["a"]
    assert set(m["per_class"]) == {"a", "b", "c"}  # per-class rows still cover every training label
    from mosecrot_viz.core.metrics import bootstrap_macro_f1, macro_f1
    assert macro_f1(["a"] * 4, ["a"] * 4) == 1.0
    assert bootstrap_macro_f1(["a"] * 6, [["a"] * 6], ["a", "b", "c"]) == (1.0, 1.0)  # same definition per resample


def test_seed_spread_is_the_sample_std_and_zero_for_one_seed():
    good = classification_metrics(["a", "b"], ["a", "b"], ["a", "b"])  # macro-F1 1.0
    half = classification_metrics(["a", "b"], ["a", "a"], ["a", "b"])  # a: F1 2/3, b: 0 -> 1/3
    agg = aggregate_seeds([good, half])
    assert agg["macro_f1_std"] == pytest.approx(abs(1 - 1 / 3) / np.sqrt(2))  # ddof=1, not the ddof=0 value 1/3
    assert agg["accuracy_std"] == pytest.approx(0.5 / np.sqrt(2))
    assert aggregate_seeds([good])["macro_f1_std"] == 0.0
    assert "macro_f1_ci95" not in agg  # only with the predictions behind it


def test_bootstrap_interval_over_test_examples_known_answers():
    from sklearn.metrics import f1_score

    from mosecrot_viz.core.metrics import bootstrap_macro_f1

    labels = ["a", "b", "c"]
    y = ["a", "b", "c"] * 10
    assert bootstrap_macro_f1(y, [y, y], labels) == (1.0, 1.0)  # perfect on every resample
    rng = np.random.default_rng(3)
    preds = [[t if rng.random() < 0.7 else labels[rng.integers(3)] for t in y] for _ in range(2)]
    lo, hi = bootstrap_macro_f1(y, preds, labels, n_boot=200, seed=7)
    # the same resamples drawn by hand and scored by sklearn, paired across seeds
    counts = np.random.default_rng(7).multinomial(len(y), np.full(len(y), 1 / len(y)), size=200)
    means = [np.mean([f1_score(np.repeat(y, c), np.repeat(p, c), labels=labels, average="macro", zero_division=0)
                      for p in preds]) for c in counts]
    assert (lo, hi) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])), abs=1e-12)
    point = np.mean([classification_metrics(y, p, labels)["macro_f1"] for p in preds])
    assert lo < point < hi
    agg = aggregate_seeds([classification_metrics(y, p, labels) for p in preds], y_true=y, preds_per_seed=preds)
    assert agg["macro_f1_ci95"] == pytest.approx([*bootstrap_macro_f1(y, preds, labels)])


def test_bucketing_covers_every_index_once_and_groups_lengths():
    lengths = list(np.random.default_rng(0).integers(1, 100, size=203))
    batches = bucket_batches(lengths, 16, shuffle=True, rng=np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert sorted(flat) == list(range(203))
    spread = np.mean([np.ptp([lengths[i] for i in b]) for b in batches])
    assert spread < 30  # sorted buckets: similar lengths per batch


def test_collate_pads_dynamically():
    out = collate([[5, 6, 7], [8]], pad_id=0, device=torch.device("cpu"))
    assert out["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert out["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def test_fine_tune_learns_toy_task(tiny_bert_dir):
    tok = models.load_tokenizer(str(tiny_bert_dir))
    model = models.load_classifier(str(tiny_bert_dir), 2)
    texts = ["cat dog mat sat"] * 20 + ["ball game team win"] * 20
    y = [0] * 20 + [1] * 20
    ids = tok(texts)["input_ids"]
    device = pick_device("cpu")
    hist = fine_tune(model, ids, y, ids, y, pad_id=tok.pad_token_id, device=device,
                     cfg=TrainConfig(epochs=6, lr=2e-3, batch_size=8), seed=0)
    assert hist["best_dev_macro_f1"] == 1.0
    assert (predict_logits(model, ids, tok.pad_token_id, device).argmax(1) == np.array(y)).all()


def test_pick_device():
    assert pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            pick_device("cuda")


def test_frozen_input_embeddings_are_bit_identical_after_training(tiny_bert_dir):
    from mosecrot_viz.core import stitching

    tok = models.load_tokenizer(str(tiny_bert_dir))
    model = models.load_classifier(str(tiny_bert_dir), 2)
    f_s = np.random.default_rng(0).normal(size=stitching.input_embeddings(model).shape).astype(np.float32)
    stitching.set_input_embeddings(model, f_s, freeze=True)
    before = model.get_input_embeddings().weight.detach().clone()
    other_before = model.classifier.weight.detach().clone()
    ids = tok(["cat dog", "ball game"] * 8)["input_ids"]
    fine_tune(model, ids, [0, 1] * 8, ids, [0, 1] * 8, pad_id=0, device=pick_device("cpu"),
              cfg=TrainConfig(epochs=2, lr=1e-2, batch_size=4), seed=0)
    assert torch.equal(model.get_input_embeddings().weight, before)
    assert not torch.equal(model.classifier.weight, other_before)  # the rest did train


def test_paired_bootstrap_difference_known_answers():
    from mosecrot_viz.core.metrics import bootstrap_macro_f1_diff, classification_metrics

    y = ["a", "b"] * 50
    right, wrong = list(y), ["b", "a"] * 50
    d, lo, hi = bootstrap_macro_f1_diff(y, [right], [right], ["a", "b"])
    assert (d, lo, hi) == (0.0, 0.0, 0.0)  # the same predictions: no difference on any resample
    d, lo, hi = bootstrap_macro_f1_diff(y, [right, right], [wrong], ["a", "b"])
    assert d == 1.0 and lo == hi == 1.0  # always right against always wrong, whatever the draw
    rng = np.random.default_rng(0)
    a = [list(np.where(rng.random(100) < 0.8, y, wrong)) for _ in range(3)]
    b = [list(np.where(rng.random(100) < 0.6, y, wrong)) for _ in range(2)]
    d, lo, hi = bootstrap_macro_f1_diff(y, a, b, ["a", "b"])
    want = (np.mean([classification_metrics(y, p, ["a", "b"])["macro_f1"] for p in a])
            - np.mean([classification_metrics(y, p, ["a", "b"])["macro_f1"] for p in b]))
    assert d == pytest.approx(want) and lo < d < hi and lo > 0  # about 20 points apart on 100 examples
