"""Analyses computed once, right after a run, and stored beside it (`analysis.json` in the run folder).

The Alignment page's held-out BLI refits every mapper and took minutes on first visit; the Why page
asked for it again. A run started from the app computes it here (held-out BLI at the pages' default
1,000 held-out anchors, translation-pair cosines, the drift summary per re-initialising mapper), and the
pages read it when present, falling back to computing it for runs made without it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..atomic import write_json

FILE = "analysis.json"
DEFAULT_HELD_OUT = 1000  # the Alignment page's default, and the Why page's


def precompute(cfg, folder, n_test: int = DEFAULT_HELD_OUT) -> dict | None:
    """Compute and store the pages' analyses for the finished run of `cfg` in `folder`; None without a mapper."""
    from ..config import MAPPED_METHODS
    from ..pipeline import load_inputs, map_spaces
    from . import alignment
    from .holdout import holdout_bli

    mappers = [m for m in cfg.methods if m in MAPPED_METHODS]
    if not mappers:
        return None
    inputs = load_inputs(cfg)
    spaces = map_spaces(cfg, inputs, mappers)
    h = holdout_bli(cfg, inputs, spaces, mappers, n_test=n_test)
    ids = np.setdiff1d(np.arange(len(spaces.e_s)), spaces.tokenizer.all_special_ids)
    drift = {m: alignment.drift_summary(alignment.drift(spaces.e_s, spaces.mapped[m][0], ids))
             for m in mappers}
    data = {"holdout_bli": {str(n_test): {"precision": h.precision, "n_test": h.n_test, "n_train": h.n_train,
                                          "cosines": {m: np.asarray(c, dtype=float).round(5).tolist()
                                                      for m, c in h.cosines.items()}}},
            "drift": drift}
    write_json(Path(folder) / FILE, data)
    return data


def _read(folder) -> dict | None:
    try:
        return json.loads((Path(folder) / FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None


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
