"""assets/ holds the app's icon and logo, drawn by scripts/make_assets.py (not by hand), and the CJK web font from
npm with its licence; the app uses them."""
from __future__ import annotations

import hashlib
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

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


def test_cjk_font_is_the_pinned_woff2_beside_its_ofl_licence():
    from mosecrot_viz.defaults.shipped import CJK_FONT

    data = CJK_FONT.path.read_bytes()
    assert CJK_FONT.path.parent == ROOT / "assets" / "fonts" and data[:4] == b"wOF2"  # a WOFF2 file
    assert hashlib.sha256(data).hexdigest() == CJK_FONT.sha256  # unchanged from the npm package
    assert "SIL Open Font License, Version 1.1" in CJK_FONT.licence_file.read_text(encoding="utf-8")
    assert CJK_FONT.licence == "OFL-1.1" and "@fontsource/noto-sans-sc==5.3.0" in CJK_FONT.package


async def _get(app, path: str) -> tuple[int, bytes]:
    """(status, body) of a GET of `path` from the ASGI `app`."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
               "headers": [], "root_path": "", "scheme": "http", "server": ("test", 80), "client": ("test", 1),
               "http_version": "1.1"}, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_every_page_references_the_font_and_the_apps_server_serves_it(tmp_path, monkeypatch):
    """app.py puts the @font-face style on the page and registers assets/fonts with the server; Streamlit's own
    component route then answers the style's URL with the font's bytes (no other host is named). (AppTest shows the
    style-only st.html on its first run only; the browser keeps it across reruns and pages: checked by hand.)"""
    import asyncio

    import streamlit.components.v1.component_registry as declared
    from starlette.routing import Router
    from streamlit.components.lib.local_component_registry import LocalComponentRegistry
    from streamlit.web.server.starlette.starlette_routes import create_component_routes

    from mosecrot_viz.defaults.shipped import CJK_FONT
    from mosecrot_viz.ui import fonts

    registry = LocalComponentRegistry()
    monkeypatch.setattr(declared, "get_instance", lambda: SimpleNamespace(component_registry=registry))
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    styles = [h.proto.body for h in at.get("html") if "@font-face" in h.proto.body]
    url = fonts.font_url()
    assert len(styles) == 1 and f'src:url("{url}") format("woff2")' in styles[0] and "U+4E00-9FFF" in styles[0]
    assert url.startswith("/component/") and "://" not in styles[0]  # the app's own server, nothing else
    assert len(styles[0]) < 1000  # a rerun resends the style, never the megabyte
    assert "fonts.use_cjk_font()" in (ROOT / "app.py").read_text()  # in app.py, before nav.run(): every page
    status, body = asyncio.run(_get(Router(create_component_routes(registry, None)), url))
    assert status == 200 and body == CJK_FONT.path.read_bytes()
