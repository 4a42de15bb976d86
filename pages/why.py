"""Why: the gap taken apart by interventions (the ladder), per class and per example; suspects as support."""
import streamlit as st

from mosecrot_viz.analysis import ladder as al
from mosecrot_viz.analysis import plots
from mosecrot_viz.ui.components import run_picker, seed_spread_columns, show_figure
from mosecrot_viz.ui.entry import require_app
from mosecrot_viz.ui.why_support import supporting_suspects, versus_of

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)

run = run_picker("why")
if run is None:
    st.title("Why does transfer lose macro-F1?")
    st.stop()
res = run.results()
methods = al.laddered_methods(res)
if not methods:
    st.title("Why does transfer lose macro-F1?")
    st.info("This run has no gap ladder (it was made before the ladder existed, with --no-ladder, or without a "
            "mapped method). Start a run with rr-softmax (and mplm for the strong baseline) on **Run**.")
    st.stop()
method = st.selectbox("stitched method", methods, key="why_method",
                      help="methods with a measured ladder, best stitched macro-F1 first")
versus = versus_of(run, res, method)
st.title(al.versus_title(versus))
lad = al.ladder_of(res, method)
table = al.ladder_table(lad)
stitched = lad.rungs[-1]["macro_f1"]

c = st.columns(3)
c[0].metric(f"stitched: {method}", f"{stitched:.3f}")
if versus is not None:
    gap = versus.parts["gap"]
    c[1].metric("strong baseline: multilingual model (mplm)", f"{versus.mplm_target:.3f}")
    c[2].metric("gap (stitched − multilingual)", f"{gap[0]:+.3f}",
                help="95% paired bootstrap interval over test sentences: " + (f"{gap[1]:+.3f} to {gap[2]:+.3f}"
                                                                              if gap[1] is not None else "not stored"))
    st.subheader("Against the strong baseline: both chains, English to target")
    st.dataframe(al.versus_table(versus), hide_index=True,
                 column_config={k: st.column_config.NumberColumn(format="%.3f") for k in
                                ("English in-language", "target", "transfer change")})
    st.dataframe(al.parts_table(versus), hide_index=True,
                 column_config={k: st.column_config.NumberColumn(format="%+.3f") for k in
                                ("value", "95% CI low", "95% CI high")})
    st.markdown("**Reading, against the multilingual model.** " + al.versus_reading(versus))
else:
    c[1].caption("This run has no multilingual model, so there is no strong baseline to measure the gap against: "
                 "add **mplm** on **Run**.")

st.subheader("The stitched chain, link by link")
lines = {al.rung_label(k): v for k, v in lad.baselines.items() if k in ("mplm", "source")}
show_figure(plots.ladder_waterfall(table, method, baselines=lines, show_std=lad.seeds > 1), "why_waterfall")
st.markdown("**Reading.** " + al.reading(lad))
notes = []
if lad.english_on_dev:
    notes.append("This run had no English test set, so the English rungs read the English dev split, which chose the "
                 "epoch: they flatter the ceiling.")
gone = al.missing_rungs(lad)
if gone:
    notes.append(f"Not measured in this run: {', '.join(al.rung_label(g) for g in gone)} (the English model's own "
                 "rung needs the E_s fine-tune: add `source` or a keep method).")
notes.append("Each bar is a real evaluation on the same test sentences that changes one link: inference only, no "
             "extra fine-tuning (mosecrot_viz/core/ladder.py). " + al.CHANGE_NOTE + " Words: see the **Glossary** "
             "page.")
st.caption(" ".join(notes))
with st.expander("the ladder as a table"):
    st.dataframe(seed_spread_columns(table.drop(columns=["key"]), lad.seeds, ("std", "change_std")), hide_index=True,
                 column_config={"change": st.column_config.NumberColumn(format="%+.3f"),
                                "macro_f1": st.column_config.NumberColumn("macro-F1", format="%.3f")})

tab_class, tab_example, tab_casualty, tab_support = st.tabs(
    ["Per class", "Per example", "Broken and rescued by the mapping", "Supporting measurements"])
with tab_class:
    show_figure(plots.ladder_per_class(al.per_class_steps(lad), method), "why_per_class")
    st.caption("F1 per class at each rung (mean over seeds); classes sorted by the change at the mapping (stitched "
               "minus exact translations where a vector exists; the most negative, most broken, first).")
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
                    f"({ex['stitched']['confidence']:.2f}) · **{al.rung_label('oracle_translation')}:** "
                    f"{ex['oracle_translation']['pred']} ({ex['oracle_translation']['confidence']:.2f})")
        left, right = st.columns(2)
        with left:
            show_figure(plots.occlusion_words(ex["words"], ex["stitched"]["occlusion"], ex["status"],
                                              title="stitched: importance of each word"), "why_occl_stitched")
        with right:
            show_figure(plots.occlusion_words(ex["words"], ex["oracle_translation"]["occlusion"], ex["status"],
                                              title=f"{al.rung_label('oracle_translation')}: importance of each word"), "why_occl_oracle")
        st.dataframe(al.example_words(ex), hide_index=True)
        st.caption(f"Seed {stored['seed']}. Importance = drop in the predicted class's probability when the word is "
                   "replaced by [UNK]. Colour = word status: anchor, vector only, lexicon only (no vector but the "
                   "lexicon translates it), no vector. 'nearest English' is the PLM token closest (cosine) to the "
                   "word's mapped row.")
with tab_casualty:
    preds, texts = run.ladder_predictions(), al.test_texts(res)
    broken, rescued = al.casualties(preds, method, texts=texts), al.rescues(preds, method, texts=texts)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Broken by the mapping: {len(broken)}**")
        st.caption("(seed, sentence) pairs the exact-translation reading gets right and the stitched model gets wrong, "
                   "most confident wrong answer first.")
        st.dataframe(broken, hide_index=True)
    with right:
        st.markdown(f"**Rescued by the mapping: {len(rescued)}**")
        st.caption("(seed, sentence) pairs the stitched model gets right and the exact-translation reading gets "
                   "wrong, most confident first.")
        st.dataframe(rescued, hide_index=True)
with tab_support:
    supporting_suspects(run, res, lad, method)
