"""The fine-tuning loop's speed features keep its results: early stopping, the best-epoch snapshot of trainable
tensors only, inference-mode evaluation, and the throughput/MFU fields of the history."""
import numpy as np
import pytest
import torch

from mosecrot_viz.core import training
from mosecrot_viz.core.flops import model_shape, step_flops
from mosecrot_viz.core.training import TrainConfig, fine_tune, pick_device, predict_logits
from mosecrot_viz.io import models


def _toy(tiny_bert_dir, freeze: bool):
    from mosecrot_viz.core import stitching

    tok = models.load_tokenizer(str(tiny_bert_dir))
    model = models.load_classifier(str(tiny_bert_dir), 2)
    if freeze:
        f_s = np.random.default_rng(0).normal(size=stitching.input_embeddings(model).shape).astype(np.float32)
        stitching.set_input_embeddings(model, f_s, freeze=True)
    texts = ["cat dog mat sat"] * 12 + ["ball game team win"] * 12
    return tok, model, tok(texts)["input_ids"], [0] * 12 + [1] * 12


def _run(tiny_bert_dir, dev_f1s, patience, monkeypatch, freeze=True):
    """Fine-tune with the dev F1 of each epoch scripted (`dev_f1s`), recording the weights after every epoch."""
    tok, model, ids, y = _toy(tiny_bert_dir, freeze)
    scores = iter(dev_f1s)
    after = []
    monkeypatch.setattr(training, "macro_f1", lambda *a, **k: (after.append(
        {k_: v.detach().clone() for k_, v in model.state_dict().items()}), next(scores))[1])
    hist = fine_tune(model, ids, y, ids, y, pad_id=tok.pad_token_id, device=pick_device("cpu"),
                     cfg=TrainConfig(epochs=len(dev_f1s), lr=5e-3, batch_size=8, patience=patience), seed=0)
    return hist, model, after, (tok, ids)


def test_patience_that_never_triggers_gives_identical_weights_and_predictions(tiny_bert_dir, monkeypatch):
    off, m_off, _, (tok, ids) = _run(tiny_bert_dir, [0.5, 0.7, 0.6, 0.8], None, monkeypatch)
    on, m_on, _, _ = _run(tiny_bert_dir, [0.5, 0.7, 0.6, 0.8], 2, monkeypatch)
    assert not off["stopped_early"] and not on["stopped_early"] and len(on["epochs"]) == 4
    for k, v in m_off.state_dict().items():
        assert torch.equal(v, m_on.state_dict()[k]), k
    dev = pick_device("cpu")
    np.testing.assert_array_equal(predict_logits(m_off, ids, tok.pad_token_id, dev),
                                  predict_logits(m_on, ids, tok.pad_token_id, dev))


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch(tiny_bert_dir, monkeypatch):
    hist, model, after, _ = _run(tiny_bert_dir, [0.5, 0.9, 0.6, 0.7, 0.95, 0.99], 2, monkeypatch)
    assert hist["stopped_early"] and [e["epoch"] for e in hist["epochs"]] == [1, 2, 3, 4]
    assert hist["best_epoch"] == 2 and hist["best_dev_macro_f1"] == 0.9
    for k, v in model.state_dict().items():  # the frozen embedding (not in the snapshot) and the trained rest
        assert torch.equal(v, after[1][k]), k
    assert not torch.equal(model.classifier.weight, after[3]["classifier.weight"])  # epoch 4's weights were undone


def test_best_epoch_restored_without_frozen_tensors_in_the_snapshot(tiny_bert_dir, monkeypatch):
    copied = []
    real = training._snapshot
    monkeypatch.setattr(training, "_snapshot", lambda model, names: copied.append(set(names)) or real(model, names))
    hist, model, after, _ = _run(tiny_bert_dir, [0.8, 0.4, 0.6], None, monkeypatch)
    assert hist["best_epoch"] == 1 and len(copied) == 1
    assert "bert.embeddings.word_embeddings.weight" not in copied[0]  # frozen: never copied
    assert "classifier.weight" in copied[0]
    for k, v in model.state_dict().items():
        assert torch.equal(v, after[0][k]), k


def test_history_reports_throughput_and_mfu_from_the_flop_count(tiny_bert_dir, monkeypatch):
    hist, model, _, (_, ids) = _run(tiny_bert_dir, [0.5, 0.6], None, monkeypatch, freeze=False)
    lin, layers, hidden = model_shape(model)
    assert len({len(s) for s in ids}) == 1  # every toy sentence has one length: each batch is that wide
    epoch_flops = step_flops(lin, layers, hidden, rows=len(ids), width=len(ids[0]))  # linear in rows
    assert lin == sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear)) and layers >= 1
    assert hist["matmul_gflops"] > 0
    for e in hist["epochs"]:
        assert e["examples_per_s"] == pytest.approx(24 / e["train_seconds"], rel=1e-6)
        assert e["achieved_gflops"] == pytest.approx(epoch_flops / e["train_seconds"] / 1e9, rel=1e-6)
        assert e["mfu"] == pytest.approx(e["achieved_gflops"] / hist["matmul_gflops"], rel=1e-6)
    assert step_flops(lin, layers, hidden, rows=8, width=6) == 6 * lin * 8 * 6 + 12 * layers * 36 * hidden * 8


def test_patience_is_validated_and_stays_out_of_the_cache_key_when_off(monkeypatch):
    import dataclasses

    import mosecrot_viz.core.model_cache as model_cache
    from mosecrot_viz.core.model_cache import tune_key
    from mosecrot_viz.errors import InputError
    from mosecrot_viz.experiment.config import ExperimentConfig

    with pytest.raises(InputError, match="--patience must be a whole number >= 1"):
        ExperimentConfig(vectors="v", lexicon="l", train="t", test="t", patience=0).validate()
    args = ("m", None, True, [[1, 2]], [0], [[1]], [0])
    assert tune_key(*args, TrainConfig(), 1) != tune_key(*args, TrainConfig(patience=2), 1)
    monkeypatch.setattr(model_cache, "asdict",  # the fields a key hashed before `patience` existed
                        lambda c: {k: v for k, v in dataclasses.asdict(c).items() if k != "patience"})
    before = tune_key(*args, TrainConfig(), 1)
    monkeypatch.undo()
    assert tune_key(*args, TrainConfig(), 1) == before


def test_predictions_run_in_inference_mode(tiny_bert_dir):
    tok, model, ids, _ = _toy(tiny_bert_dir, False)
    seen = []
    hook = model.register_forward_hook(lambda m, i, o: seen.append(torch.is_inference_mode_enabled()))
    predict_logits(model, ids, tok.pad_token_id, pick_device("cpu"))
    hook.remove()
    assert seen and all(seen)


def test_a_fine_tune_that_stops_early_takes_its_untrained_epochs_out_of_the_run_progress():
    from mosecrot_viz.experiment.run import _Progress

    seen = []
    prog = _Progress(lambda msg, frac: seen.append(frac), total=3 + 2 * 5)  # 3 set-up steps, two 5-epoch tunes
    prog.step("setup", 3)
    first = prog.epochs("seed 1, ")
    for e in (1, 2):
        first(f"epoch {e}", e, 5)
    first("stopped early after epoch 2", 2, 2)
    assert prog.total == 3 + 2 + 5 and prog.done == 5
    second = prog.epochs("seed 1, ")
    for e in range(1, 6):
        second(f"epoch {e}", e, 5)
    assert seen[-1] == 1.0 and all(a <= b for a, b in zip(seen, seen[1:]))


def test_fine_tune_stores_each_epochs_wall_seconds_for_the_time_left_estimate(tiny_bert_dir):
    from mosecrot_viz.core.training import TrainConfig, fine_tune
    from mosecrot_viz.defaults.models import load_classifier

    model = load_classifier(str(tiny_bert_dir), 2)
    ids = [[2, 5, 6, 3], [2, 7, 3], [2, 8, 9, 10, 3], [2, 11, 3]]
    import torch

    hist = fine_tune(model, ids, [0, 1, 0, 1], ids[:2], [0, 1], pad_id=0, device=torch.device("cpu"),
                     cfg=TrainConfig(epochs=2, batch_size=2), seed=1)
    for e in hist["epochs"]:
        assert e["epoch_seconds"] >= e["train_seconds"] > 0
