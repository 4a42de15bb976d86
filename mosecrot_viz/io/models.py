"""Load PLMs and their tokenizers from a local folder, an embedded default, or a hub id.

Offline-first: a hub id is tried from the local hub cache first (`local_files_only=True`) and
only goes to the network when `HF_HUB_OFFLINE` is not set; every failure says what was tried.
"""
from __future__ import annotations

import os
from pathlib import Path

from mosecrot_viz.errors import FormatError, InputError, SchemaError, UnsafeFormatError

PICKLE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")  # torch.save / pickle: can run code when loaded


def resolve_model(name_or_path: str) -> str:
    """Turn a folder or a hub id into what `from_pretrained` takes (a folder must hold config.json). The embedded
    defaults' short names (`default`, `e5`) are resolved one layer up, by `defaults.models`."""
    p = Path(name_or_path).expanduser()
    if p.exists():
        if not (p / "config.json").exists():
            raise SchemaError("model folder has no config.json", p)
        _check_config(p)
        return str(p)
    return name_or_path


def _check_config(folder: Path) -> None:
    """Read a folder's config.json within the JSON limits first (`io.structured`): transformers' own reader
    recurses without bound (RecursionError on a deeply nested file) and takes any size."""
    from mosecrot_viz.io.structured import load_json

    try:
        config = load_json(folder / "config.json", kind="model config")
    except InputError as exc:
        reason = str(exc).removeprefix(f"{folder / 'config.json'}").lstrip(":0123456789 ")
        raise FormatError(f"cannot load this model folder (config.json: {reason})", folder) from None
    if not isinstance(config, dict):
        raise FormatError(f"cannot load this model folder (config.json holds a {type(config).__name__}, not an "
                          "object)", folder)


def _load(factory, name_or_path: str, **kw):
    target = resolve_model(name_or_path)
    if Path(target).exists():
        return _load_folder(factory, Path(target), **kw)
    try:
        return factory.from_pretrained(target, local_files_only=True, **kw)
    except OSError:
        if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE"):
            raise InputError(f"model {target!r} is neither a local folder nor in the local hub cache (offline mode: "
                             "HF_HUB_OFFLINE is set); check the name or the folder") from None
        host = _hub_unreachable()
        if host:
            raise InputError(f"model {target!r} is neither a local folder nor in the local hub cache, and the hub "
                             f"({host}) does not answer; check the name or the folder") from None
    try:
        return factory.from_pretrained(target, **kw)
    except OSError as exc:
        raise InputError(f"cannot load model {target!r}: not a local folder, not cached, and the hub failed ({exc})") from None


def _hub_unreachable(timeout: float = 3.0) -> str | None:
    """The hub's host name when it does not answer a TCP connection within `timeout` seconds, else None.

    Why: without a network, `from_pretrained` retries for about a minute before failing; a mistyped
    id should fail in seconds. Behind a proxy the probe is skipped (the proxy decides).
    """
    import socket
    import threading
    from urllib.parse import urlparse

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")):
        return None
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    answered = []

    def probe() -> None:  # in a thread: name resolution has no timeout of its own
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            answered.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return None if answered else host


def _check_coverage(model, info: dict, where) -> None:
    """Refuse a model whose weights leave part of its encoder body missing or mis-shaped.

    Why: transformers initialises whatever the weights lack at random and carries on, so a folder
    with the wrong or partial weights fine-tunes from noise (F1 0.28 instead of 0.73) without a
    word. The classification head (new by design) and the pooler (absent from converted
    checkpoints such as the embedded e5) are allowed to be new.
    """
    prefix = getattr(model, "base_model_prefix", "") or ""
    mismatched = [k[0] if isinstance(k, (tuple, list)) else k for k in info.get("mismatched_keys") or ()]

    def body(key: str) -> bool:
        return (not prefix or key.startswith(prefix + ".")) and ".pooler." not in key

    missing = sorted(k for k in info.get("missing_keys") or () if body(k))
    wrong = sorted(k for k in mismatched if body(k))
    if missing or wrong:
        parts = ([f"{len(missing)} tensors missing (e.g. {missing[0]})"] if missing else []) + \
                ([f"{len(wrong)} with the wrong shape (e.g. {wrong[0]})"] if wrong else [])
        raise SchemaError(f"the weights do not cover the model's encoder: {' and '.join(parts)}; they are incomplete "
                          "or for another architecture (refused rather than filled with random values)", where)


def _load_folder(factory, folder: Path, **kw):
    """Load from a local folder; a corrupt config, tokenizer or weights file is a `FormatError` naming the folder."""
    from safetensors import SafetensorError

    try:
        return factory.from_pretrained(str(folder), local_files_only=True, **kw)
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        raise FormatError(f"cannot load this model folder ({type(exc).__name__}: {str(exc)[:300]})", folder) from None


def _check_weights(folder: Path) -> None:
    """Refuse a local folder without .safetensors weights: pickle-based weights are never opened.

    Why: `torch.load` of a pytorch_model.bin unpickles, and a crafted file runs code on load.
    """
    if any(folder.glob("*.safetensors")):
        return
    pickles = sorted(f.name for pattern in PICKLE_WEIGHTS for f in folder.glob(pattern))
    if pickles:
        raise UnsafeFormatError(f"model folder has only pickle-based weights ({', '.join(pickles[:3])}), which can run "
                                "code when loaded, and no .safetensors weights: re-save with save_pretrained(..., "
                                "safe_serialization=True)", folder)
    raise SchemaError("model folder has no .safetensors weights", folder)


def load_tokenizer(name_or_path: str):
    """The model's own tokenizer."""
    from transformers import AutoTokenizer

    return _load(AutoTokenizer, name_or_path)


def load_classifier(name_or_path: str, num_labels: int):
    """A sequence classifier with a freshly initialised head over `num_labels` classes: the architecture's own
    head, or a mean-pooling head for an encoder trained with mean pooling (`heads.classifier_pooling`)."""
    import transformers
    from transformers import AutoModelForSequenceClassification

    from mosecrot_viz.io.heads import classifier_pooling, with_head

    transformers.logging.set_verbosity_error()  # the "newly initialized head" warning is expected
    transformers.logging.disable_progress_bar()
    target = resolve_model(name_or_path)
    if Path(target).exists():
        _check_weights(Path(target))
    model, info = _load(AutoModelForSequenceClassification, name_or_path, num_labels=num_labels,
                        ignore_mismatched_sizes=True, use_safetensors=True, output_loading_info=True)
    _check_coverage(model, info, Path(target) if Path(target).exists() else repr(target))
    return with_head(model, classifier_pooling(target))


def is_uncased(tokenizer) -> bool:
    """True when the tokenizer lower-cases its input (then anchors are matched lower-cased)."""
    if getattr(tokenizer, "do_lower_case", None) is not None:
        return bool(tokenizer.do_lower_case)
    probe = tokenizer.tokenize("Hello")
    return probe == tokenizer.tokenize("hello")
