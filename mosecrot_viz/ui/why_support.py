"""The Why page's supporting measurements: the older threshold suspects, ordered by the ladder's costs.

Held-out BLI and drift are the run's registered analyses (`analysis.registry`, the Alignment page's same
results): stored with a run started from the app; for another run held-out BLI refits every mapper, which takes
a while on a large vocabulary, so the suspects are measured only on request.
"""
from __future__ import annotations

import streamlit as st

from mosecrot_viz.analysis import ladder as al
from mosecrot_viz.analysis.registry import DEFAULT_HELD_OUT
from mosecrot_viz.analysis.suspects import rank_suspects, test_unknown_share
from mosecrot_viz.experiment.config import SELF_TRAINING_SUFFIX
from mosecrot_viz.records import as_results
from mosecrot_viz.ui import cached

PAGES = {"Anchors": "pages/anchors.py", "Alignment": "pages/alignment.py", "Errors": "pages/errors.py"}


def _measures(run, method: str) -> tuple[float, float]:
    """(held-out CSLS P@1, mean drift) of the mapping behind `method` (`rr-softmax+st` reads through rr-softmax's)."""
    mapper = method.removesuffix(SELF_TRAINING_SUFFIX)
    held_out = cached.analysis(run, "holdout_bli", n_test=DEFAULT_HELD_OUT)
    return held_out.p_at(mapper), cached.analysis(run, "drift").summary[mapper]["mean"]


def supporting_suspects(run, res, lad: al.Ladder, method: str) -> None:
    """Render the suspects for `method`, each beside the measured cost of the ladder link it is about."""
    st.caption("Proxies with simple documented thresholds (mosecrot_viz/analysis/suspects.py), each placed beside "
               "the link of the ladder it is about and ordered by that link's measured cost: the ladder ranks, "
               "the proxies point to where to look.")
    key = f"why_support_{run.run_id}_{method}"
    if not st.session_state.get(key) and not st.button("measure the supporting suspects", key=f"{key}_btn"):
        return
    st.session_state[key] = True
    p1, drift_mean = _measures(run, method)
    res = as_results(res)
    m = res.methods[method]
    orig, own = lad.rung("english_original"), lad.rung("english_method")
    suspects = rank_suspects(
        res, bli_p1=p1, anchor_count=res.anchors.count, lexicon_pairs=res.anchors.lexicon_pairs,
        test_unknown_rate=test_unknown_share(res)[0], drift_mean=drift_mean,
        english_f1_rr=own.macro_f1 if own else m.english_macro_f1,
        english_f1_orig=orig.macro_f1 if orig else None, best_baseline="none", gap=None)
    for s, step in al.order_suspects(lad, suspects):
        with st.container(border=True):
            a, b = st.columns([3, 1])
            a.markdown(f"**{s.name}**: {s.display}")
            a.caption(s.explanation)
            if step is not None:
                b.metric(f"ladder: {step.name}", f"{-step.cost:+.3f}", help="the measured change in macro-F1 at that link")
            b.progress(float(s.severity), text=f"threshold severity {s.severity:.2f}")
            st.page_link(PAGES[s.page], label=f"see it on {s.page}")


def versus_of(run, res, method: str):
    """`analysis.ladder.versus_mplm` for a stored run, cached per run folder, method and results.json's mtime."""
    if "mplm" not in as_results(res).methods:
        return None
    return cached.versus(str(run.path), method, (run.path / "results.json").stat().st_mtime)
