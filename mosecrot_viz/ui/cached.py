"""Cached loaders for the app: models and vectors with st.cache_resource, results with st.cache_data.

Keys are names and paths, never objects, so every page and session shares one copy. Cached
objects are read-only: the pipeline loads a fresh model for every fine-tune.
"""
from __future__ import annotations

import streamlit as st

from ..config import ExperimentConfig
from ..io import models
from ..io.lexicon import load_lexicon
from ..io.resources import resolve_spec
from ..io.vectors import load_vectors


@st.cache_resource(show_spinner="loading vectors")
def vectors(spec: str, max_vocab: int | None = None):
    """Static vectors by path or `default:LANG`."""
    return load_vectors(resolve_spec(spec, "vectors"), max_vocab=max_vocab)


@st.cache_resource(show_spinner="loading tokenizer")
def tokenizer(name: str):
    """A model's tokenizer (for anchor coverage)."""
    return models.load_tokenizer(name)


@st.cache_data(show_spinner="reading lexicon")
def lexicon(spec: str) -> list:
    """Lexicon pairs by path or `default:LANG`."""
    return load_lexicon(resolve_spec(spec, "lexicon"))


@st.cache_resource(show_spinner="rebuilding the mapped spaces for this run (no fine-tuning)")
def spaces(run_id: str, config: dict, methods: tuple):
    """Inputs and (F_s, F_t) per mapper for a stored run, recomputed from its config and cached."""
    from ..pipeline import load_inputs, map_spaces

    cfg = ExperimentConfig.from_dict(config)
    inputs = load_inputs(cfg)
    return inputs, map_spaces(cfg, inputs, methods=list(methods))
