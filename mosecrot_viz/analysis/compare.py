"""Runs side by side, honestly: which task each run measured, and a paired difference only between runs of one task.

Two runs are of the same task when they read the same target test set (same file, same sentence ids) with the
same label set; only then are their macro-F1s comparable, and only then is a paired bootstrap over the shared test
sentences (`core.metrics.bootstrap_macro_f1_diff`, seeds paired) the interval of their difference.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd

from mosecrot_viz.records import as_results

NOT_ZERO_SHOT = {"lr": "trained on target labels: not zero-shot"}  # shown, marked, never ranked with zero-shot ones


def task_of(results) -> str:
    """A readable task key: the target test file's name, its size and its classes."""
    res = as_results(results)
    cfg, labels = res.config, res.labels
    n = res.data.test if res.data.test is not None else "?"
    return (f"{Path(str(cfg.get('test', '?'))).parent.name}/{Path(str(cfg.get('test', '?'))).name} · "
            f"{n} sentences · {len(labels)} classes ({', '.join(map(str, labels))})")


def inputs_of(results) -> str:
    """The run's inputs in one line: vectors, lexicon, English model, language."""
    cfg = as_results(results).config
    return " · ".join(f"{k} {Path(str(cfg.get(k))).name}" for k in ("vectors", "lexicon", "source_model")
                      if cfg.get(k)) + (f" · lang {cfg['lang']}" if cfg.get("lang") else "")


def long_table(runs: dict) -> pd.DataFrame:
    """One row per (run, method): task, inputs, macro-F1, its 95% interval over test sentences, seeds, zero-shot.
    runs: run id -> its `RunResults` (or results.json dict)."""
    rows = []
    for run_id, res in runs.items():
        res = as_results(res)
        for m, v in res.methods.items():
            ci = v.macro_f1_ci95
            n = v.seeds
            rows.append({"run": run_id, "task": task_of(res), "inputs": inputs_of(res), "method": m,
                         "zero-shot": m not in NOT_ZERO_SHOT, "macro_f1": v.macro_f1,
                         "ci95_low": ci[0] if ci else None, "ci95_high": ci[1] if ci else None,
                         "std": v.macro_f1_std if n > 1 else None, "seeds": n, "accuracy": v.accuracy})
    return pd.DataFrame(rows)


class PairedDifference(NamedTuple):
    """Macro-F1 of A minus B on their shared test sentences, and its 95% paired bootstrap interval."""

    diff: float
    low: float
    high: float


def paired_difference(res_a, preds_a: pd.DataFrame, method_a: str, res_b, preds_b: pd.DataFrame,
                      method_b: str, *, n_boot: int = 1000) -> PairedDifference:
    """(A − B, low, high): macro-F1 of run A's `method_a` minus run B's `method_b` on their shared test sentences,
    with a paired bootstrap interval over them (seeds paired). Raises ValueError for runs of different tasks."""
    from mosecrot_viz.core.metrics import bootstrap_macro_f1_diff

    if task_of(res_a) != task_of(res_b):
        raise ValueError("these runs measured different tasks: their macro-F1s are not comparable")
    a = preds_a[preds_a["method"] == method_a]
    b = preds_b[preds_b["method"] == method_b]
    ids = sorted(set(a["id"].astype(str)) & set(b["id"].astype(str)))
    if not ids:
        raise ValueError("the two runs share no test sentence")

    def per_seed(d):
        return [g.set_index(g["id"].astype(str)).loc[ids, "pred"].astype(str).tolist() for _, g in d.groupby("seed")]

    gold = a.set_index(a["id"].astype(str)).loc[ids].groupby(level=0)["gold"].first().loc[ids].astype(str).tolist()
    return PairedDifference(*bootstrap_macro_f1_diff(gold, per_seed(a), per_seed(b),
                                                     list(as_results(res_a).labels) or sorted(set(gold)), n_boot=n_boot))
