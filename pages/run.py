"""Run: choose methods and settings, start a run in the background, follow it, see the results table."""
import streamlit as st
import torch

from mosecrot_viz.config import ALL_METHODS, ExperimentConfig
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.resources import cache_dir
from mosecrot_viz.runs import list_runs, start_run, start_sweep
from mosecrot_viz.sweeps import SWEEPABLE, parse_values, sweep_configs
from mosecrot_viz.ui.components import environment_expander, results_table
from mosecrot_viz.ui.inputs import demo_inputs

st.title("Run")
setup = st.session_state.get("setup") or demo_inputs()
st.caption(f"Inputs: **{setup['label']}** (change them on Setup)")

gpu = torch.cuda.is_available()
st.write(f"Device: **{'CUDA GPU: ' + torch.cuda.get_device_name(0) if gpu else 'CPU (no GPU found)'}**")
default_methods = ["rr-softmax", "ls", "source", "majority"] + (["lr"] if setup.get("target_train") else [])
methods = st.multiselect("methods", list(ALL_METHODS), default_methods, key="run_methods")
c = st.columns(5)
seeds = c[0].text_input("seeds", "1", key="run_seeds")
top_k = c[1].number_input("top-k (0 = all)", 0, 100000, 50, key="run_topk")
tau = c[2].number_input("τ (0 = per weighting)", 0.0, 10.0, 0.0, step=0.01, key="run_tau")
epochs = c[3].number_input("epochs", 1, 20, 3, key="run_epochs")
device = c[4].selectbox("device", ["auto", "cpu", "cuda"], key="run_device")
freeze = st.checkbox("freeze input embeddings during fine-tuning", True, key="run_freeze")
with st.expander("Anchor options (quality filters, subsets)"):
    ac = st.columns(4)
    policy = ac[0].selectbox("translation per target word", ["first", "one-to-one", "aligned", "self-learned"],
                             key="run_policy", help="first: lexicon order (the paper); aligned: re-chosen by a first "
                             "Procrustes alignment; self-learned: dictionary re-induced by iterated Procrustes + CSLS")
    agreement = ac[1].number_input("keep share by R_s/R_t agreement (0 = off)", 0.0, 1.0, 0.0, step=0.1, key="run_agree")
    n_anchors = ac[2].number_input("random subset of anchors (0 = all)", 0, 10**6, 0, key="run_nanchors")
    stop = ac[3].checkbox("drop stop-word anchors", False, key="run_stop")
with st.expander("Beyond the paper's setting: words without a static vector"):
    bc = st.columns(2)
    lex_vocab = bc[0].checkbox("lexicon words without a vector join the vocabulary (their translation's PLM row)",
                               False, key="run_lexvocab")
    subwords = bc[1].checkbox("other unknown words are read by the PLM's own tokenizer", False, key="run_subwords")
anchor_opts = dict(anchor_policy=policy, anchor_agreement_share=agreement or None, n_anchors=int(n_anchors) or None,
                   drop_stopword_anchors=stop, extend_vocab_from_lexicon=lex_vocab,
                   unk_policy="subwords" if subwords else "unk")

if st.button("Start run", type="primary", key="run_start"):
    try:
        cfg = ExperimentConfig.from_dict(
            setup, methods=methods, seeds=[int(s) for s in seeds.split(",") if s.strip()], top_k=int(top_k) or None,
            temperature=tau or None, epochs=int(epochs), device=device, freeze_embeddings=freeze, **anchor_opts)
        run = start_run(cfg, name=setup["label"].split()[0])
        st.session_state["current_run"] = run.run_id
    except (InputError, ValueError) as exc:
        st.error(str(exc))

with st.expander("Sweep one parameter (every trial is stored; Compare draws the curve)"):
    sc = st.columns(2)
    param = sc[0].selectbox("parameter", list(SWEEPABLE), key="run_sweep_param")
    values = sc[1].text_input("values", {"top_k": "1,10,50,100,all", "n_anchors": "500,3000,all",
                                         "temperature": "0.01,0.05,0.1,0.5", "drop_stopword_anchors": "false,true"}[param],
                              key=f"run_sweep_values_{param}")
    if st.button("Start sweep", key="run_sweep_start"):
        try:
            base = ExperimentConfig.from_dict(
                setup, methods=methods, seeds=[int(s) for s in seeds.split(",") if s.strip()], top_k=int(top_k) or None,
                temperature=tau or None, epochs=int(epochs), device=device, freeze_embeddings=freeze, **anchor_opts)
            trials = start_sweep(sweep_configs(base, param, parse_values(param, values),
                                               model_cache=str(cache_dir() / "finetuned")), name="sweep")
            st.success(f"queued {len(trials)} trials; follow them below, then open **Compare**.")
        except (InputError, ValueError) as exc:
            st.error(str(exc))


@st.fragment(run_every=2)
def live_status():
    """Progress of runs still going (any tab, any session), refreshed every 2 s."""
    running = [r for r in list_runs() if r.active]
    for r in running:
        s = r.status()
        with st.status(f"Running {r.run_id}", expanded=True):
            st.write(f"stage: {s.get('message', '')}")
            st.progress(float(s.get("fraction", 0)))
    runs = list_runs()
    # a reload or a second tab has no session state: show the newest run then
    current = st.session_state.get("current_run") or (runs[0].run_id if runs else None)
    for r in runs:
        if r.run_id == current:
            s = r.status()
            if s["state"] in ("failed", "incomplete"):
                st.error(f"Run {r.run_id} stopped: {s['message']}")
            elif s["state"] == "complete":
                res = r.results()
                st.subheader(f"Results of {r.run_id}")
                st.write(f"{res['anchors']['count']:,} anchors · device {res['device']} · "
                         f"{res['wall_seconds'] / 60:.1f} min")
                table = results_table(res)
                st.dataframe(table, hide_index=True)
                st.download_button("results as CSV", table.to_csv(index=False), f"{r.run_id}.csv", key="run_csv")
                st.caption("Macro-F1 on the target test set, mean ± std over seeds. "
                           "LR trains on target data (not zero-shot). mplm's default is multilingual-e5-small "
                           "dequantised from 4-bit weights, not mBERT.")
                environment_expander(res)


live_status()
