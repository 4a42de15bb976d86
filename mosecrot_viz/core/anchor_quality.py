"""Anchor quality without labels: do an anchor's relative representations agree across languages?

If (en, tgt) is a good translation pair, the English word's cosines to all other English anchors
should correlate with the target word's cosines to their target partners. A low correlation marks
a noisy pair (a wrong sense, a rare gloss) - one of the paper's suspects, made measurable.
"""
from __future__ import annotations

import numpy as np
import torch

from mosecrot_viz.core.anchors import AnchorSet, source_key
from mosecrot_viz.records.keys import DROP_REASONS


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
    dropped[DROP_REASONS["low_agreement"]] = len(anchors) - n
    return AnchorSet(out.source_words, out.source_ids, out.target_words, out.target_ids, out.lexicon_pairs, dropped,
                     out.policy, out.rechosen)


def choose_by_alignment(anchors: AnchorSet, pairs, source_vocab, source_vectors, target_vectors, *,
                        lowercase_source: bool = True, special_tokens=()) -> AnchorSet:
    """Re-choose each target word's English translation: the candidate nearest to the target word after
    a first Procrustes alignment on the current anchors (instead of the lexicon's first listing).

    source_vectors : E_s (|V_s|, D); target_vectors : E_t rows indexed like `anchors.target_ids`.
    """
    from mosecrot_viz.core.mappers import ProcrustesMapper

    e_s, e_t = np.asarray(source_vectors), np.asarray(target_vectors)
    aligned = ProcrustesMapper().fit(e_s[anchors.source_ids], e_t[anchors.target_ids]).transform_target(
        e_t[anchors.target_ids])
    specials = set(special_tokens)
    candidates: dict[str, list[tuple[str, int]]] = {}
    for en, tgt in pairs:
        key = source_key(en, source_vocab, lowercase_source)
        sid = source_vocab.get(key)
        if sid is not None and not key.startswith("##") and key not in specials:
            candidates.setdefault(tgt, []).append((key, sid))
    unit_s = e_s / np.maximum(np.linalg.norm(e_s, axis=1, keepdims=True), 1e-12)
    src_words, src_ids, changed = list(anchors.source_words), anchors.source_ids.copy(), 0
    for i, tgt in enumerate(anchors.target_words):
        cands = list(dict.fromkeys(candidates.get(tgt, [])))
        if len(cands) < 2:
            continue
        v = aligned[i] / max(np.linalg.norm(aligned[i]), 1e-12)
        best = max(cands, key=lambda c: float(unit_s[c[1]] @ v))
        if best[1] != src_ids[i]:
            src_words[i], src_ids[i] = best
            changed += 1
    return AnchorSet(tuple(src_words), src_ids, anchors.target_words, anchors.target_ids, anchors.lexicon_pairs,
                     dict(anchors.dropped), "aligned", changed)
