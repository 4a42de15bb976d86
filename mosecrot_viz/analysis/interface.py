"""The analysis contract (LIT's `Interpreter` is the model): an `Analysis` names its compute function, what it
reads of a run (`needs`), its parameters with their defaults and its typed result. The registered ones are in
`analysis.catalogue`; `analysis.registry` reads or computes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

#: what an analysis may declare it reads (a `RunSources` attribute each)
NEEDS = frozenset({"config", "results", "predictions", "inputs", "spaces", "mappers", "device", "result"})


class Declared:
    """`sources` as one analysis sees it: only what it declared it needs (so `needs` is always the truth)."""

    def __init__(self, sources, name: str, needs: frozenset):
        self._sources, self._name, self._needs = sources, name, needs

    def __getattr__(self, attr):
        if attr not in self._needs:
            raise AttributeError(f"analysis {self._name!r} reads {attr!r} without declaring it in `needs`")
        return getattr(self._sources, attr)


def _always(_) -> bool:
    return True


@dataclass(frozen=True)
class Analysis:
    """One analysis: `compute(sources, **params)` returns an instance of `result` (a type with to_json/from_json).

    needs: the `RunSources` attributes compute reads; params: every parameter with its default; defaults:
    (sources) -> the parameter sets computed once the run has finished (None: only on request); applies:
    (sources) -> whether the run can have this analysis (held-out BLI needs a mapper); keep: (params) -> whether
    a result computed on request is stored (a search is not); version: bump when the result's meaning changes
    (older stored entries are then computed again); spinner: what the app says while computing it."""

    name: str
    compute: Callable
    result: type
    needs: frozenset
    params: dict = field(default_factory=dict)
    defaults: Callable | None = None
    applies: Callable = _always
    keep: Callable = _always
    version: int = 1
    spinner: str = ""

    def __post_init__(self):
        if not self.needs <= NEEDS:
            raise ValueError(f"analysis {self.name!r} needs {sorted(self.needs - NEEDS)}: not among {sorted(NEEDS)}")

    def bind(self, params: dict) -> dict:
        """`params` over the defaults, as JSON values (tuples as lists); an unknown name is a TypeError."""
        unknown = set(params) - set(self.params)
        if unknown:
            raise TypeError(f"analysis {self.name!r} has no parameter {', '.join(sorted(unknown))}")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in {**self.params, **params}.items()}
