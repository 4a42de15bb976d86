"""The registered analyses of a stored run, one `Analysis` line each (`ANALYSES`), and their compute functions.

Each compute function takes the run's sources as declared (`interface.Analysis.needs`) and the analysis's
parameters, and returns its result type (`analysis.dtypes`); the work itself is in the analysis's own module
(`holdout`, `alignment`, `anchor_search`, `anchor_words`). A new analysis is one line in `ANALYSES`, its compute
function here or in its module, its result type, and its test.
"""
from __future__ import annotations

from mosecrot_viz.analysis.dtypes import (
    AnchorView,
    BLIHits,
    BLIResult,
    Drift,
    Heatmap,
    Neighbours,
    SharedNeighbours,
    WordCounts,
)
from mosecrot_viz.analysis.interface import Analysis

DEFAULT_HELD_OUT = 1000  # the Alignment page's default held-out anchors, and the Why page's
DEFAULT_ANCHOR_VIEW = {"method": "pca", "n": 800, "search": "", "seed": 0}  # the Anchors page's default 2-D view
DEFAULT_HEATMAP_COLUMNS = 40


def _has_mappers(src) -> bool:
    return bool(src.mappers)


def _holdout_bli(src, n_test: int) -> BLIResult:
    from mosecrot_viz.analysis.holdout import holdout_bli

    h = holdout_bli(src.config, src.inputs(), src.spaces(src.mappers), list(src.mappers), n_test=n_test,
                    device=src.device)
    return BLIResult(h.precision, h.cosines, h.n_test, h.n_train)


def _drift(src) -> Drift:
    from mosecrot_viz.analysis import alignment

    spaces = src.spaces(src.mappers)
    drifts = alignment.mapper_drifts(spaces, list(src.mappers))
    return Drift({m: alignment.drift_summary(d) for m, d in drifts.items()},
                 {m: d for m, d in drifts.items() if spaces.reinit[m]})


def _anchor_view(src, method: str, n: int, search: str, seed: int) -> AnchorView:
    from mosecrot_viz.analysis.anchor_search import anchor_space_view

    inputs = src.inputs()
    return anchor_space_view(src.spaces(()), inputs.vectors, inputs.pairs, method, n, search, seed)


def _anchor_bli_hits(src, method: str, n: int, search: str, seed: int) -> BLIHits:
    from mosecrot_viz.analysis.anchor_search import anchor_bli_hits

    view = src.result("anchor_view", method=method, n=n, search=search, seed=seed)
    inputs = src.inputs()
    return BLIHits(anchor_bli_hits(src.spaces(src.mappers), inputs.vectors, inputs.pairs, view.target_rows,
                                   list(src.mappers)))


def _heatmap(src, words: list, columns: int) -> Heatmap:
    from mosecrot_viz.analysis.anchor_words import relative_heatmap

    h = relative_heatmap(src.inputs().vectors, src.spaces(()).anchors, list(words), columns)
    return Heatmap(h["words"], h["missing"], h["anchors"], h["matrix"])


def _default_heatmap(src) -> list[dict]:
    from mosecrot_viz.analysis.anchor_words import default_heatmap_words

    a = src.spaces(src.mappers).anchors
    words = default_heatmap_words({"source_words": list(a.source_words), "target_words": list(a.target_words),
                                   "target_ids": a.target_ids.tolist()})
    return [{"words": words, "columns": DEFAULT_HEATMAP_COLUMNS}]


def _misclassified_words(src) -> WordCounts:
    from mosecrot_viz.analysis.anchor_search import run_misclassified_word_counts

    return WordCounts(run_misclassified_word_counts(src.results, src.predictions(), list(src.mappers)))


def _neighbours(src, side: str, word: str) -> Neighbours:
    from mosecrot_viz.analysis.anchor_search import neighbour_tables

    inputs, spaces = src.inputs(), src.spaces(())
    tok = spaces.tokenizer
    t = neighbour_tables(word, side, e_s=spaces.e_s, source_words=tok.convert_ids_to_tokens(list(range(len(spaces.e_s)))),
                         kv=inputs.vectors, pairs=inputs.pairs, source_vocab=tok.get_vocab(),
                         lowercase_source=spaces.lowercase_source, anchors=spaces.anchors)
    return Neighbours(t["target_word"], t["source_word"], t["target"], t["source"])


def _shared_neighbours(src, mapper: str, side: str, word: str, k: int) -> SharedNeighbours:
    """side: "target" (a target word, its F_t row) or "English" (an English token, its F_s row)."""
    from mosecrot_viz.analysis.alignment import neighbours

    inputs, spaces = src.inputs(), src.spaces(src.mappers)
    f_s, f_t = spaces.mapped[mapper]
    if side == "target":
        row = inputs.vectors.key_to_index.get(word)
        q = f_t[row] if row is not None else None
    else:
        row = spaces.tokenizer.get_vocab().get(word.lower() if spaces.lowercase_source else word)
        q = f_s[row] if row is not None else None
    if q is None:
        return SharedNeighbours(False, [], [])
    src_words = spaces.tokenizer.convert_ids_to_tokens(list(range(len(f_s))))
    return SharedNeighbours(True, neighbours(q, f_s, src_words, k=k), neighbours(q, f_t, inputs.vectors.index_to_key, k=k))


def _unsearched(params: dict) -> bool:
    return not params.get("search")


def _never(_) -> bool:
    return False


_VIEW = dict(params=dict(DEFAULT_ANCHOR_VIEW), defaults=lambda src: [dict(DEFAULT_ANCHOR_VIEW)], keep=_unsearched)
ANALYSES: dict[str, Analysis] = {a.name: a for a in (
    Analysis("holdout_bli", _holdout_bli, BLIResult, frozenset({"config", "inputs", "spaces", "mappers", "device"}),
             params={"n_test": DEFAULT_HELD_OUT}, defaults=lambda src: [{"n_test": DEFAULT_HELD_OUT}],
             applies=_has_mappers,
             spinner="refitting each mapper without the held-out anchors, then retrieving them"),
    Analysis("drift", _drift, Drift, frozenset({"spaces", "mappers"}), defaults=lambda src: [{}],
             applies=_has_mappers, spinner="measuring how far each mapper moves the English embeddings"),
    Analysis("anchor_view", _anchor_view, AnchorView, frozenset({"inputs", "spaces"}), spinner="projecting anchors",
             **_VIEW),
    Analysis("anchor_bli_hits", _anchor_bli_hits, BLIHits, frozenset({"inputs", "spaces", "mappers", "result"}),
             applies=_has_mappers,
             spinner="nearest English token of each plotted target word, per mapping", **_VIEW),
    Analysis("heatmap", _heatmap, Heatmap, frozenset({"inputs", "spaces", "mappers"}),
             params={"words": [], "columns": DEFAULT_HEATMAP_COLUMNS}, defaults=_default_heatmap,
             spinner="relative representations of the chosen words"),
    Analysis("neighbours", _neighbours, Neighbours, frozenset({"inputs", "spaces"}),
             params={"side": "target", "word": ""}, keep=_never, spinner="finding the neighbours in both spaces"),
    Analysis("shared_neighbours", _shared_neighbours, SharedNeighbours, frozenset({"inputs", "spaces", "mappers"}),
             params={"mapper": "", "side": "target", "word": "", "k": 10}, keep=_never,
             spinner="finding the neighbours in the shared space"),
    Analysis("misclassified_words", _misclassified_words, WordCounts,
             frozenset({"results", "predictions", "mappers"}),
             spinner="finding the words of misclassified test sentences"),
)}
