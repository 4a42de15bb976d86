"""The CUDA paths: bf16 autocast on CUDA only, the out-of-memory retry on a real allocation failure,
and every tensor of a run on the GPU.

Tests marked `cuda` skip without a GPU; `scripts/gpu_check.sh` runs them on one and records the
outcome in docs/PERFORMANCE-GPU.md. The CPU halves (no autocast on CPU; the placement check on a
CPU run) run everywhere, so the recording machinery itself is tested on every machine.
"""
from __future__ import annotations

import gc

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification

from mosecrot_viz.core import relative
from mosecrot_viz.core.training import TrainConfig, fine_tune, predict_logits
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment
from mosecrot_viz.io import models

HAS_CUDA = torch.cuda.is_available()
NO_GPU = "no CUDA GPU here: run scripts/gpu_check.sh on a GPU machine (it runs `pytest -m cuda`)"


def needs_cuda(fn):
    return pytest.mark.cuda(pytest.mark.skipif(not HAS_CUDA, reason=NO_GPU)(fn))


# ---- autocast ----------------------------------------------------------------------------------

def _record_linear_outputs(model) -> list:
    """Forward hooks on every Linear: (output dtype, autocast on for cpu, autocast on for cuda, training?)."""
    seen = []

    def hook(module, inputs, output):
        seen.append((output.dtype, torch.is_autocast_enabled("cpu"), torch.is_autocast_enabled("cuda"),
                     module.training))

    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            m.register_forward_hook(hook)
    return seen


@pytest.fixture
def toy(tiny_bert_dir):
    tok = models.load_tokenizer(str(tiny_bert_dir))
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert_dir), num_labels=2)
    ids = tok(["cat dog mat", "ball game team win", "cat sat", "game win"] * 4)["input_ids"]
    return model, ids, [0, 1, 0, 1] * 4, tok.pad_token_id


def _train_and_predict(toy, device):
    model, ids, y, pad = toy
    seen = _record_linear_outputs(model)
    hist = fine_tune(model, ids, y, ids, y, pad_id=pad, device=device, cfg=TrainConfig(epochs=1, batch_size=8), seed=0)
    logits = predict_logits(model, ids, pad, device, batch_size=8)
    return model, seen, hist, logits


def test_no_autocast_on_cpu(toy):
    model, seen, hist, logits = _train_and_predict(toy, torch.device("cpu"))
    assert {s[3] for s in seen} == {True, False}  # both training and prediction passes were seen
    assert all(dtype == torch.float32 and not cpu_ac and not cuda_ac for dtype, cpu_ac, cuda_ac, _ in seen)
    assert logits.dtype == np.float32 and np.isfinite(logits).all()
    assert np.isfinite(hist["epochs"][0]["train_loss"])


@needs_cuda
def test_bf16_autocast_on_cuda_for_training_and_prediction(toy):
    model, seen, hist, logits = _train_and_predict(toy, torch.device("cuda"))
    assert {s[3] for s in seen} == {True, False}
    assert all(dtype == torch.bfloat16 and cuda_ac and not cpu_ac for dtype, cpu_ac, cuda_ac, _ in seen)
    # autocast, not a bf16 model: the weights the optimiser updates stay float32
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert logits.dtype == np.float32 and np.isfinite(logits).all()
    assert np.isfinite(hist["epochs"][0]["train_loss"])


# ---- out of memory, for real -------------------------------------------------------------------

BATCH, SEQ = 64, 512  # activations dominate: a step at 64 rows needs about twice the memory of one at 32


def _oom_model():
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=1000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                     intermediate_size=1024, max_position_embeddings=SEQ, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0, num_labels=2)
    return BertForSequenceClassification(cfg).cuda()


def _oom_data():
    rng = np.random.default_rng(0)
    ids = [[2] + rng.integers(5, 1000, SEQ - 2).tolist() + [3] for _ in range(BATCH)]
    return ids, [i % 2 for i in range(BATCH)], [[2, 10, 11, 3], [2, 12, 3]], [0, 1]


def _tune(model, batch_size):
    ids, y, dev, dev_y = _oom_data()
    return fine_tune(model, ids, y, dev, dev_y, pad_id=0, device=torch.device("cuda"),
                     cfg=TrainConfig(epochs=1, batch_size=batch_size, eval_batch_size=2), seed=0)


def _clean():
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()


def _peak_bytes(batch_size: int) -> tuple[int, dict]:
    """Bytes a one-epoch fine-tune at `batch_size` rows per pass allocates beyond the model, and its history."""
    model = _oom_model()
    _clean()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    hist = _tune(model, batch_size)
    peak = torch.cuda.max_memory_allocated() - base
    del model
    _clean()
    return peak, hist


def _fill_gpu() -> tuple[list, int]:
    """Allocate until the GPU refuses: 1 GiB blocks, then 64 MiB, then 2 MiB. Returns (blocks, OOMs seen)."""
    blocks, ooms = [], 0
    for size in (1 << 30, 64 << 20, 2 << 20):
        while True:
            try:
                blocks.append(torch.empty(size, dtype=torch.uint8, device="cuda"))
            except torch.cuda.OutOfMemoryError:
                ooms += 1
                break
    return blocks, ooms


def _leave_free(blocks: list, headroom: int) -> int:
    """Release blocks (smallest first) until at least `headroom` bytes are free on the device, then
    take back the excess in 64 MiB and 2 MiB blocks; returns the free bytes the driver reports."""
    blocks.sort(key=lambda b: b.numel())
    while blocks and torch.cuda.mem_get_info()[0] < headroom:
        blocks.pop(0)
        torch.cuda.empty_cache()  # the freed block goes back to the driver, not to torch's cache
    for size in (64 << 20, 2 << 20):
        while torch.cuda.mem_get_info()[0] - size >= headroom:
            blocks.append(torch.empty(size, dtype=torch.uint8, device="cuda"))
    return torch.cuda.mem_get_info()[0]


@needs_cuda
def test_real_oom_halves_the_pass_and_the_halved_step_succeeds():
    # calibrate on this GPU: the fine-tune's peak at 64 and at 32 rows per pass
    need_full, ref = _peak_bytes(BATCH)
    need_half, _ = _peak_bytes(BATCH // 2)
    assert need_full > 1.5 * need_half, (need_full, need_half)
    headroom = (need_full + need_half) // 2  # room for 32 rows per pass, not for 64

    model = _oom_model()
    _clean()
    blocks, ooms = _fill_gpu()
    try:
        assert ooms >= 1  # a real allocation failure, not a simulated one
        assert torch.cuda.mem_get_info()[0] < (64 << 20)
        free = _leave_free(blocks, headroom)
        assert need_half < free < need_full, (need_half, free, need_full)
        hist = _tune(model, BATCH)
    finally:
        del blocks
        _clean()
    assert hist["warnings"] == [
        f"fine-tune: out of GPU memory at {BATCH} sentences per pass; retrying the step with {BATCH // 2} "
        f"(gradients accumulated, so the batch size stays {BATCH})"]  # one failure: the halved step fitted
    assert len(hist["epochs"]) == 1
    # gradient accumulation: the same loss as the calibration run that had room for the whole batch
    np.testing.assert_allclose(hist["epochs"][0]["train_loss"], ref["epochs"][0]["train_loss"], rtol=2e-2)


# ---- every tensor of a run on the device -------------------------------------------------------

@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
    not HAS_CUDA, reason=NO_GPU)])])
def test_every_tensor_of_a_run_is_on_the_run_device(device, tmp_path, tiny_run_args, monkeypatch):
    """Each model the run loads records, at every forward, where its parameters, buffers and inputs
    live; the relative map records where its weighted sum runs."""
    seen, forwards = set(), []

    def record(module, args, kwargs):
        forwards.append(type(module).__name__)
        tensors = [*module.parameters(), *module.buffers(), *args, *kwargs.values()]
        seen.update(str(t.device.type) for t in tensors if isinstance(t, torch.Tensor))

    load = models.load_classifier

    def load_recorded(name, num_labels):
        model = load(name, num_labels)
        model.register_forward_pre_hook(record, with_kwargs=True)
        return model

    weighted = relative.weighted_rows

    def weighted_recorded(weights, idx, basis):
        out = weighted(weights, idx, basis)
        seen.add(f"map:{out.device.type}")
        return out

    monkeypatch.setattr(models, "load_classifier", load_recorded)
    monkeypatch.setattr(relative, "weighted_rows", weighted_recorded)
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "ls", "source", "mplm"], seeds=[1], epochs=1,
                           top_k=5, device=device)
    res = run_experiment(cfg).results
    assert res["device"].startswith(device)
    assert len(forwards) > 0
    assert seen == {device, f"map:{device}"}
