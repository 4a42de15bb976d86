"""On-disk cache of fine-tuned classifiers, keyed by a hash of everything that shaped them.

English-only fine-tunes (the PLM with its own embeddings, the multilingual baseline) don't depend
on the target language, so a multi-language study trains them once per seed. Weights are written
with safetensors (no pickle), only by this program, into the resource cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mosecrot_viz.atomic import atomic_dir

# Bumped when how a job trains changes for the same inputs: 2 = the classification head is drawn
# from the seed (before, from whatever the process had consumed of torch's RNG); 3 = the fused AdamW
# kernel (the same update, rounded differently: weights differ by ~1e-7 per step).
PROCEDURE = 3


def tune_key(model_name: str, embeddings, freeze: bool, train_ids, train_y, dev_ids, dev_y, train_cfg, seed: int) -> str:
    """A content hash of a fine-tuning job (model, input embeddings, data, hyperparameters, seed)."""
    h = hashlib.sha256()
    h.update(str(model_name).encode())
    if embeddings is not None:
        h.update(np.ascontiguousarray(embeddings, dtype=np.float32).tobytes())
    cfg = {k: v for k, v in asdict(train_cfg).items() if not (k == "patience" and v is None)}  # off: not in the key
    h.update(json.dumps({"freeze": freeze, "cfg": cfg, "seed": seed, "procedure": PROCEDURE},
                        sort_keys=True, allow_nan=False).encode())
    for seqs in (train_ids, dev_ids):
        h.update(json.dumps([list(map(int, s)) for s in seqs], allow_nan=False).encode())
    for y in (train_y, dev_y):
        h.update(np.asarray(y, dtype=np.int64).tobytes())
    return h.hexdigest()[:32]


def load(model, folder: Path, warn=None) -> dict | None:
    """Load cached weights into `model` (same architecture) and return the history, or None on a miss.

    A corrupt entry (truncated weights, tensors that do not fit the model, a history that is not
    JSON) is a miss: it is reported through `warn` (default: `warnings.warn`) with its path and
    removed, so the fine-tune runs again and stores a sound entry; `model` is left untouched.
    """
    weights, hist = folder / "model.safetensors", folder / "history.json"
    if not (weights.exists() and hist.exists()):
        return None
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights))
        own = model.state_dict()
        if set(state) != set(own) or any(tuple(state[k].shape) != tuple(own[k].shape) for k in own):
            raise ValueError("its tensors do not match the model")
        history = json.loads(hist.read_text(encoding="utf-8"))
        if not isinstance(history, dict):
            raise ValueError("history.json is not a JSON object")
    except (SafetensorError, OSError, ValueError, UnicodeDecodeError) as exc:
        message = (f"model cache entry {folder} is corrupt ({type(exc).__name__}: {str(exc)[:160]}); "
                   "removed it and fine-tuning again")
        discard(folder)
        if warn is None:
            import warnings

            warnings.warn(message, stacklevel=2)
        else:
            warn(message)
        return None
    model.load_state_dict(state, strict=True)
    return history


def discard(folder: Path) -> None:
    """Remove a cache entry: renamed aside first (one step), so no reader finds it half deleted."""
    aside = folder.with_name(f"{folder.name}.corrupt-{uuid.uuid4().hex[:6]}")
    try:
        os.replace(folder, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def save(model, history: dict, folder: Path) -> None:
    """Write weights and history atomically (a folder renamed into place).

    Two processes (sweep trials on Ray, say) may train the same job at once: each writes its own
    temporary folder, and the second to finish keeps the first one's identical entry.
    """
    from safetensors.torch import save_file

    folder.parent.mkdir(parents=True, exist_ok=True)
    # a finished entry (history.json written last) of another writer stays; a stale incomplete one is replaced
    with atomic_dir(folder, keep=lambda p: (p / "history.json").exists()) as tmp:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / "model.safetensors"))
        (tmp / "history.json").write_text(json.dumps(history, allow_nan=False))
