"""Where a run computes: the device choices every entry point offers, and the rule `auto` follows.

Importing this module does not import torch (the CLI builds its parser from `DEVICES` without it).
"""
from __future__ import annotations

DEVICES = ("auto", "cpu", "cuda", "mps")  # `--device`, ExperimentConfig.device, Run's selector


def pick_device(preference: str = "auto"):
    """'auto' -> cuda, then mps, then cpu (a `torch.device`); an explicit 'cuda' without a GPU is an error."""
    import torch

    if preference not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {preference!r}")
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA GPU is available")
    return torch.device(preference)
