"""Relative representations over anchors, and the weighted map back into the PLM space.

For a word x with vector v in some space and anchors a_1..a_|A| in the same space,
`R[x, n] = cos(v, a_n)`. MoSECroT keeps the top-k anchors N(x), turns `R[x, N(x)] / tau` into
weights (standard normalisation, softmax or sparsemax) and maps x to
`F(x) = sum_n w_n B[n] / sum_n w_n`, where B holds the PLM input embeddings of the English anchors.

"standard" weights are the similarities themselves, negatives clamped to 0, divided by their sum:
tau cancels in that ratio, so it has no effect (a warning says so when a tau other than 1 is given),
and a word whose top-k similarities are all <= 0 gets uniform weights over its k anchors.
Work is done in row chunks so memory stays bounded by the chunk, not by |V| x |A|.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import torch

from mosecrot_viz.core.numerics import unit_rows_torch

WEIGHTINGS = ("standard", "softmax", "sparsemax")


def _normalise(x: torch.Tensor) -> torch.Tensor:
    """Unit rows (n, d), overflow-safe: each row is divided by its largest |component| before its norm is taken, so
    rows at 1e20 or 1e-40 give the same unit vector as at 1; all-zero rows stay zero (`core.numerics`)."""
    return unit_rows_torch(x)


def relative_representation(vectors, anchors) -> np.ndarray:
    """Full relative representation: cosine of each row of `vectors` (n, d) to each anchor row of `anchors`
    (|A|, d); returns (n, |A|). Scale does not matter, direction does.

    >>> import numpy as np
    >>> relative_representation(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 3.0]])).round(3)
    array([[1.   , 0.   ],
           [0.707, 0.707]], dtype=float32)
    """
    def as_float(x):  # in the input's own precision (float64 rows at 1e-44 are not flushed to float32 subnormals)
        t = torch.as_tensor(np.asarray(x))
        return t if t.dtype in (torch.float32, torch.float64) else t.to(torch.float32)

    v, a = _normalise(as_float(vectors)).float(), _normalise(as_float(anchors)).float()
    return (v @ a.T).numpy()


def sparsemax(z: torch.Tensor) -> torch.Tensor:
    """Sparsemax over the last dimension (Martins & Astudillo, 2016): a sparse probability vector.

    Stable for any finite scores, however large (sims / tau with a tiny tau): the scores are shifted so each row's
    largest is 0 (sparsemax does not change under a shift), so the largest always satisfies the support condition
    and the support holds at least one entry; -inf scores (a row's gaps divided by a tau that underflowed) get 0.
    Each row's weights are finite, non-negative and sum to 1 (up to rounding).
    """
    z = z - z.amax(dim=-1, keepdim=True)
    zs, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, device=z.device, dtype=z.dtype)
    cums = zs.cumsum(dim=-1)
    support = 1 + k * zs > cums
    support[..., 0] = True  # zs[..., 0] == 0: true in exact arithmetic, kept true whatever rounding says
    k_z = support.sum(dim=-1, keepdim=True)  # the support is a prefix of the sorted scores
    tau = (cums.gather(-1, k_z - 1) - 1) / k_z.to(z.dtype)
    return torch.clamp(z - tau, min=0)


STANDARD_TAU_WARNING = "'standard' weighting ignores the temperature: w = max(sim, 0) / sum, so tau cancels"


def anchor_weights(sims: torch.Tensor, weighting: str, temperature: float) -> torch.Tensor:
    """Turn top-k similarities (n, k) into weights that sum to one per row, finite for any tau > 0.

    softmax / sparsemax of sims / tau, computed on the row's gaps to its best similarity (same weights, no
    overflow: a tau so small that the scores overflow gives the best anchor, or the tied best ones, all the weight);
    "standard": max(sims, 0) normalised to sum 1 (tau cancels in that ratio, so it is not applied at all;
    all-non-positive rows get uniform weights).
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; choose from {WEIGHTINGS}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if weighting in ("softmax", "sparsemax"):
        # (sims - row max) / tau: every score <= 0 and the best exactly 0, for any tau > 0. Dividing the gaps, not
        # the similarities, keeps a tiny tau from overflowing to inf (inf - inf is NaN); a gap that overflows is
        # -inf and weighs 0; the best anchor's gap stays 0 even where tau rounds to 0 (0 / 0 would be NaN).
        gaps = sims - sims.amax(dim=-1, keepdim=True)
        z = torch.where(gaps < 0, gaps / temperature, torch.zeros_like(gaps))
        return torch.softmax(z, dim=-1) if weighting == "softmax" else sparsemax(z)
    w = sims.clamp_min(0)
    top = w.amax(dim=-1, keepdim=True)  # divided by the row's largest first: a sum of huge scores stays finite
    w = w / torch.where(top > 0, top, torch.ones_like(top))
    total = w.sum(dim=-1, keepdim=True)
    uniform = torch.full_like(w, 1.0 / w.shape[-1])
    return torch.where(total > 0, w / torch.where(total > 0, total, torch.ones_like(total)), uniform)


# Rows per chunk on the CPU: chunk x |A| float32 similarities stay near 128 MB (the buffer is reused), enough
# rows for the GEMM to run at the machine's matmul rate and few enough to bound memory.
CPU_CHUNK_BYTES = 1 << 27


def _cpu_chunk_rows(n_anchors: int) -> int:
    return int(min(8192, max(256, CPU_CHUNK_BYTES // (4 * max(n_anchors, 1)))))


def _clock(timings: dict | None, name: str, since: float) -> float:
    """Add the seconds since `since` to `timings[name]` (when profiling); returns now."""
    now = time.perf_counter()
    if timings is not None:
        timings[name] = timings.get(name, 0.0) + now - since
    return now


def _clamp_k(k: int | None, n_anchors: int) -> int:
    """k as used: every anchor when k is None, 0 or above their count."""
    return n_anchors if not k or k > n_anchors else int(k)


def _topk_chunks(vectors, anchors, k: int | None, chunk_size: int | None, device, timings: dict | None = None):
    """Yield (start, sims (c, k), idx (c, k)) per row chunk of `vectors` (n, d) against `anchors` (|A|, d).

    On the CPU the cosine GEMM goes through NumPy's BLAS into one reused (chunk, |A|) buffer: on this
    project's machines it runs at the measured square-matmul rate, where torch's MKL reaches about 60% of it
    for this tall-skinny shape, and the reused buffer saves a page-faulting allocation per chunk. torch.topk
    then reads that buffer in place. On CUDA everything stays in torch.
    """
    vecs = np.asarray(vectors)
    if str(device) == "cpu":
        a = np.asarray(anchors, dtype=np.float32)
        a_t = np.ascontiguousarray((a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)).T)  # (d, |A|)
        k = _clamp_k(k, a_t.shape[1])
        rows = chunk_size or _cpu_chunk_rows(a_t.shape[1])
        buf = np.empty((min(rows, max(len(vecs), 1)), a_t.shape[1]), dtype=np.float32)
        for start in range(0, len(vecs), rows):
            t = time.perf_counter()
            chunk = np.asarray(vecs[start : start + rows], dtype=np.float32)
            chunk = chunk / np.maximum(np.linalg.norm(chunk, axis=1, keepdims=True), 1e-12)
            sims = buf[: len(chunk)]
            np.matmul(chunk, a_t, out=sims)
            t = _clock(timings, "similarities (GEMM)", t)
            top = torch.topk(torch.from_numpy(sims), k, dim=1)  # new tensors: the buffer is free again
            _clock(timings, "top-k", t)
            yield start, top.values, top.indices
        return
    a = _normalise(torch.as_tensor(np.asarray(anchors), dtype=torch.float32, device=device))
    k = _clamp_k(k, a.shape[0])
    rows = chunk_size or 2048
    for start in range(0, len(vecs), rows):
        v = _normalise(torch.as_tensor(vecs[start : start + rows], dtype=torch.float32, device=device))
        top = torch.topk(v @ a.T, k, dim=1)
        yield start, top.values, top.indices


def topk_anchors(vectors, anchors, k: int | None, *, chunk_size: int | None = None, device="cpu"):
    """Top-k anchor cosine similarities and indices per row, computed chunk by chunk: ((n, k), (n, k))."""
    parts = [(s, i) for _, s, i in _topk_chunks(vectors, anchors, k, chunk_size, device)]
    if not parts:
        kk = _clamp_k(k, len(anchors))
        return torch.empty((0, kk)), torch.empty((0, kk), dtype=torch.long)
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def relative_map(
    vectors, anchors, basis, *, k: int | None = 50, weighting: str = "softmax", temperature: float = 0.05,
    chunk_size: int | None = None, device="cpu", timings: dict | None = None,
) -> np.ndarray:
    """Map each row of `vectors` into the space of `basis` through its top-k anchors.

    vectors : (n, d) in the same space as anchors (|A|, d); basis : (|A|, D). Returns (n, D) float32.
    Memory is bounded by the chunk: chunk x |A| similarities and chunk x k weights (the weighted sum is one
    `embedding_bag`, not a chunk x k x D gather). The chunk defaults to about 128 MB
    of similarities on the CPU and 2048 rows on CUDA. A `timings` dict, when given, collects the seconds
    spent per phase on the CPU (similarities, top-k, weights, weighted sum): the bench's profile.
    """
    if weighting == "standard" and temperature != 1.0:
        warnings.warn(f"{STANDARD_TAU_WARNING} (got tau={temperature})", UserWarning, stacklevel=2)
    vectors, anchors, basis = np.asarray(vectors), np.asarray(anchors), np.asarray(basis)
    if len(anchors) == 0 or len(anchors) != len(basis):
        raise ValueError(f"the map needs one basis row per anchor and at least one anchor: {len(anchors)} anchors, "
                         f"{len(basis)} basis rows")
    if vectors.ndim != 2 or anchors.ndim != 2 or vectors.shape[1] != anchors.shape[1]:
        raise ValueError(f"vectors {vectors.shape} and anchors {anchors.shape} must be 2-D arrays of the same width")
    basis_t = torch.as_tensor(basis, dtype=torch.float32, device=device)
    out = np.empty((len(vectors), basis_t.shape[1]), dtype=np.float32)
    out.fill(0)  # fault its pages in once, in one pass: faulting them chunk by chunk cost 0.8 s of 8 at 200k x 384
    for start, sims, idx in _topk_chunks(vectors, anchors, k, chunk_size, device, timings):
        t = time.perf_counter()
        w = anchor_weights(sims, weighting, temperature)
        w = w / w.sum(dim=1, keepdim=True).clamp_min(1e-12)
        t = _clock(timings, "weights", t)
        out[start : start + len(w)] = weighted_rows(w, idx, basis_t).cpu().numpy()
        _clock(timings, "weighted sum", t)
    return out


def weighted_rows(weights: torch.Tensor, idx: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """sum_j weights[n, j] * basis[idx[n, j]] for every row n: (n, k), (n, k), (|A|, D) -> (n, D).

    One `embedding_bag` (a bag per row, weighted sum): it never builds the n x k x D gather, and on the CPU
    it took a quarter of the time of the CSR sparse x dense product it replaced (`bench`)."""
    if len(idx) == 0:
        return basis.new_zeros((0, basis.shape[1]))
    return torch.nn.functional.embedding_bag(idx, basis, per_sample_weights=weights.to(basis.dtype), mode="sum")
