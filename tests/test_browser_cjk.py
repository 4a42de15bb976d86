"""Real browser: Chinese renders with the shipped web font (assets/fonts) where the browser has no CJK font.

Debian's Chromium here has none (`fc-list :lang=zh` prints nothing), so without the font every Chinese character
is the same empty box. A tiny page calls `ui.fonts.use_cjk_font()` as app.py does and writes 起初神创造天地 with
st.write and in a plotly chart; the test checks the app's own server sent the font once, the CJK face loaded, and
that two different characters drawn in Streamlit's text family give different pixels (two boxes would be
identical), while the same pair in a family without the face (the negative control) gives identical boxes.
Screenshot: $MOSECROT_SCREENSHOTS/cjk_font.png (default: the test's tmp folder).
"""
import os
from pathlib import Path

import pytest
from app_server import CHROMIUM, ROOT, require_chromium, streamlit_server

TEXT = "起初神创造天地"
PAGE = f'''
import plotly.graph_objects as go
import streamlit as st
from mosecrot_viz.ui import fonts
fonts.use_cjk_font()
st.write("st.write: {TEXT}")
st.plotly_chart(go.Figure(go.Bar(x=list("{TEXT}"), y=list(range(7)))).update_layout(title="{TEXT}"))
'''
# draws two characters at 48 px in `family` on a canvas and says whether their pixels differ
SAME_PIXELS = """([family, a, b]) => {
  const draw = ch => { const c = document.createElement('canvas'); c.width = c.height = 64;
    const x = c.getContext('2d'); x.font = `48px ${family}`; x.fillText(ch, 4, 52);
    return Array.from(x.getImageData(0, 0, 64, 64).data).join(','); };
  return draw(a) === draw(b); }"""

pytestmark = pytest.mark.browser


def test_chinese_renders_with_the_shipped_font(tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    from mosecrot_viz.defaults.shipped import CJK_FONT

    (tmp_path / "cjk_page.py").write_text(PAGE, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    with streamlit_server(tmp_path / "cjk_page.py", tmp_path / "server.log", env) as url:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            fetched = []
            page.on("response", lambda r: fetched.append((r.status, r.url)) if r.url.endswith(".woff2")
                    and "cjk_font" in r.url else None)
            page.goto(url)
            page.wait_for_selector(f"text=st.write: {TEXT}", timeout=90_000)
            page.wait_for_selector(".main-svg", timeout=60_000)
            page.wait_for_function("document.fonts.status === 'loaded'", timeout=30_000)
            page.wait_for_timeout(1000)
            shots = Path(os.environ.get("MOSECROT_SCREENSHOTS", tmp_path))
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "cjk_font.png"), full_page=True)
            faces = page.evaluate("Array.from(document.fonts).filter(f => f.unicodeRange.includes('U+4E00'))"
                                  ".map(f => [f.family, f.status])")
            with_font = page.evaluate(SAME_PIXELS, ['"Source Sans"', "起", "初"])
            control = page.evaluate(SAME_PIXELS, ['"no-such-family", sans-serif', "起", "初"])
            browser.close()
    assert fetched == [(200, url + f"/component/mosecrot_viz.ui.fonts.cjk_font/{CJK_FONT.path.name}")]  # once
    assert faces == [["Source Sans", "loaded"]]
    if control:  # this browser draws boxes without the font: the shipped one must draw real, distinct glyphs
        assert not with_font, "two Chinese characters drew the same box in Streamlit's text family"
    else:
        print("note: this browser has a CJK font of its own; the negative control does not apply")
