"""Anchors: lexicon pairs kept and dropped, the two anchor spaces in 2-D, relative representations of chosen words."""
import numpy as np
import streamlit as st

from mosecrot_viz import plots
from mosecrot_viz.analysis.anchor_words import default_heatmap_words
from mosecrot_viz.analysis.projection import joint_anchor_projection, pair_distance_control
from mosecrot_viz.core.relative import relative_representation
from mosecrot_viz.ui import cached
from mosecrot_viz.ui.components import run_picker, show_figure

st.title("Anchors")
run = run_picker("anchors")
if run is None:
    st.stop()
res, anchors = run.results(), run.anchors()
show_figure(plots.anchor_drops(res["anchors"]), "anchors_drops")
st.caption(f"{res['anchors']['count']:,} anchors from {res['anchors']['lexicon_pairs']:,} lexicon pairs "
           f"({res['anchors']['unique_english']:,} distinct English words), policy '{res['anchors']['policy']}'.")


@st.cache_data(show_spinner="projecting anchors")
def _projection(run_id: str, method: str, n: int, seed: int = 0):
    inputs, spaces = cached.spaces(run_id, run.config(), ())
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(spaces.anchors), size=min(n, len(spaces.anchors)), replace=False))
    a = spaces.anchors.subset(idx)
    src = spaces.e_s[a.source_ids]
    tgt = inputs.vectors.vectors[a.target_ids]
    sxy, txy = joint_anchor_projection(src, tgt, method)
    return sxy, txy, list(a.source_words), list(a.target_words), pair_distance_control(sxy, txy)


@st.fragment
def anchor_space():
    """Plot controls rerun only this fragment, never the pipeline."""
    c = st.columns(3)
    method = c[0].radio("projection", ["pca", "umap"], horizontal=True, key="anchors_proj",
                        help="PCA is instant; UMAP (cosine) shows neighbourhoods better and is cached after the first call")
    n = c[1].slider("anchors shown", 100, 3000, 800, step=100, key="anchors_n")
    mode = c[2].radio("layout", ["overlay", "side-by-side"], horizontal=True, key="anchors_mode")
    sxy, txy, sw, tw, control = _projection(run.run_id, method, n)
    show_figure(plots.anchor_space(sxy, txy, sw, tw, mode=mode), "anchors_space")
    st.caption("Each side is projected on its own, centred and scaled to the same size; the target layout is rotated "
               "onto the source layout (Procrustes on the anchor pairs), so lines join translation pairs. "
               f"Mean line length **{control['pairs']:.2f}**, against **{control['control']:.2f}** when the same "
               f"points are re-paired at random (ratio {control['ratio']:.2f}; 1.0 means the two spaces agree no "
               "more than chance, 0 means a perfect match).")


anchor_space()


@st.fragment
def heatmap():
    st.subheader("Relative representations")
    inputs, spaces = cached.spaces(run.run_id, run.config(), ())
    kv = inputs.vectors
    words = st.text_input("target words (comma-separated)", ", ".join(default_heatmap_words(anchors)),
                          key="anchors_words", help="default: the most frequent anchor words that are content words")
    chosen = [w.strip() for w in words.split(",") if w.strip()]
    known = [w for w in chosen if w in kv.key_to_index]
    if missing := sorted(set(chosen) - set(known)):
        st.warning(f"no vector for: {', '.join(missing)}")
    if known:
        n_cols = st.slider("anchors (columns)", 10, 200, 40, key="anchors_cols")
        r = relative_representation(kv[known], kv.vectors[spaces.anchors.target_ids])
        top = np.argsort(-r.max(axis=0))[:n_cols]
        names = [f"{spaces.anchors.target_words[i]}/{spaces.anchors.source_words[i]}" for i in top]
        show_figure(plots.rr_heatmap(r[:, top], known, names, value_name="cosine"), "anchors_heat")


heatmap()
