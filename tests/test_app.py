"""The app renders without a browser (AppTest): the landing page shows the defaults and the demo button."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def test_home_renders_defaults_and_demo_button():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("mosecrot_viz" in t.value for t in at.title)
    table = at.dataframe[0].value
    assert {"model:minilm", "vectors:zh", "lexicon:zh"} <= set(table["key"])
    assert "licence" in table.columns
    assert any(b.label == "Run the demo" for b in at.button)
