"""What a stored run warned about, for the Run page: results.json's `warnings` (the run's checks, `core.checks`:
one anchor, a test set without some labels, constant predictions, an unusual vector scale, the readers' notes)
followed by its fine-tunes' own notes (a GPU out-of-memory retry, a rebuilt cache entry). Older records hold no
`warnings` and give only the fine-tunes' notes."""
from __future__ import annotations


def run_warnings(results: dict) -> list[dict]:
    """[{"key", "message"}] in the order recorded; each fine-tune note keyed `fine_tune`, each shown once."""
    out = [{"key": str(w.get("key", "")), "message": str(w.get("message", ""))}
           for w in results.get("warnings") or () if isinstance(w, dict)]
    for hists in (results.get("histories") or {}).values():
        for h in hists or ():
            for note in (h or {}).get("warnings") or ():
                entry = {"key": "fine_tune", "message": str(note)}
                if entry not in out:
                    out.append(entry)
    return out
