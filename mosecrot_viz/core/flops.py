"""Arithmetic of a fine-tuning step and the machine's matmul rate, for model FLOPs utilisation (MFU).

MFU = FLOPs a step must do / its seconds / the float32 (bf16 on CUDA) matmul rate measured on this machine.
The count is of the matmuls only (what the rate measures): 6 x (weights of every Linear layer) x (padded
tokens) for forward and backward, plus 12 x layers x width^2 x hidden per sequence for the attention scores
and their weighted sum. Embedding lookups, layer norms and the optimiser are the rest a profile shows.
"""
from __future__ import annotations

import time
from functools import lru_cache


def linear_weights(model) -> int:
    """Weights in every `torch.nn.Linear` of `model` (the classifier head included)."""
    import torch

    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def step_flops(linear: int, layers: int, hidden: int, rows: int, width: int) -> float:
    """Matmul FLOPs of one training step over `rows` sequences padded to `width` tokens.

    >>> step_flops(linear=100, layers=2, hidden=4, rows=3, width=5)  # 6*100*3*5 + 12*2*5**2*4*3
    16200.0
    """
    return float(6 * linear * rows * width + 12 * layers * width**2 * hidden * rows)


def model_shape(model) -> tuple[int, int, int]:
    """(Linear weights, layers, hidden width) of a transformers classifier, as `step_flops` needs them."""
    cfg = model.config
    layers = getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "n_layers", 0)
    hidden = getattr(cfg, "hidden_size", None) or getattr(cfg, "dim", 0)
    return linear_weights(model), int(layers), int(hidden)


@lru_cache(maxsize=None)
def matmul_gflops(device: str = "cpu", dtype: str = "float32", n: int | None = None) -> float:
    """The machine's measured square-matmul rate in GFLOP/s on `device` in `dtype`, once per process (about
    0.7 s on 2 CPU cores, paid by a process's first fine-tune). On the CPU in float32 it is the faster of
    NumPy's BLAS and torch at n=2048 (the floor every figure is compared against is the best this machine
    reached); torch alone otherwise, n=8192 on CUDA."""
    import torch

    n = n or (8192 if str(device).startswith("cuda") else 2048)
    reps = 10 if str(device).startswith("cuda") else 3
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.randn((n, n), generator=g, device=device, dtype=getattr(torch, dtype))
    rates = [rate_gflops(lambda: x @ x, 2 * n**3, device, reps)]
    if str(device) == "cpu" and dtype == "float32":
        xn = x.numpy()
        rates.append(rate_gflops(lambda: xn @ xn, 2 * n**3, device, reps))
    return max(rates)


def rate_gflops(product, flops: float, device, reps: int, warmups: int = 2) -> float:
    """GFLOP/s of `product()` doing `flops` each call: `warmups` untimed calls, then the mean of `reps`
    (CUDA synchronised before and after, so queued kernels are counted)."""
    import torch

    cuda = str(device).startswith("cuda")
    for _ in range(warmups):
        product()
    if cuda:
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        product()
    if cuda:
        torch.cuda.synchronize()
    return flops * reps / (time.perf_counter() - t) / 1e9
