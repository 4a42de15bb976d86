"""Find a word in the anchor space (as the Embedding Projector's search does), add it to the plotted sample, and
list a clicked word's neighbours in both spaces with glosses from the lexicon. No Streamlit here.

A search matches target words (anchor or not, as long as they have a vector) and English tokens of the PLM (as the
anchors match them: lower-cased for an uncased model). An anchor match is one of the anchor pairs: it joins the
plotted sample. A word that is not an anchor is drawn as an extra point on its own side, with its lexicon partner
on the other side when that has a row too (a lexicon pair the anchor rule left out, e.g. a second translation).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from mosecrot_viz.analysis.dtypes import AnchorView
from mosecrot_viz.analysis.projection import (
    joint_anchor_projection,
    l2_normalise,
    pair_distance_control,
    project_2d,
    standardise_layout,
)
from mosecrot_viz.core.anchors import source_key


@dataclass(frozen=True)
class Match:
    """One found word: its side, its translation partner, and where it lives (anchor index, PLM id, vector row)."""

    side: str  # "source" (English token) or "target"
    word: str
    partner: str | None
    anchor: int | None  # position in the AnchorSet, or None when not an anchor
    source_id: int | None
    target_row: int | None


def gloss_maps(pairs, *, lowercase_source: bool = True) -> tuple[dict, dict]:
    """(English -> first target translation, target -> first English translation) from the lexicon."""
    en_to_t, t_to_en = {}, {}
    for en, t in pairs:
        en_to_t.setdefault(en.lower() if lowercase_source else en, t)
        t_to_en.setdefault(t, en)
    return en_to_t, t_to_en


def _first_present(words, vocab_has) -> str | None:
    """The first of `words` that `vocab_has` accepts, else the first of `words`, else None."""
    words = list(words)
    return next((w for w in words if vocab_has(w)), words[0] if words else None)


def partner(word: str, side: str, anchors, pairs, source_vocab: dict, target_vocab, *,
            lowercase_source: bool = True) -> tuple[str | None, int | None]:
    """The one translation partner the Anchors page shows for `word`, and the anchor position it comes from.

    side: "target" (a target word, as the vectors spell it) or "source" (an English token as `source_key` gives it).
    The partner is the run's own anchor pair when the word is an anchor (the first anchor naming it: `anchor_policy`
    kept that translation), else the first lexicon translation the other side has (a whole-word PLM token for a
    target word, a vector for an English word: the one `core.anchors.extract_anchors` would have kept, e.g. for a
    word the anchor filter left out), else the first lexicon translation, else None. Returns (partner, anchor index or
    None). The plot's pair line, the search's partner point and the neighbour table all use this one definition, so
    a word with several lexicon translations is never centred on one and drawn with another.
    """
    if side == "target":
        i = next((i for i, w in enumerate(anchors.target_words) if w == word), None) if anchors is not None else None
        if i is not None:
            return anchors.source_words[i], i
        english = [en for en, t in pairs if t == word]

        def usable(en):  # as `core.anchors.extract_anchors` takes an English side: a whole-word PLM token
            key = source_key(en, source_vocab, lowercase_source)
            return key in source_vocab and not key.startswith("##")

        return _first_present(english, usable), None
    sid = source_vocab.get(word)
    i = (next((i for i, s in enumerate(anchors.source_ids) if int(s) == sid), None)
         if anchors is not None and sid is not None else None)
    if i is not None:
        return anchors.target_words[i], i
    targets = [t for en, t in pairs if (en.lower() if lowercase_source else en) == word
               or source_key(en, source_vocab, lowercase_source) == word]
    return _first_present(targets, lambda t: t in target_vocab), None


def find_word(query: str, anchors, source_vocab: dict, target_vocab: dict, pairs, *, lowercase_source: bool = True,
              max_matches: int = 5) -> list[Match]:
    """Every match of `query` (exact, target side first), at most `max_matches` per side. A target word's match is
    its first anchor or, for a word that is not an anchor, one match with its `partner`; an English token matches
    every anchor that uses it (up to `max_matches`), else once with its `partner`."""
    q = (query or "").strip()
    if not q:
        return []
    out = []
    if q in target_vocab or q in anchors.target_words:
        en, i = partner(q, "target", anchors, pairs, source_vocab, target_vocab, lowercase_source=lowercase_source)
        if i is not None:
            out.append(Match("target", q, en, i, int(anchors.source_ids[i]), int(anchors.target_ids[i])))
        else:
            key = source_key(en, source_vocab, lowercase_source) if en else None
            sid = source_vocab.get(key) if key else None
            out.append(Match("target", q, en, None, int(sid) if sid is not None else None, int(target_vocab[q])))
    key = source_key(q, source_vocab, lowercase_source)
    sid = source_vocab.get(key)
    if sid is not None:
        hits = [i for i, s in enumerate(anchors.source_ids) if int(s) == sid][:max_matches]
        if hits:
            out += [Match("source", key, anchors.target_words[i], i, int(sid), int(anchors.target_ids[i])) for i in hits]
        else:
            t, _ = partner(key, "source", anchors, pairs, source_vocab, target_vocab, lowercase_source=lowercase_source)
            row = target_vocab.get(t) if t else None
            out.append(Match("source", key, t, None, int(sid), int(row) if row is not None else None))
    return out


def plotted(sample_idx, matches: list[Match]) -> tuple[np.ndarray, list[Match]]:
    """(anchor positions to plot: the sample plus every anchor match, sorted; the matches that are not anchors)."""
    idx = set(int(i) for i in sample_idx) | {m.anchor for m in matches if m.anchor is not None}
    return np.array(sorted(idx), dtype=np.int64), [m for m in matches if m.anchor is None]


def layout_with_extras(src, tgt, extra_src=None, extra_tgt=None, method: str = "pca"):
    """Joint 2-D layout of paired anchor rows (as `projection.joint_anchor_projection`) plus unpaired extra rows on
    each side, projected with their side and put in the same frame (the rotation is fitted on the anchor pairs only).
    Returns (src_xy, tgt_xy, extra_src_xy, extra_tgt_xy)."""
    def side(anchor_rows, extra):
        extra = np.zeros((0, np.asarray(anchor_rows).shape[1])) if extra is None or len(extra) == 0 else extra
        rows = np.vstack([np.asarray(anchor_rows, dtype=np.float64), np.asarray(extra, dtype=np.float64)])
        xy = standardise_layout(project_2d(l2_normalise(rows), method))
        return xy[: len(anchor_rows)], xy[len(anchor_rows):]

    sxy, exs = side(src, extra_src)
    txy, ext = side(tgt, extra_tgt)
    u, _, vt = np.linalg.svd((txy - txy.mean(0)).T @ (sxy - sxy.mean(0)))
    r = u @ vt  # orthogonal Procrustes on the pairs (rotation only, as the plain view)
    shift_t, shift_s = txy.mean(0), sxy.mean(0)
    return sxy, (txy - shift_t) @ r + shift_s, exs, (ext - shift_t) @ r + shift_s if len(ext) else ext


def word_at(fig, point: dict) -> tuple[str, str] | None:
    """(side, word) of a selected point of an anchor-space figure (`point` as st.plotly_chart's selection reports
    it: curve_number and point_index), or None for a line or an out-of-range point. The side comes from the trace
    name ("source ..." / "target" / "searched ... (side)"), or for the highlight trace from its customdata."""
    try:
        trace = fig.data[int(point["curve_number"])]
        i = int(point.get("point_index", point.get("point_number")))
        text = trace.text
        if text is None or isinstance(text, str) or i >= len(text):
            return None
        name = trace.name or ""
        if "source" in name:
            side = "source"
        elif "target" in name:
            side = "target"
        else:
            side = str(trace.customdata[i])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return (side, str(text[i])) if side in ("source", "target") else None


def _cos_neighbours(vec, matrix, words, k: int, skip: str | None, gloss: dict) -> list[dict]:
    from mosecrot_viz.analysis.alignment import neighbours

    found = neighbours(vec, matrix, words, k=k + 1)
    return [{"word": w, "cosine": round(c, 4), "gloss": gloss.get(w)} for w, c in found if w != skip][:k]


def neighbour_tables(word: str, side: str, *, e_s, source_words, kv, pairs, source_vocab, lowercase_source=True,
                     k: int = 10, anchors=None) -> dict:
    """Neighbours of a word in both original spaces, glossed from the lexicon.

    For a target word: its neighbours among the target vectors (E_t), and the neighbours of its English partner
    among the PLM's input embeddings (E_s, shape (vocab, d)). For an English token the other way round. The partner
    is `partner`'s (the run's anchor pair `anchors` where the word is an anchor), the one the plot draws.
    Returns {"target": [rows], "source": [rows], "target_word": ..., "source_word": ...}; a side without a
    row (no translation, no vector) has no rows. Glosses stay the first lexicon translation of each neighbour.
    """
    en_to_t, t_to_en = gloss_maps(pairs, lowercase_source=lowercase_source)
    if side == "target":
        tw = word
        en, _ = partner(word, "target", anchors, pairs, source_vocab, kv.key_to_index, lowercase_source=lowercase_source)
        sw = source_key(en, source_vocab, lowercase_source) if en else None
    else:
        sw = source_key(word, source_vocab, lowercase_source)
        tw, _ = partner(sw, "source", anchors, pairs, source_vocab, kv.key_to_index, lowercase_source=lowercase_source)
    out = {"target_word": tw, "source_word": sw, "target": [], "source": []}
    if tw is not None and tw in kv.key_to_index:
        out["target"] = _cos_neighbours(kv.vectors[kv.key_to_index[tw]], kv.vectors, kv.index_to_key, k, tw, t_to_en)
    if sw is not None and sw in source_vocab:
        out["source"] = _cos_neighbours(np.asarray(e_s)[source_vocab[sw]], e_s, source_words, k, sw, en_to_t)
    return out


BLI_HIT = "BLI hit (nearest English token is a translation)"
MISCLASSIFIED = "misclassified test sentences containing the word"


def colour_options(mappers, methods) -> list[str]:
    """What the Anchors page offers to colour points by: side, frequency rank, BLI hit or miss under each mapping
    (`mappers`), and how many test sentences each zero-shot method (`methods`) got wrong contain the word."""
    return (["side", "frequency rank"] + [f"{BLI_HIT}: {m}" for m in mappers]
            + [f"{MISCLASSIFIED}: {m}" for m in methods])


class Colouring(NamedTuple):
    """What to colour the plotted pairs by: `values` (m,) one per pair, the colour bar's `title`, and `categories`:
    None for a quantity (a continuous scale), else the class names, `categories[i]` naming value i (a flat colour
    per class; `plots.anchor_space(color_categories=...)`)."""

    values: np.ndarray
    title: str
    categories: tuple[str, ...] | None = None


BLI_CLASSES = ("BLI miss", "BLI hit")  # value 0, value 1
ANCHOR_CLASSES = ("searched, not an anchor", "anchor")


def colour_values(by: str, target_rows, is_anchor, *, bli_hits: dict | None = None,
                  misclassified_counts: dict | None = None, target_words=()) -> Colouring | None:
    """Per plotted pair, the value to colour by, its legend title and whether it is categorical; None for "side".

    "frequency rank": the target word's row in the vectors file (most frequent first); "anchor": 1 for anchors,
    0 for searched words that are not (categorical); "BLI hit ...: M": 1 when the pair's mapped target word (F_t
    under mapper M) has an English translation as its nearest whole-word token, else 0 (`bli_hits[M]`, one bool
    per pair; categorical: a hit or a miss, never a point on a 0..1 scale); "misclassified ...: M": how many test
    sentences method M got wrong contain the target word (`misclassified_counts[M]`: word -> count, see
    `misclassified_word_counts`).
    """
    if by == "frequency rank":
        return Colouring(np.asarray(target_rows, dtype=float), "frequency rank")
    if by == "anchor":
        return Colouring(np.asarray(is_anchor, dtype=float), "anchor or not", ANCHOR_CLASSES)
    if by.startswith(BLI_HIT + ": "):
        m = by.split(": ", 1)[1]
        return Colouring(np.asarray((bli_hits or {})[m], dtype=float), f"BLI, {m}", BLI_CLASSES)
    if by.startswith(MISCLASSIFIED + ": "):
        m = by.split(": ", 1)[1]
        counts = (misclassified_counts or {}).get(m, {})
        return Colouring(np.asarray([counts.get(w, 0) for w in target_words], dtype=float),
                         f"misclassified sentences, {m}")
    return None


def anchor_bli_hits(spaces, kv, pairs, target_rows, mappers) -> dict:
    """mapper -> per plotted pair (target rows `target_rows`), is the nearest whole-word English token of the mapped
    target word F_t[row] one of its lexicon translations (in-sample BLI: these words are anchors the mapping saw)."""
    from mosecrot_viz.core.bli import bli, gold_sets, whole_word_ids

    tok = spaces.tokenizer
    rows = np.asarray(target_rows, dtype=np.int64)
    gold = gold_sets(pairs, rows, tok.get_vocab(), kv.key_to_index, lowercase_source=spaces.lowercase_source,
                     special_tokens=tok.all_special_tokens)
    whole = whole_word_ids(tok)
    return {m: [bool(h) for h in bli(spaces.mapped[m][1][rows], spaces.mapped[m][0], gold, ks=(1,),
                                     candidate_ids=whole).hits_at_1] for m in mappers}


def misclassified_word_counts(predictions, test, methods, split_words) -> dict:
    """method -> {target word: number of test sentences (any seed) the method got wrong that contain it}.

    predictions: the run's predictions.csv (method, seed, id, gold, pred); test: the target test set (id, text);
    split_words: the run's target segmentation (text -> words), so words match the vectors' keys. A word counts
    under its own form and lower-cased, as the run's tokenizer falls back to the lower-cased form (`Gott` is read
    as the vector `gott`)."""
    from collections import Counter

    from mosecrot_viz.analysis.errors import misclassified

    out = {}
    for m in methods:
        wrong = misclassified(predictions, test, m).drop_duplicates("id")
        out[m] = dict(Counter(w for text in wrong["text"].dropna()
                              for w in {v for word in split_words(str(text)) for v in (word, word.lower())}))
    return out


def anchor_space_view(spaces, kv, pairs, method: str, n: int, search: str = "", seed: int = 0) -> AnchorView:
    """What the Anchors page draws: a seeded sample of `n` anchors (plus every anchor `search` finds) and the
    searched words that are not anchors, in one 2-D frame.

    spaces: the run's mapped spaces (tokenizer, E_s, anchors); kv: target KeyedVectors; pairs: the lexicon.
    Returns an `AnchorView`: positions (m, 2) per side of the m plotted pairs, their words and target rows, the
    pair-distance control, the extra and highlighted points, and the matches as dicts.
    """
    tok = spaces.tokenizer
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(spaces.anchors), size=min(n, len(spaces.anchors)), replace=False)
    matches = find_word(search, spaces.anchors, tok.get_vocab(), kv.key_to_index, pairs,
                        lowercase_source=spaces.lowercase_source)
    idx, extra = plotted(sample, matches)
    a = spaces.anchors.subset(idx)
    src, tgt = spaces.e_s[a.source_ids], kv.vectors[a.target_ids]
    xs = [(m.source_id, m.word if m.side == "source" else m.partner, m.word if m.side == "target" else m.partner)
          for m in extra if m.source_id is not None]
    xt = [(m.target_row, m.word if m.side == "target" else m.partner, m.word if m.side == "source" else m.partner)
          for m in extra if m.target_row is not None]
    if xs or xt:
        sxy, txy, exs, ext = layout_with_extras(
            src, tgt, spaces.e_s[[r for r, _, _ in xs]] if xs else None, kv.vectors[[r for r, _, _ in xt]] if xt else None,
            method)
    else:
        (sxy, txy), exs, ext = joint_anchor_projection(src, tgt, method), [], []
    extras = [{"x": float(p[0]), "y": float(p[1]), "side": "source", "word": w, "partner": o} for p, (_, w, o) in zip(exs, xs)]
    extras += [{"x": float(p[0]), "y": float(p[1]), "side": "target", "word": w, "partner": o} for p, (_, w, o) in zip(ext, xt)]
    highlight = []
    for m in matches:  # the word and its translation partner, wherever they were drawn
        if m.anchor is not None:
            p = int(np.searchsorted(idx, m.anchor))
            highlight += [{"x": float(sxy[p, 0]), "y": float(sxy[p, 1]), "side": "source", "word": a.source_words[p]},
                          {"x": float(txy[p, 0]), "y": float(txy[p, 1]), "side": "target", "word": a.target_words[p]}]
        else:
            highlight += [{k: e[k] for k in ("x", "y", "side", "word")} for e in extras if e["word"] in (m.word, m.partner)]
    return AnchorView(sxy, txy, list(a.source_words), list(a.target_words), pair_distance_control(sxy, txy),
                      a.target_ids.tolist(), extras, highlight, [dict(m.__dict__) for m in matches])


def run_misclassified_word_counts(results: dict, predictions, methods) -> dict:
    """`misclassified_word_counts` for a stored run: its test set and its own target segmentation rule."""
    from mosecrot_viz.analysis.errors import run_test_set
    from mosecrot_viz.io.text import segment

    cfg = results["config"]
    return misclassified_word_counts(predictions, run_test_set(results), methods,
                                     lambda text: segment(text, cfg.get("lang"), rule=cfg.get("segmentation")))
