"""Alignment: BLI precision@k on held-out lexicon pairs, translation-pair cosines, neighbours, drift of F_s."""
import pandas as pd
import streamlit as st

from mosecrot_viz.analysis import plots
from mosecrot_viz.analysis.registry import DEFAULT_HELD_OUT, computed_with_run
from mosecrot_viz.experiment.config import MAPPED_METHODS
from mosecrot_viz.ui import cached
from mosecrot_viz.ui.components import run_picker, show_figure
from mosecrot_viz.ui.entry import require_app

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)

st.title("Alignment")
run = run_picker("alignment")
if run is None:
    st.stop()
res = run.record()
mappers = tuple(m for m in res.methods if m in MAPPED_METHODS)
if not mappers:
    st.info(f"This run has no mapping method ({', '.join(MAPPED_METHODS)}): nothing to align.")
    st.stop()

n_test = st.select_slider("held-out anchors", [200, 500, 1000, 2000], DEFAULT_HELD_OUT, key="alignment_n")
held_out = cached.analysis(run, "holdout_bli", n_test=n_test)
bli = held_out.precision
st.subheader("Bilingual lexicon induction on held-out anchors (target word → English token)")
st.caption(f"{held_out.n_test} anchors held out; each mapper refitted on the other {held_out.n_train:,}. A hit is "
           "any whole-token English translation of the target word in the lexicon, among every whole-word token of the "
           "model. CSLS corrects for hubs." + (" (computed with the run)" if computed_with_run(run, "holdout_bli", n_test=n_test) else ""))
show_figure(plots.bli_bars(bli), "alignment_bli")
st.dataframe(pd.DataFrame({m: {f"{k} P@{p}": v for k, d in bli[m].items() for p, v in d.items()} for m in bli}).T)

if res.bli_test:  # issue 18: the run's separate test dictionary (--bli-test-lexicon)
    bt = res.bli_test
    st.subheader("BLI on the test dictionary")
    st.caption(f"{bt['queries']:,} target words of `{bt['lexicon']}`; each mapper refitted on {bt['anchors_used']:,} "
               f"anchors ({bt['anchors_excluded']:,} left out because their target word is tested), so no test pair "
               "is an anchor.")
    st.dataframe(pd.DataFrame({m: {f"{r} P@{k}": v for r, d in p.items() for k, v in d.items()}
                               for m, p in bt["precision"].items()}).T)

st.subheader("Cosine between held-out translation pairs in the shared space")
show_figure(plots.cosine_hist(held_out.cosines), "alignment_cos")


@st.fragment
def explorer():
    """Neighbours of any word across spaces (reruns only this fragment)."""
    st.subheader("Neighbour explorer")
    c = st.columns(3)
    m = c[0].selectbox("mapping", mappers, key="alignment_nb_map")
    lang = c[1].radio("word is", ["target", "English"], horizontal=True, key="alignment_nb_lang")
    word = c[2].text_input("word", placeholder="a target word" if lang == "target" else "an English token",
                           key="alignment_nb_word").strip()
    if not word:  # the mapped spaces are rebuilt (about half a minute, once per run) only when a word is asked
        st.caption("Type a word to list its nearest English tokens and target words in the shared space of the "
                   "chosen mapping.")
        return
    found = cached.analysis(run, "shared_neighbours", mapper=m, side=lang, word=word, k=10)
    if not found.found:
        st.warning(f"{word!r} has no row in the {lang} space")
        return
    a, b = st.columns(2)
    a.write("English neighbours (F_s)")
    a.dataframe(pd.DataFrame(found.source, columns=["token", "cosine"]), hide_index=True)
    b.write("target neighbours (F_t)")
    b.dataframe(pd.DataFrame(found.target, columns=["word", "cosine"]), hide_index=True)


explorer()

drift = cached.analysis(run, "drift")
rr = [m for m in mappers if m in drift.cosines]
if rr:
    st.subheader("Drift: how far RR re-initialisation moves the English embeddings")
    show_figure(plots.cosine_hist(drift.cosines, title="Drift: cos(E_s, F_s) per English token",
                                  x_title="cosine between a token's original and re-initialised embedding",
                                  count_label="English tokens"), "alignment_drift")
    orig = next((res.methods[k].english_macro_f1 for k in ("source", "ls") if k in res.methods), None)
    rows = [{"method": m, **{k: round(v, 3) for k, v in drift.summary[m].items() if k in ("mean", "median", "q05")},
             "English F1 with F_s": res.methods[m].english_macro_f1, "English F1 with E_s": orig} for m in rr]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption("cos(E_s[x], F_s[x]) per English token. English F1 needs an English test set in the run "
               "(the demo and SIB-200 runs have one).")
