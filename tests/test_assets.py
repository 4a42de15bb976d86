"""assets/ holds the app's icon and logo, drawn by scripts/make_assets.py (not by hand), and the app uses them."""
from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("make_assets", ROOT / "scripts" / "make_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_assets_are_what_the_script_draws(tmp_path):
    for path in _script().main(tmp_path):
        committed = ROOT / "assets" / path.name
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), path.name
        assert ET.fromstring(path.read_text(encoding="utf-8")).tag.endswith("svg")


def test_app_sets_its_icon_and_logo(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    text = (ROOT / "app.py").read_text()
    assert 'page_icon=str(ASSETS / "icon.svg")' in text and 'st.logo(str(ASSETS / "logo.svg")' in text
    # (AppTest does not expose the logo message; a missing or unreadable file would have raised above)
