"""Run: choose methods and settings, start a run in the background, follow it, see the results table.

The inputs are the ones Setup accepted for this setup (`ui.state`): Run names them and will not
start without them (no fallback to the demo). Settings, the runs this setup started and the run shown are
kept in the setup record (`ui.state`), so they survive navigation, a reload and a second tab; Start stays
disabled while any run of this setup is going, and no other page's picker changes the run shown here.
"""
import streamlit as st

from mosecrot_viz.analysis.run_warnings import run_warnings
from mosecrot_viz.analysis.script_shift import SIMULATION_NOTE
from mosecrot_viz.analysis.training import fine_tune_table
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ALL_METHODS, ExperimentConfig
from mosecrot_viz.experiment.options import app_message
from mosecrot_viz.experiment.provenance import auto_device_line
from mosecrot_viz.paths import model_cache_dir
from mosecrot_viz.records import RunState
from mosecrot_viz.store.runs import cancel_run, list_runs, start_run, start_sweep
from mosecrot_viz.store.sweeps import SWEEPABLE, parse_values, sweep_configs
from mosecrot_viz.ui import state
from mosecrot_viz.ui.components import environment_expander, results_table, run_label, run_progress
from mosecrot_viz.ui.entry import require_app

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)

INPUT_FIELDS = ("vectors", "lexicon", "train", "dev", "test", "target_train", "source_test")

st.title("Run")
record = state.load_record()
setup = record.get("inputs")
if setup:
    names = setup.get("names") or {}
    st.markdown(f"Inputs: **{setup['label']}** (change them on **Setup**)")
    st.caption(" · ".join(f"{k}: `{names.get(k, setup[k])}`" for k in INPUT_FIELDS if setup.get(k))
               + f" · models: `{setup.get('source_model')}`, `{setup.get('multilingual_model')}`")
else:
    st.warning("No inputs chosen yet" + (f" ({record['problem']})" if record.get("problem") else "")
               + ": choose them on **Setup**. Runs start only on inputs you chose there.")
    st.page_link("pages/setup.py", label="Go to Setup")

record = state.bind("run", {**state.RUN_DEFAULTS, "run_methods": state.default_methods(setup)})
st.session_state["run_methods"] = [m for m in st.session_state["run_methods"] if m in ALL_METHODS]
st.write(f"Device: **{auto_device_line()}**")
st.multiselect("methods", list(ALL_METHODS), **state.kw("run", "run_methods"))


def _number(where, key: str, **kw):
    """A number input for Run widget `key`: label, bounds and step from its run option (experiment.options)."""
    return where.number_input(state.widget_label(key), **state.number_bounds(key), **kw, **state.kw("run", key))


c = st.columns(5)
c[0].text_input(state.widget_label("run_seeds"), **state.kw("run", "run_seeds"))
_number(c[1], "run_topk")
_number(c[2], "run_tau")
_number(c[3], "run_epochs")
c[4].selectbox(state.widget_label("run_device"), state.choices("run_device"), **state.kw("run", "run_device"))
st.checkbox(state.widget_label("run_freeze"), **state.kw("run", "run_freeze"))
_number(st, "run_patience")
with st.expander("Anchor options (quality filters, subsets; Setup's anchor count follows them)"):
    ac = st.columns(4)
    ac[0].selectbox(state.widget_label("run_policy"), state.choices("run_policy"),
                    **state.kw("run", "run_policy"), help="first: lexicon order (the paper); aligned: re-chosen by a first "
                    "Procrustes alignment; self-learned: dictionary re-induced by iterated Procrustes + CSLS")
    _number(ac[1], "run_agree")
    _number(ac[2], "run_nanchors")
    ac[3].checkbox(state.widget_label("run_stop"), **state.kw("run", "run_stop"))
with st.expander("Beyond the paper's setting: words without a static vector"):
    bc = st.columns(2)
    bc[0].checkbox(state.widget_label("run_lexvocab"), **state.kw("run", "run_lexvocab"))
    bc[1].checkbox(state.widget_label("run_subwords"), **state.kw("run", "run_subwords"))
with st.expander("A simulation: the target language in a script the multilingual model never saw"):
    _number(st, "run_shift")
    st.caption(SIMULATION_NOTE + " Sweep it below (parameter script_shift) and Compare draws both curves.")
with st.expander("Sweep one parameter (every trial is stored; Compare draws the curve)"):
    sc = st.columns(2)
    param = sc[0].selectbox("parameter", list(SWEEPABLE), **state.kw("run", "run_sweep_param"))
    values = sc[1].text_input("values", {"top_k": "1,10,50,100,all", "n_anchors": "500,3000,all",
                                         "temperature": "0.01,0.05,0.1,0.5", "drop_stopword_anchors": "false,true",
                                         "script_shift": "0,0.25,0.5,0.75,1"}[param],
                              key=f"run_sweep_values_{param}")
    sweep_clicked = st.button("Start sweep", key="run_sweep_start", disabled=not setup)
record = state.save("run", [*state.RUN_DEFAULTS, "run_methods"])


def _config() -> ExperimentConfig:
    return ExperimentConfig.from_dict(setup, **state.config_overrides(record["run"]))


busy = state.busy_runs()  # this setup's runs still going (any tab, any reload): no second start
if st.button("Start run", type="primary", key="run_start", disabled=not setup or bool(busy),
             help=f"this setup's run {busy[0].run_id} is still going: wait for it or cancel it" if busy else None):
    busy = state.busy_runs()  # again at the click: another tab may have started one since this page was drawn
    if busy:
        st.warning(f"Not started: this setup's run {busy[0].run_id} is still {busy[0].status().state.value}.")
    else:
        try:
            run = start_run(_config(), name=setup["label"].split()[0])
            state.started_run(run.run_id)
            st.rerun()  # redraw with Start disabled and the new run shown
        except (InputError, ValueError) as exc:
            st.error(app_message(exc))
if sweep_clicked:
    try:
        trials = start_sweep(sweep_configs(_config(), param, parse_values(param, values),
                                           model_cache=str(model_cache_dir())), name="sweep")
        st.success(f"queued {len(trials)} trials; follow them below, then open **Compare**.")
    except (InputError, ValueError) as exc:
        st.error(app_message(exc))


def shown_run_picker(runs: dict) -> str | None:
    """The Run page's own picker: which run it shows (default: this setup's newest run; none for a new setup)."""
    rec = state.load_record()
    mine = state.setup_runs(rec)
    shown = state.shown_run_id(rec)
    ids = [*reversed([r for r in mine if r in runs]), *[r for r in runs if r not in mine]]  # this setup's first
    if shown not in ids:
        shown = None
    key = "current_run"  # the session keeps its pick; a change in the record (another tab, a new Start) wins
    if key not in st.session_state or st.session_state.get("_run_shown_seen", "-") != shown:
        st.session_state[key] = shown
        st.session_state["_run_shown_seen"] = shown
    if st.session_state[key] not in ids:
        st.session_state[key] = None
    states = {r: runs[r].status().state.value for r in ids}
    st.selectbox("run shown below", ids, key=key, placeholder="this setup has not started a run yet: choose one",
                 format_func=lambda r: run_label(r, mine, states), on_change=_shown_changed)
    return st.session_state[key]


def _shown_changed() -> None:
    state.show_run(st.session_state["current_run"])
    st.session_state["_run_shown_seen"] = st.session_state["current_run"]


shown_id = shown_run_picker({r.run_id: r for r in list_runs()})


@st.fragment(run_every=2)
def live_status(shown_id: str | None, drawn_busy: bool):
    """Progress of runs still going (any tab, any session), refreshed every 2 s, each with a Cancel button; then the
    shown run. Redraws the page when this setup's runs start or stop (Start's state follows, in every tab)."""
    runs = list_runs()
    running = [r for r in runs if r.active]
    for r in running:
        with st.status(f"Running {r.run_id}", expanded=True):
            if run_progress(r, key=f"run_cancel_{r.run_id}"):
                cancel_run(r)
    if bool(state.busy_runs()) != drawn_busy:  # this setup's run ended, or another tab started one
        st.rerun()
    if shown_id is None:
        st.caption("This setup has not started a run yet: its results will show here.")
        return
    mine = shown_id in state.setup_runs()
    st.caption(f"Showing run **{shown_id}**" + (" (started from this setup)." if mine else
                                                 " (not started from this setup: chosen in the picker above)."))
    for r in runs:
        if r.run_id == shown_id:
            s = r.status()
            if s.state.broken:
                st.error(f"Run {r.run_id} stopped: {s.message}")
            elif s.state is RunState.CANCELLED:
                st.warning(f"Run {r.run_id} was cancelled: {s.message}")
            elif s.state is RunState.COMPLETE:
                res = r.record()
                st.subheader(f"Results of {r.run_id}")
                st.write(f"{res.anchors.count:,} anchors · device {res.device} · "
                         f"{res.wall_seconds / 60:.1f} min")
                for w in run_warnings(res):  # the run's checks: legal but degenerate inputs or results
                    st.warning(f"{w['message']} (`{w['key']}`)")
                table = results_table(res)
                st.dataframe(table, hide_index=True)
                st.download_button("results as CSV", table.to_csv(index=False), f"{r.run_id}.csv", key="run_csv")
                st.caption("Macro-F1 on the target test set, mean ± std over seeds. "
                           "LR trains on target data (not zero-shot). mplm's default is multilingual-e5-small "
                           "dequantised from 4-bit weights, not mBERT.")
                with st.expander("Fine-tuning: epochs, speed and MFU"):
                    st.dataframe(fine_tune_table(res), hide_index=True,
                                 column_config={"MFU": st.column_config.NumberColumn(format="percent")})
                    st.caption("MFU: the matmul FLOP/s a fine-tune achieved over this machine's measured matmul "
                               "rate (`python -m mosecrot_viz bench`). Speed is empty for a fine-tune this run "
                               "reused from the model cache: its times belong to the run that trained it.")
                environment_expander(res)
            elif s.state.active:
                st.info(f"Run {r.run_id} is {s.state.value}: its results show here when it ends (progress above).")


live_status(shown_id, bool(busy))
