"""Self-learning alignment (VecMap style): re-induce the bilingual dictionary from the vectors themselves.

Start from the lexicon's anchors, then repeat: fit an orthogonal Procrustes map on the current
dictionary, map the frequent target words into E_s, and take as the new dictionary the mutual
nearest neighbours under CSLS (cross-domain similarity local scaling, Conneau et al. 2018) between
mapped target words and whole-word English tokens. No labels are used, only the vectors and the seed.
"""
from __future__ import annotations

import numpy as np
import torch

from mosecrot_viz.core.anchors import AnchorSet
from mosecrot_viz.core.mappers import ProcrustesMapper
from mosecrot_viz.errors import OverlapError


def _unit(x) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _mean_topk(a: torch.Tensor, b: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Per row of a: mean cosine to its k nearest rows of b (CSLS's neighbourhood density r)."""
    k = min(k, len(b))
    return torch.cat([torch.topk(a[s : s + chunk] @ b.T, k, dim=1).values.mean(1) for s in range(0, len(a), chunk)])


def _csls_argmax(a: torch.Tensor, b: torch.Tensor, r_b: torch.Tensor, chunk: int) -> torch.Tensor:
    """Per row of a: the row of b with the highest CSLS score 2cos - r_b (a's own r is constant per row)."""
    return torch.cat([(2 * (a[s : s + chunk] @ b.T) - r_b).argmax(1) for s in range(0, len(a), chunk)])


def mutual_csls_pairs(source, target, *, k: int = 10, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(source rows, target rows) that are each other's nearest neighbour under CSLS (rows already aligned)."""
    s, t = _unit(source), _unit(target)
    r_s, r_t = _mean_topk(s, t, k, chunk), _mean_topk(t, s, k, chunk)
    fwd = _csls_argmax(t, s, r_s, chunk)  # target row -> source row
    bwd = _csls_argmax(s, t, r_t, chunk)  # source row -> target row
    tgt = torch.nonzero(bwd[fwd] == torch.arange(len(t))).flatten()
    return fwd[tgt].numpy(), tgt.numpy()


def self_learn(source, target, seed_source, seed_target, *, n_iter: int = 5, k: int = 10):
    """Iterate Procrustes fit -> CSLS mutual-NN dictionary, starting from the seed pairs.

    source (ns, D), target (nt, d): candidate rows of both spaces; seed_* index them. Returns
    (source idx, target idx, fitted ProcrustesMapper). Stops early when the dictionary stops changing.
    """
    src, tgt = np.asarray(seed_source), np.asarray(seed_target)
    source, target = np.asarray(source, dtype=np.float32), np.asarray(target, dtype=np.float32)
    mapper = ProcrustesMapper().fit(source[src], target[tgt])
    for _ in range(n_iter):
        new_src, new_tgt = mutual_csls_pairs(source, mapper.transform_target(target), k=k)
        if len(new_src) < 2:
            break
        changed = len(new_src) != len(src) or not (np.array_equal(new_src, src) and np.array_equal(new_tgt, tgt))
        src, tgt = new_src, new_tgt
        mapper = ProcrustesMapper().fit(source[src], target[tgt])
        if not changed:
            break
    return src, tgt, mapper


def english_word_pool(source_vocab: dict[str, int], n: int = 10000, special_tokens=()) -> list[int]:
    """PLM ids of English whole words for the self-learned dictionary: ASCII-alphabetic tokens of two or
    more letters (no `##` pieces, no single characters, no other scripts, no special tokens), the first `n`
    by id (WordPiece vocabularies list whole words roughly by frequency once the single characters end)."""
    specials = set(special_tokens)
    return sorted(i for w, i in source_vocab.items()
                  if len(w) > 1 and w.isascii() and w.isalpha() and w not in specials)[:n]


def self_learned_anchors(anchors: AnchorSet, source_vocab: dict[str, int], e_s, target_words, e_t, *,
                         n_source: int = 10000, n_target: int = 10000, n_iter: int = 5, k: int = 10,
                         special_tokens=()) -> AnchorSet:
    """Anchors re-induced by self-learning: pairs of English whole words (`english_word_pool`) and the
    `n_target` most frequent alphabetic target words, seeded with the lexicon's `anchors`.

    Raises `OverlapError` when fewer than two lexicon anchors fall in both pools (a Procrustes fit
    needs at least two seed pairs) instead of quietly keeping the lexicon anchors.
    """
    src_pool = english_word_pool(source_vocab, n_source, special_tokens)
    tgt_pool = [i for i, w in enumerate(target_words) if w.isalpha()][:n_target]
    src_pos, tgt_pos = {i: p for p, i in enumerate(src_pool)}, {i: p for p, i in enumerate(tgt_pool)}
    seed = [(src_pos[s], tgt_pos[t]) for s, t in zip(anchors.source_ids, anchors.target_ids)
            if s in src_pos and t in tgt_pos]
    if len(seed) < 2:
        raise OverlapError(
            f"self-learned anchors need at least 2 seed pairs whose English side is among the {len(src_pool):,} "
            f"English whole words and whose target side is among the {len(tgt_pool):,} most frequent alphabetic "
            f"target words; {len(seed)} of the lexicon's {len(anchors):,} anchors are. Use anchor policy 'first' "
            "or a larger lexicon")
    e_s, e_t = np.asarray(e_s), np.asarray(e_t)
    s_idx, t_idx, _ = self_learn(e_s[src_pool], e_t[tgt_pool], [a for a, _ in seed], [b for _, b in seed],
                                 n_iter=n_iter, k=k)
    id_to_word = {i: w for w, i in source_vocab.items()}
    src_ids = np.array([src_pool[i] for i in s_idx], dtype=np.int64)
    tgt_ids = np.array([tgt_pool[i] for i in t_idx], dtype=np.int64)
    dropped = dict(anchors.dropped)
    dropped["replaced by the self-learned dictionary"] = len(anchors)
    return AnchorSet(tuple(id_to_word[i] for i in src_ids), src_ids, tuple(target_words[i] for i in tgt_ids), tgt_ids,
                     anchors.lexicon_pairs, dropped, "self-learned", len(src_ids))
