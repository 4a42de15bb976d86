"""How well the mapped spaces line up: neighbours in the shared space, and drift.

F_t (target words) and F_s (PLM tokens) live in the same PLM input space after mapping, so a target
word should lie next to the source token of its translation. Bilingual lexicon induction (BLI) measures that
directly; it lives in `core.bli` (the run scores a BLI test dictionary itself) and is re-exported here for the
pages. `drift` measures the other side: how far RR re-initialisation moves each PLM token away from the embedding
the model was pre-trained with.

All similarity work runs in blocks of `chunk` query rows by `chunk` candidate rows with a running
top-k, so memory is bounded by chunk x chunk floats, never by |V_t| x |V_s|.
"""
from __future__ import annotations

import numpy as np

# retrieval and scoring live in core.bli (the run itself scores a BLI test dictionary); re-exported for the pages
from mosecrot_viz.core.bli import (  # noqa: E402,F401
    METHODS,
    BLIResult,
    _rowwise_cosine,
    _topk,
    _unit,
    bli,
    csls_scores,
    mean_topk_cosine,
    translation_cosines,
)


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


def mapper_drifts(spaces, mappers) -> dict:
    """mapper -> drift of every non-special PLM token (`drift`: cos(E_s, F_s), shape (|V_s| - specials,)) for the
    run's mapped `spaces`; 1.0 throughout for a mapper that keeps E_s."""
    ids = np.setdiff1d(np.arange(len(spaces.e_s)), spaces.tokenizer.all_special_ids)
    return {m: drift(spaces.e_s, spaces.mapped[m][0], ids) for m in mappers}


def drift_summary(cos) -> dict:
    """Mean, median, min, max and the 5/25/75/95 % quantiles of drift cosines (NaN-free), with the count."""
    c = np.asarray(cos, dtype=np.float64)
    c = c[~np.isnan(c)]
    if len(c) == 0:
        return {"n": 0}
    q = np.quantile(c, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {"n": int(len(c)), "mean": float(c.mean()), "median": float(q[2]), "min": float(c.min()),
            "max": float(c.max()), "q05": float(q[0]), "q25": float(q[1]), "q75": float(q[3]), "q95": float(q[4])}
