"""Which anchor words to show by default: frequent content words, not lexicon-order junk (`%`, `PO`)."""
from __future__ import annotations

import re

import numpy as np

_CONTENT = re.compile(r"^\w{2,}$", re.UNICODE)


def default_heatmap_words(anchors: dict, n: int = 5) -> list[str]:
    """Up to `n` anchor target words that are frequent content words.

    anchors: a run's anchors.json ({source_words, target_words, target_ids}). Static vector files list
    words by frequency, so a low `target_ids` row means a frequent word; kept are words of two or more
    word characters without digits whose English translation is not a stop word.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    rows = sorted(zip(anchors["target_ids"], anchors["target_words"], anchors["source_words"]))
    out = []
    for _, tgt, en in rows:
        if _CONTENT.match(tgt) and not any(c.isdigit() for c in tgt) and en.lower() not in ENGLISH_STOP_WORDS:
            out.append(tgt)
            if len(out) == n:
                break
    return out


def relative_heatmap(kv, anchors, words, n_cols: int) -> dict:
    """Relative representations of chosen target words over their most similar anchors.

    kv: the target KeyedVectors; anchors: the run's AnchorSet; words: the requested words. Returns
    {"matrix": (len(known), <= n_cols) cosines, "words": known words, "anchors": "target/english" column
    names, "missing": requested words without a vector}.
    """
    from mosecrot_viz.core.relative import relative_representation

    known = [w for w in words if w in kv.key_to_index]
    out = {"words": known, "missing": sorted(set(words) - set(known)), "matrix": None, "anchors": []}
    if known:
        r = relative_representation(kv[known], kv.vectors[anchors.target_ids])
        top = np.argsort(-r.max(axis=0))[:n_cols]
        out.update(matrix=r[:, top], anchors=[f"{anchors.target_words[i]}/{anchors.source_words[i]}" for i in top])
    return out
