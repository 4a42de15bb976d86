"""Load PLMs and their tokenizers from a local folder, an embedded default, or a hub id.

Offline-first: a hub id is tried from the local hub cache first (`local_files_only=True`) and
only goes to the network when `HF_HUB_OFFLINE` is not set; every failure says what was tried.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import FormatError, InputError, SchemaError, UnsafeFormatError

# short names for the embedded defaults (resolved through the resource cache)
MODEL_ALIASES = {"default": "model:minilm", "minilm": "model:minilm", "default-multilingual": "model:e5", "e5": "model:e5"}
PICKLE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")  # torch.save / pickle: can run code when loaded


def resolve_model(name_or_path: str) -> str:
    """Turn an alias (`default`, `e5`), a folder or a hub id into what `from_pretrained` takes."""
    if name_or_path in MODEL_ALIASES:
        from .resources import resolve

        return str(resolve(MODEL_ALIASES[name_or_path]))
    p = Path(name_or_path).expanduser()
    if p.exists():
        if not (p / "config.json").exists():
            raise SchemaError("model folder has no config.json", p)
        return str(p)
    return name_or_path


def _load(factory, name_or_path: str, **kw):
    target = resolve_model(name_or_path)
    if Path(target).exists():
        return _load_folder(factory, Path(target), **kw)
    try:
        return factory.from_pretrained(target, local_files_only=True, **kw)
    except OSError:
        if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE"):
            raise InputError(f"model {target!r} is neither a local folder nor in the local hub cache (offline mode)") from None
    try:
        return factory.from_pretrained(target, **kw)
    except OSError as exc:
        raise InputError(f"cannot load model {target!r}: not a local folder, not cached, and the hub failed ({exc})") from None


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

    from .heads import classifier_pooling, with_head

    transformers.logging.set_verbosity_error()  # the "newly initialized head" warning is expected
    transformers.logging.disable_progress_bar()
    target = resolve_model(name_or_path)
    if Path(target).exists():
        _check_weights(Path(target))
    model = _load(AutoModelForSequenceClassification, name_or_path, num_labels=num_labels, ignore_mismatched_sizes=True,
                  use_safetensors=True)
    return with_head(model, classifier_pooling(target))


def is_uncased(tokenizer) -> bool:
    """True when the tokenizer lower-cases its input (then anchors are matched lower-cased)."""
    if getattr(tokenizer, "do_lower_case", None) is not None:
        return bool(tokenizer.do_lower_case)
    probe = tokenizer.tokenize("Hello")
    return probe == tokenizer.tokenize("hello")
