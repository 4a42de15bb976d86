"""Bilingual lexicon induction (BLI) in the shared space, with memory bounded by blocks.

F_t (target words) and F_s (PLM tokens) live in the same PLM input space after mapping, so a target word should
lie next to the source token of its translation. `bli` retrieves each query's nearest source tokens (nearest
neighbour or CSLS, Conneau et al. 2018) and scores P@k against gold sets of token ids; `dictionary_bli` runs it on
a separate test dictionary whose pairs are never anchors (as MUSE evaluates). The run records the latter
(`--bli-test-lexicon`); the analysis pages add held-out BLI (`analysis.holdout`).

All similarity work runs in blocks of `chunk` query rows by `chunk` candidate rows with a running top-k, so memory
is bounded by chunk x chunk floats, never by |V_t| x |V_s|.

>>> import numpy as np
>>> f_s = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])   # three source tokens, ids 0..2
>>> f_t = np.array([[0.9, 0.1], [0.2, 0.8]])                 # two target words
>>> bli(f_t, f_s, [{0}, {2}], ks=(1, 3)).precision           # word 0 finds token 0 first; word 1 finds token 2 third
{1: 0.5, 3: 1.0}
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from mosecrot_viz.core import stitching
from mosecrot_viz.core.anchors import source_key
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.models import is_uncased

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



@dataclass(frozen=True)
class HoldoutBLI:
    """P@k per mapper and retrieval ('nn', 'csls'), translation-pair cosines, and the split sizes."""

    precision: dict
    cosines: dict
    n_test: int
    n_train: int


def whole_word_ids(tokenizer) -> np.ndarray:
    """Ids of the PLM's whole-word tokens (no `##` word pieces, no special tokens): the BLI candidates."""
    specials = set(tokenizer.all_special_ids)
    return np.array([i for w, i in tokenizer.get_vocab().items() if not w.startswith("##") and i not in specials])


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
    whole = whole_word_ids(tok)
    first_gold = [min(g) if g else -1 for g in gold]
    precision, cosines = {}, {}
    for m in methods:
        mapper = make_mapper(m).fit(e_s[train.source_ids], kv.vectors[train.target_ids], target_ids=train.target_ids)
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
