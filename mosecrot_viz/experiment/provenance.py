"""What produced a run: package versions, git commit, device and the sha256 of every input file.

`run_environment(cfg, device)` is stored as results.json's `environment`, so a stored run can say which code,
libraries, hardware and exact files it came from. `default:` specs and model aliases are resolved to the cached
files they stand for and those are hashed; a hub id that is not a local folder is recorded as the id.
"""
from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from mosecrot_viz.paths import sha256_file

PACKAGES = ("torch", "transformers", "numpy", "tokenizers", "safetensors", "gensim", "scikit-learn", "pandas")
#: config field -> resource kind for `default:` specs (task files are plain paths)
INPUT_FIELDS = {"vectors": "vectors", "lexicon": "lexicon", "train": None, "dev": None, "test": None,
                "target_train": None, "source_test": None}
#: files of a model folder that decide its behaviour (weights, config, tokenizer)
MODEL_SUFFIXES = (".json", ".safetensors", ".bin", ".txt", ".model")


def _sha256(path: Path) -> str:
    st = path.stat()
    return _sha256_cached(str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@lru_cache(maxsize=256)
def _sha256_cached(path: str, _dev: int, _ino: int, _size: int, _mtime_ns: int, _ctime_ns: int) -> str:
    """Hex sha256 of a file, cached so a sweep's trials hash a large file once.

    Keyed by path, device, inode, size, mtime and ctime: a rewrite in place (same size, mtime set back with
    `touch -d` or `os.utime`) still changes ctime, which no user call can set, and a file replaced by a rename
    has another inode; so a changed file is hashed again."""
    return sha256_file(Path(path))


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


def verify_inputs(results) -> list[str]:
    """One line per input file that differs from what the run's `environment.inputs` recorded (sha256, or gone),
    model folders' files included; empty when all match or the run recorded no hashes.

    Why: `export` rebuilds from the input paths and `explain` reads a run beside them; a file changed since gives a
    silently different export, or figures that no longer describe the files beside them.
    """
    from mosecrot_viz.records import as_results

    inputs = (as_results(results or {}).environment or {}).get("inputs") or {}
    problems = []
    for field, rec in inputs.items():
        if not isinstance(rec, dict):
            continue
        if "sha256" in rec:
            problems += _file_changed(field, Path(str(rec.get("path", ""))), rec["sha256"])
        elif isinstance(rec.get("files"), dict) and rec.get("path"):
            folder = Path(str(rec["path"]))
            for name, digest in rec["files"].items():
                problems += _file_changed(f"{field} ({name})", folder / str(name), digest)
    return problems


def _file_changed(field: str, path: Path, digest) -> list[str]:
    flag = "--" + field.replace("_", "-")
    if not path.is_file():
        return [f"{flag} {path}: the run's input file is gone"]
    try:
        now = _sha256(path)
    except OSError as exc:
        return [f"{flag} {path}: cannot read the run's input file ({exc.strerror or exc})"]
    if now != digest:
        return [f"{flag} {path}: changed since the run (sha256 {str(digest)[:12]}... then, {now[:12]}... now)"]
    return []


def check_inputs_unchanged(results: dict, why: str) -> None:
    """Raise `InputError` (one line: the first changed file, and how many) when an input differs from the run's
    record; `why` says what depends on them."""
    from mosecrot_viz.errors import InputError

    problems = verify_inputs(results)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{problems[0]}{more}: {why}, so the result would not be this run's; restore the file or "
                         "run the experiment again")


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
    """Everything results.json's `environment` records about what produced a run."""
    return {"packages": package_versions(), "git": git_commit(), "device": device_record(device),
            "inputs": input_hashes(cfg)}
