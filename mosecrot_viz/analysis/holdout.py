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
from ..errors import InputError
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


@dataclass(frozen=True)
class DictionaryBLI(HoldoutBLI):
    """BLI on a separate test dictionary: `n_test` queries (its target words with a vector and a whole-token English
    translation), `n_train` anchors kept, `n_excluded` anchors left out because their target word is a query."""

    n_excluded: int = 0
    excluded_words: tuple = ()


def _score(spaces, kv, train, query_rows, gold, methods, make_mapper, ks) -> tuple[dict, dict]:
    """Fit each mapper on `train` anchors, then P@k (nn, csls) of the target rows `query_rows` against `gold`."""
    tok, e_s = spaces.tokenizer, spaces.e_s
    specials = set(tok.all_special_ids)
    whole = np.array([i for w, i in tok.get_vocab().items() if not w.startswith("##") and i not in specials])
    first_gold = [min(g) if g else -1 for g in gold]
    precision, cosines = {}, {}
    for m in methods:
        mapper = make_mapper(m)
        ids = {"target_ids": train.target_ids} if getattr(mapper, "uses_anchor_ids", False) else {}
        mapper = mapper.fit(e_s[train.source_ids], kv.vectors[train.target_ids], **ids)
        f_s = stitching.source_matrix(mapper.transform_source(e_s), e_s, tok.all_special_ids)
        f_t = mapper.transform_target(kv.vectors[np.asarray(query_rows, dtype=np.int64)])
        precision[m] = {meth: bli(f_t, f_s, gold, ks=ks, method=meth, candidate_ids=whole).precision
                        for meth in ("nn", "csls")}
        cosines[m] = translation_cosines(f_t, f_s, [(i, s) for i, s in enumerate(first_gold) if s >= 0])
    return precision, cosines


def dictionary_bli(spaces, kv, test_pairs, methods, make_mapper, *, ks=(1, 5, 10)) -> DictionaryBLI:
    """BLI on a separate test dictionary (as MUSE evaluates): its pairs are never anchors.

    Queries are the test dictionary's target words that have a vector and at least one whole-token English
    translation in it (all such translations count as hits). Every anchor whose target word is a query is left
    out (so no test pair, and no other translation of a test word, is an anchor); each mapper (`make_mapper(name)`,
    unfitted) is refitted on the rest and retrieves the queries' English tokens by nearest neighbour and CSLS.
    """
    tok, anchors = spaces.tokenizer, spaces.anchors
    vocab = tok.get_vocab()
    rows = sorted({kv.key_to_index[t] for _, t in test_pairs if t in kv.key_to_index})
    gold = gold_sets(test_pairs, rows, vocab, kv.key_to_index, lowercase_source=is_uncased(tok),
                     special_tokens=tok.all_special_tokens)
    keep = [i for i, g in enumerate(gold) if g]
    rows, gold = [rows[i] for i in keep], [gold[i] for i in keep]
    if not rows:
        raise InputError("no pair of the BLI test dictionary has a target word with a vector and an English side that "
                         "is one whole token of the model: nothing to evaluate")
    queries = {kv.index_to_key[r] for r in rows}
    out = [i for i, t in enumerate(anchors.target_words) if t in queries]
    train = anchors.subset(np.setdiff1d(np.arange(len(anchors)), out))
    if len(train) < 2:
        raise InputError(f"the BLI test dictionary covers {len(out)} of the {len(anchors)} anchors: fewer than two are "
                         "left to fit the mapping on")
    precision, cosines = _score(spaces, kv, train, rows, gold, methods, make_mapper, ks)
    return DictionaryBLI(precision, cosines, len(rows), len(train), len(out),
                         tuple(anchors.target_words[i] for i in out))


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
