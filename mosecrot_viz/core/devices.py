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


def available_cores() -> int:
    """CPU cores this process may use: its affinity mask, lowered by a cgroup CPU quota (containers); or
    `$MOSECROT_THREADS`, else `$OMP_NUM_THREADS` (what Ray gives a task), when set. torch's default counts the
    machine's cores, which oversubscribes a container limited to fewer."""
    import math
    import os

    for name in ("MOSECROT_THREADS", "OMP_NUM_THREADS"):
        raw = os.environ.get(name, "").strip()
        if raw:
            first = raw.split(",")[0].strip() if name == "OMP_NUM_THREADS" else raw  # OpenMP allows "4,2"
            try:
                value = int(first)
            except ValueError:
                value = 0
            if value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {raw!r}")
            return value
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:  # cgroup v2: "max 100000" or "200000 100000" (quota, period)
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


_TORCH_DEFAULT: list = []  # torch's own thread count before this module first changed it (physical cores)


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads, and the BLAS threads NumPy uses (threadpoolctl), to `threads`; by default
    to `available_cores()`, never above torch's own default (physical cores: hyperthreads slow GEMMs).
    Returns the number set.

    Called where a run or a bench measurement starts, so one process uses the cores it has and no more; runs
    go one at a time (`store.worker`), so they do not share these threads.
    """
    import torch

    if not _TORCH_DEFAULT:
        _TORCH_DEFAULT.append(torch.get_num_threads())
    n = threads or min(available_cores(), _TORCH_DEFAULT[0])
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n, user_api="blas")
    except ImportError:  # scikit-learn brings it; without it NumPy's BLAS keeps its own count
        pass
    return n
