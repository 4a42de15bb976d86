"""The Why page's supporting measurements: the older threshold suspects, ordered by the ladder's costs.

Held-out BLI refits the mapper, which takes a while on a large vocabulary, so it runs only on request
and is cached per run and method.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from mosecrot_viz.analysis import alignment
from mosecrot_viz.analysis import ladder as al
from mosecrot_viz.analysis.holdout import holdout_bli
from mosecrot_viz.analysis.stored import DEFAULT_HELD_OUT, stored_bli, stored_drift
from mosecrot_viz.analysis.suspects import rank_suspects, test_unknown_share
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.records import as_results
from mosecrot_viz.ui import cached

PAGES = {"Anchors": "pages/anchors.py", "Alignment": "pages/alignment.py", "Errors": "pages/errors.py"}


@st.cache_data(show_spinner="measuring held-out BLI P@1 and drift (refits the mapper without a share of anchors)")
def _measures(run_id: str, config: dict, method: str):
    inputs, spaces = cached.spaces(run_id, config, (method,))
    cfg = ExperimentConfig.from_dict(config)
    p1 = holdout_bli(cfg, inputs, spaces, [method], n_test=1000, ks=(1,)).precision[method]["csls"][1]
    return p1, alignment.drift_summary(alignment.mapper_drifts(spaces, [method])[method])["mean"]


def _stored_measures(run, method: str):
    """(held-out CSLS P@1, mean drift) stored with the run (`analysis.stored`), or None."""
    bli = stored_bli(run.path, DEFAULT_HELD_OUT)
    drift = stored_drift(run.path).get(method)
    if bli is None or method not in bli[0] or not drift or "mean" not in drift:
        return None
    return bli[0][method]["csls"][1], drift["mean"]


def supporting_suspects(run, res, lad: al.Ladder, method: str) -> None:
    """Render the suspects for `method`, each beside the measured cost of the ladder link it is about."""
    st.caption("Proxies with simple documented thresholds (mosecrot_viz/analysis/suspects.py), each placed beside "
               "the link of the ladder it is about and ordered by that link's measured cost: the ladder ranks, "
               "the proxies point to where to look.")
    key = f"why_support_{run.run_id}_{method}"
    if not st.session_state.get(key) and not st.button("measure the supporting suspects", key=f"{key}_btn"):
        return
    st.session_state[key] = True
    p1, drift_mean = _stored_measures(run, method) or _measures(run.run_id, run.config(), method)
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


@st.cache_data(show_spinner="splitting the gap to the multilingual model (paired bootstrap over test sentences)")
def _versus(run_path: str, method: str, mtime: float):
    from mosecrot_viz.store.runs import StoredRun

    run = StoredRun(Path(run_path))
    return al.versus_mplm(run.record(), method, run.predictions())


def versus_of(run, res, method: str):
    """`analysis.ladder.versus_mplm` for a stored run, cached per run folder, method and results.json's mtime."""
    if "mplm" not in as_results(res).methods:
        return None
    return _versus(str(run.path), method, (run.path / "results.json").stat().st_mtime)
