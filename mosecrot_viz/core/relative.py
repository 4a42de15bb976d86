"""Relative representations over anchors, and the weighted map back into the PLM space.

For a word x with vector v in some space and anchors a_1..a_|A| in the same space,
`R[x, n] = cos(v, a_n)`. MoSECroT keeps the top-k anchors N(x), turns `R[x, N(x)] / tau` into
weights (standard normalisation, softmax or sparsemax) and maps x to
`F(x) = sum_n w_n B[n] / sum_n w_n`, where B holds the PLM input embeddings of the English anchors.

"standard" weights are the similarities themselves, negatives clamped to 0, divided by their sum:
tau cancels in that ratio, so it has no effect (a warning says so when a tau other than 1 is given),
and a word whose top-k similarities are all <= 0 gets uniform weights over its k anchors.
Work is done in row chunks so memory stays bounded by the chunk, not by |V| x |A|.

The top-k sets are the exact ones: those of the cosines of the float32 unit rows in exact arithmetic, ties to
the lower anchor id. A screen (float32 GEMM, or a bf16 GEMM where it was measured to pay) proposes; an error
bound per row says which anchors it cannot rule out; those are re-scored in float64 (`_topk_chunks`).
"""
from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from functools import lru_cache

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

# How the similarities are screened before the exact top-k: "auto" (bf16 where it was measured to pay, else
# fp32), "fp32" (exact float32 GEMM, forced) or "bf16" (the bf16 screen, forced). `$MOSECROT_MAP_PRECISION`
# overrides "auto" for a whole process (e.g. `MOSECROT_MAP_PRECISION=fp32 python -m mosecrot_viz run ...`).
PRECISIONS = ("auto", "fp32", "bf16")
PRECISION_ENV = "MOSECROT_MAP_PRECISION"
# Columns per group in the two-level top-k (group maxima first, then only the winning groups' members).
TOPK_GROUP = 8
# The bf16 screen keeps the top k + max(k, 16) screened scores per row as candidates; a row whose candidates
# (every anchor within the error bound of its k-th screened score) do not fit in them is redone in fp32.
SCREEN_SLACK_MIN = 16
# The fp32 path keeps k + 8: rows whose (k+1)-th fp32 score is within twice the fp32 error bound of the k-th
# are re-scored exactly; rows with more than 8 such near-ties fall back to exact scores over every anchor.
FP32_SLACK = 8
# The screen is used under "auto" only when the measured bf16 GEMM rate is at least this many times the fp32
# rate (the re-score and the wider top-k are paid on top of the screen), and only for maps with at least
# SCREEN_MIN_WORK similarities (below that the one-off probe would cost more than it saves).
SCREEN_MIN_SPEEDUP = 1.6
SCREEN_MIN_WORK = 1 << 26
_U32, _U16 = 2.0**-24, 2.0**-8  # unit roundoff of float32 and of bfloat16 (round to nearest)


def _cpu_chunk_rows(n_anchors: int) -> int:
    return int(min(8192, max(256, CPU_CHUNK_BYTES // (4 * max(n_anchors, 1)))))


def _clock(timings: dict | None, name: str, since: float) -> float:
    """Add the seconds since `since` to `timings[name]` (when profiling); returns now."""
    now = time.perf_counter()
    if timings is not None:
        timings[name] = timings.get(name, 0.0) + now - since
    return now


def _count(stats: dict | None, name: str, n: int) -> None:
    if stats is not None:
        stats[name] = stats.get(name, 0) + int(n)


def _clamp_k(k: int | None, n_anchors: int) -> int:
    """k as used: every anchor when k is None, 0 or above their count."""
    return n_anchors if not k or k > n_anchors else int(k)


@lru_cache(maxsize=None)
def bf16_gemm_speedup(device: str = "cpu") -> float:
    """bf16 GEMM rate / float32 GEMM rate on `device`, measured once per process on a 256 x 304 x 1024 product
    (the shape class of the map: tall-skinny times wide). On the CPU the float32 side is NumPy's BLAS (what the
    map uses). A CPU without bf16 units (no AVX512_BF16 / AMX) emulates it at a few GFLOP/s: the ratio is then far
    below 1 and the probe stops after one call (about 0.1 s)."""
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn((256, 304), generator=gen, device=device)
    w = torch.randn((304, 1024), generator=gen, device=device)
    xb, wb = x.bfloat16(), w.bfloat16()
    if str(device) == "cpu":
        xn, wn = x.numpy(), w.numpy()
        fp32 = lambda: np.matmul(xn, wn)  # noqa: E731
    else:
        fp32 = lambda: x @ w  # noqa: E731

    def best(product, reps=5, give_up: float | None = None) -> float:
        product()
        times = []
        for _ in range(reps):
            _sync(device)
            t = time.perf_counter()
            product()
            _sync(device)
            times.append(time.perf_counter() - t)
            if give_up is not None and times[-1] > give_up:
                break
        return min(times)

    with _exact_fp32_matmul(device):
        t32 = best(fp32)
    return t32 / best(lambda: xb @ wb, give_up=5 * t32)


def _sync(device) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


@contextmanager
def _exact_fp32_matmul(device):
    """On CUDA: float32 matmuls in true float32 (no TF32) and bf16 ones accumulated in float32 (no reduced-
    precision split-K reductions), as the error bounds below assume; restored afterwards. A no-op elsewhere."""
    if not str(device).startswith("cuda"):
        yield
        return
    m = torch.backends.cuda.matmul
    saved = (m.allow_tf32, m.allow_bf16_reduced_precision_reduction)
    m.allow_tf32, m.allow_bf16_reduced_precision_reduction = False, False
    try:
        yield
    finally:
        m.allow_tf32, m.allow_bf16_reduced_precision_reduction = saved


@contextmanager
def _one_thread(device):
    """torch on one thread for the selection on the CPU (one pass over the chunk, then (chunk, k)-sized ops): each
    op split over threads pays a fork/join barrier worth more than its work, and on a busy machine a barrier waits
    for a descheduled thread (measured on a 3276 x 10,000 chunk: the whole selection 0.09 s on one thread, 0.16 s
    on two; torch.topk alone, as before, 0.19 s on either)."""
    if str(device) != "cpu" or torch.get_num_threads() == 1:
        yield
        return
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def resolve_precision(precision: str, n_rows: int, n_anchors: int, device="cpu") -> str:
    """The screen a map of `n_rows` x `n_anchors` similarities uses: "fp32" or "bf16".

    "auto" takes `$MOSECROT_MAP_PRECISION` when set, else bf16 only for a large map on a device whose bf16 GEMM
    was measured (`bf16_gemm_speedup`, once per process) at least SCREEN_MIN_SPEEDUP times its fp32 rate. Either
    way the top-k sets are the exact ones; the choice changes only the time."""
    import os

    if precision not in PRECISIONS:
        raise ValueError(f"unknown map precision {precision!r}; choose from {PRECISIONS}")
    if precision == "auto":
        env = os.environ.get(PRECISION_ENV, "").strip()
        if env:
            if env not in PRECISIONS:
                from mosecrot_viz.errors import InputError

                raise InputError(f"${PRECISION_ENV} must be one of {PRECISIONS}, got {env!r}")
            precision = env
    if precision != "auto":
        return precision
    if n_rows * n_anchors < SCREEN_MIN_WORK:
        return "fp32"
    return "bf16" if bf16_gemm_speedup(str(device)) >= SCREEN_MIN_SPEEDUP else "fp32"


def _top_m(y: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The m largest entries of each row of `y` (c, |A|), sorted descending, as float32 values and int64 column
    indices: ((c, m), (c, m)). Exact (ties at the cut may fall either way).

    On the CPU in two levels: the maxima of |A| / TOPK_GROUP strided column groups (one vectorised pass), the m
    groups with the largest maxima (NumPy's introselect), then the m largest among only those groups' members
    (and the few columns that fill no group). Any column outside the chosen groups is at most the m-th largest
    group maximum, and each chosen group holds an entry at least that large, so nothing above the cut is
    missed. It reads the (c, |A|) buffer once instead of partially sorting every row of it."""
    c, n = y.shape
    m = min(m, n)
    groups = n // TOPK_GROUP
    if y.device.type != "cpu" or groups < 4 * m or c == 0:
        top = torch.topk(y, m, dim=1, sorted=True)
        return top.values.float(), top.indices
    body = y.as_strided((c, TOPK_GROUP, groups), (y.stride(0), groups, 1))  # [i, r, j] = y[i, r * groups + j]
    gmax = body.amax(dim=1).float().numpy()
    best = np.argpartition(gmax, groups - m, axis=1)[:, groups - m :]
    cols = (best[:, :, None] + groups * np.arange(TOPK_GROUP)).reshape(c, m * TOPK_GROUP)
    if n > groups * TOPK_GROUP:
        cols = np.concatenate([cols, np.broadcast_to(np.arange(groups * TOPK_GROUP, n), (c, n - groups * TOPK_GROUP))], 1)
    vals = torch.gather(y, 1, torch.from_numpy(cols)).float().numpy()
    part = np.argpartition(vals, vals.shape[1] - m, axis=1)[:, vals.shape[1] - m :]
    vals, cols = np.take_along_axis(vals, part, 1), np.take_along_axis(cols, part, 1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return torch.from_numpy(np.take_along_axis(vals, order, 1)), torch.from_numpy(np.take_along_axis(cols, order, 1))


def _candidates(vals: torch.Tensor, k: int, err_row: torch.Tensor, err_rel: float):
    """Which screened entries may belong to the exact top-k, from an error bound on the screen.

    vals (c, m): screened scores sorted descending; every screened y satisfies |y - s| <= err_row + err_rel * |y|
    against the exact cosine s. The k-th largest exact score is then at least lo = y_k - err_row - err_rel*|y_k|,
    and an anchor can reach it only if y + err_row + err_rel * |y| >= lo (both sides increase with y). Returns
    (mask (c, m) of possible members, overflow (c,) rows where the m-th entry is still possible, so candidates
    may lie beyond the m kept, ambiguous (c,) rows where the (k+1)-th is possible, so the top-k by the screen
    alone is not certain)."""
    v = vals.double()
    e = err_row.double()[:, None]
    lo = v[:, k - 1 : k] - e - err_rel * v[:, k - 1 : k].abs()
    mask = v + e + err_rel * v.abs() >= lo
    ambiguous = mask[:, k] if v.shape[1] > k else torch.zeros(len(v), dtype=torch.bool, device=v.device)
    return mask, mask[:, -1], ambiguous


# Bytes of float64 gathered anchor rows held at once while re-scoring.
RESCORE_BYTES = 1 << 26


def _exact_topk(v64: torch.Tensor, a64: torch.Tensor, cand: torch.Tensor, mask: torch.Tensor | None, k: int):
    """The exact top-k among candidate anchors: cosines re-scored in float64 from the same normalised float32
    rows (products exact, sum error below 1e-13), ties to the lower anchor index.

    v64 (n, d), a64 (|A|, d), cand (n, m) anchor ids, mask (n, m) which of them count (None: all). Every score
    comes from the same elementwise product and last-dimension sum whatever the batch, so the fp32 path and the
    bf16 screen re-score a pair identically. Returns (float32 sims (n, k), int64 ids (n, k))."""
    n, m = cand.shape
    scores = torch.empty((n, m), dtype=torch.float64, device=v64.device)
    step = max(1, RESCORE_BYTES // max(1, m * v64.shape[1] * 8))
    for s in range(0, n, step):
        scores[s : s + step] = (a64[cand[s : s + step]] * v64[s : s + step, None, :]).sum(-1)
    if mask is not None:
        scores.masked_fill_(~mask, float("-inf"))
    by_id = torch.argsort(cand, dim=1, stable=True)
    cand, scores = cand.gather(1, by_id), scores.gather(1, by_id)
    order = torch.argsort(-scores, dim=1, stable=True)[:, :k]  # stable: equal scores keep the lower id first
    return scores.gather(1, order).float(), cand.gather(1, order)


# Rows per float64 GEMM block in the every-anchor fallback: block x |A| float64 stays near 64 MB at 32k anchors.
EXACT_GEMM_ROWS = 256


def _exact_rows(v64: torch.Tensor, a64: torch.Tensor, k: int):
    """Exact top-k over every anchor for some rows (the fallback): ((n, k) float32, (n, k) int64).

    A float64 GEMM screens every anchor first (its error and the re-score's are each below gamma_d(float64) *
    ||v|| * ||a||, about 1e-13 at d = 384); only the anchors within twice both errors of a row's k-th GEMM score
    are re-scored by `_exact_topk`'s elementwise sum, so the final scores are the same numbers every other path
    computes for the pair. Re-scoring every anchor elementwise instead reads |A| x d float64 per row: minutes for a
    few thousand low-contrast rows (a BERT vocabulary's [unused] rows) on one thread."""
    n, n_anchors = len(v64), len(a64)
    d = a64.shape[1]
    if n == 0:
        return torch.empty((0, k)), torch.empty((0, k), dtype=torch.int64)
    u64 = 2.0**-53
    err = 4 * (d * u64 / (1 - d * u64)) * v64.norm(dim=1) * float(a64.norm(dim=1).max()) + 1e-300
    sims, ids = torch.empty((n, k), dtype=torch.float32), torch.empty((n, k), dtype=torch.int64)
    for s in range(0, n, EXACT_GEMM_ROWS):
        v = v64[s : s + EXACT_GEMM_ROWS]
        g = v @ a64.T  # (b, |A|) float64
        kth = torch.topk(g, k, dim=1).values[:, -1:]
        cand = g >= kth - err[s : s + len(v), None]
        m = int(cand.sum(dim=1).max())
        if m >= n_anchors:  # a row ties (nearly) every anchor: score them all elementwise
            every = torch.arange(n_anchors, device=a64.device).expand(len(v), -1)
            sims[s : s + len(v)], ids[s : s + len(v)] = _exact_topk(v, a64, every, None, k)
            continue
        top = torch.topk(g, m, dim=1)  # every candidate of every row of the block, plus some that are not
        within = cand.gather(1, top.indices)
        sims[s : s + len(v)], ids[s : s + len(v)] = _exact_topk(v, a64, top.indices, within, k)
    return sims.to(v64.device), ids.to(v64.device)


class _Anchors:
    """The anchors once, in each form the screens read: unit rows in float32 (A, d) and float64, the float32
    GEMM operand (d, |A|), and on demand the bf16 operand with the norms of its rounding residuals."""

    def __init__(self, anchors, device):
        a = np.asarray(anchors, dtype=np.float32)
        self.unit = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)  # (|A|, d)
        self.device = device
        self.a64 = torch.from_numpy(self.unit).to(device=device, dtype=torch.float64)
        self.norm_max = float(self.a64.norm(dim=1).max()) if len(a) else 0.0
        if str(device) == "cpu":
            self.t32 = np.ascontiguousarray(self.unit.T)  # (d, |A|)
        else:
            self.t32 = torch.from_numpy(self.unit).to(device).T.contiguous()
        self._bf16 = None

    def bf16(self):
        """(bf16 operand (d, |A|), max ||a_b||, max ||a - a_b||): the residual is exact in float32."""
        if self._bf16 is None:
            a32 = torch.from_numpy(self.unit).to(self.device)
            ab = a32.bfloat16()
            resid = (a32 - ab.float()).double().norm(dim=1)
            self._bf16 = (ab.T.contiguous(), float(ab.double().norm(dim=1).max()), float(resid.max()))
        return self._bf16


def _gamma(d: int) -> float:
    """gamma_d = d u / (1 - d u): the relative error bound of a float32 dot product of length d in any order."""
    return d * _U32 / (1 - d * _U32)


def _select_fp32(y: torch.Tensor, v32: torch.Tensor, anchors: _Anchors, k: int, stats):
    """Exact top-k of one chunk from its float32 similarities y (c, |A|) of unit rows v32 (c, d).

    A float32 dot of length d is within E = gamma_d * ||v|| * ||a|| of the exact one. With the top k + FP32_SLACK
    of y sorted descending, an entry above y_(k+1) + 2E is certainly in the exact top-k and one below y_k - 2E
    certainly out; the rows with a band of entries between (near-ties at the cut) have only that band re-scored
    exactly (`_exact_topk`) to fill the remaining places, and rows whose band reaches past the slack are scored
    exactly over every anchor."""
    with _one_thread(y.device):
        vals, idx = _top_m(y, k + FP32_SLACK)
        if vals.shape[1] == k:  # every anchor is in the top-k: nothing to decide
            return vals, idx
        return _certify_fp32(vals, idx, v32, anchors, k, stats)


def _certify_fp32(vals, idx, v32, anchors: _Anchors, k: int, stats):
    """`_select_fp32` past its top-m: the near-tie bands, their exact re-score, the overflow rows."""
    n_anchors, d = anchors.a64.shape
    m = vals.shape[1]
    vn = v32.norm(dim=1).double().to(vals.device)
    err = (_gamma(d) * vn * anchors.norm_max * (1 + 1e-4) + 1e-15)[:, None]
    v = vals.double()
    cand = v >= v[:, k - 1 : k] - 2 * err  # may be in the exact top-k
    band = cand & (v <= v[:, k : k + 1] + 2 * err)  # ... but not certainly: a contiguous run of positions
    ambiguous = band[:, k]
    overflow = cand[:, -1] & ambiguous if m < n_anchors else torch.zeros_like(ambiguous)
    zero = vn == 0
    if zero.any():  # a zero row ties every anchor at 0: the exact top-k is the k lowest ids, no scoring needed
        vals[zero, :k], idx[zero, :k] = 0.0, torch.arange(k, device=idx.device)
        overflow, ambiguous = overflow & ~zero, ambiguous & ~zero
    sims, ids = vals[:, :k].clone(), idx[:, :k].clone()
    redo = ambiguous & ~overflow
    if redo.any():
        rows = redo.nonzero().squeeze(1)
        b = band[rows]
        first = b.int().argmax(dim=1)  # the band's first position p (<= k-1): places 0..p-1 are certain
        width = int(b.sum(dim=1).max())
        raw = first[:, None] + torch.arange(width, device=b.device)
        pos = raw.clamp_max(m - 1)
        within = b.gather(1, pos) & (raw < m)  # a clamped position is padding, never a second copy of the last
        bs, bi = _exact_topk(v32[rows].double(), anchors.a64, idx[rows].gather(1, pos), within, width)
        place = torch.arange(k, device=b.device)[None, :]
        from_band = place >= first[:, None]
        take = (place - first[:, None]).clamp(0, width - 1)
        sims[rows] = torch.where(from_band, bs.gather(1, take), sims[rows])
        ids[rows] = torch.where(from_band, bi.gather(1, take), ids[rows])
        _count(stats, "rows re-scored exactly (fp32 near-ties)", len(rows))
    if overflow.any():
        rows = overflow.nonzero().squeeze(1)
        sims[rows], ids[rows] = _exact_rows(v32[rows].double(), anchors.a64, k)
        _count(stats, "rows scored exactly over every anchor", len(rows))
    return sims, ids


def _select_bf16(v32: torch.Tensor, anchors: _Anchors, k: int, stats, timings):
    """Exact top-k of one chunk through the bf16 screen: y = bf16(v) @ bf16(A)^T, rounded to bf16.

    With v = v_b + r_v and a = a_b + r_a (residuals exact in float32), |v.a - v_b.a_b| <= ||v_b|| ||r_a|| +
    ||r_v|| ||a||; the float32 accumulation adds gamma_d ||v_b|| ||a_b|| and the bf16 output at most u |y| /
    (1 - u). Every anchor that may be in the exact top-k under that bound is re-scored exactly; rows whose
    candidates overflow the k + max(k, SCREEN_SLACK_MIN) kept are redone with the fp32 path."""
    t = time.perf_counter()
    d = anchors.a64.shape[1]
    ab_t, ab_max, ra_max = anchors.bf16()
    with _exact_fp32_matmul(anchors.device):
        vb = v32.bfloat16()
        y = vb @ ab_t  # (c, |A|) bf16
    t = _clock(timings, "similarities (bf16 screen)", t)
    with _one_thread(y.device):
        vals, idx = _top_m(y, k + max(k, SCREEN_SLACK_MIN))
    del y
    t = _clock(timings, "top-k", t)
    v64 = v32.double()
    vb_norm = vb.double().norm(dim=1)
    err = (vb_norm * ra_max + (v64 - vb.double()).norm(dim=1) * anchors.norm_max + _gamma(d) * vb_norm * ab_max)
    err = err * (1 + 1e-6) + 1e-15
    mask, overflow, _ = _candidates(vals, k, err.to(vals.device), _U16 / (1 - _U16))
    if vals.shape[1] == len(anchors.a64):
        overflow = torch.zeros_like(overflow)
    sims = torch.empty((len(v32), k), dtype=torch.float32, device=vals.device)
    ids = torch.empty((len(v32), k), dtype=torch.long, device=vals.device)
    keep = (~overflow).nonzero().squeeze(1)
    width = max(k, int(mask[keep].sum(dim=1).max())) if len(keep) else k  # candidates are a prefix of the top-m
    sims[keep], ids[keep] = _exact_topk(v64[keep], anchors.a64, idx[keep, :width], mask[keep, :width], k)
    _count(stats, "rows re-scored exactly (bf16 screen)", len(keep))
    if overflow.any():
        rows = overflow.nonzero().squeeze(1)
        _count(stats, "rows redone in fp32 (screen candidates overflowed)", len(rows))
        y32 = _gemm32(v32[rows], anchors)
        sims[rows], ids[rows] = _select_fp32(y32, v32[rows], anchors, k, stats)
    _clock(timings, "exact re-score", t)
    return sims, ids


def _gemm32(v32: torch.Tensor, anchors: _Anchors, out: np.ndarray | None = None) -> torch.Tensor:
    """float32 similarities (c, |A|) of unit rows v32 (c, d): NumPy's BLAS into `out` on the CPU, torch on CUDA."""
    if isinstance(anchors.t32, np.ndarray):
        res = out if out is not None else np.empty((len(v32), anchors.t32.shape[1]), dtype=np.float32)
        np.matmul(v32.numpy(), anchors.t32, out=res)
        return torch.from_numpy(res)
    with _exact_fp32_matmul(anchors.device):
        return v32 @ anchors.t32


def _topk_chunks(vectors, anchors, k: int | None, chunk_size: int | None, device, timings: dict | None = None,
                 precision: str = "auto", stats: dict | None = None):
    """Yield (start, sims (c, k), idx (c, k)) per row chunk of `vectors` (n, d) against `anchors` (|A|, d).

    The top-k sets are the exact ones: those of the cosines of the float32 unit rows in exact arithmetic (ties to
    the lower anchor index), whichever screen is used (`resolve_precision`). The fp32 screen is certain for all
    but near-tie rows (`_select_fp32`); the bf16 screen re-scores a provably sufficient candidate set
    (`_select_bf16`). On the CPU the float32 GEMM goes through NumPy's BLAS into one reused (chunk, |A|) buffer:
    on this project's machines it runs at the measured square-matmul rate, where torch's MKL reaches about 60%
    of it for this tall-skinny shape, and the reused buffer saves a page-faulting allocation per chunk.
    """
    vecs = np.asarray(vectors)
    anc = _Anchors(anchors, device)
    n_anchors = len(anc.unit)
    k = _clamp_k(k, n_anchors)
    cpu = str(device) == "cpu"
    rows = chunk_size or (_cpu_chunk_rows(n_anchors) if cpu else 2048)
    mode = resolve_precision(precision, len(vecs), n_anchors, device)
    if stats is not None:
        stats["precision"] = mode
    buf = None
    if cpu and mode == "fp32":
        buf = np.empty((min(rows, max(len(vecs), 1)), n_anchors), dtype=np.float32)
    for start in range(0, len(vecs), rows):
        t = time.perf_counter()
        chunk = np.asarray(vecs[start : start + rows], dtype=np.float32)
        chunk = chunk / np.maximum(np.linalg.norm(chunk, axis=1, keepdims=True), 1e-12)
        v32 = torch.from_numpy(chunk).to(device)
        if mode == "bf16":
            sims, idx = _select_bf16(v32, anc, k, stats, timings)
        else:
            y = _gemm32(v32, anc, None if buf is None else buf[: len(chunk)])
            t = _clock(timings, "similarities (GEMM)", t)
            sims, idx = _select_fp32(y, v32, anc, k, stats)  # new tensors: the buffer is free again
            _clock(timings, "top-k", t)
        yield start, sims, idx


def topk_anchors(vectors, anchors, k: int | None, *, chunk_size: int | None = None, device="cpu",
                 precision: str = "auto", stats: dict | None = None):
    """Top-k anchor cosine similarities and indices per row, computed chunk by chunk: ((n, k), (n, k)).
    The sets are the exact ones whatever `precision` (see `_topk_chunks`)."""
    parts = [(s, i) for _, s, i in _topk_chunks(vectors, anchors, k, chunk_size, device, precision=precision,
                                                stats=stats)]
    if not parts:
        kk = _clamp_k(k, len(anchors))
        return torch.empty((0, kk)), torch.empty((0, kk), dtype=torch.long)
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def relative_map(
    vectors, anchors, basis, *, k: int | None = 50, weighting: str = "softmax", temperature: float = 0.05,
    chunk_size: int | None = None, device="cpu", timings: dict | None = None, precision: str = "auto",
    stats: dict | None = None,
) -> np.ndarray:
    """Map each row of `vectors` into the space of `basis` through its top-k anchors.

    vectors : (n, d) in the same space as anchors (|A|, d); basis : (|A|, D). Returns (n, D) float32.
    Memory is bounded by the chunk: chunk x |A| similarities and chunk x k weights (the weighted sum is one
    `embedding_bag`, not a chunk x k x D gather). The chunk defaults to about 128 MB
    of similarities on the CPU and 2048 rows on CUDA. A `timings` dict, when given, collects the seconds
    spent per phase on the CPU (similarities, top-k, weights, weighted sum): the bench's profile.
    `precision` picks the similarity screen ("auto", "fp32" to force exact float32, "bf16"); the top-k sets are
    the exact ones either way (`_topk_chunks`). A `stats` dict, when given, gets the screen used and how many
    rows were re-scored exactly or fell back to it.
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
    for start, sims, idx in _topk_chunks(vectors, anchors, k, chunk_size, device, timings, precision,
                                               stats):
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
