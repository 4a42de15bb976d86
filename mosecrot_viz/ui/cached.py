"""Cached loaders for the app: models and vectors with st.cache_resource, results with st.cache_data.

Keys are names and paths, never objects, so every page and session shares one copy. Shared
arrays are made read-only (`read_only`), so a session that tried to change one in place would get
an error instead of silently changing what every other session sees; the pipeline loads a fresh
model for every fine-tune.
"""
from __future__ import annotations

import warnings

import numpy as np
import streamlit as st

from mosecrot_viz.defaults import models
from mosecrot_viz.defaults.registry import resolve_spec
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.io.lexicon import load_lexicon
from mosecrot_viz.io.vectors import load_vectors

# torch warns once when it wraps a read-only array; the library only reads these (every op returns
# a new tensor, none is in place), so the warning would only confuse a user reading the log.
warnings.filterwarnings("ignore", message="The given NumPy array is not writable", category=UserWarning)


def read_only(obj):
    """Mark every NumPy array in `obj` (arrays, KeyedVectors, dataclasses, dicts, tuples) read-only; returns `obj`."""
    seen = set()

    def walk(o) -> None:
        if id(o) in seen or o is None or isinstance(o, (str, bytes, int, float)):
            return
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            o.setflags(write=False)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v)
        elif hasattr(o, "__dataclass_fields__"):
            for name in o.__dataclass_fields__:
                walk(getattr(o, name))
        elif hasattr(o, "key_to_index") and hasattr(o, "vectors"):  # gensim KeyedVectors
            walk(o.vectors)

    walk(obj)
    return obj


@st.cache_resource(show_spinner="loading vectors")
def vectors(spec: str, max_vocab: int | None = None):
    """Static vectors by path or `default:LANG` (shared by every session, so read-only)."""
    return read_only(load_vectors(resolve_spec(spec, "vectors"), max_vocab=max_vocab))


@st.cache_resource(show_spinner="loading tokenizer")
def tokenizer(name: str):
    """A model's tokenizer (for anchor coverage)."""
    return models.load_tokenizer(name)


@st.cache_data(show_spinner="reading lexicon")
def lexicon(spec: str) -> list:
    """Lexicon pairs by path or `default:LANG`."""
    return load_lexicon(resolve_spec(spec, "lexicon"))


@st.cache_data(show_spinner="reading lexicon as the run will")
def pairs(spec: str, lang: str | None = None, simplify_chinese: bool | None = None) -> list:
    """Lexicon pairs exactly as a run reads them (`pipeline.load_pairs`: Chinese side simplified for zh)."""
    from mosecrot_viz.experiment.pipeline import load_pairs

    return load_pairs(ExperimentConfig(vectors="", lexicon=spec, train="", test="", lang=lang,
                                       simplify_chinese=simplify_chinese))


@st.cache_resource(show_spinner="rebuilding the mapped spaces for this run (no fine-tuning)")
def spaces(run_id: str, config: dict, methods: tuple):
    """Inputs and (F_s, F_t) per mapper for a stored run, recomputed from its config and cached (read-only)."""
    from mosecrot_viz.experiment.pipeline import load_inputs, map_spaces

    cfg = ExperimentConfig.from_dict(config)
    inputs = load_inputs(cfg)
    return read_only((inputs, map_spaces(cfg, inputs, methods=list(methods))))
