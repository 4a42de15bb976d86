"""What the Setup page checks, read exactly as a run will read it (the page only renders the answers).

Each input is read by the loader the pipeline uses (task files cached by their content's sha256), the anchor counts come from the
pipeline's own anchor selection (`experiment.spaces.count_anchors`), and the test set's unknown-word rate from
the run's own word tokenizer with the chosen segmentation rule.
"""
from __future__ import annotations

import numpy as np

from mosecrot_viz.core.ladder import unknown_word_share
from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.io.limits import describe_limits  # noqa: F401 (for the page)
from mosecrot_viz.io.tasks import check_labels, load_task  # noqa: F401 (re-exported for the page)
from mosecrot_viz.io.text import SEGMENTATIONS, resolve_rule  # noqa: F401 (re-exported for the page)
from mosecrot_viz.ui import cached
from mosecrot_viz.ui.cached import anchor_summary, content_digest  # noqa: F401 (for the page)


def check_input(kind: str, spec: str):
    """Read one input as the run will, raising its `InputError`; returns task frames (None otherwise)."""
    if kind == "vectors":
        cached.vectors(spec)
    elif kind == "lexicon":
        cached.lexicon(spec)
    else:
        return cached.task_file(spec)
    return None


def test_coverage(kv, tok, lang: str | None, rule: str, texts) -> tuple[int, float]:
    """(test words after segmentation, share of them without a vector), as the run's word tokenizer reads them.

    kv: the target KeyedVectors; tok: the source model's tokenizer (its special tokens); texts: the test sentences.
    """
    enc = WordTokenizer(kv.index_to_key, tok.special_tokens_map, lang=lang, segmentation=rule).encode(
        list(texts), max_length=10**6)
    n_words = int(np.asarray(enc.n_words).sum())
    unknown = unknown_word_share(enc.unknown_rate, enc.n_words)  # the figure the run stores and every page shows
    return n_words, unknown
