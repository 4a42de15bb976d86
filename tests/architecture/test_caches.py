"""Every Streamlit cache lives in `mosecrot_viz/ui/cached.py`, keyed by its arguments: no page or other ui module
holds one (a page calls `cached.analysis` or a loader there and draws what it gets)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _with_cache() -> set[str]:
    files = list((ROOT / "pages").glob("*.py")) + list((ROOT / "mosecrot_viz").rglob("*.py")) + [ROOT / "app.py"]
    return {f.relative_to(ROOT).as_posix() for f in files if "st.cache" in f.read_text(encoding="utf-8")}


def test_every_streamlit_cache_is_in_ui_cached():
    assert _with_cache() == {"mosecrot_viz/ui/cached.py"}, sorted(_with_cache() - {"mosecrot_viz/ui/cached.py"})
