"""What produced a run: package versions, git commit, device and the sha256 of every input file.

`run_environment(cfg, device)` is stored as `results.json["environment"]`, so a stored run can say which code,
libraries, hardware and exact files it came from. `default:` specs and model aliases are resolved to the cached
files they stand for and those are hashed; a hub id that is not a local folder is recorded as the id.
"""
from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "transformers", "numpy", "tokenizers", "safetensors", "gensim", "scikit-learn", "pandas")
#: config field -> resource kind for `default:` specs (task files are plain paths)
INPUT_FIELDS = {"vectors": "vectors", "lexicon": "lexicon", "train": None, "dev": None, "test": None,
                "target_train": None, "source_test": None}
#: files of a model folder that decide its behaviour (weights, config, tokenizer)
MODEL_SUFFIXES = (".json", ".safetensors", ".bin", ".txt", ".model")


def _sha256(path: Path) -> str:
    st = path.stat()
    return _sha256_cached(str(path.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256_cached(path: str, _size: int, _mtime_ns: int) -> str:
    """Hex sha256 of a file, cached by (path, size, mtime) so a sweep's trials hash a large file once."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def file_record(path) -> dict:
    """{"path", "bytes", "sha256"} of one input file."""
    p = Path(path)
    return {"path": str(p), "bytes": p.stat().st_size, "sha256": _sha256(p)}


def model_record(name_or_path: str) -> dict:
    """A model folder's files (config, weights, tokenizer) with their hashes, or the hub id when not a folder."""
    from mosecrot_viz.defaults.models import resolve_model

    folder = Path(resolve_model(name_or_path)).expanduser()
    if not folder.is_dir():
        return {"spec": name_or_path, "hub_id": name_or_path}
    files = {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.is_file() and p.suffix in MODEL_SUFFIXES}
    return {"spec": name_or_path, "path": str(folder), "files": files}


def input_hashes(cfg) -> dict:
    """sha256 of every input file the config names (`default:` specs resolved to the cached file)."""
    from mosecrot_viz.defaults.registry import resolve_spec

    out = {}
    for field, kind in INPUT_FIELDS.items():
        value = getattr(cfg, field, None)
        if not value:
            continue
        path = Path(resolve_spec(value, kind) if kind else value)
        out[field] = {"spec": value, **file_record(path)} if path.is_file() else {"spec": value, "missing": True}
    out["source_model"] = model_record(cfg.source_model)
    if "mplm" in (cfg.methods or ()):
        out["multilingual_model"] = model_record(cfg.multilingual_model)
    return out


def package_versions() -> dict:
    from mosecrot_viz import __version__

    versions = {"python": platform.python_version(), "mosecrot-viz": __version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(root: Path | None = None) -> dict | None:
    """{"commit", "dirty"} of the checkout holding this package, or None (installed package, no git)."""
    root = root or Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip()) if dirty.returncode == 0 else None}


def device_record(device) -> dict:
    """The run's device with a human name (GPU model, or the CPU model and core count)."""
    kind = str(getattr(device, "type", device))
    rec = {"device": str(device), "platform": platform.platform()}
    if kind == "cuda":
        import torch

        index = getattr(device, "index", None)
        index = torch.cuda.current_device() if index is None else index
        rec.update(name=torch.cuda.get_device_name(index), cuda=torch.version.cuda)
    elif kind == "mps":
        rec["name"] = "Apple MPS"
    else:
        rec.update(name=_cpu_name(), cpus=os.cpu_count())
    return rec


def auto_device_line() -> str:
    """What `--device auto` will use here, in words (the Run page's device line)."""
    from mosecrot_viz.core.training import pick_device

    rec = device_record(pick_device("auto"))
    if rec["device"].startswith("cuda"):
        return f"CUDA GPU: {rec['name']}"
    return f"{rec['name']} (MPS)" if rec["device"] == "mps" else "CPU (no GPU found)"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_environment(cfg, device) -> dict:
    """Everything `results.json["environment"]` records about what produced a run."""
    return {"packages": package_versions(), "git": git_commit(), "device": device_record(device),
            "inputs": input_hashes(cfg)}
