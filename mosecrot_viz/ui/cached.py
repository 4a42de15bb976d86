"""Every Streamlit cache of the app: models, vectors, a run's inputs and mapped spaces with st.cache_resource;
lexicons and analysis results with st.cache_data.

Keys are names, paths and values, never objects or page globals, so every page and session shares one copy. The
vectors are read once per process (`vectors`): a run's inputs (`inputs`) reuse that copy. Shared arrays are made
read-only (`read_only`), so a session that tried to change one in place would get an error instead of silently
changing what every other session sees; the pipeline loads a fresh model for every fine-tune. Pages ask for an
analysis with `analysis(run, name, **params)` (stored with the run, or computed once: `analysis.registry`).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import streamlit as st

from mosecrot_viz.analysis import registry
from mosecrot_viz.core.checks import check_vector_scale
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
    """Static vectors by path or `default:LANG` (shared by every session, so read-only), with the run's own refusals
    of their numbers (`core.checks.check_vector_scale`: subnormal, or every row one vector), so Setup refuses such a
    file before Start instead of the run after its wait."""
    kv = load_vectors(resolve_spec(spec, "vectors"), max_vocab=max_vocab)
    check_vector_scale(kv.vectors, spec)
    return read_only(kv)


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


@st.cache_resource(show_spinner="reading the run's lexicon and task files")
def inputs(config: dict):
    """A stored run's `Inputs` (vectors, lexicon, task splits), read as the run read them, with the vectors this
    process already holds (`vectors`); read-only."""
    from mosecrot_viz.experiment.pipeline import load_inputs

    cfg = ExperimentConfig.from_dict(config)
    return read_only(load_inputs(cfg, vectors=vectors(cfg.vectors, cfg.max_vocab)))


@st.cache_resource(show_spinner="rebuilding the mapped spaces for this run (no fine-tuning)")
def spaces(run_id: str, config: dict, methods: tuple):
    """(inputs, Spaces): a stored run's inputs and its anchors and (F_s, F_t) per mapper in `methods`, recomputed
    from its config (no fine-tuning) and cached per run and methods (read-only)."""
    from mosecrot_viz.experiment.pipeline import map_spaces

    run_inputs = inputs(config)
    return run_inputs, read_only(map_spaces(ExperimentConfig.from_dict(config), run_inputs, methods=list(methods)))


@st.cache_resource(show_spinner="loading the stitched model (a run that did not keep it fine-tunes it again with "
                                "its settings: about as long as the run's own fine-tune, minutes on a CPU)")
def stitched_model(run_path: str, config: dict, method: str, seed: int):
    """A stored run's stitched model of `method` and `seed` (`experiment.stitched.load_stitched`: the kept weights,
    or one seeded fine-tune again when the run did not keep them), shared by sessions."""
    from mosecrot_viz.experiment.stitched import load_stitched

    return load_stitched(run_path, method, seed, inputs=inputs(config))


class _AppSources(registry.RunSources):
    """A run's sources with the app's shared copies: inputs and spaces from the caches above (mapped on the CPU,
    as the pages always did), other analyses through `analysis` (so one a page drew is not computed again)."""

    def __init__(self, folder: str, config: dict):
        run_id = Path(folder).name
        super().__init__(folder, inputs=lambda: inputs(config),
                         spaces=lambda methods: spaces(run_id, config, tuple(methods))[1], device="cpu")
        self._folder_name = folder

    def result(self, name: str, **params):
        return _analysis(self._folder_name, _stamp(self._folder_name), name, _key(params))


def _key(params: dict) -> tuple:
    """`params` as a hashable cache key (lists as tuples), in name order."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


def _stamp(folder: str) -> int:
    """results.json's modification time: a folder reused by a later run is another cache key."""
    try:
        return (Path(folder) / "results.json").stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_data(show_spinner=False, max_entries=256)
def _analysis(folder: str, stamp: int, name: str, params: tuple):
    from mosecrot_viz.store.runs import StoredRun

    config = StoredRun(Path(folder)).config() or {}
    return registry.analysis_result(folder, name, sources=_AppSources(folder, config), **dict(params))


def analysis(run, name: str, **params):
    """The result of analysis `name` (`analysis.registry.ANALYSES`) with `params` for a stored run: stored with the
    run, else computed once (saying what it does while it takes a while), stored, and cached per run folder,
    results version, name and parameters."""
    folder = str(run.path)
    with st.spinner(registry.ANALYSES[name].spinner):
        return _analysis(folder, _stamp(folder), name, _key(params))


@st.cache_data(show_spinner="splitting the gap to the multilingual model (paired bootstrap over test sentences)")
def versus(run_path: str, method: str, mtime: float):
    """`analysis.ladder.versus_mplm` for a stored run, per run folder, method and results.json's mtime."""
    from mosecrot_viz.analysis import ladder
    from mosecrot_viz.store.runs import StoredRun

    run = StoredRun(Path(run_path))
    return ladder.versus_mplm(run.results(), method, run.predictions())


def content_digest(path: str) -> str | None:
    """sha256 of a regular file within the task-size limit, else None (then `load_task` itself says what is wrong:
    missing, a folder, a FIFO, too large; nothing here blocks on a FIFO or reads a runaway file whole)."""
    import os
    import stat

    from mosecrot_viz.io.limits import max_task_bytes
    from mosecrot_viz.paths import sha256_file

    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > max_task_bytes():
        return None
    return sha256_file(path)


@st.cache_data(show_spinner="reading task data", max_entries=16)
def task(path: str, digest: str | None):
    """A task file, read once per content (`digest`: its sha256), so reruns stay cheap and a file rewritten in
    place within the same second and size (which a (size, mtime) key would miss) is read again."""
    from mosecrot_viz.io.tasks import load_task

    return load_task(path)


def task_file(path: str):
    """`task` keyed by the file's content; a file that is not a bounded regular file is read uncached, so its
    loader says what is wrong with it."""
    from mosecrot_viz.io.tasks import load_task

    digest = content_digest(path)
    return task(path, digest) if digest is not None else load_task(path)


@st.cache_data(show_spinner="counting anchors as the run will", max_entries=32)
def anchor_summary(config: dict) -> dict:
    """results.json's `anchors` for a run of `config`, from the pipeline's own anchor selection (Setup's preview
    is the run's count)."""
    from mosecrot_viz.experiment.pipeline import anchor_inputs, count_anchors

    cfg = ExperimentConfig.from_dict(config)
    kv = vectors(cfg.vectors, cfg.max_vocab)
    return count_anchors(cfg, anchor_inputs(kv, pairs(cfg.lexicon, cfg.lang, cfg.simplify_chinese)),
                         tokenizer(cfg.source_model))
