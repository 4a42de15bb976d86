"""Figure builders: right traces, titles and data values equal to the inputs (no browser)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from mosecrot_viz.analysis import plots

LABELS = ["health", "sports", "travel"]


def _method(f1, std, confusion):
    return {"macro_f1": f1, "macro_f1_std": std, "accuracy": f1 + 0.05, "per_seed": [f1 - std, f1 + std],
            "per_class": {lab: {"precision": 0.5, "recall": 0.4, "f1": f1 + i / 100, "support": 10}
                          for i, lab in enumerate(LABELS)},
            "confusion": confusion, "labels": LABELS}


@pytest.fixture
def results():
    return {
        "labels": LABELS,
        "methods": {
            "ls": _method(0.30, 0.02, [[5, 3, 2], [1, 8, 1], [0, 4, 6]]),
            "rr-softmax": _method(0.55, 0.04, [[7, 2, 1], [1, 9, 0], [2, 1, 7]]),
            "majority": _method(0.10, 0.0, [[10, 0, 0], [10, 0, 0], [10, 0, 0]]),
            "rr-standard": _method(0.45, 0.03, [[6, 2, 2], [2, 7, 1], [1, 2, 7]]),
        },
        "anchors": {"count": 120, "lexicon_pairs": 200, "dropped": {"not one token": 50, "no vector": 25,
                                                                     "duplicate target": 5}},
    }


def _title(fig):
    return fig.layout.title.text


def test_results_bar_heights_errors_sorting_and_colours(results):
    fig = plots.results_bar(results)
    assert isinstance(fig, go.Figure) and len(fig.data) == 2
    rr, base = fig.data
    assert rr.name == "relative representations" and base.name == "baselines"
    assert list(rr.x) == ["rr-softmax", "rr-standard"] and list(base.x) == ["ls", "majority"]
    for trace in fig.data:
        for m, h, e in zip(trace.x, trace.y, trace.error_y.array):
            assert h == results["methods"][m]["macro_f1"] and e == results["methods"][m]["macro_f1_std"]
    assert rr.marker.color != base.marker.color
    assert list(fig.layout.xaxis.categoryarray) == ["rr-softmax", "rr-standard", "ls", "majority"]
    assert "macro-F1" in _title(fig) and fig.layout.yaxis.title.text == "macro-F1"
    assert fig.layout.xaxis.title.text == "method"
    assert "rr-softmax" in rr.hovertext[0] and "0.550 ± 0.040" in rr.hovertext[0]


def test_results_bar_empty_gives_titled_message():
    fig = plots.results_bar({"methods": {}})
    assert len(fig.data) == 0 and _title(fig) and "no methods" in fig.layout.annotations[0].text


def test_per_class_f1_one_trace_per_method_with_input_values(results):
    df = plots.per_class_frame(results, ["rr-softmax", "ls"])
    assert list(df.columns[:3]) == ["method", "label", "precision"] and len(df) == 6
    fig = plots.per_class_f1(df[["method", "label", "f1"]])
    assert [t.name for t in fig.data] == ["rr-softmax", "ls"]
    for trace in fig.data:
        assert list(trace.x) == LABELS
        expected = [results["methods"][trace.name]["per_class"][lab]["f1"] for lab in LABELS]
        assert list(trace.y) == expected
    assert fig.layout.barmode == "group" and _title(fig) == "F1 per class"
    assert fig.layout.xaxis.title.text == "class" and fig.layout.yaxis.title.text == "F1"
    with pytest.raises(ValueError, match="f1"):
        plots.per_class_f1(df[["method", "label"]])


def test_confusion_matrices_z_equals_confusion_with_counts_annotated(results):
    fig = plots.confusion_matrices(results, ["rr-softmax", "ls"])
    assert len(fig.data) == 2
    assert [a.text for a in fig.layout.annotations] == ["rr-softmax", "ls"]  # subplot titles
    for trace, m in zip(fig.data, ["rr-softmax", "ls"]):
        assert isinstance(trace, go.Heatmap)
        np.testing.assert_array_equal(np.array(trace.z), results["methods"][m]["confusion"])
        np.testing.assert_array_equal(np.array(trace.text), results["methods"][m]["confusion"])
        assert trace.texttemplate == "%{text}"
        assert list(trace.x) == LABELS and list(trace.y) == LABELS
    assert fig.data[1].xaxis == "x2"  # side by side
    assert fig.layout.xaxis.title.text == "predicted" and fig.layout.yaxis.title.text == "gold"
    assert "Confusion" in _title(fig)


def test_confusion_matrices_normalised_rows_and_unknown_method(results):
    fig = plots.confusion_matrices(results, ["majority"], normalize=True)
    np.testing.assert_allclose(np.array(fig.data[0].z), [[1, 0, 0]] * 3)
    np.testing.assert_array_equal(np.array(fig.data[0].text), [[10, 0, 0]] * 3)  # text keeps counts
    with pytest.raises(ValueError, match="nope"):
        plots.confusion_matrices(results, ["nope"])


def test_anchor_drops_kept_and_reasons(results):
    fig = plots.anchor_drops(results["anchors"])
    assert len(fig.data) == 2
    kept, dropped = fig.data
    assert list(kept.y) == ["kept"] and list(kept.x) == [120] and kept.orientation == "h"
    assert list(dropped.y) == ["not one token", "no vector", "duplicate target"]  # largest first
    assert list(dropped.x) == [50, 25, 5]
    assert "120 kept of 200" in _title(fig) and fig.layout.xaxis.title.text == "lexicon pairs"
    assert "12.5% of 200" in dropped.hovertext[1]
    empty = plots.anchor_drops({"count": 3, "lexicon_pairs": 3, "dropped": {}})
    assert len(empty.data) == 2 and len(empty.data[1].x) == 0


def _segments(trace):
    """(x0, y0, x1, y1) per None-separated segment of a line trace."""
    xs, ys = list(trace.x), list(trace.y)
    return [(xs[i], ys[i], xs[i + 1], ys[i + 1]) for i in range(0, len(xs), 3)]


def test_anchor_space_overlay_lines_join_translation_pairs():
    rng = np.random.default_rng(0)
    src, tgt = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    sw, tw = ["cat", "dog", "house", "tree", "car"], ["gato", "perro", "casa", "árbol", "coche"]
    fig = plots.anchor_space(src, tgt, sw, tw)
    assert len(fig.data) == 3
    lines, s, t = fig.data
    assert lines.mode == "lines" and s.mode == t.mode == "markers"
    assert _segments(lines) == [(src[i, 0], src[i, 1], tgt[i, 0], tgt[i, 1]) for i in range(5)]
    assert list(lines.x[2::3]) == [None] * 5
    np.testing.assert_array_equal(s.x, src[:, 0])
    np.testing.assert_array_equal(t.y, tgt[:, 1])
    assert list(s.text) == sw and list(t.text) == tw and list(t.customdata) == sw  # hover: word -> translation
    assert "5 translation pairs" in _title(fig) and fig.layout.xaxis.title.text == "component 1"


def test_anchor_space_caps_lines_deterministically():
    n = 1000
    src = np.c_[np.arange(n), np.zeros(n)].astype(float)
    tgt = src + [0.0, 1.0]
    words = [f"w{i}" for i in range(n)]
    fig = plots.anchor_space(src, tgt, words, words, max_lines=300)
    segs = _segments(fig.data[0])
    assert len(segs) == 300
    assert all(x0 == x1 and y1 - y0 == 1.0 for x0, y0, x1, y1 in segs)  # every line joins a true pair
    assert segs[0][0] == 0 and segs[-1][0] == n - 1  # spread over the whole list
    assert segs == _segments(plots.anchor_space(src, tgt, words, words, max_lines=300).data[0])
    assert len(plots.anchor_space(src, tgt, words, words, max_lines=0).data[0].x) == 0


def test_anchor_space_side_by_side_and_validation():
    src, tgt = np.zeros((3, 2)), np.ones((3, 2))
    fig = plots.anchor_space(src, tgt, list("abc"), list("xyz"), mode="side-by-side")
    assert len(fig.data) == 2 and fig.data[1].xaxis == "x2"
    assert [a.text for a in fig.layout.annotations] == ["source (English)", "target"]
    with pytest.raises(ValueError, match="mode"):
        plots.anchor_space(src, tgt, list("abc"), list("xyz"), mode="3d")
    with pytest.raises(ValueError, match="2 source words"):
        plots.anchor_space(src, tgt, list("ab"), list("xyz"))


def test_rr_heatmap_z_and_word_labels_with_repeated_anchors():
    m = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
    fig = plots.rr_heatmap(m, ["gato", "perro"], ["cat", "dog", "cat"])
    assert len(fig.data) == 1
    hm = fig.data[0]
    np.testing.assert_array_equal(np.array(hm.z), m)
    assert list(hm.x) == [0, 1, 2]  # repeated anchor "cat" stays two columns
    assert list(fig.layout.xaxis.ticktext) == ["cat", "dog", "cat"]
    assert list(fig.layout.yaxis.ticktext) == ["gato", "perro"]
    assert list(hm.customdata[1][2]) == ["perro", "cat"]
    assert hm.zmid == 0  # signed values: diverging scale centred on 0
    assert fig.layout.xaxis.title.text == "anchor" and fig.layout.yaxis.title.text == "word"
    assert "2 words × 3 anchors" in _title(fig)
    with pytest.raises(ValueError, match="does not match"):
        plots.rr_heatmap(m, ["gato"], ["cat", "dog", "cat"])


def test_cosine_hist_one_histogram_per_method_with_shared_bins():
    vals = {"rr-softmax": np.array([0.1, 0.5, 0.9, np.nan]), "ls": np.array([0.0, 0.2])}
    fig = plots.cosine_hist(vals)
    assert [t.name for t in fig.data] == ["rr-softmax (n=3, mean 0.500)", "ls (n=2, mean 0.100)"]
    assert all(isinstance(t, go.Histogram) for t in fig.data)
    np.testing.assert_array_equal(fig.data[0].x, [0.1, 0.5, 0.9])  # NaN dropped
    np.testing.assert_array_equal(fig.data[1].x, [0.0, 0.2])
    assert fig.data[0].xbins.to_plotly_json() == fig.data[1].xbins.to_plotly_json()
    assert fig.layout.barmode == "overlay" and len(fig.layout.shapes) == 2  # a mean line per method
    assert fig.layout.shapes[0].x0 == pytest.approx(0.5)
    assert "Cosine" in _title(fig) and fig.layout.yaxis.title.text == "translation pairs per bin"


def test_bli_bars_grouped_values():
    bli = {"rr-softmax": {"nn": {1: 0.2, 5: 0.4}, "csls": {1: 0.25, 5: 0.45}},
           "ls": {"nn": {"5": 0.3, "1": 0.1}, "csls": {1: 0.15, 5: 0.35}}}
    fig = plots.bli_bars(bli)
    assert [t.name for t in fig.data] == ["rr-softmax", "ls"]
    cats = ["nn P@1", "nn P@5", "csls P@1", "csls P@5"]
    assert list(fig.data[0].x) == cats and list(fig.data[0].y) == [0.2, 0.4, 0.25, 0.45]
    assert list(fig.data[1].x) == cats and list(fig.data[1].y) == [0.1, 0.3, 0.15, 0.35]  # str keys sorted as ints
    assert fig.layout.barmode == "group" and fig.layout.yaxis.title.text == "precision"
    assert "lexicon induction" in _title(fig)


def test_error_vs_coverage_one_line_per_method():
    df = pd.DataFrame({"method": ["rr-softmax"] * 3 + ["ls"] * 3, "bin": [0.9, 0.5, 0.7] * 2,
                       "error_rate": [0.1, 0.5, 0.3, 0.2, 0.6, 0.4], "n": [30, 10, 20, 30, 10, 20]})
    fig = plots.error_vs_coverage(df)
    assert [t.name for t in fig.data] == ["rr-softmax", "ls"]
    assert list(fig.data[0].x) == [0.5, 0.7, 0.9] and list(fig.data[0].y) == [0.5, 0.3, 0.1]  # sorted by bin
    assert list(fig.data[1].customdata) == [10, 20, 30] and fig.data[1].mode == "lines+markers"
    assert fig.layout.yaxis.title.text == "error rate" and _title(fig)
    with pytest.raises(ValueError, match="n"):
        plots.error_vs_coverage(df.drop(columns="n"))


def test_sweep_plot_lines_with_error_bars():
    df = pd.DataFrame({"method": ["rr-softmax"] * 3 + ["rr-standard"] * 3, "top_k": [50, 10, 0] * 2,
                       "macro_f1": [0.5, 0.4, 0.3, 0.45, 0.35, 0.25], "macro_f1_std": [0.01, 0.02, 0.03] * 2})
    fig = plots.sweep_plot(df, "top_k")
    assert len(fig.data) == 2
    t = fig.data[0]
    assert list(t.x) == [0, 10, 50] and list(t.y) == [0.3, 0.4, 0.5] and list(t.error_y.array) == [0.03, 0.02, 0.01]
    assert fig.layout.xaxis.title.text == "top_k" and fig.layout.yaxis.title.text == "macro_f1"
    assert _title(fig) == "macro_f1 vs top_k"
    no_err = plots.sweep_plot(df.drop(columns="macro_f1_std"), "top_k", title="Top-k sweep")
    assert no_err.data[0].error_y.array is None and _title(no_err) == "Top-k sweep"


def test_anchor_space_uses_webgl_for_many_points():
    n = plots.WEBGL_THRESHOLD + 1
    xy = np.random.default_rng(0).normal(size=(n, 2))
    words = [str(i) for i in range(n)]
    fig = plots.anchor_space(xy, xy, words, words, max_lines=10)
    assert all(isinstance(t, go.Scattergl) for t in fig.data) and len(_segments(fig.data[0])) == 10
    fig.to_json()  # serialisable for st.plotly_chart


def test_every_known_method_has_its_own_colour():
    from mosecrot_viz.experiment.config import ALL_METHODS

    colours = [plots.method_color(m) for m in ALL_METHODS]
    assert len(set(colours)) == len(ALL_METHODS)
    assert plots.method_color("ls") != plots.method_color("majority")


def test_cosine_hist_says_what_it_shows_and_counts_each_series():
    fig = plots.cosine_hist({"rr-softmax": np.array([0.1, 0.5, 0.9])}, title="Drift: cos(E_s, F_s) per English token",
                            x_title="cosine between a token's original and re-initialised embedding",
                            count_label="English tokens")
    assert fig.layout.title.text == "Drift: cos(E_s, F_s) per English token"
    assert fig.layout.yaxis.title.text == "English tokens per bin" and "re-initialised" in fig.layout.xaxis.title.text
    assert fig.data[0].name == "rr-softmax (n=3, mean 0.500)"


def test_error_vs_coverage_writes_each_bins_count_once_in_its_tick_label():
    """Several methods share a bin's n (one test set): it is in the x tick label, not a text label per marker
    (those covered each other, issue 26); the hover keeps it."""
    df = pd.DataFrame({"method": ["ls", "ls", "rr-softmax", "rr-softmax"], "bin": ["0-10%", "10-20%"] * 2,
                       "error_rate": [0.2, 0.4, 0.21, 0.41], "n": [7, 3, 7, 3]})
    fig = plots.error_vs_coverage(df)
    assert all(t.text is None and "text" not in t.mode for t in fig.data)  # no per-marker labels to overlap
    assert list(fig.layout.xaxis.tickvals) == ["0-10%", "10-20%"]
    assert list(fig.layout.xaxis.ticktext) == ["0-10% (n=7)", "10-20% (n=3)"]
    assert all("n = %{customdata}" in t.hovertemplate for t in fig.data) and list(fig.data[1].customdata) == [7, 3]
    assert "without a" in fig.layout.xaxis.title.text and "without a vector" in fig.layout.title.text
    numeric = pd.DataFrame({"method": ["ls", "ls", "lr"], "bin": [0.4, 0.2, 0.2], "error_rate": [0.1, 0.2, 0.3],
                            "n": [5, 9, 8]})
    assert plots.coverage_tick_labels(numeric) == ([0.2, 0.4], ["0.2 (n=8-9)", "0.4 (n=5)"])  # counts that differ


def test_anchor_space_colour_bar_and_legend_do_not_overlap():
    """With a colour bar (at the right, x = 1.02) the legend goes below the plot, in both layouts (issue 26)."""
    xy = np.random.default_rng(0).normal(size=(6, 2))
    words = list("abcdef")
    for mode in ("overlay", "side-by-side"):
        fig = plots.anchor_space(xy, xy, words, words, mode=mode, color=np.arange(6), color_title="frequency rank")
        bar = next(t.marker for t in fig.data if t.marker.showscale)
        assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0 and fig.layout.legend.yanchor == "top"
        assert bar.colorbar.y is None or bar.colorbar.y >= 0  # the bar stays beside the plot, above y = 0
    plain = plots.anchor_space(xy, xy, words, words)
    assert plain.layout.legend.orientation is None  # no colour bar: the legend keeps its place at the right


def test_anchor_space_draws_a_categorical_colour_as_labelled_classes():
    """A BLI hit (0/1) gets two flat colours and a two-step colour bar labelled miss / hit, not Viridis 0..1."""
    from mosecrot_viz.analysis import anchor_search

    xy = np.random.default_rng(0).normal(size=(4, 2))
    c = anchor_search.colour_values(f"{anchor_search.BLI_HIT}: ls", [0, 1, 2, 3], [1] * 4,
                                    bli_hits={"ls": [True, False, True, True]})
    assert c.categories == ("BLI miss", "BLI hit") and c.values.tolist() == [1, 0, 1, 1]
    fig = plots.anchor_space(xy, xy, list("abcd"), list("wxyz"), color=c.values, color_title=c.title,
                             color_categories=c.categories)
    src = fig.data[1].marker
    assert list(src.colorbar.tickvals) == [0, 1] and list(src.colorbar.ticktext) == ["BLI miss", "BLI hit"]
    assert {col for _, col in src.colorscale} == {plots.DROPPED_COLOR, plots.KEPT_COLOR}  # two colours, no ramp
    assert (src.cmin, src.cmax) == (-0.5, 1.5) and src.colorbar.title.text == "BLI, ls"
    assert anchor_search.colour_values("frequency rank", [3, 1], [1, 1]).categories is None  # a quantity stays continuous
    with pytest.raises(ValueError, match="integers"):
        plots.categorical_marker([0, 0.5], ("a", "b"))


def test_exported_html_embeds_plotly_and_needs_no_network():
    html = plots.figure_html(go.Figure(go.Bar(x=["a"], y=[1])))
    assert 'src="https://cdn.plot.ly' not in html and '<script src="http' not in html  # no script fetched
    assert len(html) > 1_000_000  # plotly.js itself is inside
