"""Anchor quality without labels: do an anchor's relative representations agree across languages?

If (en, tgt) is a good translation pair, the English word's cosines to all other English anchors
should correlate with the target word's cosines to their target partners. A low correlation marks
a noisy pair (a wrong sense, a rare gloss) - one of the paper's suspects, made measurable.
"""
from __future__ import annotations

import numpy as np
import torch

from .anchors import AnchorSet


def _unit(x) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def rr_agreement(source_anchor_vecs, target_anchor_vecs, *, chunk: int = 2048) -> np.ndarray:
    """Per anchor, the Pearson correlation of its row in R_s with its row in R_t (self-similarity excluded)."""
    s, t = _unit(source_anchor_vecs), _unit(target_anchor_vecs)
    n = len(s)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, chunk):
        rs, rt = s[start : start + chunk] @ s.T, t[start : start + chunk] @ t.T
        rows = torch.arange(len(rs))
        rs[rows, rows + start] = float("nan")
        rt[rows, rows + start] = float("nan")
        keep = ~torch.isnan(rs)
        rs = rs[keep].view(len(rows), n - 1)
        rt = rt[keep].view(len(rows), n - 1)
        rs, rt = rs - rs.mean(1, keepdim=True), rt - rt.mean(1, keepdim=True)
        out[start : start + len(rows)] = ((rs * rt).sum(1) / (rs.norm(dim=1) * rt.norm(dim=1)).clamp_min(1e-12)).numpy()
    return out


def keep_agreeing(anchors: AnchorSet, scores: np.ndarray, share: float) -> AnchorSet:
    """Keep the `share` of anchors with the highest agreement (order kept), counting the rest as dropped."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    n = max(1, int(round(share * len(anchors))))
    keep = np.sort(np.argsort(-scores, kind="stable")[:n])
    out = anchors.subset(keep)
    dropped = dict(out.dropped)
    dropped["low cross-lingual agreement of relative representations (filter)"] = len(anchors) - n
    return AnchorSet(out.source_words, out.source_ids, out.target_words, out.target_ids, out.lexicon_pairs, dropped,
                     out.policy)
