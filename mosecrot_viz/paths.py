"""Where things live on disk: the defaults' cache and the developers' shared data folder (each defined once).

The run store's root is `store.runs.runs_root` (beside the cache by default) and the app's data folder
`ui.state.app_data_dir` (beside the run store).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

CACHE_ENV = "MOSECROT_CACHE"
SHARED_DATA_ENV = "MOSECROT_SHARED_DATA"


def cache_dir() -> Path:
    """Where defaults live; move it with the MOSECROT_CACHE environment variable."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mosecrot_viz").expanduser()


def shared_data_dir() -> Path:
    """The developers' shared data folder (SIB-200, MUSE dictionaries), read in place and never copied.

    `$MOSECROT_SHARED_DATA` when set; otherwise `../shared/data` beside a source checkout (the development
    default). Callers check that what they need exists there and skip or explain when it does not (an
    installed package or a user's fresh clone has no shared folder)."""
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def model_cache_dir() -> Path:
    """Fine-tuned models shared across runs and sweeps (`--model-cache`): `finetuned/` in the cache."""
    return cache_dir() / "finetuned"


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (constant memory): the one content key for input hashes (provenance),
    uploads (Setup) and the defaults' pinned archives and cached parses (defaults)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
