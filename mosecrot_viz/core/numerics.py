"""Overflow-safe row norms and scaling: cosine similarities that do not depend on the vectors' scale.

A float32 norm squares its components first, so rows near 1e20 overflow to infinity (every cosine becomes 0 and
every word maps to one row) and rows below about 1e-19 underflow; a `clamp_min(1e-12)` on the norm then treats any
row smaller than that as zero. Here each row is first divided by its largest absolute component, a power of two
near it (exact in floating point), and only then squared, so a row and the same row times 1e20 or 1e-40 give the
same unit vector. `fit_rows` applies that per-row scaling only to matrices whose rows leave the range where the
plain float32 path is exact enough, so ordinary vectors are never copied.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

# Rows whose largest |component| lies in [SAFE_LOW, SAFE_HIGH] square and sum in float32 without overflow even at
# 4,096 dimensions, their largest squares stay normal, and their norms stay above the map's 1e-12 clamp (2**-30 is
# 9.3e-10): the plain float32 path is exact enough for them.
SAFE_LOW, SAFE_HIGH = 2.0**-30, 2.0**40
BLOCK_ROWS = 8192  # rows per block of the scans below (8192 x 4096 float32 = 128 MB at the widest allowed vectors)


def row_max_abs(x) -> np.ndarray:
    """The largest |component| of each row of `x` (n, d), as float64 (n,), read in blocks of bounded memory."""
    x = np.asarray(x)
    out = np.empty(len(x), dtype=np.float64)
    for start in range(0, len(x), BLOCK_ROWS):
        block = x[start : start + BLOCK_ROWS]
        out[start : start + len(block)] = np.abs(block).max(axis=1) if block.shape[1] else 0.0
    return out


def _pow2_inverse(m: np.ndarray) -> np.ndarray:
    """2**-e with m = f * 2**e (0.5 <= f < 1): multiplying by it brings m into [0.5, 1) exactly; 1 for zero rows."""
    _, e = np.frexp(m)
    return np.where(m > 0, np.ldexp(1.0, -e), 1.0)


def fit_rows(x) -> np.ndarray:
    """`x` (n, d) itself when every non-zero row's largest |component| is within [SAFE_LOW, SAFE_HIGH]; otherwise
    a float32 copy whose rows are each scaled by a power of two to a largest |component| in [0.5, 1).

    Per-row scaling changes no cosine similarity and no relative representation; it keeps float32 norms finite and
    non-zero for rows from the subnormal range (1e-40) up to float32's largest numbers.

    >>> fit_rows(np.array([[3e20, 4e20]], dtype=np.float32)).round(4)
    array([[0.5082, 0.6776]], dtype=float32)
    """
    x = np.asarray(x)
    m = row_max_abs(x)
    nz = m[m > 0]
    if not len(nz) or (nz.min() >= SAFE_LOW and nz.max() <= SAFE_HIGH):
        return x
    scale = _pow2_inverse(m)
    out = np.empty(x.shape, dtype=np.float32)
    for start in range(0, len(x), BLOCK_ROWS):
        block = np.asarray(x[start : start + BLOCK_ROWS], dtype=np.float64)
        out[start : start + len(block)] = block * scale[start : start + len(block), None]
    return out


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows of `x` (n, d) divided by their L2 norm, overflow- and underflow-safe, in x's float precision (float64
    for integers); all-zero rows stay zero."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    m = np.abs(x).max(axis=1, keepdims=True) if x.shape[1] else np.zeros((len(x), 1), dtype=x.dtype)
    scaled = x / np.where(m > 0, m, 1).astype(x.dtype)
    n = np.sqrt((scaled * scaled).sum(axis=1, keepdims=True))
    return scaled / np.where(n > 0, n, 1).astype(x.dtype)


def unit_rows_torch(x: "torch.Tensor") -> "torch.Tensor":
    """`unit_rows` for a torch tensor (n, d) on any device, in its own dtype; all-zero rows stay zero."""
    import torch  # here, not at the top: the run's checks import this module and need no torch

    m = x.abs().amax(dim=1, keepdim=True)
    scaled = x / torch.where(m > 0, m, torch.ones_like(m))
    n = scaled.norm(dim=1, keepdim=True)
    return scaled / torch.where(n > 0, n, torch.ones_like(n))


def norm_range(x) -> tuple[float, float]:
    """(smallest, largest) L2 norm over the non-zero rows of `x` (n, d), overflow-safe, as float64; (0, 0) when
    every row is zero. Used to name the vectors' scale in error messages and warnings."""
    x = np.asarray(x)
    lo, hi = np.inf, 0.0
    for start in range(0, len(x), BLOCK_ROWS):
        block = np.asarray(x[start : start + BLOCK_ROWS], dtype=np.float64)
        m = np.abs(block).max(axis=1) if block.shape[1] else np.zeros(len(block))
        keep = m > 0
        if not keep.any():
            continue
        b, mk = block[keep], m[keep]
        norms = mk * np.sqrt(((b / mk[:, None]) ** 2).sum(axis=1))
        lo, hi = min(lo, float(norms.min())), max(hi, float(norms.max()))
    return (0.0, 0.0) if hi == 0 else (lo, hi)
