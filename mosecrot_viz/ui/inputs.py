"""Input choices for the Setup page: embedded default, shared SIB-200, or the user's own files.

Uploads are written to a private temporary folder (gensim wants a path) with their original
suffix, size-checked; nothing uploaded is ever unpickled.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from ..io.resources import demo_inputs  # noqa: F401  (re-exported for the pages)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SIB_FOLDERS = {"zh": "zho_Hans", "fr": "fra_Latn", "de": "deu_Latn", "es": "spa_Latn"}
MUSE = {"zh": "en-zh.txt", "de": "en-de.txt", "es": "en-es.txt"}
MAX_UPLOAD_MB = 1024
ALLOWED_VECTOR_SUFFIXES = (".vec", ".txt", ".bin", ".gz", ".vector")


def sib200_available() -> bool:
    """True when ../shared/data/sib200 is beside the checkout (developers' machines, not a user's clone)."""
    return (SHARED / "sib200").exists()


def sib200_inputs(lang: str) -> dict:
    """SIB-200 English -> `lang` with MUSE (or the default lexicon where MUSE has none) and default vectors."""
    sib = SHARED / "sib200"
    lex = str(SHARED / "lexicons" / "muse" / MUSE[lang]) if lang in MUSE else f"default:{lang}"
    return {"vectors": f"default:{lang}", "lexicon": lex, "train": str(sib / "eng_Latn" / "train.tsv"),
            "dev": str(sib / "eng_Latn" / "dev.tsv"), "test": str(sib / SIB_FOLDERS[lang] / "test.tsv"),
            "source_test": str(sib / "eng_Latn" / "test.tsv"), "target_train": str(sib / SIB_FOLDERS[lang] / "train.tsv"),
            "lang": lang, "label": f"SIB-200 en→{lang}"}


def upload_dir() -> Path:
    """This session's private folder for uploads."""
    if "upload_dir" not in st.session_state:
        st.session_state["upload_dir"] = tempfile.mkdtemp(prefix="mosecrot-upload-")
    return Path(st.session_state["upload_dir"])


def save_upload(uploaded, kind: str) -> Path:
    """Write an uploaded file to the session folder keeping its name; refuse oversize files."""
    size_mb = uploaded.size / 2**20
    if size_mb > MAX_UPLOAD_MB:
        raise ValueError(f"{uploaded.name} is {size_mb:.0f} MB; the limit is {MAX_UPLOAD_MB} MB: give a server path instead")
    name = Path(uploaded.name).name
    path = upload_dir() / f"{kind}-{name}"
    with open(path, "wb") as fh:
        fh.write(uploaded.getbuffer())
    return path
