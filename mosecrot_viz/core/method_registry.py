"""The run's methods by name, as data: one `MapperSpec` per mapper, and the baselines. No torch, no scikit-learn.

Every list of method names reads this module: the CLI's `--methods` (`cli.METHOD_NAMES`), `ExperimentConfig`'s
validation and the Run page's choices (`experiment.config.ALL_METHODS`), `RR_MAPPERS`, and the mapper contract test
(`tests/core/test_mapper_contract.py`). The name lists are live views of `MAPPERS`, so a mapper registered with
`register` (one place) is found by all of them. Importing this module costs nothing, which is why `run --help` can
list the methods without importing torch: the estimator classes are named by import path and loaded only when a
mapper is built (`MapperSpec.build`, called by `core.mappers.make_mapper`).

>>> MAPPERS["rr-sparsemax"].params["weighting"]
'sparsemax'
>>> "lexcopy-rr-keep" in RR_MAPPER_NAMES, "lexcopy-ls" in RR_MAPPER_NAMES
(True, False)
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

#: the run's methods that are not mappers (`experiment.run`): target-language LR, the multilingual PLM, the English
#: model on target text as it is, the majority class
BASELINES = ("lr", "mplm", "source", "majority")
_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # no "+" (the `+st` suffix) and no "," (the CLI's list separator)
_HERE = "mosecrot_viz.core.mappers"


@dataclass(frozen=True)
class MapperSpec:
    """One registered mapper: its method name, the estimator class, and the parameters that make this variant.

    name : the method name (`--methods`, results.json's method keys); lower-case words joined by "-".
    estimator : the estimator class, or its import path "package.module:Class" (loaded by `build`, so that
        naming it here imports nothing).
    params : the constructor arguments fixed for this name (e.g. weighting="softmax"); `build`'s overrides win.
    takes_rr_options : the run's top-k, temperature and device are passed to it (`experiment.spaces.configured_mapper`).
    wraps : the registered mapper this one is built around (the lexcopy variants): its name is passed as the
        estimator's `base`, and every override the estimator does not take itself (`base`, `base_params`) goes
        into `base_params`, so it configures the wrapped mapper. A wrapper takes the run's options when the mapper
        it wraps does.
    """

    name: str
    estimator: type | str
    params: Mapping = field(default_factory=dict)
    takes_rr_options: bool = False
    wraps: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def estimator_class(self) -> type:
        """The estimator class, imported from its path on first use."""
        if not isinstance(self.estimator, str):
            return self.estimator
        module, _, name = self.estimator.partition(":")
        return getattr(importlib.import_module(module), name)

    def build(self, **overrides):
        """An unfitted estimator with this entry's parameters, `overrides` winning (e.g. k, temperature)."""
        params = dict(self.params)
        if self.wraps is not None:
            forwarded = {k: v for k, v in overrides.items() if k not in ("base", "base_params")}
            overrides = {k: v for k, v in overrides.items() if k not in forwarded}
            params = {"base": self.wraps, **params, **overrides}
            if forwarded:
                params["base_params"] = {**(params.get("base_params") or {}), **forwarded}
            return self.estimator_class()(**params)
        return self.estimator_class()(**{**params, **overrides})


MAPPERS: dict[str, MapperSpec] = {}


def register(spec: MapperSpec) -> MapperSpec:
    """Add `spec` to `MAPPERS` (the one place a new mapper is declared) and return it.

    Refused with a ValueError: a name already taken (by a mapper or a baseline), a name that is not lower-case words
    joined by "-", and a `wraps` that names no registered mapper."""
    if spec.name in MAPPERS or spec.name in BASELINES:
        raise ValueError(f"method name {spec.name!r} is already taken")
    if not _NAME.fullmatch(spec.name):
        raise ValueError(f"method name {spec.name!r}: use lower-case letters and digits joined by '-'")
    if spec.wraps is not None and spec.wraps not in MAPPERS:
        raise ValueError(f"{spec.name!r} wraps {spec.wraps!r}, which is not a registered mapper")
    MAPPERS[spec.name] = spec
    return spec


def takes_rr_options(name: str) -> bool:
    """True when mapper `name` takes the run's top-k, temperature and device (itself, or the mapper it wraps)."""
    spec = MAPPERS[name]
    return spec.takes_rr_options or (spec.wraps is not None and takes_rr_options(spec.wraps))


class Names(Sequence):
    """A read-only tuple of names computed from the registry each time it is read, so that a mapper registered after
    a module took the list is in it. Supports what a tuple of str does for reading: `in`, iteration, indexing,
    len, `+ tuple`, equality with a tuple or list."""

    def __init__(self, read: Callable[[], tuple]):
        self._read = read

    def __getitem__(self, i):
        return self._read()[i]

    def __len__(self) -> int:
        return len(self._read())

    def __contains__(self, name) -> bool:
        return name in self._read()

    def __iter__(self):
        return iter(self._read())

    def __add__(self, other) -> tuple:
        return self._read() + tuple(other)

    def __eq__(self, other) -> bool:
        return isinstance(other, (tuple, list, Names)) and self._read() == tuple(other)

    __hash__ = None

    def __repr__(self) -> str:
        return repr(self._read())


#: every registered mapper, in registration order (the order the CLI, the Run page and results tables list them)
MAPPER_NAMES = Names(lambda: tuple(MAPPERS))
#: every method a run takes: the mappers, then the baselines
METHOD_NAMES = Names(lambda: tuple(MAPPERS) + BASELINES)
#: the mappers that take the run's top-k / temperature / device (RR, and what wraps it)
RR_MAPPER_NAMES = Names(lambda: tuple(n for n in MAPPERS if takes_rr_options(n)))


for _spec in (
    MapperSpec("rr-standard", f"{_HERE}:RelativeMapper", {"weighting": "standard", "temperature": 1.0},
               takes_rr_options=True),
    MapperSpec("rr-softmax", f"{_HERE}:RelativeMapper", {"weighting": "softmax", "temperature": 0.05},
               takes_rr_options=True),
    MapperSpec("rr-sparsemax", f"{_HERE}:RelativeMapper", {"weighting": "sparsemax", "temperature": 0.1},
               takes_rr_options=True),
    MapperSpec("ls", f"{_HERE}:LeastSquaresMapper"),
    MapperSpec("procrustes", f"{_HERE}:ProcrustesMapper"),
    MapperSpec("rr-softmax-keep", f"{_HERE}:RelativeMapper",
               {"weighting": "softmax", "temperature": 0.05, "reinit_source": False}, takes_rr_options=True),
    MapperSpec("rr-procrustes-keep", f"{_HERE}:ProcrustesRelativeMapper", takes_rr_options=True),
    MapperSpec("lexcopy-procrustes", f"{_HERE}:LexiconCopyMapper", wraps="procrustes"),
    MapperSpec("lexcopy-ls", f"{_HERE}:LexiconCopyMapper", wraps="ls"),
    MapperSpec("lexcopy-rr-keep", f"{_HERE}:LexiconCopyMapper", wraps="rr-softmax-keep"),
):
    register(_spec)
del _spec
