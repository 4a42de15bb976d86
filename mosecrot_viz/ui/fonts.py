"""The CJK web font (assets/fonts, `defaults.shipped.CJK_FONT`) as a fallback for Chinese in every page, so a browser
without a CJK system font shows glyphs, not boxes.

How it reaches the browser: assets/fonts is declared as a (never rendered) custom component's folder, so the app's
own server serves its files at /component/<name>/<file> (Streamlit 1.67 serves static files only from a `static/`
folder beside app.py, which the fixed layout has no place for); the browser fetches the 1.1 MB font once per page
load, and only when a page has a character in the font's unicode-range. Each rerun sends only a 0.45 kB <style>.

The style adds an @font-face rule to the family Streamlit's theme already names for text and headings ("Source
Sans"), limited to the CJK code points: the browser composes one family from Streamlit's faces and this one, so
Latin text keeps Streamlit's font and a CJK character uses Noto Sans SC, in widgets, st.metric, tables (drawn on a
canvas) and plotly's SVG text alike, with no theme change (any [theme] option would fix the light/dark choice).
Code falls back from Source Code Pro to that family (`CODE_RULE`).
"""
from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components
from streamlit import config

from mosecrot_viz.defaults.shipped import CJK_FONT, unicode_range_css

COMPONENT = "cjk_font"  # registered as mosecrot_viz.ui.fonts.cjk_font
FAMILY = "Source Sans"  # Streamlit's body and heading font (its frontend's `"Source Sans", sans-serif`)
# code keeps Source Code Pro for what it covers and falls through to the body family (so to the CJK face) for the
# rest: a second @font-face on the code family would make the browser fetch the same megabyte a second time
CODE_RULE = '.stApp code, .stApp pre, .stApp kbd, .stApp samp{font-family:"Source Code Pro","Source Sans",monospace}'


def font_url() -> str:
    """Where the app's server serves the font: /<server.baseUrlPath>/component/mosecrot_viz.ui.fonts.cjk_font/<file>."""
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/component/{__name__}.{COMPONENT}/{CJK_FONT.path.name}"


def font_css() -> str:
    """The <style> element: one @font-face adding the shipped woff2 to `FAMILY`, restricted to the CJK unicode-range,
    for any weight (one regular face: bold CJK text is drawn regular rather than missing), and `CODE_RULE`."""
    face = (f'@font-face{{font-family:"{FAMILY}";src:url("{font_url()}") format("woff2");'
            f"unicode-range:{unicode_range_css()};font-weight:100 900;font-style:normal;font-display:swap}}")
    return f"<style>{face}{CODE_RULE}</style>"


def use_cjk_font() -> None:
    """Register the font's folder with the server (idempotent, every rerun: a new server or test runtime needs it
    too) and add the style to the page. Call once per script run, before the page renders."""
    components.declare_component(COMPONENT, path=str(CJK_FONT.path.parent))
    st.html(font_css())
