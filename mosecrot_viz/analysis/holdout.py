"""Held-out bilingual lexicon induction: refit each mapper without some anchors, then retrieve them.

With the paper's anchor rule every usable lexicon entry becomes an anchor, so there is nothing
left to test on. Here a seeded share of the anchors is held out, each mapper is refitted on the
rest, and the held-out target words must find one of their English translations (any whole-token
translation in the lexicon counts) among all whole-word PLM tokens, by nearest neighbour and CSLS.
"""
from __future__ import annotations

import numpy as np

from mosecrot_viz.core import stitching
from mosecrot_viz.core.bli import (  # noqa: F401 (re-exported: the BLI types and helpers the pages read)
    DictionaryBLI,
    HoldoutBLI,
    _score,
    bli,
    dictionary_bli,
    gold_sets,
    translation_cosines,
    whole_word_ids,
)
from mosecrot_viz.defaults.models import is_uncased


def holdout_bli(cfg, inputs, spaces, methods, *, n_test: int = 1000, seed: int = 0, ks=(1, 5, 10),
                device="cpu") -> HoldoutBLI:
    """Refit each mapper on all anchors but `n_test` held-out ones, then score BLI on those."""
    from mosecrot_viz.experiment.pipeline import configured_mapper

    tok, e_s, anchors, kv = spaces.tokenizer, spaces.e_s, spaces.anchors, inputs.vectors
    n_test = min(n_test, max(1, len(anchors) // 5))
    order = np.random.default_rng(seed).permutation(len(anchors))
    test, train = anchors.subset(np.sort(order[:n_test])), anchors.subset(np.sort(order[n_test:]))
    vocab = tok.get_vocab()
    gold = gold_sets(inputs.pairs, test.target_ids, vocab, kv.key_to_index,
                     lowercase_source=is_uncased(tok), special_tokens=tok.all_special_tokens)
    whole = whole_word_ids(tok)
    precision, cosines = {}, {}
    for m in methods:
        mapper = configured_mapper(cfg, m, device).fit(e_s[train.source_ids], kv.vectors[train.target_ids])
        f_s = stitching.source_matrix(mapper.transform_source(e_s), e_s, tok.all_special_ids)
        f_t = mapper.transform_target(kv.vectors[test.target_ids])
        precision[m] = {meth: bli(f_t, f_s, gold, ks=ks, method=meth, candidate_ids=whole).precision
                        for meth in ("nn", "csls")}
        cosines[m] = translation_cosines(f_t, f_s, [(i, int(s)) for i, s in enumerate(test.source_ids)])
    return HoldoutBLI(precision, cosines, len(test), len(train))
