"""What a stored run warned about, for the Run page: results.json's `warnings` (the run's checks, `core.checks`:
one anchor, a test set without some labels, constant predictions, an unusual vector scale, the readers' notes)
followed by its fine-tunes' own notes (a GPU out-of-memory retry, a rebuilt cache entry). Older records hold no
`warnings` and give only the fine-tunes' notes."""
from __future__ import annotations

from mosecrot_viz.records import as_results


def run_warnings(results) -> list[dict]:
    """[{"key", "message"}] in the order recorded; each fine-tune note keyed `fine_tune`, each shown once."""
    res = as_results(results)
    out = [{"key": str(w.get("key", "")), "message": str(w.get("message", ""))}
           for w in res.warnings if isinstance(w, dict)]
    for hists in res.histories.values():
        for h in hists or ():
            for note in (h or {}).get("warnings") or ():
                entry = {"key": "fine_tune", "message": str(note)}
                if entry not in out:
                    out.append(entry)
    return out
