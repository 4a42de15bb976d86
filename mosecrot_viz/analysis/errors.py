"""Where the target-language predictions go wrong: per class, per example, and against word coverage.

Everything here reads what a run already wrote (its `RunResults` record, or the results.json dict, and the predictions frame
with columns method, seed, id, gold, pred, unknown_rate), so a page can render it for a fresh run
or for a results folder loaded from disk.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mosecrot_viz.records import as_results

PER_CLASS_COLUMNS = ["method", "label", "f1", "precision", "recall", "support"]
COVERAGE_COLUMNS = ["bin", "lo", "hi", "n", "errors", "error_rate"]


def per_class_table(results) -> pd.DataFrame:
    """Long frame (method, label, f1, precision, recall, support) from each method's `per_class` scores.

    One row per method and label, so a page can pivot it or draw grouped bars and see which classes
    a method loses (per-class scores are already averaged over seeds by the pipeline).
    """
    rows = [{"method": m, "label": lab, **{key: scores.get(key) for key in PER_CLASS_COLUMNS[2:]}}
            for m, agg in as_results(results).methods.items() for lab, scores in (agg.per_class or {}).items()]
    return pd.DataFrame(rows, columns=PER_CLASS_COLUMNS)


def _select(predictions: pd.DataFrame, method: str, seed=None) -> pd.DataFrame:
    sel = predictions[predictions["method"] == method]
    if seed is not None:
        sel = sel[sel["seed"] == seed]
    return sel


def run_test_set(results) -> pd.DataFrame:
    """The run's target test set (id, label, text), read from the path its config names."""
    from mosecrot_viz.io.tasks import load_task

    return load_task(as_results(results).config["test"])


def misclassified(predictions: pd.DataFrame, test: pd.DataFrame, method: str, seed=None) -> pd.DataFrame:
    """Test examples `method` got wrong (all seeds, or one `seed`), with their text, worst coverage first.

    Columns: method, seed, id, text, gold, pred, unknown_rate; sorted by unknown_rate descending
    (ties and missing rates keep prediction order, missing rates last) so examples that failed
    because most of their words had no vector come first. Ids are matched as strings, so a
    predictions.csv read back from disk joins with the task frame.
    """
    wrong = _select(predictions, method, seed)
    wrong = wrong[wrong["pred"].astype(str) != wrong["gold"].astype(str)].copy()
    wrong["_key"] = wrong["id"].astype(str)
    texts = test.assign(_key=test["id"].astype(str)).drop_duplicates("_key").set_index("_key")["text"]
    wrong["text"] = wrong["_key"].map(texts)
    wrong = wrong.sort_values("unknown_rate", ascending=False, kind="mergesort", na_position="last")
    return wrong[["method", "seed", "id", "text", "gold", "pred", "unknown_rate"]].reset_index(drop=True)


def error_by_coverage(predictions: pd.DataFrame, method: str, bins=(0, 0.2, 0.4, 0.6, 0.8, 1.0),
                      seed=None) -> pd.DataFrame:
    """Error rate per bin of unknown-word rate, with counts: does the method fail where coverage is low?

    Bins are [lo, hi) except the last, which is [lo, hi]; rates outside the edges and missing rates
    (methods that do not read target words through the static vocabulary) are left out. Every seed's
    prediction counts as one observation unless `seed` is given. Columns: bin, lo, hi, n, errors,
    error_rate (NaN for an empty bin).
    """
    edges = np.asarray(bins, dtype=float)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"bins must be at least two increasing edges, got {bins}")
    sel = _select(predictions, method, seed)
    rate = sel["unknown_rate"].to_numpy(dtype=float)
    wrong = (sel["pred"].astype(str) != sel["gold"].astype(str)).to_numpy()
    ok = ~np.isnan(rate) & (rate >= edges[0]) & (rate <= edges[-1])
    which = np.clip(np.searchsorted(edges, rate[ok], side="right") - 1, 0, len(edges) - 2)
    n = np.bincount(which, minlength=len(edges) - 1)
    errors = np.bincount(which, weights=wrong[ok].astype(float), minlength=len(edges) - 1).astype(int)
    last = len(edges) - 2
    rows = [{"bin": f"[{lo:g}, {hi:g}{']' if i == last else ')'}", "lo": lo, "hi": hi, "n": int(n[i]),
             "errors": int(errors[i]), "error_rate": errors[i] / n[i] if n[i] else float("nan")}
            for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))]
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
