"""Input choices for the Setup page: embedded default, shared SIB-200, or the user's own files.

Uploads are written to this setup's folder in the app's data folder (`ui.state.uploads_dir`, beside
the run store, so a run's inputs outlive a restart; gensim wants a path anyway) under a sanitised
version of their name (directories dropped, odd characters replaced, suffix kept), size-checked;
nothing uploaded is ever unpickled.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from mosecrot_viz.atomic import atomic_path
from mosecrot_viz.defaults.registry import (  # noqa: F401  (the demo re-exported for the pages)
    DEMO_METHODS,
    SIB_FOLDERS,
    demo_inputs,
    shared_data_dir,
)
from mosecrot_viz.errors import LimitError, PathError

MUSE = {"zh": "en-zh.txt", "de": "en-de.txt", "es": "en-es.txt"}
MUSE_LICENCE = "MUSE dictionaries: CC BY-NC 4.0 (non-commercial use only)"
MAX_UPLOAD_MB = 1024
ALLOWED_VECTOR_SUFFIXES = (".vec", ".txt", ".bin", ".gz", ".vector")


def sib200_available() -> bool:
    """True when the shared data ($MOSECROT_SHARED_DATA, else ../shared/data) holds SIB-200 (developers' machines)."""
    return (shared_data_dir() / "sib200").exists()


def sib200_inputs(lang: str) -> dict:
    """SIB-200 English -> `lang` with MUSE (or the default lexicon where MUSE has none) and default vectors."""
    shared = shared_data_dir()
    sib = shared / "sib200"
    lex = str(shared / "lexicons" / "muse" / MUSE[lang]) if lang in MUSE else f"default:{lang}"
    return {"vectors": f"default:{lang}", "lexicon": lex, "train": str(sib / "eng_Latn" / "train.tsv"),
            "dev": str(sib / "eng_Latn" / "dev.tsv"), "test": str(sib / SIB_FOLDERS[lang] / "test.tsv"),
            "source_test": str(sib / "eng_Latn" / "test.tsv"), "target_train": str(sib / SIB_FOLDERS[lang] / "train.tsv"),
            "lang": lang, "label": f"SIB-200 en→{lang}" + (" (MUSE lexicon, CC BY-NC 4.0)" if lang in MUSE else "")}


def safe_upload_name(name: str) -> str:
    """A plain file name for an uploaded file's browser-given `name`, or `PathError`.

    Why: the name comes from the client and must never become a path. Directories (`/` or `\\`)
    are dropped, characters other than letters, digits, `.`, `-`, `_` become `_`, leading dots go
    (no hidden files, no `..`), and the length is capped; the suffix is kept because the loaders
    read the format from it. A name holding NUL or control characters, or with nothing left, is
    refused.
    """
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise PathError("upload name holds control characters (NUL, line breaks): rename the file", repr(name))
    base = re.split(r"[/\\]", name)[-1]
    base = re.sub(r"[^\w.\-]", "_", base).lstrip(".")
    if not base.strip("._-"):
        raise PathError("upload name is not a file name (empty, or only dots and separators): rename the file",
                        repr(name))
    if len(base.encode()) > 150:  # file systems stop at 255 bytes; keep the (up to two) suffixes, cut the stem
        suffix = "".join(Path(base).suffixes[-2:])[-20:]
        stem = base[: len(base) - len(suffix)]
        base = stem.encode()[: 150 - len(suffix.encode())].decode("utf-8", "ignore") + suffix
    return base


def save_upload(uploaded, kind: str, folder: Path) -> Path:
    """Write an uploaded file into `folder` (this setup's uploads folder, `ui.state.uploads_dir`) under a sanitised
    name; refuse oversize files.

    Raises `LimitError` over `MAX_UPLOAD_MB` and `PathError` for a name that is not a plain file
    name; the saved file always lies directly inside the folder.
    """
    size_mb = uploaded.size / 2**20
    if size_mb > MAX_UPLOAD_MB:
        raise LimitError(f"upload is {size_mb:.0f} MB; the limit is {MAX_UPLOAD_MB} MB: give a server path instead",
                         repr(uploaded.name))
    folder = Path(folder).resolve()
    # Streamlit gives each upload its own id: a new file under an old name gets a new path (so no
    # cache keyed by path serves the old content), and a rerun finds the file already written.
    upload_id = re.sub(r"[^0-9A-Za-z]", "", str(getattr(uploaded, "file_id", "") or ""))[:12]
    path = folder / "-".join(filter(None, [kind, upload_id, safe_upload_name(uploaded.name)]))
    if path.resolve().parent != folder:  # cannot happen after sanitising; kept as the last line of defence
        raise PathError("upload name would leave the upload folder", repr(uploaded.name))
    if not (upload_id and path.exists() and path.stat().st_size == uploaded.size):
        with atomic_path(path) as tmp:
            tmp.write_bytes(uploaded.getbuffer())
    return path
