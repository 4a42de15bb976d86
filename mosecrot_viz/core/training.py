"""Fine-tuning and prediction for sequence classifiers, on CUDA with bf16 autocast when present.

Batches are padded to their own longest sequence (dynamic padding) and built from length-sorted
buckets, so short sentences don't pay for long ones. The best epoch on the (English) dev set is
kept: model selection never looks at target-language data.

Each epoch's history records its training seconds, examples/s and model FLOPs utilisation (`core.flops`:
matmul FLOPs of the steps over their time, as a share of this machine's measured matmul rate). Dev
evaluation runs under `torch.inference_mode` in batches of `eval_batch_size`. With `patience` set, training
stops once dev macro-F1 has not improved for that many epochs (off by default: the paper trains every epoch
and keeps the best, and a later epoch may still win).

When the GPU runs out of memory, a step is retried in micro-batches of half the size (gradients
accumulated, so the optimiser still sees the configured batch and results stay comparable); the
notice goes to the progress callback and into the history's `warnings`. At one sentence per
micro-batch it gives up with a `ResourceError` saying what to lower.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from mosecrot_viz.core.checks import check_logits, check_loss
from mosecrot_viz.core.devices import pick_device  # noqa: F401 (re-exported: the training API)
from mosecrot_viz.core.metrics import macro_f1
from mosecrot_viz.errors import ResourceError

Progress = Callable[[str, int, int], None]
OOM_ERRORS = tuple({torch.cuda.OutOfMemoryError, getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)})


def free_cuda_memory() -> None:
    """Release cached CUDA blocks after an out-of-memory error (a no-op without CUDA)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def _give_up(what: str, max_len: int) -> ResourceError:
    return ResourceError(f"out of GPU memory {what} even with one sentence per batch (longest has {max_len} tokens): "
                         "lower max_length, use a smaller model, free the GPU of other jobs, or run with --device cpu")


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class TrainConfig:
    """Fine-tuning hyperparameters (chosen on English dev data only)."""

    epochs: int = 5
    lr: float = 1e-4
    batch_size: int = 32
    warmup: float = 0.1
    weight_decay: float = 0.01
    eval_batch_size: int = 128
    patience: int | None = None  # stop after this many epochs without a better dev F1; None trains every epoch


def bucket_batches(lengths, batch_size: int, *, shuffle: bool, rng: np.random.Generator | None = None):
    """Index batches of similar length: sort within chunks of 50 batches, then shuffle batch order."""
    idx = np.arange(len(lengths))
    if shuffle:
        idx = rng.permutation(idx)
    chunk = batch_size * 50
    batches = []
    for s in range(0, len(idx), chunk):
        part = idx[s : s + chunk]
        part = part[np.argsort([lengths[i] for i in part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    if shuffle:
        order = rng.permutation(len(batches))
        batches = [batches[i] for i in order]
    return batches


def collate(seqs, pad_id: int, device) -> dict:
    """Pad a list of id lists to the longest one; returns input_ids and attention_mask on `device`."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s)
        mask[i, : len(s)] = 1
    pin = device.type == "cuda"
    if pin:
        ids, mask = ids.pin_memory(), mask.pin_memory()
    return {"input_ids": ids.to(device, non_blocking=pin), "attention_mask": mask.to(device, non_blocking=pin)}


def _autocast(device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


@torch.inference_mode()
def predict_logits(model, seqs, pad_id: int, device, batch_size: int = 128) -> np.ndarray:
    """Logits for every sequence, in input order, without gradients.

    On GPU out-of-memory the pass restarts with half the batch size (predictions don't depend on
    it); at batch size 1 it raises `ResourceError`.
    """
    model.eval()
    out = np.zeros((len(seqs), model.config.num_labels), dtype=np.float32)
    while True:
        try:
            for batch in bucket_batches([len(s) for s in seqs], batch_size, shuffle=False):
                inputs = collate([seqs[i] for i in batch], pad_id, device)
                with _autocast(device):
                    logits = model(**inputs).logits
                out[batch] = logits.float().cpu().numpy()
            return out
        except OOM_ERRORS:
            failed = batch_size
        free_cuda_memory()  # outside the except block, once the failed pass's tensors are released
        if failed <= 1:
            raise _give_up("while predicting", max(map(len, seqs), default=0))
        batch_size = failed // 2


def _train_step(model, opt, sched, params, seqs, y, batch, micro: int, pad_id: int, device) -> float:
    """One optimiser step over `batch`, run in micro-batches of `micro` rows; returns the summed loss.

    The loss of each micro-batch is weighted by its share of the batch, so the accumulated
    gradient equals the gradient of the whole batch's mean loss.
    """
    opt.zero_grad(set_to_none=True)
    total = 0.0
    for s in range(0, len(batch), micro):
        part = batch[s : s + micro]
        inputs = collate([seqs[i] for i in part], pad_id, device)
        with _autocast(device):
            loss = torch.nn.functional.cross_entropy(model(**inputs).logits.float(), y[part].to(device))
        (loss * (len(part) / len(batch))).backward()
        total += loss.item() * len(part)
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    return total


def _optimizer(params, cfg: TrainConfig, device):
    """AdamW with weight decay on matrices only; the fused kernel where this torch has one for the device (on
    CPU it took the optimiser from about 38 to 10 ms of a MiniLM step)."""
    groups = [{"params": [p for p in params if p.ndim > 1], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}]
    try:
        return torch.optim.AdamW(groups, lr=cfg.lr, fused=device.type in ("cpu", "cuda"))
    except (RuntimeError, TypeError, ValueError):  # an older torch, or a device without the fused kernel
        return torch.optim.AdamW(groups, lr=cfg.lr)


def _snapshot(model, names: set) -> dict:
    """Copies of the tensors training can change (trainable parameters and buffers), on the CPU; a frozen
    embedding matrix (96M values for e5) is not copied at every improving epoch."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items() if k in names}


def start_message(label: str, epochs: int) -> str:
    """The progress message a fine-tune sends before its first step (`analysis.eta.START_RE` reads it back).

    >>> start_message("rr-softmax", 3)
    'rr-softmax: fine-tuning, 3 epochs'
    """
    return f"{label}: fine-tuning, {epochs} epoch{'' if epochs == 1 else 's'}"


def fine_tune(
    model, train_ids, train_y, dev_ids, dev_y, *, pad_id: int, device, cfg: TrainConfig, seed: int,
    progress: Progress | None = None, label: str = "fine-tune",
) -> dict:
    """Train `model` in place; restore the epoch with the best dev macro-F1.

    Returns a history dict: per epoch the loss, dev F1, training seconds, the whole epoch's seconds (dev
    evaluation included), examples/s, achieved GFLOP/s and MFU; the
    best dev F1 and epoch; `stopped_early` (with `patience`); and `warnings` (e.g. an out-of-memory retry
    with smaller micro-batches). Raises `ResourceError` when even one sentence per micro-batch does not fit
    in GPU memory, and `core.checks.NumericsError` at the first step whose loss is not finite.
    """
    from mosecrot_viz.core.flops import matmul_gflops, model_shape, step_flops

    set_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = _optimizer(params, cfg, device)
    changing = {n for n, p in model.named_parameters() if p.requires_grad} | {n for n, _ in model.named_buffers()}
    lengths = [len(s) for s in train_ids]
    steps = cfg.epochs * int(np.ceil(len(train_ids) / cfg.batch_size))
    warm = max(1, int(cfg.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    y = torch.as_tensor(np.array(train_y), dtype=torch.long)
    shape = model_shape(model)
    rate = matmul_gflops(str(device), "bfloat16" if device.type == "cuda" else "float32") if device.type != "mps" else None
    best, best_epoch, best_state, history, warnings = -1.0, 0, None, [], []
    micro = cfg.batch_size  # rows per forward pass; halved on GPU out-of-memory
    stopped_early = False
    if progress:  # the first epoch's start: the ETA times it (and the tail before it) from here (analysis.eta)
        progress(start_message(label, cfg.epochs), 0, cfg.epochs)
    for epoch in range(cfg.epochs):
        model.train()
        total, flops, t0 = 0.0, 0.0, time.perf_counter()
        for batch in bucket_batches(lengths, cfg.batch_size, shuffle=True, rng=rng):
            while True:
                try:
                    step_loss = _train_step(model, opt, sched, params, train_ids, y, batch, micro, pad_id, device)
                    break
                except OOM_ERRORS:
                    failed = min(micro, len(batch))
                opt.zero_grad(set_to_none=True)  # outside the except block: the failed step's tensors are freed
                free_cuda_memory()
                if failed <= 1:
                    raise _give_up("while training", max(len(train_ids[i]) for i in batch))
                micro = failed // 2
                note = (f"{label}: out of GPU memory at {failed} sentences per pass; retrying the step with {micro} "
                        f"(gradients accumulated, so the batch size stays {cfg.batch_size})")
                warnings.append(note)
                if progress:
                    progress(note, epoch, cfg.epochs)
            check_loss(step_loss / len(batch), label, epoch + 1, cfg.lr)  # NaN never trains on: named, at once
            total += step_loss
            flops += step_flops(*shape, rows=len(batch), width=max(lengths[i] for i in batch))
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        dev_logits = predict_logits(model, dev_ids, pad_id, device, cfg.eval_batch_size)
        check_logits(dev_logits, label, epoch + 1, cfg.lr)  # weights blown up by the epoch's last update: named now
        dev_pred = dev_logits.argmax(1)
        dev_f1 = macro_f1(dev_y, dev_pred)  # over the labels dev holds, as every reported macro-F1 (core.metrics)
        gflops = flops / max(seconds, 1e-9) / 1e9
        history.append({"epoch": epoch + 1, "train_loss": total / len(train_ids), "dev_macro_f1": dev_f1,
                        "train_seconds": seconds, "examples_per_s": len(train_ids) / max(seconds, 1e-9),
                        "achieved_gflops": gflops, "mfu": gflops / rate if rate else None})
        if dev_f1 > best:
            best, best_epoch = dev_f1, epoch + 1
            best_state = _snapshot(model, changing)
        # the whole epoch as the user waits for it (training, dev evaluation, the best-state copy): what the app's
        # time-left estimate prices an epoch of this model at in later runs (analysis.eta)
        history[-1]["epoch_seconds"] = time.perf_counter() - t0
        if progress:
            progress(f"{label}: epoch {epoch + 1}/{cfg.epochs}, dev F1 {dev_f1:.3f}", epoch + 1, cfg.epochs)
        if cfg.patience is not None and epoch + 1 - best_epoch >= cfg.patience and epoch + 1 < cfg.epochs:
            stopped_early = True
            if progress:  # total = the epochs trained: the run drops the rest from its work, so the pace stays true
                progress(f"{label}: stopped early after epoch {epoch + 1} (no better dev F1 for {cfg.patience} "
                         f"epochs; best epoch {best_epoch})", epoch + 1, epoch + 1)
            break
    model.load_state_dict(best_state, strict=False)
    return {"epochs": history, "best_dev_macro_f1": best, "best_epoch": best_epoch, "stopped_early": stopped_early,
            "matmul_gflops": rate, "warnings": warnings}
