"""Each fine-tune of a run as one row: epochs trained, the epoch kept, its speed and how close to the machine's
matmul rate it ran (MFU), read from results.json's `histories` (written by `core.training.fine_tune`)."""
from __future__ import annotations

import pandas as pd

from mosecrot_viz.records import as_results

COLUMNS = ["fine-tune", "seed", "train seconds", "examples/s", "MFU", "epochs trained", "best epoch",
           "best English dev F1", "stopped early", "reused from the model cache"]  # speed first: visible unscrolled


def fine_tune_table(results) -> pd.DataFrame:
    """One row per (fine-tune label, seed), in the run's seed order. Speed columns are empty for a fine-tune
    this run reused from the model cache (its times are another run's); MFU is achieved matmul FLOP/s over the
    rate measured by the process that trained it."""
    res = as_results(results)
    seeds = list(res.config.get("seeds") or [])
    rows = []
    for label, hists in res.histories.items():
        for i, h in enumerate(hists):
            epochs = h.get("epochs") or []
            reused = bool(h.get("reused_from_cache"))
            timed = [] if reused else [e for e in epochs if e.get("train_seconds") is not None]
            secs = [e["train_seconds"] for e in timed]
            n_ex = [e["examples_per_s"] * e["train_seconds"] for e in timed if e.get("examples_per_s") is not None]
            flops = [e["achieved_gflops"] * e["train_seconds"] for e in timed if e.get("achieved_gflops") is not None]
            rate = h.get("matmul_gflops")
            total = sum(secs)
            rows.append({
                "fine-tune": label, "seed": seeds[i] if i < len(seeds) else i + 1, "reused from the model cache": reused,
                "epochs trained": len(epochs),
                "best epoch": h.get("best_epoch") or _best_epoch(epochs),
                "best English dev F1": h.get("best_dev_macro_f1"), "stopped early": bool(h.get("stopped_early")),
                "train seconds": round(total, 1) if secs else None,
                "examples/s": round(sum(n_ex) / total, 1) if n_ex and total else None,
                "MFU": sum(flops) / total / rate if flops and total and rate else None})
    return pd.DataFrame(rows, columns=COLUMNS)


def _best_epoch(epochs: list) -> int | None:
    if not epochs:
        return None
    return max(epochs, key=lambda e: e.get("dev_macro_f1", -1))["epoch"]
