"""Landing page: what this is, the embedded defaults with their licences, and the teaching-mode demo."""
import streamlit as st

from mosecrot_viz.analysis.stored import analysis_seconds
from mosecrot_viz.analysis.suspects import test_unknown_share, unknown_text
from mosecrot_viz.experiment.presets import DEMO
from mosecrot_viz.records import RunState
from mosecrot_viz.store.runs import ACTIVE_STATES, cancel_run, latest_complete, latest_run, start_run
from mosecrot_viz.ui import state
from mosecrot_viz.ui.components import provenance_table, restrictive_licences, results_table, run_progress
from mosecrot_viz.ui.entry import require_app
from mosecrot_viz.ui.inputs import demo_inputs

st.title("mosecrot_viz")
st.markdown(
    "Crosslingual model stitching (MoSECroT, arXiv 2401.04821): map an English model's embeddings and a target "
    "language's static word vectors into one space through **relative representations** over bilingual anchors, "
    "fine-tune on English, swap in the target embeddings, and test zero-shot. The paper's answer is a negative "
    "result; this app shows *why*."
)

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)

st.subheader("Teaching mode")
st.write("Runs the embedded default (is a Bible verse from the Old or the New Testament? Fine-tuned on English, tested "
         "on Chinese; all-MiniLM-L6-v2, Chinese "
         "word2vec, CC-CEDICT anchors) with RR-softmax, LS, the multilingual model (the strong baseline), LR and two "
         f"floors; one seed, {DEMO.options['epochs']} epochs. Then walk through the pages below: **Why** takes the gap "
         "apart link by link.")
last = latest_complete("demo")
if last is not None:
    extra = analysis_seconds(last.path)
    last_res = last.record()
    st.caption(f"The last demo run on this machine took {last_res.wall_seconds / 60:.1f} minutes "
               f"({last_res.device})" + (f", then {extra:.0f} s to precompute what the analysis pages show."
                                                   if extra is not None else "."))
state.setup_id()  # the URL names this setup, so a reload keeps the selected run
demo = latest_run("demo")  # the newest demo on this machine: after a reload or in a second tab too
demo_busy = demo is not None and demo.active
if st.button("Run the demo", type="primary", key="home_run", disabled=demo_busy,
             help="the demo is running: follow it below, or cancel it" if demo_busy else None):
    cfg = DEMO.config(demo_inputs())  # the teaching demo preset (experiment.presets)
    demo = start_run(cfg, name="demo")  # the user's own Setup choices are left as they are
    state.view_run(demo.run_id)  # the analysis pages show it once done; Run's own runs are left alone
    st.session_state["_demo_was_active"] = True
    st.rerun()  # redraw with the button disabled

TOUR = [
    ("pages/anchors.py", "Anchors", "how many lexicon pairs survive as anchors, and how the two anchor spaces look"),
    ("pages/alignment.py", "Alignment", "does the mapping put translations next to each other (BLI P@k)?"),
    ("pages/errors.py", "Errors", "which classes fail, and do errors follow unknown words?"),
    ("pages/why.py", "Why", "the gap to the strong baseline taken apart link by link, per class and per example"),
    ("pages/compare.py", "Compare", "past runs side by side, sweeps, exports"),
]


@st.fragment(run_every=2)
def demo_status():
    """Progress of the newest demo run (with ETA and Cancel), then its results and the tour."""
    run = latest_run("demo")
    if run is None:
        return
    s = run.status()
    active = s.state in ACTIVE_STATES
    if st.session_state.get("_demo_was_active") and not active:  # it ended: redraw (the button enabled again)
        st.session_state["_demo_was_active"] = False
        st.rerun()
    st.session_state["_demo_was_active"] = active
    if active:
        if run_progress(run, key="home_cancel"):
            cancel_run(run)
    elif s.state is RunState.CANCELLED:
        st.warning(f"The demo run {run.run_id} was cancelled: {s.message}")
    elif s.state.broken:
        st.error(f"The run stopped: {s.message}")
    elif s.state is RunState.COMPLETE:
        res = run.record()
        st.success(f"Run {run.run_id} finished: {res.anchors.count:,} anchors, "
                   f"{res.data.test} test sentences, {unknown_text(*test_unknown_share(res))}.")
        st.dataframe(results_table(res), hide_index=True)
        st.markdown("**Tour**")
        for page, title, what in TOUR:
            st.page_link(page, label=f"{title}: {what}")


demo_status()

st.subheader("Embedded defaults")
st.caption("Built from registry packages into the cache; no model hub is used.")
for line in restrictive_licences():  # said above the table, not left in row 11 of a scrolling grid
    st.warning("Restrictive licence: " + line)
st.dataframe(provenance_table(), hide_index=True)
