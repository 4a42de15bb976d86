"""GPU out-of-memory during fine-tuning or prediction: retried with half the rows per pass, or a clear error.

Simulated on CPU: the model's forward raises `torch.cuda.OutOfMemoryError` when it sees more rows
than a threshold, the way a real GPU does when a batch no longer fits.
"""
import copy

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification

from mosecrot_viz.core.training import TrainConfig, fine_tune, pick_device, predict_logits
from mosecrot_viz.errors import InputError, ResourceError
from mosecrot_viz.io import models


class OomAbove:
    """Wraps `model.forward`: records the rows of each call and raises OOM above `limit` rows (`times` times)."""

    def __init__(self, model, limit: int, times: int | None = None, training_only: bool = True):
        self.model, self.forward, self.limit, self.times = model, model.forward, limit, times
        self.training_only, self.raised, self.rows = training_only, 0, []

    def __call__(self, **kw):
        n = kw["input_ids"].shape[0]
        self.rows.append(n)
        hit = n > self.limit and (self.model.training or not self.training_only)
        if hit and (self.times is None or self.raised < self.times):
            self.raised += 1
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
        return self.forward(**kw)


@pytest.fixture
def toy(tiny_bert_dir):
    """A dropout-free tiny BERT (so runs are comparable) and a 16-sentence two-class task."""
    tok = models.load_tokenizer(str(tiny_bert_dir))
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(tiny_bert_dir), num_labels=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    texts = ["cat dog mat", "ball game team win", "cat sat", "game win"] * 4
    ids = tok(texts)["input_ids"]
    y = [0, 1, 0, 1] * 4
    return model, ids, y, tok.pad_token_id


def test_oom_once_halves_the_pass_and_training_matches_an_unconstrained_run(toy, monkeypatch):
    model, ids, y, pad = toy
    reference = copy.deepcopy(model)
    cfg = TrainConfig(epochs=2, lr=1e-3, batch_size=8)
    device = pick_device("cpu")
    ref_hist = fine_tune(reference, ids, y, ids, y, pad_id=pad, device=device, cfg=cfg, seed=0)

    oom = OomAbove(model, limit=4, times=1)
    monkeypatch.setattr(model, "forward", oom)
    notices = []
    hist = fine_tune(model, ids, y, ids, y, pad_id=pad, device=device, cfg=cfg, seed=0,
                     progress=lambda msg, *_: notices.append(msg) if "out of GPU memory" in msg else None, label="src")

    assert oom.raised == 1
    train_rows = [n for n in oom.rows if n != len(ids)]  # prediction on dev sees all 16 at once
    assert train_rows[:3] == [8, 4, 4]  # the failed pass, then the same step in two halves
    assert max(train_rows[1:]) == 4  # and half-size passes for the rest of training
    assert hist["warnings"] == [
        "src: out of GPU memory at 8 sentences per pass; retrying the step with 4 (gradients accumulated, so the "
        "batch size stays 8)"]
    assert notices[0] == hist["warnings"][0]  # the app's progress line shows it
    assert len(hist["epochs"]) == 2  # training completed
    # gradient accumulation keeps the optimiser's view of the batch: same losses as without OOM
    np.testing.assert_allclose([e["train_loss"] for e in hist["epochs"]],
                               [e["train_loss"] for e in ref_hist["epochs"]], rtol=1e-4)
    assert ref_hist["warnings"] == []


def test_oom_at_one_sentence_per_pass_gives_up_with_what_to_lower(toy, monkeypatch):
    model, ids, y, pad = toy
    oom = OomAbove(model, limit=0)
    monkeypatch.setattr(model, "forward", oom)
    notices = []
    with pytest.raises(ResourceError, match="even with one sentence per batch.*lower max_length") as err:
        fine_tune(model, ids, y, ids, y, pad_id=pad, device=pick_device("cpu"),
                  cfg=TrainConfig(epochs=1, batch_size=8), seed=0,
                  progress=lambda msg, *_: notices.append(msg) if "out of GPU memory" in msg else None)
    assert isinstance(err.value, InputError)  # shown like any input problem by the CLI and the app
    assert oom.rows == [8, 4, 2, 1]
    assert [n.split(" with ")[1].split(" ")[0] for n in notices] == ["4", "2", "1"]


def test_prediction_oom_halves_the_batch_and_gives_the_same_logits(toy, monkeypatch):
    model, ids, _, pad = toy
    device = pick_device("cpu")
    expected = predict_logits(model, ids, pad, device, batch_size=16)
    oom = OomAbove(model, limit=4, training_only=False)
    monkeypatch.setattr(model, "forward", oom)
    got = predict_logits(model, ids, pad, device, batch_size=16)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert oom.rows[:3] == [16, 8, 4] and max(oom.rows[2:]) == 4
    monkeypatch.setattr(model, "forward", OomAbove(model, limit=0, training_only=False))
    with pytest.raises(ResourceError, match="while predicting"):
        predict_logits(model, ids, pad, device, batch_size=4)
