"""Where the unseen-script curves cross: static-vector methods against the PLMs that read target text.

Input: a long frame of a sweep over `script_shift` (columns: the share, `method`, `macro_f1`; one row per trial, or
per trial and seed: rows of one share and method are averaged), as `store.sweeps.sweep_frame` gives for a grid with a
`script_shift` axis (the share then is the column `script_shift`; a one-parameter sweep calls it `value`).
`crossover` finds the share where a method first reaches a reference (`mplm` by default), by linear interpolation
between the two swept shares around the change of sign; `crossover_figure` draws both curves and marks the crossing.
`is_share_sweep` tells Compare when a sweep is one over the share; `crossover_table` is the table it shows.
Pure: no files, no Streamlit (Compare calls these with the frame it already reads).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mosecrot_viz.analysis.plots import method_color

READERS = ("mplm", "source")  # the methods that read the target text with a PLM's own tokenizer
SIMULATION_NOTE = (
    "A simulation, not a real language: the swept share of the target alphabet is renamed, one to one, into a block "
    "of code points neither tokenizer knows, in the vectors' words, the lexicon and the target text alike. The "
    "multilingual model (mplm) and the English model reading target text (source) then meet what looks like an "
    "unseen script, as they would for a language they were never trained on; static-vector stitching looks words up "
    "by their vectors and does not notice (its predictions are the same at every share). Where the curves cross is "
    "where stitching would start to pay for a language in a script the multilingual model never saw.")


def share_column(frame: pd.DataFrame) -> str:
    """The column holding the share: `script_shift` (a grid axis) or `value` (a one-parameter sweep)."""
    for col in ("script_shift", "value"):
        if col in frame.columns:
            return col
    raise ValueError(f"no share column (script_shift or value) among {list(frame.columns)}")


def curves(frame: pd.DataFrame) -> pd.DataFrame:
    """share x method table of mean macro-F1, shares ascending (a missing share/method pair stays NaN)."""
    col = share_column(frame)
    data = frame.assign(**{col: pd.to_numeric(frame[col], errors="raise")})
    return data.pivot_table(index=col, columns="method", values="macro_f1", aggfunc="mean").sort_index()


def crossover(frame: pd.DataFrame, method: str, reference: str = "mplm") -> float | None:
    """The smallest share at which `method`'s macro-F1 reaches `reference`'s, linearly interpolated between the two
    swept shares that bracket it; the first share when it is ahead from the start; None when it never reaches it
    on the swept shares (or either curve is missing)."""
    table = curves(frame)
    if method not in table or reference not in table:
        return None
    gap = (table[method] - table[reference]).dropna()
    if gap.empty:
        return None
    shares, diff = gap.index.to_numpy(dtype=float), gap.to_numpy(dtype=float)
    if diff[0] >= 0:
        return float(shares[0])
    for i in range(1, len(diff)):
        if diff[i] >= 0:
            lo, hi = shares[i - 1], shares[i]
            return float(lo + (hi - lo) * (-diff[i - 1]) / (diff[i] - diff[i - 1]))
    return None


def crossover_rows(frame: pd.DataFrame, methods=None, references=READERS) -> list[dict]:
    """One row per (static method, reader): the crossing share or None, and both F1s at share 0 and at the largest."""
    table = curves(frame)
    methods = [m for m in (methods or table.columns) if m not in READERS and m in table]
    rows = []
    for m in methods:
        for ref in (r for r in references if r in table):
            pair = table[[m, ref]].dropna()
            if pair.empty:
                continue
            first, last = pair.iloc[0], pair.iloc[-1]
            rows.append({"method": m, "reference": ref, "crossover": crossover(frame, m, ref),
                         "f1_first": float(first[m]), "reference_first": float(first[ref]),
                         "f1_last": float(last[m]), "reference_last": float(last[ref]),
                         "first_share": float(pair.index[0]), "last_share": float(pair.index[-1])})
    return rows


def crossover_figure(frame: pd.DataFrame, methods=None, references=READERS) -> go.Figure:
    """Macro-F1 against the renamed share: one line per method (dashed for the PLM readers), a marker where each
    static method first reaches `mplm`."""
    table = curves(frame)
    shown = [m for m in (methods or table.columns) if m in table]
    fig = go.Figure()
    for m in shown:
        reader = m in READERS
        fig.add_trace(go.Scatter(x=table.index, y=table[m], mode="lines+markers", name=m,
                                 line={"color": method_color(m), "dash": "dash" if reader else "solid"},
                                 hovertemplate=f"{m}<br>share %{{x:.2f}}<br>macro-F1 %{{y:.3f}}<extra></extra>"))
    for row in crossover_rows(frame, shown, references=("mplm",)):
        x = row["crossover"]
        if x is None:
            continue
        gap = curves(frame)[[row["method"], "mplm"]].dropna()
        y = float(np.interp(x, gap.index.to_numpy(dtype=float), gap[row["method"]].to_numpy(dtype=float)))
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", showlegend=False,
                                 marker={"symbol": "x", "size": 12, "color": method_color(row["method"])},
                                 hovertemplate=f"{row['method']} reaches mplm at share {x:.2f}<extra></extra>"))
    fig.update_layout(title="Unseen-script simulation: macro-F1 as a share of the alphabet is renamed",
                      xaxis_title="share of the target alphabet renamed into unseen scripts",
                      yaxis_title="macro-F1 (target test)", yaxis={"range": [0, 1]})
    return fig


def is_share_sweep(frame: pd.DataFrame, axes=()) -> bool:
    """Whether a sweep's frame (`store.sweeps.sweep_frame`) is over the script-shift share: a one-parameter sweep
    of `script_shift`, or a grid whose only axis (besides seeds, `axes`) is `script_shift`."""
    if list(axes) == ["script_shift"]:
        return True
    return not axes and "param" in frame.columns and set(frame["param"]) == {"script_shift"}


def crossover_table(frame: pd.DataFrame) -> pd.DataFrame:
    """`crossover_rows` as the table Compare shows: per static method and reader, the share where it catches up
    ("not on the swept shares" when it never does) and both macro-F1s at the smallest and largest share."""
    rows = crossover_rows(frame)
    out = pd.DataFrame([{
        "method": r["method"], "against": r["reference"],
        "catches up at share": "not on the swept shares" if r["crossover"] is None else f"{r['crossover']:.2f}",
        f"F1 at {r['first_share']:g}": round(r["f1_first"], 3), f"{r['reference']} at {r['first_share']:g}":
        round(r["reference_first"], 3), f"F1 at {r['last_share']:g}": round(r["f1_last"], 3),
        f"{r['reference']} at {r['last_share']:g}": round(r["reference_last"], 3)} for r in rows])
    return out
