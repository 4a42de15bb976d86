"""What the Setup page checks, read exactly as a run will read it (the page only renders the answers).

Each input is read by the loader the pipeline uses (task files cached by their content's sha256), the anchor counts come from the
pipeline's own anchor selection (`experiment.spaces.count_anchors`), and the test set's unknown-word rate from
the run's own word tokenizer with the chosen segmentation rule.
"""
from __future__ import annotations

import os
import stat

import numpy as np
import streamlit as st

from mosecrot_viz.core.ladder import unknown_word_share
from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import anchor_inputs, count_anchors
from mosecrot_viz.io.limits import describe_limits, max_task_bytes  # noqa: F401 (describe_limits: for the page)
from mosecrot_viz.io.tasks import check_labels, load_task  # noqa: F401 (re-exported for the page)
from mosecrot_viz.io.text import SEGMENTATIONS, resolve_rule  # noqa: F401 (re-exported for the page)
from mosecrot_viz.paths import sha256_file
from mosecrot_viz.ui import cached


@st.cache_data(show_spinner="reading task data", max_entries=16)
def _task(path: str, digest: str | None):
    """A task file, read once per content (`digest`: its sha256), so reruns stay cheap and a file rewritten in
    place within the same second and size (which a (size, mtime) key would miss) is read again."""
    return load_task(path)


def content_digest(path: str) -> str | None:
    """sha256 of a regular file within the task-size limit, else None (then `load_task` itself says what is wrong:
    missing, a folder, a FIFO, too large; nothing here blocks on a FIFO or reads a runaway file whole)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > max_task_bytes():
        return None
    return sha256_file(path)


def check_input(kind: str, spec: str):
    """Read one input as the run will, raising its `InputError`; returns task frames (None otherwise)."""
    if kind == "vectors":
        cached.vectors(spec)
    elif kind == "lexicon":
        cached.lexicon(spec)
    else:
        digest = content_digest(spec)
        return _task(spec, digest) if digest is not None else load_task(spec)
    return None


@st.cache_data(show_spinner="counting anchors as the run will", max_entries=32)
def anchor_summary(config: dict) -> dict:
    """results.json's `anchors` for a run of `config`, from the pipeline's own anchor selection."""
    cfg = ExperimentConfig.from_dict(config)
    kv = cached.vectors(cfg.vectors, cfg.max_vocab)
    return count_anchors(cfg, anchor_inputs(kv, cached.pairs(cfg.lexicon, cfg.lang, cfg.simplify_chinese)),
                         cached.tokenizer(cfg.source_model))


def test_coverage(kv, tok, lang: str | None, rule: str, texts) -> tuple[int, float]:
    """(test words after segmentation, share of them without a vector), as the run's word tokenizer reads them.

    kv: the target KeyedVectors; tok: the source model's tokenizer (its special tokens); texts: the test sentences.
    """
    enc = WordTokenizer(kv.index_to_key, tok.special_tokens_map, lang=lang, segmentation=rule).encode(
        list(texts), max_length=10**6)
    n_words = int(np.asarray(enc.n_words).sum())
    unknown = unknown_word_share(enc.unknown_rate, enc.n_words)  # the figure the run stores and every page shows
    return n_words, unknown
