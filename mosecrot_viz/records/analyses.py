"""analysis.json's envelope: the analyses stored beside a run, the config they were computed for, and a version.

The analyses themselves (held-out BLI, drift, the Anchors page's view and heatmap) are each an analysis's own typed
result, stored by name in `entries`; `config_key` ties them to the run in the folder (a folder reused by a later run
keeps no stale analyses).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from mosecrot_viz.errors import SchemaError
from mosecrot_viz.records._base import need, refuse

ANALYSES_VERSION = 1


@dataclass(frozen=True)
class StoredAnalyses:
    """config_key: the hash of the run's config they belong to; seconds: how long computing them took; entries:
    analysis name -> its JSON-ready result."""

    config_key: str
    entries: Mapping[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    schema_version: int = ANALYSES_VERSION

    def to_json(self) -> dict:
        out = {"config_key": self.config_key, **self.entries}
        if self.seconds is not None:
            out["seconds"] = self.seconds
        return {**out, "schema_version": self.schema_version}

    @classmethod
    def from_json(cls, data, source=None) -> "StoredAnalyses":
        """Refused in one line naming `source` when not an object, without a config key, or of a newer version."""
        try:
            need(data, Mapping, "analysis.json")
            version = data.get("schema_version", 1)
            if not isinstance(version, int) or version > ANALYSES_VERSION:
                raise SchemaError(f"analysis.json has schema version {version!r}; this version reads up to "
                                  f"{ANALYSES_VERSION}")
            key = need(data.get("config_key"), str, "config_key")
        except SchemaError as exc:
            raise refuse(source, str(exc)) from None
        entries = {k: v for k, v in data.items() if k not in ("config_key", "seconds", "schema_version")}
        return cls(key, entries, data.get("seconds"), ANALYSES_VERSION)
