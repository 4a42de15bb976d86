"""Sweeps: one parameter over several values, every trial a run in the store (the paper's Tables 3-4).

`top_k` (all = 0), `n_anchors` (random subsets), `temperature`, `drop_stopword_anchors` and `script_shift` (the
unseen-script simulation's share: Compare draws where the static-vector methods cross mplm) are sweepable
(`experiment.options.SWEEPABLE`). English-only fine-tunes are shared through the model cache, so a top-k sweep
trains the LS/source model once.
"""
from __future__ import annotations

import copy
import uuid

import pandas as pd

from mosecrot_viz.core.metrics import seed_std
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.options import SWEEPABLE  # noqa: F401 (re-exported for the Run page)
from mosecrot_viz.records import RunState


def parse_values(param: str, text: str) -> list:
    """'1,10,50,all' -> [1, 10, 50, None] for top_k / n_anchors; floats for temperature and script_shift; bools for
    stop words. Each value's bounds are checked with its trial's config (`sweep_configs`)."""
    if param not in SWEEPABLE:
        raise InputError(f"cannot sweep {param!r}; choose from {SWEEPABLE}")
    out = []
    for raw in (t.strip() for t in text.split(",") if t.strip()):
        try:
            if param in ("top_k", "n_anchors"):
                out.append(None if raw.lower() in ("all", "0") else int(raw))
            elif param in ("temperature", "script_shift"):
                out.append(float(raw))
            else:
                out.append(raw.lower() in ("1", "true", "yes", "on"))
        except ValueError:
            raise InputError(f"bad value {raw!r} for {param}") from None
    if not out:
        raise InputError("give at least one sweep value")
    return out


def sweep_configs(base: ExperimentConfig, param: str, values: list, *, model_cache: str | None = None) -> list:
    """One validated config per value, tagged with a shared sweep id."""
    sweep_id = uuid.uuid4().hex[:8]
    configs = []
    for v in values:
        cfg = copy.deepcopy(base)
        setattr(cfg, param, v)
        cfg.sweep = {"id": sweep_id, "param": param, "value": "all" if v is None else v}
        cfg.model_cache = cfg.model_cache or model_cache
        configs.append(cfg.validate())
    return configs


def sweep_frame(runs) -> pd.DataFrame:
    """Long frame (sweep, param, value, method, macro_f1, macro_f1_std, anchors) from complete trial runs.

    A grid's trials add one column per axis (e.g. language, seed) so they can be grouped."""
    rows = []
    for r in runs:
        res = r.record()
        sweep = res.config.get("sweep") if res else None
        if not sweep:
            continue
        for m, v in res.methods.items():
            row = {"sweep": sweep["id"], "param": sweep["param"], "value": sweep["value"], "method": m,
                   "macro_f1": v.macro_f1, "macro_f1_std": v.macro_f1_std, "anchors": res.anchors.count}
            rows.append({**{k: v for k, v in (sweep.get("axes") or {}).items() if k not in row}, **row})
    return pd.DataFrame(rows)


def sweep_progress(runs) -> pd.DataFrame:
    """One row per sweep (id, name, total, complete, failed, running, queued, incomplete) from its trials' status;
    a trial whose results are in but whose process is still at work (`analysing`) counts as running."""
    rows = {}
    for r in runs:
        sweep = (r.config() or {}).get("sweep")
        if not sweep:
            continue
        row = rows.setdefault(sweep["id"], {"sweep": sweep["id"], "name": sweep.get("name") or sweep["param"],
                                            "total": 0, "complete": 0, "failed": 0, "running": 0, "queued": 0,
                                            "incomplete": 0})
        row["total"] += 1
        state = r.status().state
        state = RunState.RUNNING if state is RunState.ANALYSING else state
        if state.value in row:
            row[state.value] += 1
    return pd.DataFrame(list(rows.values()))


def run_sweep(configs, root=None, progress=None) -> pd.DataFrame:
    """Run trials one after another in the foreground (the CLI); returns the sweep frame."""
    from mosecrot_viz.store.runs import StoredRun, execute_run, prepare_run

    runs = []
    for i, cfg in enumerate(configs):
        path = prepare_run(cfg, f"sweep-{cfg.sweep['param']}-{cfg.sweep['value']}", root)
        if progress:
            progress(f"trial {i + 1}/{len(configs)}: {cfg.sweep['param']}={cfg.sweep['value']}", i / len(configs))
        if not execute_run(cfg, path):
            raise InputError(f"trial {cfg.sweep['param']}={cfg.sweep['value']} failed: "
                             f"{StoredRun(path).status().message}")
        runs.append(StoredRun(path))
    return sweep_frame(runs)


FRAME_COLUMNS = ("sweep", "param", "value", "method", "macro_f1", "macro_f1_std", "anchors")


def grid_summary(frame: pd.DataFrame, x: str) -> pd.DataFrame:
    """A grid's trials averaged over its `seed` axis: one row per (x, series) with mean, std (ddof=1) and n.

    `series` names the method plus every other axis, so the Compare page draws one line per
    combination against the chosen axis `x`.
    """
    axes = [c for c in frame.columns if c not in FRAME_COLUMNS]
    if x not in axes and x != "value":
        raise InputError(f"{x!r} is not an axis of this sweep; choose from {axes or ['value']}")
    others = [a for a in axes if a not in (x, "seed")]
    keys = [x, "method"] + others
    out = (frame.groupby(keys, sort=False)["macro_f1"]
           .agg(macro_f1="mean", macro_f1_std=seed_std, n="count").reset_index())
    out["series"] = out[["method"] + others].astype(str).agg(" · ".join, axis=1)
    return out
