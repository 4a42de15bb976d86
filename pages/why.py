"""Why: the gap taken apart by interventions (the ladder), per class and per example; suspects as support."""
import streamlit as st

from mosecrot_viz.analysis import ladder as al
from mosecrot_viz.analysis import plots
from mosecrot_viz.ui.components import run_picker, show_figure
from mosecrot_viz.ui.why_support import supporting_suspects

st.title("Why does transfer underperform?")
run = run_picker("why")
if run is None:
    st.stop()
res = run.results()
methods = al.laddered_methods(res)
if not methods:
    st.info("This run has no gap ladder (it was made before the ladder existed, with --no-ladder, or without a "
            "mapped method). Start a run with rr-softmax (and mplm for the strong baseline) on **Run**.")
    st.stop()
method = st.selectbox("stitched method", methods, key="why_method",
                      help="methods with a measured ladder, best stitched macro-F1 first")
lad = al.ladder_of(res, method)
table = al.ladder_table(lad)
stitched = lad.rungs[-1]["macro_f1"]

c = st.columns(3)
c[0].metric(f"stitched: {method}", f"{stitched:.3f}")
if "mplm" in lad.baselines:
    c[1].metric("strong baseline: mplm", f"{lad.baselines['mplm']:.3f}")
    c[2].metric("gap (mplm − stitched)", f"{lad.baselines['mplm'] - stitched:+.3f}")
else:
    c[1].caption("This run has no multilingual model, so there is no strong baseline to measure the gap against: "
                 "add **mplm** on **Run**.")

lines = {k: v for k, v in lad.baselines.items() if k in ("mplm", "source")}
show_figure(plots.ladder_waterfall(table, method, baselines=lines, show_std=lad.seeds > 1), "why_waterfall")
st.markdown("**Reading.** " + al.reading(lad))
notes = []
if lad.english_on_dev:
    notes.append("This run had no English test set, so the English rungs read the English dev split, which chose the "
                 "epoch: they flatter the ceiling.")
gone = al.missing_rungs(lad)
if gone:
    notes.append(f"Not measured in this run: {', '.join(gone)} (english_original needs the E_s fine-tune: add "
                 "`source` or a keep method).")
notes.append("Each bar is a real evaluation on the same test sentences that changes one link: inference only, no "
             "extra fine-tuning (mosecrot_viz/core/ladder.py). A negative cost is shown as a gain.")
st.caption(" ".join(notes))
with st.expander("the ladder as a table"):
    st.dataframe(table, hide_index=True)

tab_class, tab_example, tab_casualty, tab_support = st.tabs(
    ["Per class", "Per example", "The mapping's casualties", "Supporting measurements"])
with tab_class:
    show_figure(plots.ladder_per_class(al.per_class_steps(lad), method), "why_per_class")
    st.caption("F1 per class at each rung (mean over seeds); classes sorted by the mapping's cost "
               "(oracle_vector_vocab − stitched).")
with tab_example:
    stored = (run.ladder_examples() or {}).get(method)
    if not stored or not stored["examples"]:
        st.info("No example sentences were stored for this method.")
    else:
        ex_list = stored["examples"]
        labels = [f"{e['kind']}: [{e['gold']}] {e['text'][:80]}" for e in ex_list]
        pick = st.selectbox("test sentence", range(len(ex_list)), format_func=lambda i: labels[i], key="why_example")
        ex = ex_list[pick]
        st.markdown(f"**gold:** {ex['gold']} · **stitched:** {ex['stitched']['pred']} "
                    f"({ex['stitched']['confidence']:.2f}) · **oracle_translation:** "
                    f"{ex['oracle_translation']['pred']} ({ex['oracle_translation']['confidence']:.2f})")
        left, right = st.columns(2)
        with left:
            show_figure(plots.occlusion_words(ex["words"], ex["stitched"]["occlusion"], ex["status"],
                                              title="stitched: importance of each word"), "why_occl_stitched")
        with right:
            show_figure(plots.occlusion_words(ex["words"], ex["oracle_translation"]["occlusion"], ex["status"],
                                              title="oracle_translation: importance of each word"), "why_occl_oracle")
        st.dataframe(al.example_words(ex), hide_index=True)
        st.caption(f"Seed {stored['seed']}. Importance = drop in the predicted class's probability when the word is "
                   "replaced by [UNK]. Colour = word status: anchor, vector only, lexicon only (no vector but the "
                   "lexicon translates it), no vector. 'nearest English' is the PLM token closest (cosine) to the "
                   "word's mapped row.")
with tab_casualty:
    cas = al.casualties(run.ladder_predictions(), method, texts=al.test_texts(res))
    st.caption(f"{len(cas)} (seed, sentence) pairs that oracle_translation gets right and the stitched model gets "
               "wrong, most confident wrong answer first.")
    st.dataframe(cas, hide_index=True)
with tab_support:
    supporting_suspects(run, res, lad, method)
