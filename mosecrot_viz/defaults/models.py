"""Models by name: the embedded defaults' short names (`default`, `e5`, ...) or any folder or hub id.

The loaders themselves (safetensors only, offline hub cache, the classification head) are `io.models`; this module
only turns a short name into the cached folder of the registry's model first, so every caller that takes a
`--source-model` or `--multilingual-model` value goes through here.
"""
from __future__ import annotations

from mosecrot_viz.io import models as _io
from mosecrot_viz.io.models import is_uncased  # noqa: F401 (re-exported: callers read tokenizers through here)

#: short names for the embedded defaults -> registry keys (built into the cache on first use)
MODEL_ALIASES = {"default": "model:minilm", "minilm": "model:minilm", "default-multilingual": "model:e5", "e5": "model:e5"}


def resolve_model(name_or_path: str) -> str:
    """An alias -> its cached folder (built on first use); a folder or hub id -> as `io.models.resolve_model`."""
    if name_or_path in MODEL_ALIASES:
        from mosecrot_viz.defaults.registry import resolve

        return str(resolve(MODEL_ALIASES[name_or_path]))
    return _io.resolve_model(name_or_path)


def load_tokenizer(name_or_path: str):
    """The model's own tokenizer, by alias, folder or hub id."""
    return _io.load_tokenizer(resolve_model(name_or_path))


def load_classifier(name_or_path: str, num_labels: int):
    """A sequence classifier with a fresh head over `num_labels` classes, by alias, folder or hub id."""
    return _io.load_classifier(resolve_model(name_or_path), num_labels)
