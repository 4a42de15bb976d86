"""Held-out bilingual lexicon induction: refit each mapper without some anchors, then retrieve them.

With the paper's anchor rule every usable lexicon entry becomes an anchor, so there is nothing
left to test on. Here a seeded share of the anchors is held out, each mapper is refitted on the
rest, and the held-out target words must find one of their English translations (any whole-token
translation in the lexicon counts) among all whole-word PLM tokens, by nearest neighbour and CSLS.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import stitching
from ..core.anchors import source_key
from ..io.models import is_uncased
from .alignment import bli, translation_cosines


@dataclass(frozen=True)
class HoldoutBLI:
    """P@k per mapper and retrieval ('nn', 'csls'), translation-pair cosines, and the split sizes."""

    precision: dict
    cosines: dict
    n_test: int
    n_train: int


def gold_sets(pairs, target_rows, source_vocab, target_vocab, *, lowercase_source=True, special_tokens=()) -> list:
    """For each target row, the set of PLM ids of all its whole-token English translations."""
    wanted = {int(t): set() for t in target_rows}
    specials = set(special_tokens)
    for en, tgt in pairs:
        tid = target_vocab.get(tgt)
        if tid is None or tid not in wanted:
            continue
        key = source_key(en, source_vocab, lowercase_source)
        sid = source_vocab.get(key)
        if sid is not None and not key.startswith("##") and key not in specials:
            wanted[tid].add(int(sid))
    return [wanted[int(t)] for t in target_rows]


def holdout_bli(cfg, inputs, spaces, methods, *, n_test: int = 1000, seed: int = 0, ks=(1, 5, 10),
                device="cpu") -> HoldoutBLI:
    """Refit each mapper on all anchors but `n_test` held-out ones, then score BLI on those."""
    from ..pipeline import configured_mapper

    tok, e_s, anchors, kv = spaces.tokenizer, spaces.e_s, spaces.anchors, inputs.vectors
    n_test = min(n_test, max(1, len(anchors) // 5))
    order = np.random.default_rng(seed).permutation(len(anchors))
    test, train = anchors.subset(np.sort(order[:n_test])), anchors.subset(np.sort(order[n_test:]))
    vocab = tok.get_vocab()
    gold = gold_sets(inputs.pairs, test.target_ids, vocab, kv.key_to_index,
                     lowercase_source=is_uncased(tok), special_tokens=tok.all_special_tokens)
    specials = set(tok.all_special_ids)
    whole = np.array([i for w, i in vocab.items() if not w.startswith("##") and i not in specials])
    precision, cosines = {}, {}
    for m in methods:
        mapper = configured_mapper(cfg, m, device).fit(e_s[train.source_ids], kv.vectors[train.target_ids])
        f_s = stitching.source_matrix(mapper.transform_source(e_s), e_s, tok.all_special_ids)
        f_t = mapper.transform_target(kv.vectors[test.target_ids])
        precision[m] = {meth: bli(f_t, f_s, gold, ks=ks, method=meth, candidate_ids=whole).precision
                        for meth in ("nn", "csls")}
        cosines[m] = translation_cosines(f_t, f_s, [(i, int(s)) for i, s in enumerate(test.source_ids)])
    return HoldoutBLI(precision, cosines, len(test), len(train))
