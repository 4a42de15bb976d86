"""Analyses computed once, right after a run, and stored beside it (`analysis.json` in the run folder).

The Alignment page's held-out BLI refits every mapper and took minutes on first visit; the Why page
asked for it again, and the first visit to Alignment or Anchors rebuilt the mapped spaces (about 30 s) just to
draw their default views. A run started from the app computes all of it here, once: held-out BLI at the pages'
default 1,000 held-out anchors with the translation-pair cosines, the drift of every re-initialising mapper
(per-token cosines for the histogram, and their summary), the Anchors page's default 2-D view (PCA, 800 anchors,
seed 0) and its default relative-representation heatmap. The pages read it when present and compute it
themselves for runs made without it (the CLI's) or for any other setting.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from mosecrot_viz.atomic import write_json
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.structured import load_json

FILE = "analysis.json"
DEFAULT_HELD_OUT = 1000  # the Alignment page's default, and the Why page's
#: the Anchors page's default view: (projection, anchors shown, sample seed) and heatmap columns
DEFAULT_ANCHOR_VIEW = ("pca", 800, 0)
DEFAULT_HEATMAP_COLUMNS = 40


def _rounded(values, digits: int = 5) -> list:
    return np.asarray(values, dtype=float).round(digits).tolist()


def anchor_view_record(view) -> dict:
    """`anchor_search.anchor_space_view`'s tuple as JSON-ready lists (arrays rounded to 5 decimals)."""
    sxy, txy, sw, tw, control, rows, extras, highlight, matches = view
    return {"sxy": _rounded(sxy), "txy": _rounded(txy), "source_words": list(sw), "target_words": list(tw),
            "control": {k: float(v) for k, v in control.items()}, "target_rows": [int(r) for r in rows],
            "extras": extras, "highlight": highlight, "matches": matches}


def precompute(cfg, folder, n_test: int = DEFAULT_HELD_OUT) -> dict:
    """Compute and store the pages' analyses for the finished run of `cfg` in `folder` (see the module text).

    BLI and drift need a mapping method; the anchor view and the heatmap are stored for every run. The record's
    `seconds` says how long this took (the Home page quotes it beside the run's own wall time)."""
    import time

    from mosecrot_viz.analysis import alignment
    from mosecrot_viz.analysis.anchor_search import anchor_bli_hits, anchor_space_view
    from mosecrot_viz.analysis.anchor_words import default_heatmap_words, relative_heatmap
    from mosecrot_viz.analysis.holdout import holdout_bli
    from mosecrot_viz.core.devices import pick_device
    from mosecrot_viz.experiment.config import MAPPED_METHODS
    from mosecrot_viz.experiment.pipeline import load_inputs, map_spaces

    t0 = time.perf_counter()
    device = pick_device(cfg.device)
    mappers = [m for m in cfg.methods if m in MAPPED_METHODS]
    inputs = load_inputs(cfg)
    spaces = map_spaces(cfg, inputs, mappers, device=device)
    data: dict = {"config_key": config_key(cfg.to_dict())}
    if mappers:
        h = holdout_bli(cfg, inputs, spaces, mappers, n_test=n_test, device=device)
        drifts = alignment.mapper_drifts(spaces, mappers)
        data["holdout_bli"] = {str(n_test): {"precision": h.precision, "n_test": h.n_test, "n_train": h.n_train,
                                             "cosines": {m: _rounded(c) for m, c in h.cosines.items()}}}
        data["drift"] = {m: alignment.drift_summary(d) for m, d in drifts.items()}
        data["drift_cosines"] = {m: _rounded(d, 4) for m, d in drifts.items() if spaces.reinit[m]}
    method, n, seed = DEFAULT_ANCHOR_VIEW
    view = anchor_space_view(spaces, inputs.vectors, inputs.pairs, method, n, "", seed)
    data["anchor_view"] = {"settings": list(DEFAULT_ANCHOR_VIEW), **anchor_view_record(view),
                           "bli_hits": anchor_bli_hits(spaces, inputs.vectors, inputs.pairs, view[5], mappers)}
    a = spaces.anchors
    words = default_heatmap_words({"source_words": list(a.source_words), "target_words": list(a.target_words),
                                   "target_ids": a.target_ids.tolist()})
    heat = relative_heatmap(inputs.vectors, a, words, DEFAULT_HEATMAP_COLUMNS)
    data["heatmap"] = {"words": heat["words"], "columns": DEFAULT_HEATMAP_COLUMNS, "anchors": heat["anchors"],
                       "matrix": None if heat["matrix"] is None else _rounded(heat["matrix"])}
    data["seconds"] = round(time.perf_counter() - t0, 1)
    write_json(Path(folder) / FILE, data)
    return data


def config_key(config: dict) -> str:
    """A short hash of a run's config (results.json's `config`): ties analysis.json to the run it was made for."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


@lru_cache(maxsize=32)
def _parsed(path: str, _mtime_ns: int, _size: int) -> dict | None:
    try:
        return load_json(path)
    except (OSError, InputError):
        return None


def _load(path: Path) -> dict | None:
    """A JSON file, parsed once per version (a page reads analysis.json several times per rerun)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return _parsed(str(path), st.st_mtime_ns, st.st_size)


def _read(folder) -> dict | None:
    """analysis.json of the run in `folder`, or None when absent or made for another config than results.json's
    (a folder reused by a later run)."""
    data = _load(Path(folder) / FILE)
    results = _load(Path(folder) / "results.json")
    if not data or not results or data.get("config_key") != config_key(results.get("config") or {}):
        return None
    return data


def stored_bli(folder, n_test: int):
    """(precision, cosines, n_test, n_train) as `holdout_bli` gives them, if stored for `n_test`; else None."""
    rec = ((_read(folder) or {}).get("holdout_bli") or {}).get(str(n_test))
    if not rec:
        return None
    precision = {m: {kind: {int(k): v for k, v in ks.items()} for kind, ks in d.items()}
                 for m, d in rec["precision"].items()}
    cosines = {m: np.asarray(c) for m, c in rec["cosines"].items()}
    return precision, cosines, rec["n_test"], rec["n_train"]


def stored_drift(folder) -> dict:
    """method -> drift summary (mean, median, quantiles), as stored; {} when absent."""
    return (_read(folder) or {}).get("drift") or {}


def stored_drift_cosines(folder) -> dict | None:
    """method -> per-token cos(E_s, F_s) (array) for each re-initialising mapper, as stored ({} for a run
    without one); None when not stored."""
    rec = (_read(folder) or {}).get("drift_cosines")
    return None if rec is None else {m: np.asarray(v) for m, v in rec.items()}


def stored_anchor_view(folder, method: str, n: int, search: str, seed: int = 0):
    """The Anchors page's view as `anchor_space_view` returns it, when stored for exactly these settings and no
    search; else None."""
    rec = (_read(folder) or {}).get("anchor_view")
    if not rec or search or [method, n, seed] != rec.get("settings"):
        return None
    return (np.asarray(rec["sxy"]), np.asarray(rec["txy"]), rec["source_words"], rec["target_words"],
            rec["control"], rec["target_rows"], rec["extras"], rec["highlight"], rec["matches"])


def stored_anchor_bli_hits(folder, method: str, n: int, search: str, seed: int = 0) -> dict | None:
    """mapper -> BLI hit per pair of the stored default anchor view (`anchor_search.anchor_bli_hits`), when the
    settings are the stored ones; else None."""
    rec = (_read(folder) or {}).get("anchor_view")
    if not rec or search or [method, n, seed] != rec.get("settings") or "bli_hits" not in rec:
        return None
    return rec["bli_hits"]


def stored_heatmap(folder, words: list, n_cols: int) -> dict | None:
    """`anchor_words.relative_heatmap`'s result when stored for exactly these words and columns; else None."""
    rec = (_read(folder) or {}).get("heatmap")
    if not rec or rec["words"] != list(words) or rec["columns"] != n_cols or rec["matrix"] is None:
        return None
    return {"words": rec["words"], "missing": [], "anchors": rec["anchors"], "matrix": np.asarray(rec["matrix"])}


def analysis_seconds(folder) -> float | None:
    """How long the stored analyses took to compute after the run (None when not stored)."""
    return (_read(folder) or {}).get("seconds")
