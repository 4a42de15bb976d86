"""Figure builders for the app: pure functions, data in, `plotly.graph_objects.Figure` out.

No Streamlit and no file access here; pages call these and hand the figure to `st.plotly_chart`.
Every figure has a title and axis titles, and hover texts name the words or methods behind a mark.
Methods keep one colour across figures (`method_color`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from mosecrot_viz.experiment.config import ALL_METHODS, FINE_TUNED_RR
from mosecrot_viz.records import AnchorReport, as_results

RR_COLOR = "#1f77b4"
BASELINE_COLOR = "#9e9e9e"
KEPT_COLOR = "#2ca02c"
DROPPED_COLOR = "#d62728"
SOURCE_COLOR = "#1f77b4"
TARGET_COLOR = "#ff7f0e"
PAIR_LINE_COLOR = "rgba(120,120,120,0.35)"
LEVEL_COLOR = "#4c78a8"  # a level (the ceiling, the result), never a method's or a loss's colour
# one distinct colour for every method the app knows (the 10-colour Plotly palette made ls and majority share one)
_PALETTE = list(dict.fromkeys(qualitative.Plotly + qualitative.D3 + qualitative.Dark24))
_KNOWN = {m: _PALETTE[i] for i, m in enumerate(ALL_METHODS)}
# a categorical colour's classes (value 0, 1, ...): a miss is red, a hit green, further classes the qualitative palette
CATEGORY_COLORS = (DROPPED_COLOR, KEPT_COLOR, *qualitative.Safe)
# with a colour bar at the right, the legend goes below the plot so neither covers the other
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0}
# Above this many points, scatter traces use WebGL.
WEBGL_THRESHOLD = 2000


def is_rr(method: str) -> bool:
    """True for relative-representation methods (ours), False for baselines."""
    return method in FINE_TUNED_RR or method.startswith("rr")


def method_color(method: str) -> str:
    """A fixed colour per known method; others get a stable palette colour from their name."""
    if method in _KNOWN:
        return _KNOWN[method]
    return _PALETTE[sum(map(ord, method)) % len(_PALETTE)]


def figure_html(fig: go.Figure) -> str:
    """The figure as one self-contained HTML page: plotly.js embedded, so it opens offline (a classroom)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[{"text": message, "showarrow": False, "xref": "paper", "yref": "paper",
                                    "x": 0.5, "y": 0.5}])
    return fig


def _need_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing} (have {list(df.columns)})")


def _scatter(n: int):
    return go.Scattergl if n > WEBGL_THRESHOLD else go.Scatter


# --------------------------------------------------------------------------------------------- results


def results_bar(results) -> go.Figure:
    """Macro-F1 per method (best first) with ±std error bars; RR methods and baselines in two colours.

    Two traces, "relative representations" then "baselines", share one x axis ordered by macro-F1.
    """
    methods = as_results(results).methods
    title = "Zero-shot macro-F1 on the target test set"
    if not methods:
        return _empty(title, "no methods in these results")
    order = sorted(methods, key=lambda m: (-methods[m].macro_f1, m))
    fig = go.Figure()
    for name, group, color in (("relative representations", True, RR_COLOR), ("baselines", False, BASELINE_COLOR)):
        ms = [m for m in order if is_rr(m) == group]
        f1 = [methods[m].macro_f1 for m in ms]
        std = [methods[m].macro_f1_std or 0.0 for m in ms]
        acc = [methods[m].accuracy for m in ms]
        hover = [f"{m}<br>macro-F1 {methods[m].macro_f1:.3f} ± {s:.3f}<br>accuracy "
                 f"{a if a is not None else float('nan'):.3f}<br>seeds {methods[m].seeds or 1}"
                 for m, s, a in zip(ms, std, acc)]
        fig.add_trace(go.Bar(x=ms, y=f1, name=name, marker_color=color, error_y={"type": "data", "array": std},
                             hovertext=hover, hoverinfo="text"))
    fig.update_layout(title=title, barmode="overlay", xaxis_title="method", yaxis_title="macro-F1",
                      xaxis={"categoryorder": "array", "categoryarray": order}, yaxis_range=[0, 1])
    return fig


def per_class_frame(results, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Long frame (method, label, precision, recall, f1, support) from a run's results, for `per_class_f1`."""
    res = as_results(results)
    rows = []
    for m in methods or list(res.methods):
        for label, scores in res.methods[m].per_class.items():
            rows.append({"method": m, "label": label, **scores})
    return pd.DataFrame(rows, columns=["method", "label", "precision", "recall", "f1", "support"])


def per_class_f1(per_class_df: pd.DataFrame) -> go.Figure:
    """Grouped bars of per-class F1: x = label, one trace (colour) per method, in first-appearance order."""
    title = "F1 per class"
    _need_columns(per_class_df, ["method", "label", "f1"], "per_class_f1")
    if per_class_df.empty:
        return _empty(title, "no per-class scores")
    labels = list(dict.fromkeys(per_class_df["label"]))
    fig = go.Figure()
    for m, grp in per_class_df.groupby("method", sort=False):
        support = grp["support"].tolist() if "support" in grp else [None] * len(grp)
        hover = [f"{m}<br>{lab}: F1 {f:.3f}" + (f"<br>support {s:g}" if s is not None and s == s else "")
                 for lab, f, s in zip(grp["label"], grp["f1"], support)]
        fig.add_trace(go.Bar(x=grp["label"].tolist(), y=grp["f1"].tolist(), name=str(m),
                             marker_color=method_color(str(m)), hovertext=hover, hoverinfo="text"))
    fig.update_layout(title=title, barmode="group", xaxis_title="class", yaxis_title="F1", yaxis_range=[0, 1],
                      xaxis={"categoryorder": "array", "categoryarray": labels}, legend_title="method")
    return fig


def confusion_matrices(results, methods: Sequence[str], *, normalize: bool = False) -> go.Figure:
    """Side-by-side confusion heatmaps (rows = gold, columns = predicted), counts written in each cell.

    With `normalize`, colours show each gold row's share (recall per cell) while the text keeps counts.
    Confusions are summed over seeds, as `aggregate_seeds` stores them.
    """
    title = "Confusion matrices (rows: gold, columns: predicted)"
    methods = list(methods)
    if not methods:
        return _empty(title, "choose at least one method")
    res = as_results(results)
    unknown = [m for m in methods if m not in res.methods]
    if unknown:
        raise ValueError(f"methods {unknown} not in results; have {list(res.methods)}")
    fig = make_subplots(rows=1, cols=len(methods), subplot_titles=methods, shared_yaxes=True,
                        horizontal_spacing=0.04 if len(methods) > 1 else 0.0)
    for i, m in enumerate(methods, start=1):
        entry = res.methods[m]
        labels = [str(x) for x in (entry.labels or res.labels)]
        counts = np.asarray(entry.confusion, dtype=float)
        z = counts
        if normalize:
            rows = counts.sum(axis=1, keepdims=True)
            z = counts / np.where(rows > 0, rows, 1.0)
        fig.add_trace(go.Heatmap(
            z=z.tolist(), x=labels, y=labels, text=counts.astype(int).tolist(), texttemplate="%{text}",
            coloraxis="coloraxis", name=m,
            hovertemplate=f"{m}<br>gold %{{y}}<br>predicted %{{x}}<br>count %{{text}}<extra></extra>",
        ), row=1, col=i)
        fig.update_xaxes(title_text="predicted", row=1, col=i)
    fig.update_yaxes(title_text="gold", autorange="reversed", row=1, col=1)
    for i in range(2, len(methods) + 1):
        fig.update_yaxes(autorange="reversed", row=1, col=i)
    fig.update_layout(title=title, coloraxis={"colorscale": "Blues",
                                              "colorbar": {"title": "row share" if normalize else "count"}},
                      height=420)
    return fig


# --------------------------------------------------------------------------------------------- anchors


def anchor_drops(anchors_summary) -> go.Figure:
    """Horizontal bars: anchors kept, then lexicon pairs dropped by reason (largest first, reasons in words).

    anchors_summary: the run's `AnchorReport` (or `AnchorSet.summary()`'s dict).
    Two traces: "kept" (one bar) and "dropped" (one bar per reason, possibly none).
    """
    report = anchors_summary if isinstance(anchors_summary, AnchorReport) else AnchorReport.of(anchors_summary)
    kept = int(report.count)
    dropped = report.dropped_text()
    total = report.lexicon_pairs or (kept + sum(dropped.values()))
    reasons = sorted(dropped, key=lambda r: (-dropped[r], r))

    def share(n):
        return f"{n / total:.1%} of {total} lexicon pairs" if total else ""

    fig = go.Figure()
    fig.add_trace(go.Bar(x=[kept], y=["kept"], orientation="h", name="kept", marker_color=KEPT_COLOR,
                         hovertext=[f"kept: {kept} anchors<br>{share(kept)}"], hoverinfo="text"))
    fig.add_trace(go.Bar(x=[dropped[r] for r in reasons], y=[str(r) for r in reasons], orientation="h",
                         name="dropped", marker_color=DROPPED_COLOR,
                         hovertext=[f"dropped ({r}): {dropped[r]}<br>{share(dropped[r])}" for r in reasons],
                         hoverinfo="text"))
    fig.update_layout(title=f"Anchors: {kept} kept of {total} lexicon pairs", barmode="overlay",
                      xaxis_title="lexicon pairs", yaxis_title="",
                      yaxis={"categoryorder": "array", "categoryarray": ["kept"] + [str(r) for r in reasons],
                             "autorange": "reversed"})
    return fig


def pair_line_indices(n: int, max_lines: int) -> np.ndarray:
    """Which of `n` pairs get a joining line: all when n <= max_lines, else `max_lines` evenly spaced ones."""
    if max_lines <= 0 or n == 0:
        return np.zeros(0, dtype=int)
    if n <= max_lines:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_lines)).astype(int))


HIGHLIGHT_TRACE = "search"  # the trace anchor_space draws for searched (highlighted) words


def categorical_marker(values, categories: Sequence[str]) -> dict:
    """Marker colours for class indices `values` (n,) in 0..len(categories)-1: one flat colour per class and a colour
    bar with one labelled step per class (`categories[i]` names value i), not a continuous scale."""
    k = len(categories)
    if k < 1 or k > len(CATEGORY_COLORS):
        raise ValueError(f"1 to {len(CATEGORY_COLORS)} categories, got {k}")
    v = np.asarray(values, dtype=float)
    if v.size and (np.any(v < 0) or np.any(v > k - 1) or np.any(v != np.round(v))):
        raise ValueError(f"categorical colour values must be integers 0..{k - 1}")
    scale = []
    for i in range(k):  # a step function over [0, 1]: class i owns [i/k, (i+1)/k]
        scale += [[i / k, CATEGORY_COLORS[i]], [(i + 1) / k, CATEGORY_COLORS[i]]]
    return {"color": v.tolist(), "colorscale": scale, "cmin": -0.5, "cmax": k - 0.5,
            "colorbar": {"tickvals": list(range(k)), "ticktext": list(categories), "lenmode": "pixels",
                         "len": 40 * k + 40}}


def anchor_space(src_xy, tgt_xy, src_words: Sequence[str], tgt_words: Sequence[str], mode: str = "overlay",
                 max_lines: int = 300, *, color=None, color_title: str | None = None,
                 color_categories: Sequence[str] | None = None, extras: Sequence[dict] = (),
                 highlight: Sequence[dict] = ()) -> go.Figure:
    """Source and target anchors in 2-D (from `analysis.projection.joint_anchor_projection`).

    `mode="overlay"`: one plot, traces = [pair lines, source, target]; thin lines join translation
    pairs (all pairs up to `max_lines`, otherwise an evenly spaced, deterministic subset; drawn as one
    trace with `None` breaks). `mode="side-by-side"`: two subplots, traces = [source, target], no lines.
    Hover shows each word and its translation.

    color: one value per pair (e.g. the target word's frequency rank), drawn on both sides with a colour bar titled
    `color_title`, instead of one colour per side; the legend then goes below the plot (`LEGEND_BELOW`) so the
    colour bar never covers it. color_categories: when given, `color` holds class indices and each class gets one
    flat colour and a labelled step of the colour bar (`categorical_marker`; e.g. a BLI miss (0) or hit (1)), not
    the continuous Viridis scale. extras: searched words that are not anchors, dicts with x, y,
    side ("source"/"target"), word, partner; one trace per side, after the anchors. highlight: dicts with x, y, side,
    word: drawn last as the trace named `HIGHLIGHT_TRACE` (large stars, labelled).
    """
    if mode not in ("overlay", "side-by-side"):
        raise ValueError(f"mode must be 'overlay' or 'side-by-side', got {mode!r}")
    src = np.asarray(src_xy, dtype=float)
    tgt = np.asarray(tgt_xy, dtype=float)
    for name, xy, words in (("source", src, src_words), ("target", tgt, tgt_words)):
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"{name} coordinates must have shape (n, 2), got {xy.shape}")
        if len(words) != xy.shape[0]:
            raise ValueError(f"{len(words)} {name} words for {xy.shape[0]} {name} points")
    if src.shape[0] != tgt.shape[0]:
        raise ValueError(f"anchors are pairs: {src.shape[0]} source vs {tgt.shape[0]} target points")
    n = src.shape[0]
    src_words, tgt_words = [str(w) for w in src_words], [str(w) for w in tgt_words]
    scatter = _scatter(n)
    coloured = (categorical_marker(color, color_categories) if color_categories is not None
                else {"color": list(np.asarray(color, dtype=float)), "colorscale": "Viridis", "colorbar": {}}
                if color is not None else None)

    def marker(side_color, symbol="circle", bar=False):
        if coloured is None:
            return {"color": side_color, "size": 6}
        bar_spec = {**coloured["colorbar"], "title": {"text": color_title or ""}}
        return {**coloured, "size": 7, "symbol": symbol, "showscale": bar, "colorbar": bar_spec}

    src_trace = scatter(x=src[:, 0], y=src[:, 1], mode="markers", name="source (English)",
                        marker=marker(SOURCE_COLOR, bar=True), text=src_words,
                        customdata=tgt_words, hovertemplate="%{text} → %{customdata}<extra>source</extra>")
    tgt_trace = scatter(x=tgt[:, 0], y=tgt[:, 1], mode="markers", name="target",
                        marker=marker(TARGET_COLOR, "diamond"), text=tgt_words,
                        customdata=src_words, hovertemplate="%{text} → %{customdata}<extra>target</extra>")
    added = []
    for side, side_color in (("source", SOURCE_COLOR), ("target", TARGET_COLOR)):
        pts = [e for e in extras if e["side"] == side]
        if pts:
            added.append((side, go.Scatter(
                x=[e["x"] for e in pts], y=[e["y"] for e in pts], mode="markers", name=f"searched, not an anchor ({side})",
                marker={"color": side_color, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
                text=[e["word"] for e in pts], customdata=[e.get("partner") or "" for e in pts],
                hovertemplate="%{text} → %{customdata}<extra>" + side + "</extra>")))
    if highlight:
        added.append(("both", go.Scatter(
            x=[h["x"] for h in highlight], y=[h["y"] for h in highlight], mode="markers+text", name=HIGHLIGHT_TRACE,
            marker={"color": "crimson", "size": 16, "symbol": "star", "line": {"width": 1, "color": "black"}},
            text=[h["word"] for h in highlight], textposition="top center",
            customdata=[h["side"] for h in highlight], hovertemplate="%{text}<extra>%{customdata}</extra>")))
    title = f"Anchor space ({n} translation pairs)"
    if mode == "side-by-side":
        fig = make_subplots(rows=1, cols=2, subplot_titles=("source (English)", "target"))
        fig.add_trace(src_trace, row=1, col=1)
        fig.add_trace(tgt_trace, row=1, col=2)
        for side, trace in added:
            if side != "both":
                fig.add_trace(trace, row=1, col=1 if side == "source" else 2)
                continue
            for c, want in ((1, "source"), (2, "target")):  # each highlighted point on its own side's plot
                keep = [i for i, h in enumerate(highlight) if h["side"] == want]
                if keep:
                    fig.add_trace(go.Scatter(trace, x=[trace.x[i] for i in keep], y=[trace.y[i] for i in keep],
                                             text=[trace.text[i] for i in keep],
                                             customdata=[trace.customdata[i] for i in keep],
                                             showlegend=c == 1), row=1, col=c)
        for c in (1, 2):
            fig.update_xaxes(title_text="component 1", row=1, col=c)
            fig.update_yaxes(title_text="component 2", row=1, col=c)
        fig.update_layout(title=title, **({"legend": LEGEND_BELOW} if coloured else {}))
        return fig
    idx = pair_line_indices(n, max_lines)
    lx, ly = [], []
    for i in idx:
        lx += [src[i, 0], tgt[i, 0], None]
        ly += [src[i, 1], tgt[i, 1], None]
    fig = go.Figure()
    fig.add_trace(scatter(x=lx, y=ly, mode="lines", name=f"translation pairs ({len(idx)} of {n})",
                          line={"color": PAIR_LINE_COLOR, "width": 1}, hoverinfo="skip"))
    fig.add_trace(src_trace)
    fig.add_trace(tgt_trace)
    for _, trace in added:
        fig.add_trace(trace)
    fig.update_layout(title=title, xaxis_title="component 1", yaxis_title="component 2",
                      **({"legend": LEGEND_BELOW} if coloured else {}))
    return fig


def rr_heatmap(matrix, row_words: Sequence[str], anchor_words: Sequence[str], *, max_tick_labels: int = 60,
               value_name: str = "value") -> go.Figure:
    """Relative-representation heatmap: rows = chosen words, columns = anchors, z = `matrix` (rows × anchors).

    Axes are integer positions with the words as tick labels (so repeated anchor words stay separate
    columns); hover names both words. Signed values (cosines) use a diverging scale centred on 0,
    non-negative ones (weights) a sequential scale. Column tick labels are hidden beyond
    `max_tick_labels` anchors (hover still shows them).
    """
    z = np.asarray(matrix, dtype=float)
    if z.ndim != 2:
        raise ValueError(f"matrix must be 2-D (words × anchors), got shape {z.shape}")
    if z.shape != (len(row_words), len(anchor_words)):
        raise ValueError(f"matrix shape {z.shape} does not match {len(row_words)} words × {len(anchor_words)} anchors")
    rows, cols = [str(w) for w in row_words], [str(w) for w in anchor_words]
    custom = [[[r, c] for c in cols] for r in rows]
    signed = bool(np.nanmin(z) < 0) if z.size else False
    fig = go.Figure(go.Heatmap(
        z=z.tolist(), x=list(range(len(cols))), y=list(range(len(rows))), customdata=custom,
        colorscale="RdBu_r" if signed else "Viridis", zmid=0 if signed else None,
        colorbar={"title": value_name},
        hovertemplate="word %{customdata[0]}<br>anchor %{customdata[1]}<br>" + value_name + " %{z:.3f}<extra></extra>",
    ))
    show_cols = len(cols) <= max_tick_labels
    fig.update_layout(
        title=f"Relative representations ({len(rows)} words × {len(cols)} anchors)",
        xaxis={"title": "anchor", "tickmode": "array", "tickvals": list(range(len(cols))) if show_cols else [],
               "ticktext": cols if show_cols else [], "showticklabels": show_cols},
        yaxis={"title": "word", "tickmode": "array", "tickvals": list(range(len(rows))), "ticktext": rows,
               "autorange": "reversed"},
    )
    return fig


# --------------------------------------------------------------------------------------------- alignment


def cosine_hist(values_by_method: Mapping[str, np.ndarray], *, nbins: int = 40,
                title: str = "Cosine between mapped translation pairs",
                x_title: str = "cosine(mapped source, mapped target)", count_label: str = "translation pairs",
                ) -> go.Figure:
    """Overlaid histograms of cosines, one trace per method, shared bins; dashed line at each mean.

    The defaults describe translation pairs; a caller plotting something else (e.g. the drift cos(E_s, F_s) per
    token) passes its own title, axis and count label, so the figure says what it shows. Each legend entry
    gives the number of values and their mean.
    """
    clean = {m: np.asarray(v, dtype=float).ravel() for m, v in values_by_method.items()}
    clean = {m: v[np.isfinite(v)] for m, v in clean.items()}
    if not any(v.size for v in clean.values()):
        return _empty(title, "no cosine values")
    allv = np.concatenate([v for v in clean.values() if v.size])
    lo, hi = float(allv.min()), float(allv.max())
    size = (hi - lo) / nbins if hi > lo else 0.01
    fig = go.Figure()
    for m, v in clean.items():
        color = method_color(m)
        label = f"{m} (n={v.size:,}, mean {v.mean():.3f})" if v.size else f"{m} (n=0)"
        fig.add_trace(go.Histogram(x=v, name=label, marker_color=color, opacity=0.6,
                                   xbins={"start": lo, "end": hi + size, "size": size},
                                   hovertemplate=f"{m}<br>cosine %{{x}}<br>{count_label} %{{y}}<extra></extra>"))
        if v.size:
            fig.add_vline(x=float(v.mean()), line={"color": color, "dash": "dash", "width": 1})
    fig.update_layout(title=title, barmode="overlay", xaxis_title=x_title,
                      yaxis_title=f"{count_label} per bin", legend_title="method")
    return fig


def bli_bars(bli_by_method: Mapping[str, Mapping[str, Mapping[int, float]]]) -> go.Figure:
    """Bilingual lexicon induction precision: grouped bars, x = "<retrieval> P@k", one trace per method.

    Input: `{method: {retrieval: {k: precision}}}`, e.g. `{"rr-softmax": {"nn": {1: .2, 5: .4}}}`;
    `k` may be a string (after a JSON round trip). Categories keep retrieval first-appearance order, then k.
    """
    title = "Bilingual lexicon induction on held-out pairs"
    retrievals: list[str] = []
    ks: dict[str, set] = {}
    for scores in bli_by_method.values():
        for r, by_k in scores.items():
            if r not in ks:
                retrievals.append(r)
                ks[r] = set()
            ks[r].update(int(k) for k in by_k)
    cats = [f"{r} P@{k}" for r in retrievals for k in sorted(ks[r])]
    if not cats:
        return _empty(title, "no lexicon-induction scores")
    fig = go.Figure()
    for m, scores in bli_by_method.items():
        x, y = [], []
        for r, by_k in scores.items():
            for k, p in sorted(((int(k), p) for k, p in by_k.items())):
                x.append(f"{r} P@{k}")
                y.append(float(p))
        fig.add_trace(go.Bar(x=x, y=y, name=m, marker_color=method_color(m),
                             hovertemplate=f"{m}<br>%{{x}}: %{{y:.3f}}<extra></extra>"))
    fig.update_layout(title=title, barmode="group", xaxis_title="retrieval and cut-off", yaxis_title="precision",
                      yaxis_range=[0, 1], xaxis={"categoryorder": "array", "categoryarray": cats},
                      legend_title="method")
    return fig


# --------------------------------------------------------------------------------------------- errors, sweeps


def _ordered(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """Sort by `col` when it is numeric or an ordered categorical; keep the given order otherwise."""
    s = df[col]
    if pd.api.types.is_numeric_dtype(s) or (isinstance(s.dtype, pd.CategoricalDtype) and s.dtype.ordered):
        return df.sort_values(col, kind="stable")
    return df


def coverage_tick_labels(df: pd.DataFrame) -> tuple[list, list[str]]:
    """(the bins in plotting order, one x tick label per bin: the bin and its example count, "0.2 (n=31)").

    Every method is scored on the same test set, so a bin has one count; should methods ever disagree (a method
    with missing predictions), the label gives the range, "(n=28-31)". df: error_vs_coverage's frame."""
    bins, ns = [], {}
    for _, grp in df.groupby("method", sort=False):
        grp = _ordered(grp, "bin")
        for b, n in zip(grp["bin"], grp["n"]):
            key = str(b) if isinstance(b, pd.Interval) else b
            if key not in ns:
                bins.append(key)
            ns.setdefault(key, set()).add(int(n))
    if all(isinstance(b, (int, float, np.number)) for b in bins):
        bins = sorted(bins)
    labels = [f"{b} (n={min(ns[b])})" if len(ns[b]) == 1 else f"{b} (n={min(ns[b])}-{max(ns[b])})" for b in bins]
    return bins, labels


def error_vs_coverage(df: pd.DataFrame, *,
                      x_title: str = "share of the example's words without a static vector") -> go.Figure:
    """Error rate per bin of the unknown-word share, one lines+markers trace per method. A bin's example count (n)
    is the same for every method, so it is written once, in the bin's x tick label (`coverage_tick_labels`), not
    beside every marker (where several methods' labels covered each other); the hover repeats it."""
    title = "Error rate against the share of words without a vector"
    _need_columns(df, ["method", "bin", "error_rate", "n"], "error_vs_coverage")
    if df.empty:
        return _empty(title, "no predictions to bin")
    fig = go.Figure()
    for m, grp in df.groupby("method", sort=False):
        grp = _ordered(grp, "bin")
        x = [str(b) if isinstance(b, pd.Interval) else b for b in grp["bin"]]
        fig.add_trace(go.Scatter(x=x, y=grp["error_rate"].tolist(), mode="lines+markers", name=str(m),
                                 marker_color=method_color(str(m)), customdata=grp["n"].tolist(),
                                 hovertemplate=f"{m}<br>%{{x}}<br>error rate %{{y:.3f}}<br>n = %{{customdata}}"
                                               "<extra></extra>"))
    bins, labels = coverage_tick_labels(df)
    fig.update_layout(title=title, xaxis_title=f"{x_title} (n = test examples in the bin)", yaxis_title="error rate",
                      yaxis_range=[0, 1], legend_title="method",
                      xaxis={"tickmode": "array", "tickvals": bins, "ticktext": labels})
    return fig


def sweep_plot(df: pd.DataFrame, x: str, y: str = "macro_f1", color: str = "method",
               err: str | None = "macro_f1_std", *, title: str | None = None, log_x: bool = False) -> go.Figure:
    """Lines+markers of `y` against `x`, one trace per `color` group, sorted by `x`, ±`err` error bars.

    Error bars are omitted when `err` is None or not a column (e.g. sweeps run with one seed).
    """
    _need_columns(df, [x, y, color], "sweep_plot")
    title = title or f"{y} vs {x}"
    if df.empty:
        return _empty(title, "no sweep results")
    has_err = err is not None and err in df.columns
    fig = go.Figure()
    for g, grp in df.groupby(color, sort=False):
        grp = _ordered(grp, x)
        kw = {}
        if has_err:
            e = grp[err].fillna(0).tolist()
            kw = {"error_y": {"type": "data", "array": e}, "customdata": e}
        err_txt = " ± %{customdata:.3f}" if has_err else ""
        fig.add_trace(go.Scatter(x=grp[x].tolist(), y=grp[y].tolist(), mode="lines+markers", name=str(g),
                                 marker_color=method_color(str(g)),
                                 hovertemplate=f"{g}<br>{x} %{{x}}<br>{y} %{{y:.3f}}{err_txt}<extra></extra>", **kw))
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, legend_title=color)
    if log_x:
        fig.update_xaxes(type="log")
    return fig


def _wrap(label: str, width: int = 18) -> str:
    """A long axis label over several lines (<br>), so neighbouring bars' labels do not overlap."""
    words, lines = str(label).split(), [""]
    for w in words:
        if lines[-1] and len(lines[-1]) + 1 + len(w) > width:
            lines.append(w)
        else:
            lines[-1] = f"{lines[-1]} {w}".strip()
    return "<br>".join(lines)


def ladder_waterfall(ladder_table: pd.DataFrame, method: str, *, baselines: Mapping[str, float] | None = None,
                     show_std: bool = True) -> go.Figure:
    """The gap ladder as a waterfall: the English ceiling, each measured cost (down, or up when negative), the
    stitched result; baselines (e.g. the multilingual model) as horizontal lines.

    ladder_table: `analysis.ladder.ladder_table` rows (rung, macro_f1, std, change, change_std, link); only the rungs
    (not the bracketed references) become bars. `show_std`: write each change's seed spread (needs >= 2 seeds).
    Each bar is the signed change (negative: a loss), as the table and the reading print it.
    """
    _need_columns(ladder_table, ["rung", "macro_f1", "change", "link"], "ladder table")
    rungs = ladder_table[~ladder_table["link"].isin(("reference", "baseline"))].reset_index(drop=True)
    if rungs.empty:
        return _empty(f"Gap ladder: {method}", "this run measured no ladder")
    x, y, measure, text = [], [], [], []
    for i, r in rungs.iterrows():
        if i == 0:
            x.append(f"{_wrap(r['rung'])}<br>(ceiling)")
            y.append(r["macro_f1"])
            measure.append("absolute")
            text.append(f"{r['macro_f1']:.3f}")
            continue
        spread = f" ± {r['change_std']:.3f}" if show_std and pd.notna(r.get("change_std")) else ""
        x.append(_wrap(r["link"]))
        y.append(r["change"])
        measure.append("relative")
        text.append(f"{r['change']:+.3f}{spread}")
    last = rungs.iloc[-1]
    x.append(f"{_wrap(last['rung'])}<br>(result)")
    y.append(last["macro_f1"])
    measure.append("total")
    text.append(f"{last['macro_f1']:.3f}")
    fig = go.Figure(go.Waterfall(x=x, y=y, measure=measure, text=text, textposition="outside", cliponaxis=False,
                                 decreasing={"marker": {"color": DROPPED_COLOR}},
                                 increasing={"marker": {"color": KEPT_COLOR}},
                                 totals={"marker": {"color": LEVEL_COLOR}},
                                 connector={"line": {"color": PAIR_LINE_COLOR}},
                                 hovertemplate="%{x}: %{text}<extra></extra>"))
    for name, f1 in (baselines or {}).items():
        fig.add_hline(y=f1, line_dash="dash", line_color=method_color(name),
                      annotation_text=f"{name} {f1:.3f}", annotation_position="top right")
    top = max([float(rungs["macro_f1"].max())] + list((baselines or {}).values()))
    fig.update_layout(title=f"Gap ladder: {method} (macro-F1; each bar is one measured link)",
                      yaxis_title="macro-F1", xaxis_title="link of the stitching chain", showlegend=False,
                      yaxis_range=[0, min(1.05, top + 0.12)], margin={"t": 80, "b": 110},
                      xaxis={"automargin": True, "tickangle": 0})
    return fig


def ladder_per_class(per_class_df: pd.DataFrame, method: str) -> go.Figure:
    """Class x rung macro-F1 as a heatmap (rows: classes, the mapping's largest casualty first)."""
    cols = [c for c in per_class_df.columns if c != "change at the mapping"]
    if per_class_df.empty:
        return _empty(f"Per class: {method}", "no per-class ladder")
    z = per_class_df[cols].to_numpy(dtype=float)
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=list(per_class_df.index), zmin=0, zmax=1, colorscale="Blues",
                               text=np.round(z, 2), texttemplate="%{text}",
                               hovertemplate="class %{y}<br>%{x}: F1 %{z:.3f}<extra></extra>",
                               colorbar={"title": "F1"}))
    fig.update_layout(title=f"Per-class F1 along the ladder: {method} (mean over seeds)", xaxis_title="rung",
                      yaxis_title="class (most broken by the mapping first)", yaxis_autorange="reversed")
    return fig


def occlusion_words(words: Sequence[str], drops: Sequence[float | None], status: Sequence[str], *,
                    title: str) -> go.Figure:
    """One bar per word: the drop in the predicted class's probability when it is masked; colour = word status."""
    colors = {"anchor": KEPT_COLOR, "vector only": SOURCE_COLOR, "lexicon only": TARGET_COLOR, "no vector": DROPPED_COLOR}
    vals = [np.nan if d is None else d for d in drops]
    labels = [f"{i + 1}. {w}" for i, w in enumerate(words)]
    fig = go.Figure()
    for st in colors:
        idx = [i for i, s in enumerate(status) if s == st]
        if idx:
            fig.add_bar(x=[labels[i] for i in idx], y=[vals[i] for i in idx], name=st, marker_color=colors[st],
                        hovertemplate="%{x}: drop %{y:.3f}<extra>" + st + "</extra>")
    fig.update_layout(title=title, xaxis_title="word (in sentence order)", yaxis_title="drop in P(predicted class)",
                      xaxis={"categoryorder": "array", "categoryarray": labels}, legend_title="word status")
    return fig
