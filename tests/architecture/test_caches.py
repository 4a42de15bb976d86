"""Every Streamlit cache lives in `mosecrot_viz/ui/cached.py`, keyed by its arguments: no page holds one (a page
calls `cached.analysis` or a loader there and draws what it gets)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: modules that still hold a cache, each with where it goes; the test fails once one no longer does (drop it here)
PENDING = {
    "mosecrot_viz/ui/setup_support.py": "Setup's task-file and anchor-count previews",
    "mosecrot_viz/ui/components.py": "the training-set size behind the ETA (`_n_train`)",
}


def _with_cache() -> set[str]:
    files = list((ROOT / "pages").glob("*.py")) + list((ROOT / "mosecrot_viz").rglob("*.py")) + [ROOT / "app.py"]
    return {f.relative_to(ROOT).as_posix() for f in files if "st.cache" in f.read_text(encoding="utf-8")}


def test_no_page_holds_a_streamlit_cache():
    found = _with_cache() - {"mosecrot_viz/ui/cached.py"}
    assert found <= set(PENDING), sorted(found - set(PENDING))
    assert set(PENDING) <= found, f"no longer caching, drop from PENDING: {sorted(set(PENDING) - found)}"
    for page in ("pages/anchors.py", "pages/alignment.py", "pages/why.py", "mosecrot_viz/ui/why_support.py"):
        assert page not in found
