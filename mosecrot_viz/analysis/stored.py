"""`analysis.json` beside a run: the results of its analyses (`analysis.registry`), one record per analysis and
parameters, tied to the run they were computed for.

The file (schema 2):

    {"schema": 2, "config_key": <hash of results.json's config>, "seconds": <the run's analysis stage, s>,
     "entries": {<analysis name>: {<params as sorted JSON>: {"version": int, "with_run": bool,
                                                            "params": {...}, "result": {...}}}}}

`with_run` marks what the run computed once it had finished (never evicted); what a page computed later is kept
too, at most `MAX_KEPT` per analysis (the oldest go first). A file made for another config than results.json's
(a folder reused by a later run), a corrupt one, or none at all reads as no entries; a file of schema 1 (the
version before the registry: one private shape per analysis) is read through `_migrate_v1`. This module knows
the file, not the analyses: which result type an entry holds is the registry's business.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from functools import lru_cache
from pathlib import Path

from mosecrot_viz.atomic import write_json
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.structured import load_json

FILE = "analysis.json"
SCHEMA = 2
MAX_KEPT = 8  # entries per analysis computed after the run (a page's other settings); the run's own are kept
_WRITE = threading.Lock()  # one read-modify-write of a run's analysis.json at a time in this process


def config_key(config: dict) -> str:
    """A short hash of a run's config (results.json's `config`): ties analysis.json to the run it was made for."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str, allow_nan=False).encode()).hexdigest()[:16]


def params_key(params: dict) -> str:
    """The entry key of `params` (tuples and lists alike): sorted, compact JSON."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@lru_cache(maxsize=64)
def _parsed(path: str, _mtime_ns: int, _size: int) -> dict | None:
    try:
        data = load_json(path)
    except (OSError, InputError):
        return None
    return data if isinstance(data, dict) else None


def _load(path: Path) -> dict | None:
    """A JSON object file, parsed once per version (a page reads analysis.json several times per rerun); None
    when absent, unreadable or not an object."""
    try:
        st = path.stat()
    except OSError:
        return None
    return _parsed(str(path), st.st_mtime_ns, st.st_size)


def run_results(folder) -> dict | None:
    """results.json of the run in `folder` (parsed once per version), or None when absent or unreadable."""
    return _load(Path(folder) / "results.json")


def run_config(folder) -> dict | None:
    """The config results.json of the run in `folder` records (the one place the registry and this module read
    a field of results.json), or None when the run has no readable results."""
    results = run_results(folder)
    return None if results is None else results.get("config") or {}


def run_key(folder) -> str | None:
    """`config_key` of the run in `folder`, or None when the run has no readable results."""
    config = run_config(folder)
    return None if config is None else config_key(config)


def _migrate_v1(data: dict) -> dict:
    """Entries of a schema-1 file (held-out BLI per n_test, drift summary and per-token cosines, the Anchors
    page's default view with its BLI hits, the default heatmap), all computed with the run."""
    out: dict = {}

    def put(name, params, result):
        out.setdefault(name, {})[params_key(params)] = {"version": 1, "with_run": True, "params": params,
                                                        "result": result}

    for n, rec in (data.get("holdout_bli") or {}).items():
        put("holdout_bli", {"n_test": int(n)}, rec)
    if "drift" in data:
        put("drift", {}, {"summary": data["drift"], "cosines": data.get("drift_cosines") or {}})
    view = data.get("anchor_view")
    if view:
        method, n, seed = view["settings"]
        params = {"method": method, "n": n, "search": "", "seed": seed}
        put("anchor_view", params, {k: v for k, v in view.items() if k not in ("settings", "bli_hits")})
        if "bli_hits" in view:
            put("anchor_bli_hits", params, {"hits": view["bli_hits"]})
    heat = data.get("heatmap")
    if heat and heat.get("matrix") is not None:
        put("heatmap", {"words": heat["words"], "columns": heat["columns"]},
            {"words": heat["words"], "missing": [], "anchors": heat["anchors"], "matrix": heat["matrix"]})
    return out


def read(folder) -> dict:
    """The file of the run in `folder` as {"config_key", "seconds", "entries"} (schema 1 migrated); with no
    entries when absent, corrupt, or made for another config than results.json's."""
    data = _load(Path(folder) / FILE)
    key = run_key(folder)
    empty = {"config_key": key, "seconds": None, "entries": {}}
    if not data or key is None or data.get("config_key") != key:
        return empty
    try:
        entries = data["entries"] if data.get("schema") == SCHEMA else _migrate_v1(data)
        if not isinstance(entries, dict) or not all(isinstance(e, dict) for e in entries.values()):
            return empty
    except (KeyError, TypeError, ValueError):
        return empty
    return {"config_key": key, "seconds": data.get("seconds"), "entries": entries}


def entry(folder, name: str, params: dict) -> dict | None:
    """The stored entry of analysis `name` with `params` ({"version", "with_run", "params", "result"}), or None."""
    found = read(folder)["entries"].get(name, {}).get(params_key(params))
    return found if isinstance(found, dict) else None


def _write(folder: Path, record: dict) -> None:
    write_json(folder / FILE, {"schema": SCHEMA, **record})


def put(folder, name: str, params: dict, version: int, result: dict) -> bool:
    """Add what a page computed for the run in `folder` (dropping this analysis's oldest page-computed entries past
    `MAX_KEPT`). The folder's times are kept: its modification time orders the run list (`store.runs.list_runs`),
    and reading an old run must not make it the newest. False when the run has no results or the file cannot be
    written (a read-only store: the result is still returned to the page)."""
    folder = Path(folder)
    with _WRITE:
        record = read(folder)
        if record["config_key"] is None:
            return False
        kept = dict(record["entries"].get(name, {}))
        key = params_key(params)
        kept.pop(key, None)
        later = [k for k, e in kept.items() if not e.get("with_run")]
        for old in later[: max(0, len(later) - MAX_KEPT + 1)]:
            del kept[old]
        kept[key] = {"version": version, "with_run": False, "params": params, "result": result}
        try:
            times = os.stat(folder)
            _write(folder, {**record, "entries": {**record["entries"], name: kept}})
            os.utime(folder, ns=(times.st_atime_ns, times.st_mtime_ns))
        except OSError:
            return False
    return True


def write_run_entries(folder, entries: dict, seconds: float) -> None:
    """Store what the run computed once it had finished (`entries`: name -> params key -> entry), replacing the
    file, with the stage's duration."""
    folder = Path(folder)
    with _WRITE:
        _write(folder, {"config_key": run_key(folder), "seconds": seconds, "entries": entries})


def analysis_seconds(folder) -> float | None:
    """How long the run's analysis stage took (None when it stored none)."""
    return read(folder)["seconds"]
