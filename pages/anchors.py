"""Anchors: lexicon pairs kept and dropped, the two anchor spaces in 2-D, relative representations of chosen words."""
import pandas as pd
import streamlit as st

from mosecrot_viz.analysis import anchor_search as search_words
from mosecrot_viz.analysis import plots
from mosecrot_viz.analysis.anchor_words import default_heatmap_words
from mosecrot_viz.analysis.registry import DEFAULT_ANCHOR_VIEW, DEFAULT_HEATMAP_COLUMNS
from mosecrot_viz.experiment.config import MAPPED_METHODS
from mosecrot_viz.ui import cached
from mosecrot_viz.ui.components import run_picker, show_figure
from mosecrot_viz.ui.entry import require_app

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)

st.title("Anchors")
run = run_picker("anchors")
if run is None:
    st.stop()
res, anchors = run.record(), run.anchors()
MAPPERS = tuple(m for m in res.methods if m in MAPPED_METHODS)
show_figure(plots.anchor_drops(res.anchors), "anchors_drops")
st.caption(f"{res.anchors.count:,} anchors from {res.anchors.lexicon_pairs or 0:,} lexicon pairs "
           f"({res.anchors.unique_english or 0:,} distinct English words), policy '{res.anchors.policy}'.")


def _neighbours(side: str, word: str) -> None:
    t = cached.analysis(run, "neighbours", side=side, word=word)
    st.markdown(f"**Neighbours of {side} word `{word}`** (cosine in each language's own space; gloss = first lexicon "
                "translation)")
    left, right = st.columns(2)
    left.caption(f"target space (E_t), around `{t.target_word or '—'}`")
    left.dataframe(pd.DataFrame(t.target, columns=["word", "cosine", "gloss"]), hide_index=True)
    right.caption(f"English space (E_s), around `{t.source_word or '—'}`")
    right.dataframe(pd.DataFrame(t.source, columns=["word", "cosine", "gloss"]), hide_index=True)


@st.fragment
def anchor_space():
    """Plot controls rerun only this fragment, never the pipeline."""
    c = st.columns(3)
    method = c[0].radio("projection", ["pca", "umap"], horizontal=True, key="anchors_proj",
                        help="PCA is instant; UMAP (cosine) shows neighbourhoods better and is cached after the first call")
    n = c[1].slider("anchors shown", 100, 3000, DEFAULT_ANCHOR_VIEW["n"], step=100, key="anchors_n")
    mode = c[2].radio("layout", ["overlay", "side-by-side"], horizontal=True, key="anchors_mode")
    c = st.columns([2, 1])
    search = c[0].text_input("find a word (English or target; added to the plot when outside the sample)",
                             key="anchors_search")
    colour = c[1].selectbox("colour points by", search_words.colour_options(MAPPERS, MAPPERS), key="anchors_colour",
                            help="frequency rank: the target word's row in the vectors file (0 = most frequent); "
                                 "BLI hit: the mapped target word's nearest English token translates it; "
                                 "misclassified: how many test sentences the method got wrong contain the word")
    settings = dict(method=method, n=n, search=search.strip(), seed=DEFAULT_ANCHOR_VIEW["seed"])
    view = cached.analysis(run, "anchor_view", **settings)
    if search.strip() and not view.matches:
        st.warning(f"{search.strip()!r} is neither a target word with a vector nor a token of the English model")
    hits = (cached.analysis(run, "anchor_bli_hits", **settings).hits
            if colour.startswith(search_words.BLI_HIT) else None)
    counts = (cached.analysis(run, "misclassified_words").counts
              if colour.startswith(search_words.MISCLASSIFIED) else None)
    values = search_words.colour_values(colour, view.target_rows, [1] * len(view.target_rows), bli_hits=hits,
                                        misclassified_counts=counts, target_words=view.target_words)
    fig = plots.anchor_space(view.sxy, view.txy, view.source_words, view.target_words, mode=mode,
                             extras=view.extras, highlight=view.highlight,
                             color=values.values if values else None, color_title=values.title if values else None,
                             color_categories=values.categories if values else None)
    event = st.plotly_chart(fig, key="anchors_space", on_select="rerun", selection_mode="points")
    st.download_button("figure as HTML", lambda: plots.figure_html(fig), "anchors_space.html", "text/html",
                       key="anchors_space_html", help="a self-contained file that opens without a network")
    st.caption("Each side is projected on its own, centred and scaled to the same size; the target layout is rotated "
               "onto the source layout (Procrustes on the anchor pairs), so lines join translation pairs. "
               f"Mean line length **{view.control['pairs']:.2f}**, against **{view.control['control']:.2f}** when the "
               f"same points are re-paired at random (ratio {view.control['ratio']:.2f}; 1.0 means the two spaces agree no "
               "more than chance, 0 means a perfect match). Click a point for its neighbours; open circles are "
               "searched words that are not anchors.")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    picked = next((p for p in (search_words.word_at(fig, pt) for pt in points) if p), None)
    if picked is None and view.matches:
        picked = (view.matches[0]["side"], view.matches[0]["word"])
    if picked:
        _neighbours(*picked)
anchor_space()


@st.fragment
def export_spaces():
    """The mapped spaces as files, built only when a button is clicked."""
    from mosecrot_viz.experiment.config import MAPPED_METHODS
    from mosecrot_viz.store.export import export_zip

    methods = [m for m in res.methods if m in MAPPED_METHODS]
    if not methods:
        return
    st.subheader("Export the mapped spaces")
    c = st.columns([2, 1, 1])
    m = c[0].selectbox("mapping", methods, key="anchors_export_method")

    def build(what):
        inputs, spaces = cached.spaces(run.run_id, run.config(), (m,))
        return export_zip(run.path, what, m, inputs=inputs, spaces=spaces)

    c[1].download_button("Embedding Projector (zip)", lambda: build("projector"), f"{run.run_id}-{m}-projector.zip",
                         "application/zip", key="anchors_export_projector",
                         help="vectors.tsv + metadata.tsv (word, language, anchor, translation): load both at "
                              "projector.tensorflow.org")
    c[2].download_button("word2vec text (zip)", lambda: build("vectors"), f"{run.run_id}-{m}-vectors.zip",
                         "application/zip", key="anchors_export_vectors",
                         help="source.vec (F_s) and target.vec (F_t), the shared space of this mapping")
    st.caption("F_s (English tokens) and F_t (target words) of one mapping live in the PLM's input space, so the "
               "Projector shows both languages together. CLI: `python -m mosecrot_viz export RUN_DIR --what projector`.")


export_spaces()


@st.fragment
def heatmap():
    st.subheader("Relative representations")
    words = st.text_input("target words (comma-separated)", ", ".join(default_heatmap_words(anchors)),
                          key="anchors_words", help="default: the most frequent anchor words that are content words")
    chosen = list(dict.fromkeys(w.strip() for w in words.split(",") if w.strip()))
    n_cols = st.slider("anchors (columns)", 10, 200, DEFAULT_HEATMAP_COLUMNS, key="anchors_cols")
    h = cached.analysis(run, "heatmap", words=tuple(chosen), columns=n_cols) if chosen else None
    if h and h.missing:
        st.warning(f"no vector for: {', '.join(h.missing)}")
    if h and h.words:
        show_figure(plots.rr_heatmap(h.matrix, h.words, h.anchors, value_name="cosine"), "anchors_heat")


heatmap()
