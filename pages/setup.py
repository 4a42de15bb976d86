"""Setup: choose target vectors, lexicon and task data (default, shared SIB-200, upload or server path).

Each of the user's own files is read as soon as it is given, so a bad one is reported (file and
line) beside its own input rather than later, in a failed run.
"""
import os

import streamlit as st

from mosecrot_viz.core.anchors import extract_anchors
from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.errors import InputError, OverlapError
from mosecrot_viz.io.limits import describe_limits
from mosecrot_viz.io.models import is_uncased
from mosecrot_viz.io.tasks import check_labels, load_task
from mosecrot_viz.io.text import SEGMENTATIONS, resolve_rule
from mosecrot_viz.ui import cached
from mosecrot_viz.ui.components import provenance_table
from mosecrot_viz.ui.inputs import (
    ALLOWED_VECTOR_SUFFIXES,
    MAX_UPLOAD_MB,
    MUSE,
    MUSE_LICENCE,
    demo_inputs,
    save_upload,
    sib200_available,
    sib200_inputs,
)


@st.cache_data(show_spinner="reading task data", max_entries=16)
def _task(path: str, stamp: tuple):
    """A task file, read once per content version (`stamp` = size and mtime), so reruns stay cheap."""
    return load_task(path)


def check_input(kind: str, spec: str):
    """Read one input as the run will, raising its `InputError`; returns task frames (None otherwise)."""
    if kind == "vectors":
        cached.vectors(spec)
    elif kind == "lexicon":
        cached.lexicon(spec)
    else:
        info = os.stat(spec) if os.path.exists(spec) else None
        return _task(spec, (info.st_size, info.st_mtime_ns) if info else None)
    return None


st.title("Setup")
sources = ["Embedded default (Bible en→zh)"] + (["SIB-200 (shared data)"] if sib200_available() else []) + ["My own files"]
choice = st.radio("inputs", sources, key="setup_source", horizontal=True)

setup = None
if choice.startswith("Embedded"):
    setup = demo_inputs()
elif choice.startswith("SIB"):
    lang = st.selectbox("target language", ["zh", "fr", "de", "es"], key="setup_sib_lang")
    setup = sib200_inputs(lang)
    if lang in MUSE:
        st.caption(f"Lexicon: {MUSE_LICENCE}; SIB-200's sentences are Flores-200, CC BY-SA 4.0.")
else:
    limits = ", ".join(f"{k}: {v:,}" for k, v in describe_limits().items())
    st.caption(f"Upload files, or give server-side paths for files larger than the upload limit "
               f"({MAX_UPLOAD_MB:,} MB). Other limits: {limits}.")
    cols = st.columns(2)
    fields, frames = {}, {}
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
                except ValueError as exc:  # InputError (size, name) and OS-level refusals alike
                    st.error(str(exc))
            elif path:
                fields[kind] = path
            if kind in fields:
                try:
                    frames[kind] = check_input(kind, fields[kind])
                except InputError as exc:  # an upload is named as the user named it, not by its private copy
                    st.error(str(exc).replace(fields[kind], up.name) if up is not None else str(exc))
                    del fields[kind]
    if "train" in frames and "test" in frames:
        try:
            check_labels(frames["train"], frames["test"], name="test")
        except InputError as exc:
            cols[1].error(str(exc))  # under the test data's input
            del fields["test"]
    lang = st.text_input("target language code (chooses the segmentation rule: jieba for zh, elision for fr/it/ca)",
                         key="setup_lang")
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
    except OverlapError as exc:  # no single file to blame: say which two were compared
        st.error(f"Cannot use these inputs: {setup['lexicon']} against {setup['vectors']} and the vocabulary of "
                 f"{source_model}: {exc}")
        st.stop()
    except (InputError, OSError, ValueError) as exc:
        st.error(f"Cannot use these inputs: {exc}")
        st.stop()
    rule = st.selectbox("target segmentation (split text as the vectors were built)", SEGMENTATIONS,
                        key="setup_segmentation", format_func=lambda r: f"auto: {resolve_rule(r, setup.get('lang'))}"
                        if r == "auto" else r, help="words: a Unicode word regex; elision: l' + autre (fr/it/ca); "
                        "elision-clitics: also a + -t + -il (spaCy's French); jieba: Chinese")
    setup["segmentation"] = rule
    st.session_state["setup"] = setup
    test_enc = WordTokenizer(kv.index_to_key, tok.special_tokens_map, lang=setup.get("lang"),
                             segmentation=rule).encode(check_input("test", setup["test"])["text"], max_length=10**6)
    n_words = int(test_enc.n_words.sum())
    unknown = float((test_enc.unknown_rate * test_enc.n_words).sum() / max(n_words, 1))
    c = st.columns(5)
    c[0].metric("target vocabulary", f"{len(kv.index_to_key):,}")
    c[1].metric("vector dimension", kv.vector_size)
    c[2].metric("lexicon pairs", f"{len(pairs):,}")
    c[3].metric("anchors", f"{len(anchors):,}", help="pairs with a whole-token English side and a target vector")
    c[4].metric("test words without a vector", f"{unknown:.1%}", help=f"{n_words:,} test words after segmentation")
    st.caption("Dropped lexicon pairs by reason: " + ", ".join(f"{k}: {v:,}" for k, v in anchors.dropped.items()))
    st.success(f"Inputs ready: {setup['label']}. Go to **Run**.")

with st.expander("Provenance and licences of the embedded defaults"):
    st.dataframe(provenance_table(), hide_index=True)
