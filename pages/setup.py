"""Setup: choose target vectors, lexicon and task data (default, shared SIB-200, upload or server path)."""
import streamlit as st

from mosecrot_viz.core.anchors import extract_anchors
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.limits import describe_limits
from mosecrot_viz.io.models import is_uncased
from mosecrot_viz.ui import cached
from mosecrot_viz.ui.components import provenance_table
from mosecrot_viz.ui.inputs import (
    ALLOWED_VECTOR_SUFFIXES,
    MAX_UPLOAD_MB,
    demo_inputs,
    save_upload,
    sib200_available,
    sib200_inputs,
)

st.title("Setup")
sources = ["Embedded default (Bible en→zh)"] + (["SIB-200 (shared data)"] if sib200_available() else []) + ["My own files"]
choice = st.radio("inputs", sources, key="setup_source", horizontal=True)

setup = None
if choice.startswith("Embedded"):
    setup = demo_inputs()
elif choice.startswith("SIB"):
    lang = st.selectbox("target language", ["zh", "fr", "de", "es"], key="setup_sib_lang")
    setup = sib200_inputs(lang)
else:
    limits = ", ".join(f"{k}: {v:,}" for k, v in describe_limits().items())
    st.caption(f"Upload files, or give server-side paths for files larger than the upload limit "
               f"({MAX_UPLOAD_MB:,} MB). Other limits: {limits}.")
    cols = st.columns(2)
    fields = {}
    for i, (kind, label, types) in enumerate([
        ("vectors", "target static vectors (.vec .txt .bin .gz)", [s.strip(".") for s in ALLOWED_VECTOR_SUFFIXES]),
        ("lexicon", "bilingual lexicon (english target per line)", ["txt", "tsv", "gz"]),
        ("train", "English training data", ["tsv", "csv", "txt"]),
        ("test", "target-language test data", ["tsv", "csv", "txt"]),
        ("target_train", "target-language training data (for LR; optional)", ["tsv", "csv", "txt"]),
    ]):
        with cols[i % 2]:
            up = st.file_uploader(label, type=types, key=f"setup_up_{kind}")
            path = st.text_input(f"…or server path for {kind}", key=f"setup_path_{kind}")
            if up is not None:
                try:
                    fields[kind] = str(save_upload(up, kind))
                except ValueError as exc:
                    st.error(str(exc))
            elif path:
                fields[kind] = path
    lang = st.text_input("target language code (zh turns on jieba segmentation)", key="setup_lang")
    if all(k in fields for k in ("vectors", "lexicon", "train", "test")):
        setup = dict(fields, lang=lang or None, label="my files")
    else:
        st.info("Give at least vectors, lexicon, English training data and target test data.")

models_col1, models_col2 = st.columns(2)
source_model = models_col1.text_input("source model (folder, hub id, or 'default')", "default", key="setup_src_model")
mplm = models_col2.text_input("multilingual model", "default-multilingual", key="setup_mplm")

if setup is not None:
    setup.update(source_model=source_model, multilingual_model=mplm)
    try:
        kv = cached.vectors(setup["vectors"])
        pairs = cached.lexicon(setup["lexicon"])
        tok = cached.tokenizer(source_model)
        anchors = extract_anchors(pairs, tok.get_vocab(), kv.key_to_index, lowercase_source=is_uncased(tok),
                                  special_tokens=tok.all_special_tokens)
    except (InputError, OSError, ValueError) as exc:
        st.error(f"Cannot use these inputs: {exc}")
        st.stop()
    st.session_state["setup"] = setup
    c = st.columns(4)
    c[0].metric("target vocabulary", f"{len(kv.index_to_key):,}")
    c[1].metric("vector dimension", kv.vector_size)
    c[2].metric("lexicon pairs", f"{len(pairs):,}")
    c[3].metric("anchors", f"{len(anchors):,}", help="pairs with a whole-token English side and a target vector")
    st.caption("Dropped lexicon pairs by reason: " + ", ".join(f"{k}: {v:,}" for k, v in anchors.dropped.items()))
    st.success(f"Inputs ready: {setup['label']}. Go to **Run**.")

with st.expander("Provenance and licences of the embedded defaults"):
    st.dataframe(provenance_table(), hide_index=True)
