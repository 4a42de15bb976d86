"""Landing page: what this is, the embedded defaults with their licences, and the demo run."""
import tempfile

import streamlit as st

from mosecrot_viz.cli import DEMO_METHODS
from mosecrot_viz.config import ExperimentConfig
from mosecrot_viz.io.resources import resolve
from mosecrot_viz.ui.components import provenance_table, results_table, run_with_status

st.title("mosecrot_viz")
st.markdown(
    "Crosslingual model stitching (MoSECroT, arXiv 2401.04821): map an English model's embeddings and a target "
    "language's static word vectors into one space through **relative representations** over bilingual anchors, "
    "fine-tune on English, swap in the target embeddings, and test zero-shot."
)

st.subheader("Embedded defaults")
st.caption("Built from registry packages into the cache; no model hub is used.")
st.dataframe(provenance_table(), hide_index=True)

st.subheader("Demo: English → Chinese Bible verse classification")
epochs = st.slider("epochs", 1, 5, 3, key="home_epochs")
if st.button("Run the demo", type="primary", key="home_run"):
    en, zh = resolve("task:bible-en"), resolve("task:bible-zh")
    cfg = ExperimentConfig(vectors="default:zh", lexicon="default:zh", train=str(en / "train.tsv"),
                           dev=str(en / "dev.tsv"), test=str(zh / "test.tsv"), source_test=str(en / "test.tsv"),
                           target_train=str(zh / "train.tsv"), lang="zh", methods=list(DEMO_METHODS),
                           epochs=epochs, out=tempfile.mkdtemp(prefix="mosecrot-demo-"))
    out = run_with_status(cfg)
    if out is not None:
        st.session_state["last_results"] = out.results

if "last_results" in st.session_state:
    res = st.session_state["last_results"]
    st.write(f"{res['anchors']['count']} anchors; test sentences: {res['data']['test']}; "
             f"test words without a vector: {res['data']['test_unknown_word_rate']:.0%}")
    st.dataframe(results_table(res), hide_index=True)
