"""What every record type shares: JSON out in field order, and one-line refusals of what cannot be read.

A record is a frozen dataclass. `to_json` writes its fields in declaration order, so a record read and written back
(or built by the run) gives the same bytes as the dicts the run wrote before these types existed. A field declared
with `optional()` is left out while it is None (older runs lack it, or the run had nothing to say); `extra` holds
keys of a nested object this version does not name, written back after the named ones.
"""
from __future__ import annotations

from dataclasses import field, fields
from enum import Enum
from typing import Any, Mapping

from mosecrot_viz.errors import SchemaError

OMIT = "omit_when_none"


def optional(default=None):
    """A field left out of the JSON while it is None."""
    return field(default=default, metadata={OMIT: True})


def plain(value):
    """`value` as JSON-ready Python: records by their `to_json`, enums by value, tuples as lists."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class Record:
    """Mixin of the record dataclasses: `to_json` in field order (see the module text)."""

    def to_json(self) -> dict:
        out = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            v = getattr(self, f.name)
            if v is None and f.metadata.get(OMIT):
                continue
            out[f.name] = plain(v)
        out.update(plain(getattr(self, "extra", None) or {}))
        return out


def known(cls, data: Mapping) -> tuple[dict, dict]:
    """`data` split into (the fields `cls` names, everything else)."""
    names = {f.name for f in fields(cls)} - {"extra"}
    return {k: v for k, v in data.items() if k in names}, {k: v for k, v in data.items() if k not in names}


def need(data: Any, kind, where: str):
    """`data` when it is a `kind`, else a `SchemaError` (caught by `RunResults.from_json` to name the file)."""
    if not isinstance(data, kind):
        names = {dict: "an object", Mapping: "an object", list: "a list", str: "text"}
        raise SchemaError(f"'{where}' is {type(data).__name__}, not {names.get(kind, kind.__name__)}")
    return data


def number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check_score(x, where: str) -> None:
    """A macro-F1 (or its spread) read back from a record is a finite number in [0, 1]: NaN, infinity, -3 or 7.5 is
    a `SchemaError` naming the field (such a figure was printed as it was, its next link's change as -0.000)."""
    import math

    if not number(x) or not math.isfinite(x) or not 0.0 <= x <= 1.0:
        raise SchemaError(f"'{where}' is {x!r}, not a score between 0 and 1")


def refuse(source, message: str) -> SchemaError:
    """One line naming the file (or folder) a record came from, then what is wrong with it."""
    return SchemaError(f"{source}: {message}" if source else message)
