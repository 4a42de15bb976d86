"""Experiment grids: a YAML file whose axes multiply into trials, each with a stable id.

A grid is what a full study looks like (languages x methods x seeds x k x anchor counts). Every
combination of the axes becomes one `ExperimentConfig`; its id is a hash of that config, so a
re-run of the same grid into the same store finds which trials are already complete and skips
them. The engines that run the trials live in `engines.py`.

    name: langs-methods            # optional, used in folder names
    base:                          # ExperimentConfig fields every trial shares
      train: data/en_train.tsv     # relative paths are read beside the grid file
      epochs: 5
    axes:                          # every combination is one trial
      language:                    # a list of mappings sets several fields at once
        - {name: zh, lang: zh, vectors: default:zh, lexicon: default:zh, test: data/zh_test.tsv}
        - {name: fr, lang: fr, vectors: default:fr, lexicon: default:fr, test: data/fr_test.tsv}
      method: [rr-softmax, ls]     # shorthand for methods: [VALUE]
      seed: [1, 2]                 # shorthand for seeds: [VALUE]
      top_k: [10, 50, all]         # any other field by its name ("all" = None for top_k, n_anchors)

Every value is checked against its run option when the file is loaded: its type (pydantic, lax mode, over the field
types of `experiment.options`): numbers written as YAML 1.1 strings (`lr: 1e-4`) are coerced, a value that is not
one (`lr: fast`) stops the load with the field named; then its bounds and choices by `options.check_value`, the
validator the command line and the app use, so a refusal reads as the CLI's (`field 'epochs': --epochs must be a
whole number >= 1, got 0`). Unknown fields are refused. Each trial is then checked whole by
`ExperimentConfig.validate` (methods, options that depend on each other), also before any trial runs.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mosecrot_viz.errors import InputError, LimitError
from mosecrot_viz.experiment import options
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.io.structured import load_yaml

ALIASES = {"method": "methods", "seed": "seeds"}  # axis shorthand -> field that takes a one-item list
PATH_FIELDS = ("vectors", "lexicon", "train", "test", "dev", "target_train", "source_test",
               "source_model", "multilingual_model", "model_cache")
RUN_ONLY_FIELDS = ("out", "sweep", "model_cache")  # do not change what a trial computes
MAX_TRIALS = 10_000


@dataclass(frozen=True)
class Trial:
    """One point of a grid: its stable id, a readable label per axis, and its config."""

    trial_id: str
    labels: dict
    config: ExperimentConfig = field(compare=False)

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.labels.items())

    @property
    def folder_name(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in "-".join(map(str, self.labels.values())))
        return f"{safe[:40]}-{self.trial_id}"


@dataclass(frozen=True)
class Grid:
    """A parsed grid file: name, shared base fields and the axes to multiply."""

    name: str
    base: dict
    axes: dict
    source: str = ""

    @property
    def grid_id(self) -> str:
        """Stable across re-runs of the same grid (the Compare page groups trials by it)."""
        blob = json.dumps({"name": self.name, "base": self.base, "axes": self.axes}, sort_keys=True, default=str,
                          allow_nan=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:8]


def _resolve_path(value, folder: Path):
    """A relative path that exists beside the grid file is read from there; ids and defaults pass."""
    if not isinstance(value, str) or value.startswith("default") or Path(value).is_absolute():
        return value
    candidate = folder / value
    return str(candidate) if candidate.exists() else value


@lru_cache(maxsize=None)
def _field_adapter(key: str):
    """A pydantic TypeAdapter for one run option, from its field's type (experiment.options)."""
    from pydantic import TypeAdapter

    return TypeAdapter(options.type_of(key))


def _typed(key: str, value, where: str, source: str):
    """`value` coerced to field `key`'s type (YAML 1.1 reads `1e-4` as the string "1e-4": it becomes 0.0001), then
    checked against the option's bounds and choices (`options.check_value`, the CLI's and the app's validator), or
    an InputError naming the field; checked when the grid is loaded, before any trial."""
    from pydantic import ValidationError

    value = _normalise(key, value)
    try:
        value = _field_adapter(key).validate_python(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        at = "".join(f"[{p}]" for p in err["loc"])
        raise InputError(f"{where}: field {key!r}{at}: {err['msg'][:1].lower()}{err['msg'][1:]}, got {value!r}",
                         source) from None
    try:
        return options.check_value(key, value)
    except options.OptionError as exc:
        raise InputError(f"{where}: field {key!r}: {exc}", source) from None


def _typed_axis_value(axis: str, value, source: str):
    if isinstance(value, dict):
        return {k: (v if k == "name" else _typed(k, v, f"axis {axis!r}", source)) for k, v in value.items()}
    key = ALIASES.get(axis, axis)
    if axis in ALIASES:  # a one-item list field given one item
        return _typed(key, [value], f"axis {axis!r}", source)[0]
    return _typed(key, value, f"axis {axis!r}", source)


def _normalise(key: str, value):
    if key in ("top_k", "n_anchors") and isinstance(value, str) and value.lower() == "all":
        return None
    return value


def parse_grid(data: dict, folder: Path | None = None, source: str = "grid") -> Grid:
    """Validate a grid mapping (from YAML); paths relative to `folder`. Raises `InputError`."""
    if not isinstance(data, dict):
        raise InputError("a grid file must be a mapping with 'base' and 'axes'", source)
    unknown = set(data) - {"name", "base", "axes"}
    if unknown:
        raise InputError(f"unknown top-level keys {sorted(unknown)}; expected name, base, axes", source)
    base, axes = data.get("base") or {}, data.get("axes") or {}
    if not isinstance(base, dict) or not isinstance(axes, dict):
        raise InputError("'base' and 'axes' must be mappings", source)
    fields = set(ExperimentConfig.__dataclass_fields__)
    bad = [k for k in base if k not in fields]
    if bad:
        raise InputError(f"unknown config fields in base: {bad}", source)
    for axis, values in axes.items():
        if not isinstance(values, list) or not values:
            raise InputError(f"axis {axis!r} must be a non-empty list", source)
    check_trial_count(axes, source)  # before any value is checked, typed or expanded
    for axis, values in axes.items():
        for v in values:
            keys = [k for k in v if k != "name"] if isinstance(v, dict) else [ALIASES.get(axis, axis)]
            wrong = [k for k in keys if k not in fields]
            if wrong:
                raise InputError(f"axis {axis!r}: unknown config fields {wrong}", source)
    base = {k: _typed(k, v, "base", source) for k, v in base.items()}
    axes = {axis: [_typed_axis_value(axis, v, source) for v in values] for axis, values in axes.items()}
    folder = folder or Path(".")
    base = {k: (_resolve_path(v, folder) if k in PATH_FIELDS else v) for k, v in base.items()}
    return Grid(name=str(data.get("name") or Path(source).stem), base=base, axes=axes, source=source)


def load_grid(path) -> Grid:
    """Read and validate a grid YAML file (within the size, nesting and alias limits of `io.structured`)."""
    path = Path(path)
    try:
        data = load_yaml(path, kind="grid")
    except OSError as exc:
        raise InputError(f"cannot read grid file: {exc.strerror}", path) from None
    return parse_grid(data, path.parent, str(path))


def trial_count(axes: dict) -> int:
    """How many trials `axes` multiply into (one when there are none), counted without building any."""
    return math.prod(len(v) for v in axes.values()) if axes else 1


def check_trial_count(axes: dict, source: str) -> int:
    """The product of the axis lengths, or `LimitError` naming each length and the product past MAX_TRIALS.

    Why: `itertools.product` over 10 axes of 10 values is 10^10 tuples (5.1 GB before the old check ran);
    the product of the lengths is known before anything is built.
    """
    n = trial_count(axes)
    if n > MAX_TRIALS:
        sizes = " x ".join(f"{len(v)} {k}" for k, v in axes.items())
        raise LimitError(f"the grid has {sizes} = {n:,} trials; the limit is {MAX_TRIALS:,} (split it into "
                         "several grids)", source)
    return n


def trial_id(cfg: ExperimentConfig) -> str:
    """A hash of everything that shapes a trial's result (not where it is written)."""
    d = {k: v for k, v in cfg.to_dict().items() if k not in RUN_ONLY_FIELDS}
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str, allow_nan=False).encode()).hexdigest()[:12]


def _apply(fields: dict, axis: str, value, folder: Path) -> str:
    """Set one axis value into `fields`; returns its label."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k != "name":
                fields[k] = _resolve_path(v, folder) if k in PATH_FIELDS else _normalise(k, v)
        return str(value.get("name") or next(iter(v for k, v in value.items() if k != "name"), "?"))
    key = ALIASES.get(axis, axis)
    fields[key] = [value] if axis in ALIASES else _normalise(key, value)
    return "all" if value is None else str(value)


def expand(grid: Grid) -> list[Trial]:
    """Every combination of the axes as a validated trial, in axis order."""
    folder = Path(grid.source).parent if grid.source else Path(".")
    names = list(grid.axes)
    check_trial_count(grid.axes, grid.source)  # a Grid built by hand skips parse_grid: multiply before expanding
    combos = itertools.product(*(grid.axes[n] for n in names)) if names else [()]
    trials, seen = [], set()
    for combo in combos:
        fields = copy.deepcopy(grid.base)
        labels = {n: _apply(fields, n, v, folder) for n, v in zip(names, combo)}
        missing = [f for f in ("vectors", "lexicon", "train", "test") if f not in fields]
        if missing:
            raise InputError(f"trial {labels} has no {missing} (set them in base or an axis)", grid.source)
        try:
            cfg = ExperimentConfig.from_dict(fields).validate()
        except TypeError as exc:
            raise InputError(f"trial {labels}: {exc}", grid.source) from None
        except InputError as exc:
            raise InputError(f"trial {labels}: {exc}", grid.source) from None
        tid = trial_id(cfg)
        if tid in seen:
            continue  # two axis combinations that describe the same experiment run once
        seen.add(tid)
        cfg.sweep = {"id": grid.grid_id, "param": "grid", "value": ", ".join(f"{k}={v}" for k, v in labels.items()),
                     "name": grid.name, "axes": labels, "trial": tid}
        trials.append(Trial(tid, labels, cfg))
    return trials
