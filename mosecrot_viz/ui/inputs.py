"""Input choices for the Setup page: embedded default, shared SIB-200, or the user's own files.

Uploads are written to this setup's folder in the app's data folder (`ui.state.uploads_dir`, beside
the run store, so a run's inputs outlive a restart; gensim wants a path anyway) under a sanitised
version of their name (directories dropped, odd characters replaced, suffix kept), size-checked;
nothing uploaded is ever unpickled.

Server paths (the "…or server path" fields, and a model given as a folder) are off unless
`$MOSECROT_SERVER_ROOTS` lists the folders they may name (`server_path`): the app may run as root
for a class, so a typed path outside those folders is refused before anything opens it. Messages
name an upload by the name the user gave it, never by its kept copy, and show no Python literals
(`readable_message`).
"""
from __future__ import annotations

import ast
import os
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
        raise LimitError(f"upload is {size_mb:.0f} MB; the limit is {MAX_UPLOAD_MB} MB: give a server path instead "
                         f"(where this app allows them: {SERVER_ROOTS_ENV})", uploaded.name)
    folder = Path(folder).resolve()
    # Streamlit gives each upload its own id: a new file under an old name gets a new path (so no
    # cache keyed by path serves the old content), and a rerun finds the file already written.
    upload_id = re.sub(r"[^0-9A-Za-z]", "", str(getattr(uploaded, "file_id", "") or ""))[:12]
    path = folder / "-".join(filter(None, [kind, upload_id, safe_upload_name(uploaded.name)]))
    if path.resolve().parent != folder:  # cannot happen after sanitising; kept as the last line of defence
        raise PathError("upload name would leave the upload folder", uploaded.name)
    if not (upload_id and path.exists() and path.stat().st_size == uploaded.size):
        with atomic_path(path) as tmp:
            tmp.write_bytes(uploaded.getbuffer())
    return path


# ---- server paths: off unless configured ----

SERVER_ROOTS_ENV = "MOSECROT_SERVER_ROOTS"
MODEL_NAMES = ("default", "minilm", "default-multilingual", "e5")  # defaults.models.MODEL_ALIASES: never a path


def server_roots() -> list[Path]:
    """The folders server paths may name: `$MOSECROT_SERVER_ROOTS` (separated by `os.pathsep`), each resolved.

    Empty (the default) turns server paths off. Why: the app may serve a class while running as root; a path
    field that opens any file would let anyone read the server's files through the error messages."""
    raw = os.environ.get(SERVER_ROOTS_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def server_path(value: str, kind: str) -> str:
    """`value` (a path typed into a server-path field) resolved, symlinks followed, when it lies inside one of
    `server_roots()`; otherwise `PathError`, raised from the path's text and the file system's names alone, before
    anything is opened or read (so a file outside the roots is never opened, whatever it is)."""
    roots = server_roots()
    if not roots:
        raise PathError(f"server paths are off on this app: upload the {kind} file instead (whoever runs the app can "
                        f"allow folders with {SERVER_ROOTS_ENV})", value)
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise PathError("path holds control characters", repr(value))
    path = Path(value.strip()).expanduser()
    resolved = Path(os.path.realpath(path))  # lstat/readlink only: nothing is opened
    if not any(resolved.is_relative_to(root) for root in roots):
        raise PathError(f"outside the folders this app may read ({SERVER_ROOTS_ENV}: "
                        f"{os.pathsep.join(map(str, roots))}): upload the {kind} file instead", value)
    return str(resolved)


def model_choice(value: str) -> str:
    """A source/multilingual model field's value as the run may use it: a default's name or a hub id as given (read
    from the local hub cache), a folder only inside `server_roots()` (`server_path`), else `PathError`."""
    value = value.strip()
    if value in MODEL_NAMES:
        return value
    looks_like_path = value.startswith(("/", ".", "~")) or os.path.lexists(os.path.expanduser(value))
    return server_path(value, "model folder") if looks_like_path else value


# ---- messages the user reads ----

_LITERAL = re.compile(r"\{[^{}\[\]]*\}|\[[^\[\]{}]*\]")  # a flat dict or list literal inside a message


def _plain(literal: str) -> str:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return literal
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return literal


def readable_message(message: str, names: dict | None = None, uploads_root: Path | None = None) -> str:
    """`message` as the user should read it: each kept upload's path (`names`: kept path -> the name the user gave)
    replaced by that name, any other path under `uploads_root` by its file name without the kept copy's prefix,
    and Python dict/list literals (drop reasons, label lists) written out as `key: value, ...` / `a, b`."""
    for path, name in sorted((names or {}).items(), key=lambda kv: -len(str(kv[0]))):
        for form in {str(path), str(Path(path).resolve())}:
            message = message.replace(form, name)
    if uploads_root is not None:
        root = re.escape(str(Path(uploads_root).resolve()).rstrip("/"))
        message = re.sub(root + r"/[^/\s]+/(?:[a-z_]+-)?(?:[0-9A-Za-z]{1,12}-)?([^/\s:]+)", r"\1", message)
    return _LITERAL.sub(lambda m: _plain(m.group(0)), message)


def readable_options(options: dict) -> str:
    """Run options as `top k: 50, anchor policy: one-to-one` (on/off for switches), not a dict literal."""
    def value(v):
        return "on" if v is True else "off" if v is False else f"{v:,}" if isinstance(v, int) else str(v)
    return ", ".join(f"{k.replace('_', ' ')}: {value(v)}" for k, v in options.items())
