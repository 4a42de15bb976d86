"""Why: the measured suspects for the gap between RR and the strongest baseline, ranked by severity."""
import numpy as np
import streamlit as st

from mosecrot_viz.analysis import alignment
from mosecrot_viz.analysis.holdout import holdout_bli
from mosecrot_viz.analysis.suspects import rank_suspects
from mosecrot_viz.config import FINE_TUNED_RR, ExperimentConfig
from mosecrot_viz.ui import cached
from mosecrot_viz.ui.components import run_picker

PAGES = {"Anchors": "pages/anchors.py", "Alignment": "pages/alignment.py", "Errors": "pages/errors.py"}

st.title("Why does transfer underperform?")
run = run_picker("why")
if run is None:
    st.stop()
res = run.results()
methods = res["methods"]
rr = [m for m in methods if m in FINE_TUNED_RR]
if not rr:
    st.info("This run has no RR method: add rr-softmax (or another weighting) on **Run**.")
    st.stop()
best_rr = max(rr, key=lambda m: methods[m]["macro_f1"])
baselines = {m: v for m, v in methods.items() if m not in FINE_TUNED_RR and m != "majority"}
best_base = max(baselines, key=lambda m: baselines[m]["macro_f1"]) if baselines else None
gap = baselines[best_base]["macro_f1"] - methods[best_rr]["macro_f1"] if best_base else None

c = st.columns(3)
c[0].metric(f"best RR: {best_rr}", f"{methods[best_rr]['macro_f1']:.3f}")
if best_base:
    c[1].metric(f"best other method: {best_base}", f"{baselines[best_base]['macro_f1']:.3f}")
    c[2].metric("gap (other − RR)", f"{gap:+.3f}")


@st.cache_data(show_spinner="measuring held-out BLI P@1 and drift for the best RR method")
def _measures(run_id: str, method: str):
    inputs, spaces = cached.spaces(run_id, run.config(), (method,))
    cfg = ExperimentConfig.from_dict(run.config())
    p1 = holdout_bli(cfg, inputs, spaces, [method], n_test=1000, ks=(1,)).precision[method]["csls"][1]
    ids = np.setdiff1d(np.arange(len(spaces.e_s)), spaces.tokenizer.all_special_ids)
    return p1, alignment.drift_summary(alignment.drift(spaces.e_s, spaces.mapped[method][0], ids))["mean"]


p1, drift_mean = _measures(run.run_id, best_rr)
orig = next((methods[k].get("english_macro_f1") for k in ("source", "ls") if k in methods), None)
suspects = rank_suspects(
    res, bli_p1=p1, anchor_count=res["anchors"]["count"], lexicon_pairs=res["anchors"]["lexicon_pairs"],
    test_unknown_rate=res["data"]["test_unknown_word_rate"], drift_mean=drift_mean,
    english_f1_rr=methods[best_rr].get("english_macro_f1"), english_f1_orig=orig,
    best_baseline=best_base or "none", gap=gap if gap is not None else float("nan"))
st.subheader("Suspects, most severe first")
for s in suspects:
    with st.container(border=True):
        a, b = st.columns([3, 1])
        a.markdown(f"**{s.name}**: {s.display}")
        a.caption(s.explanation)
        b.progress(float(s.severity), text=f"severity {s.severity:.2f}")
        st.page_link(PAGES[s.page], label=f"see it on {s.page}")
st.caption("Severities are simple documented thresholds (mosecrot_viz/analysis/suspects.py: THRESHOLDS) on measured "
           "values; they rank what to look at, they are not a causal analysis.")
