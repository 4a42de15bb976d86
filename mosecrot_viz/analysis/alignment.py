"""How well the mapped spaces line up: lexicon induction, translation cosines, neighbours, drift.

F_t (target words) and F_s (PLM tokens) live in the same PLM input space after mapping, so a target
word should lie next to the source token of its translation. Bilingual lexicon induction (BLI) over
held-out lexicon pairs measures that directly; poor alignment is one of the paper's suspects for
weak transfer. `drift` measures the other side: how far RR re-initialisation moves each PLM token
away from the embedding the model was pre-trained with.

All similarity work runs in blocks of `chunk` query rows by `chunk` candidate rows with a running
top-k, so memory is bounded by chunk x chunk floats, never by |V_t| x |V_s|.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

METHODS = ("nn", "csls")
_NO_HIT = np.iinfo(np.int64).max


@dataclass(frozen=True)
class BLIResult:
    """P@k for each k (share of queries with a gold source token among the top k), over `n_queries` queries."""

    precision: dict = field(default_factory=dict)  # k -> P@k
    n_queries: int = 0
    method: str = "nn"
    n_candidates: int = 0
    hits_at_1: tuple = ()  # per query, in order: was a gold token the nearest candidate (bool)


def _unit(x, device="cpu") -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)
    if t.ndim == 1:
        t = t[None, :]
    return t / t.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _topk(queries: torch.Tensor, candidates, k: int, *, chunk: int, penalty: torch.Tensor | None = None,
          device="cpu"):
    """Top-k per unit query row over all candidate rows, one candidate block at a time.

    The score is cos(q, c), or `2 cos(q, c) - penalty[c]` when `penalty` is given (CSLS without
    the per-query term, which does not change the ranking). Returns (values, indices), each (n_q, k').
    """
    cands = np.asarray(candidates)
    best_v = torch.empty((len(queries), 0), device=device)
    best_i = torch.empty((len(queries), 0), dtype=torch.long, device=device)
    for start in range(0, len(cands), chunk):
        s = queries @ _unit(cands[start : start + chunk], device).T
        if penalty is not None:
            s.mul_(2).sub_(penalty[start : start + s.shape[1]])
        v, i = torch.topk(s, min(k, s.shape[1]), dim=1)
        v, i = torch.cat([best_v, v], dim=1), torch.cat([best_i, i + start], dim=1)
        best_v, pos = torch.topk(v, min(k, v.shape[1]), dim=1)
        best_i = i.gather(1, pos)
    return best_v, best_i


def mean_topk_cosine(x, y, k: int = 10, *, chunk: int = 4096, device="cpu") -> np.ndarray:
    """r(x): mean cosine of each row of `x` to its k nearest rows of `y`, shape (len(x),).

    This is the neighbourhood density CSLS subtracts: a 'hub' that is close to everything gets a
    high r and is penalised. k is capped at len(y).
    """
    xs = np.asarray(x)
    out = np.empty(len(xs), dtype=np.float32)
    for start in range(0, len(xs), chunk):
        v, _ = _topk(_unit(xs[start : start + chunk], device), y, k, chunk=chunk, device=device)
        out[start : start + len(v)] = v.mean(dim=1).cpu().numpy()
    return out


def csls_scores(queries, candidates, *, reference=None, k: int = 10, chunk: int = 4096) -> np.ndarray:
    """Full CSLS matrix `2cos(x, y) - r_T(x) - r_S(y)`, shape (n_queries, n_candidates).

    r_T(x) is the mean cosine of query x to its k nearest candidates; r_S(y) the mean cosine of
    candidate y to its k nearest rows of `reference` (default: the queries). The matrix is
    n_queries x n_candidates: use it for small sets (inspection, tests); `bli` ranks without it.
    """
    reference = queries if reference is None else reference
    r_q = mean_topk_cosine(queries, candidates, k, chunk=chunk)
    r_c = mean_topk_cosine(candidates, reference, k, chunk=chunk)
    cos = (_unit(queries) @ _unit(candidates).T).numpy()
    return 2 * cos - r_q[:, None] - r_c[None, :]


def bli(f_t_rows, f_s, gold: list[set[int]], ks=(1, 5, 10), method: str = "nn", csls_k: int = 10,
        chunk: int = 4096, *, f_t_all=None, candidate_ids=None, device="cpu") -> BLIResult:
    """Bilingual lexicon induction: for each target word, are its translations among the nearest source tokens?

    f_t_rows : (n, D) the F_t rows of the query target words; f_s : (|V_s|, D) every PLM token.
    gold[i] : the source token ids that translate query i (an empty set can never be hit).
    method : 'nn' ranks by cosine; 'csls' by `2cos(x, y) - r_T(x) - r_S(y)` (Conneau et al. 2018),
    which discounts hub tokens close to everything; r_S(y) is measured against `f_t_all` (default
    the queries themselves), r_T(x) is constant per query and so leaves the ranking unchanged.
    candidate_ids : restrict candidates to these source ids (e.g. drop special tokens); gold ids
    stay PLM token ids. Returns P@k for each k in `ks` (NaN when there are no queries).
    """
    if method not in METHODS:
        raise ValueError(f"unknown BLI method {method!r}; choose from {METHODS}")
    queries = np.asarray(f_t_rows)
    if len(queries) != len(gold):
        raise ValueError(f"{len(queries)} query rows but {len(gold)} gold sets")
    ks = tuple(sorted({int(k) for k in ks}))
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    cand_ids = np.arange(len(f_s)) if candidate_ids is None else np.asarray(candidate_ids, dtype=np.int64)
    cands = np.asarray(f_s) if candidate_ids is None else np.asarray(f_s)[cand_ids]
    if len(queries) == 0:
        return BLIResult({k: float("nan") for k in ks}, 0, method, len(cands))
    penalty = None
    if method == "csls":
        reference = queries if f_t_all is None else f_t_all
        penalty = torch.as_tensor(mean_topk_cosine(cands, reference, csls_k, chunk=chunk, device=device), device=device)
    first_hit = np.full(len(queries), _NO_HIT)
    for start in range(0, len(queries), chunk):
        _, idx = _topk(_unit(queries[start : start + chunk], device), cands, ks[-1], chunk=chunk, penalty=penalty,
                       device=device)
        for row, ids in enumerate(cand_ids[idx.cpu().numpy()]):
            g = gold[start + row]
            first_hit[start + row] = next((rank for rank, sid in enumerate(ids) if int(sid) in g), _NO_HIT)
    return BLIResult({k: float(np.mean(first_hit < k)) for k in ks}, len(queries), method, len(cands),
                     tuple(bool(h) for h in first_hit < 1))


def _rowwise_cosine(a, b) -> np.ndarray:
    a = torch.as_tensor(np.asarray(a), dtype=torch.float32)
    b = torch.as_tensor(np.asarray(b), dtype=torch.float32)
    return ((a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)).numpy()


def translation_cosines(f_t, f_s, pairs: list[tuple[int, int]], *, chunk: int = 4096) -> np.ndarray:
    """Cosine between F_t[target] and F_s[source] for each (target row, source id) pair.

    A direct look at the alignment of known translations: high cosines mean the swap hands the
    model target words that sit where their English counterparts were during fine-tuning.
    """
    idx = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    out = np.empty(len(idx), dtype=np.float32)
    for start in range(0, len(idx), chunk):
        block = idx[start : start + chunk]
        out[start : start + len(block)] = _rowwise_cosine(np.asarray(f_t)[block[:, 0]], np.asarray(f_s)[block[:, 1]])
    return out


def neighbours(query_vec, matrix, words, k: int = 10, *, chunk: int = 4096) -> list[tuple[str, float]]:
    """The k rows of `matrix` closest to `query_vec` by cosine, as (word, cosine), nearest first.

    For the neighbour explorer: F_t and F_s share the PLM input space, so a target word can be
    looked up among source tokens and vice versa. `words[i]` names row i of `matrix`.
    """
    if len(words) != len(matrix):
        raise ValueError(f"{len(words)} words for {len(matrix)} rows")
    v, i = _topk(_unit(query_vec), matrix, k, chunk=chunk)
    return [(words[j], float(s)) for s, j in zip(v[0].tolist(), i[0].tolist())]


def drift(e_s, f_s, ids=None, *, chunk: int = 4096) -> np.ndarray:
    """Cosine between each token's original embedding E_s and its mapped F_s row (1 = unmoved).

    RR re-initialises every PLM token from its anchors; a low cosine means the model is fine-tuned
    on embeddings far from those it was pre-trained with. `ids` selects tokens (e.g. all but the
    special tokens, whose rows are kept and would read as 1).
    """
    ids = np.arange(len(e_s)) if ids is None else np.asarray(ids, dtype=np.int64)
    out = np.empty(len(ids), dtype=np.float32)
    for start in range(0, len(ids), chunk):
        block = ids[start : start + chunk]
        out[start : start + len(block)] = _rowwise_cosine(np.asarray(e_s)[block], np.asarray(f_s)[block])
    return out


def drift_summary(cos) -> dict:
    """Mean, median, min, max and the 5/25/75/95 % quantiles of drift cosines (NaN-free), with the count."""
    c = np.asarray(cos, dtype=np.float64)
    c = c[~np.isnan(c)]
    if len(c) == 0:
        return {"n": 0}
    q = np.quantile(c, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {"n": int(len(c)), "mean": float(c.mean()), "median": float(q[2]), "min": float(c.min()),
            "max": float(c.max()), "q05": float(q[0]), "q25": float(q[1]), "q75": float(q[3]), "q95": float(q[4])}
