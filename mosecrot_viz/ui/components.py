"""Render helpers used by several pages (no math here: everything comes from the package)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ..io import resources


def provenance_table() -> pd.DataFrame:
    """The embedded defaults with package, licence and provenance, as the README lists them."""
    rows = resources.describe()
    for r in rows:
        built = resources.cache_path_if_built(r["key"])
        r["cached"] = "yes" if built else "no"
    return pd.DataFrame(rows)[["key", "description", "package", "licence", "provenance", "note", "cached"]]


def results_table(results: dict) -> pd.DataFrame:
    """Macro-F1 ± std per method from a results.json dict."""
    rows = [{"method": m, "macro-F1": v["macro_f1"], "± std": v["macro_f1_std"], "accuracy": v["accuracy"],
             "English F1": v.get("english_macro_f1"), "seconds": v.get("wall_seconds")}
            for m, v in results["methods"].items()]
    return pd.DataFrame(rows).sort_values("macro-F1", ascending=False)


def run_with_status(cfg, key: str = "run"):
    """Run an experiment with a live `st.status` and progress bar; returns the RunOutput or None on bad input."""
    from ..errors import InputError
    from ..pipeline import run_experiment

    bar = st.progress(0.0, text="starting")
    with st.status("Running the stitching pipeline", expanded=True) as status:
        def update(message: str, fraction: float) -> None:
            bar.progress(fraction, text=message)

        try:
            out = run_experiment(cfg, progress=update)
        except InputError as exc:
            status.update(label="Stopped: bad input", state="error")
            st.error(str(exc))
            return None
        status.update(label=f"Done in {out.results['wall_seconds']:.0f} s on {out.results['device']}", state="complete")
    return out
