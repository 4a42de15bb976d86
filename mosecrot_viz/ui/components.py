"""Render helpers used by several pages (no math here: everything comes from the package)."""
from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import streamlit as st

from mosecrot_viz.analysis.compare import NOT_ZERO_SHOT
from mosecrot_viz.defaults import registry as resources
from mosecrot_viz.defaults import shipped
from mosecrot_viz.records import RunState, as_results


def provenance_table() -> pd.DataFrame:
    """The embedded defaults with package, licence and provenance, as the README lists them, then the files the app
    ships in assets/ from a registry (the CJK web font; `defaults.shipped`), "cached" reading "shipped"."""
    rows = resources.describe()
    for r in rows:
        built = resources.cache_path_if_built(r["key"])
        r["cached"] = "yes" if built else "no"
    rows += [{**r, "cached": "shipped"} for r in shipped.describe()]
    return pd.DataFrame(rows)[["key", "description", "package", "licence", "rights", "provenance", "note", "cached"]]


ONE_SEED = "n/a (1 seed)"


def seed_std(value, n_seeds: int):
    """A seed spread as every page shows it: the std for two or more seeds, else 'n/a (1 seed)' (never None or 0.0)."""
    return value if n_seeds > 1 and value is not None else ONE_SEED


def seed_spread_columns(df: pd.DataFrame, n_seeds: int, columns) -> pd.DataFrame:
    """`df` with its seed-spread `columns` reading 'n/a (1 seed)' when the run had one seed (as `seed_std`)."""
    return df.assign(**{c: ONE_SEED for c in columns if c in df}) if n_seeds <= 1 else df


class Best(NamedTuple):
    """A run's best zero-shot method and its macro-F1."""

    method: str
    macro_f1: float


def zero_shot_best(results) -> Best | None:
    """The best zero-shot method of a run and its macro-F1 (LR, trained on target labels, is never 'best')."""
    best = as_results(results).best(exclude=NOT_ZERO_SHOT)
    return Best(best.name, best.result.macro_f1) if best else None


def restrictive_licences() -> list[str]:
    """The embedded defaults whose rights say they are restrictive (e.g. the Chinese Bible task), one line each."""
    return [f"**{r['key']}**: {r['licence']}. {r['rights'].split('restrictive: ', 1)[1]}"
            for r in resources.describe() if "restrictive:" in (r.get("rights") or "")]


def results_table(results) -> pd.DataFrame:
    """Macro-F1 ± std over seeds, its 95% bootstrap interval over test examples, and the head, per method: the
    zero-shot methods ranked by macro-F1, then the methods trained on target labels (LR), marked as such."""
    def ci(v):
        lo_hi = v.macro_f1_ci95
        return f"{lo_hi[0]:.3f}–{lo_hi[1]:.3f}" if lo_hi else None

    rows = [{"method": m, "zero-shot": "no: " + NOT_ZERO_SHOT[m] if m in NOT_ZERO_SHOT else "yes",
             "macro-F1": v.macro_f1, "± std": seed_std(v.macro_f1_std, v.seeds),
             "95% CI (test)": ci(v),
             "accuracy": v.accuracy, "English F1": v.english_macro_f1, "head": v.head,
             "seconds": v.wall_seconds}
            for m, v in as_results(results).methods.items()]
    df = pd.DataFrame(rows)
    df["_trained_on_target"] = df["method"].isin(list(NOT_ZERO_SHOT))
    return df.sort_values(["_trained_on_target", "macro-F1"], ascending=[True, False]).drop(columns="_trained_on_target")


def environment_rows(env: dict) -> pd.DataFrame:
    """One row per input of a run's `environment`: field, spec, resolved path or hub id, size, sha256."""
    rows = []
    for field, rec in (env.get("inputs") or {}).items():
        if "files" in rec:  # a model folder: one row per file
            rows += [{"input": f"{field}/{name}", "spec": rec["spec"], "path": rec["path"], "bytes": None,
                      "sha256": digest} for name, digest in rec["files"].items()]
        else:
            rows.append({"input": field, "spec": rec.get("spec"), "path": rec.get("path") or rec.get("hub_id"),
                         "bytes": rec.get("bytes"), "sha256": rec.get("sha256")})
    return pd.DataFrame(rows, columns=["input", "spec", "path", "bytes", "sha256"])


def environment_expander(results) -> None:
    """What produced a run (results.json's `environment`): versions, commit, device, input hashes."""
    env = as_results(results).environment
    if not env:
        return
    with st.expander("Environment: package versions, git commit, device, input file hashes"):
        pk, git, dev = env.get("packages", {}), env.get("git") or {}, env.get("device", {})
        st.write(" · ".join(f"{k} {v}" for k, v in pk.items() if v))
        st.write(f"device {dev.get('device')} ({dev.get('name', '?')}) · git "
                 + (f"{git['commit'][:12]}{' (uncommitted changes)' if git.get('dirty') else ''}" if git
                    else "not a checkout"))
        st.dataframe(environment_rows(env), hide_index=True)


def run_label(run_id: str, mine: list[str], states: dict | None = None) -> str:
    """A picker's entry: the run id, its state when not complete, and whether this setup started it."""
    if run_id is None:
        return "none"
    parts = [run_id]
    if states and states.get(run_id) not in (None, RunState.COMPLETE):
        parts.append(states[run_id])
    if run_id in mine:
        parts.append("this setup")
    return " · ".join(parts)


def _picked(key: str) -> None:
    from mosecrot_viz.ui import state

    state.view_run(st.session_state[key])


def run_picker(key: str):
    """Select a complete stored run for an analysis page (newest first). Preselected: the run the analysis pages were
    asked to show (`state.viewed_run_id`) when it is complete, else this setup's newest complete run, else the newest
    complete run on the machine, each said in a caption. A user's choice goes to the record's `viewed_run` (and the
    URL) only: never to the runs this setup started, so the Run page keeps showing the run it waits for. None if there
    are no complete runs."""
    from mosecrot_viz.store.runs import StoredRun, list_runs, runs_root
    from mosecrot_viz.ui import state

    runs = [r for r in list_runs() if r.status().state is RunState.COMPLETE]
    if not runs:
        st.info("No finished run yet: start one on the **Run** page (or the demo on **Home**).")
        return None
    ids = [r.run_id for r in runs]
    rec = state.load_record()
    mine = state.setup_runs(rec)
    wanted = state.viewed_run_id(rec)
    note = None
    if wanted in ids:
        pick = wanted
    else:
        own = [i for i in ids if i in mine]
        pick = own[0] if own else ids[0]
        if wanted and (runs_root() / wanted).is_dir():
            note = (f"Run {wanted} is {StoredRun(runs_root() / wanted).status().state.value}: showing {pick} until it "
                    "is complete.")
        elif not own:
            note = f"This setup has no finished run of its own: showing the newest finished run on this machine, {pick}."
    widget = f"{key}_run"
    st.session_state[widget] = pick  # the record is the truth: every page, reload and tab draws the same run
    st.selectbox("run", ids, key=widget, format_func=lambda r: run_label(r, mine), on_change=_picked, args=(widget,))
    if note:
        st.caption(note)
    return runs[ids.index(pick)]


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


_OBSERVED: dict = {}  # run id -> analysis.eta.Observed: the epoch reports this app process has seen (every session)


def eta_text(run, s) -> str:
    """s: the run's `RunStatus`. 'about N left (F to the results, A analysis)' from the per-stage cost model
    (`analysis.eta.time_left`), or why there is no estimate yet."""
    import time

    from mosecrot_viz.analysis import eta
    from mosecrot_viz.core.flops import matmul_gflops
    from mosecrot_viz.store.runs import runs_root

    cfg = run.config() or {}
    try:
        from mosecrot_viz.ui import cached

        sizes = eta.RunSizes.of(cfg, lambda path: len(cached.task_file(path)))  # keyed by the files' content
    except (KeyError, OSError, ValueError):
        return " · no time estimate (a task file cannot be read)"
    left = eta.time_left(cfg, s, _OBSERVED.setdefault(run.run_id, eta.Observed()), sizes=sizes,
                         runs_root=runs_root(), now=time.time(), rate_gflops=lambda: matmul_gflops("cpu"))
    if left.tuning is None:
        return " · estimating time left"
    if left.analysis is None:
        return f" · about {_minutes(left.tuning)} left to the results, then the analysis stage (no earlier run to time it)"
    return (f" · about {_minutes(left.total)} left ({_minutes(left.tuning)} to the results, {_minutes(left.analysis)} "
            "analysis)")


def run_progress(run, key: str) -> bool:
    """A queued or running run: its bar (every fine-tune counted), stage, elapsed time, time left from a per-stage
    cost model (`eta_text`), and a Cancel button. Returns True when Cancel was clicked."""
    s = run.status()
    text = s.message
    if s.state in (RunState.RUNNING, RunState.ANALYSING) and s.elapsed is not None:
        text += f" · {_minutes(s.elapsed)} so far" + eta_text(run, s)
    if s.cancelling:
        text = "cancelling after the current step · " + text
    st.progress(float(s.fraction), text=text)
    if s.state is RunState.ANALYSING:  # results are in; only the pages' precomputed analyses are left
        return False
    return st.button("Cancel", key=key, disabled=bool(s.cancelling),
                     help="stops the run at its next progress report (at the latest after the current epoch); "
                          "it is marked cancelled and every other run is kept")


def show_figure(fig, key: str) -> None:
    """Render a plotly figure with an HTML download; PNG comes from the chart's own camera button."""
    st.plotly_chart(fig, key=key)
    from mosecrot_viz.analysis.plots import figure_html

    # built only when clicked (a callable): each file embeds plotly.js (about 4 MB) so it opens offline
    st.download_button("figure as HTML", lambda: figure_html(fig), f"{key}.html", "text/html", key=f"{key}_html",
                       help="a self-contained file that opens without a network; PNG: the chart's camera icon")


GLOSSARY = {
    "E_s": "the English model's own input embeddings (one row per word piece of its vocabulary).",
    "F_s": "E_s re-initialised in the shared space: each English token's relative representation over the anchors "
           "(the paper's RR methods fine-tune on F_s).",
    "F_t": "the target language's static word vectors mapped into the same space: swapped in for F_s to read target "
           "text zero-shot.",
    "RR": "relative representations: a word is described by its similarities to the anchor words (rr-standard, "
          "rr-softmax, rr-sparsemax weight them differently).",
    "LS": "least squares: a linear map from the target vectors onto E_s fitted on the anchors; the model keeps E_s.",
    "CSLS": "cross-domain similarity local scaling: nearest-neighbour retrieval corrected for hub words; the BLI "
            "P@1 figures say whether they use it or plain nearest neighbour.",
    "anchors": "lexicon pairs whose English side is one whole token of the model and whose target side has a vector.",
    "BLI P@1": "bilingual lexicon induction: the share of held-out target words whose nearest English token is one of "
               "their translations.",
}


def glossary() -> None:
    """The project's words in one place (the Glossary page, in every page's navigation): symbols, methods and the
    gap ladder's rungs with the names the chart, the table and `explain` use."""
    from mosecrot_viz.analysis.ladder import CHANGE_NOTE, RUNG_LABELS, STEP_HINTS

    st.markdown("\n".join(f"- **{k}**: {v}" for k, v in GLOSSARY.items()))
    st.subheader("The gap ladder's rungs")
    st.markdown("Why and `python -m mosecrot_viz explain` name them in these words (`explain` adds the stored key):\n"
                + "\n".join(f"- **{RUNG_LABELS[k]}** (`{k}`)" + (f"; the step into it: {STEP_HINTS[k]}"
                                                                  if k in STEP_HINTS else "")
                            for k in ("english_original", "english_method", "oracle_translation",
                                      "oracle_vector_vocab", "stitched", "dictionary")))
    st.caption(CHANGE_NOTE)
