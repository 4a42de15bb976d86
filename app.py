"""mosecrot_viz app entry: `streamlit run app.py`. Pages are listed explicitly (st.navigation)."""
from pathlib import Path

import streamlit as st

from mosecrot_viz.ui import fonts, state

ASSETS = Path(__file__).resolve().parent / "assets"  # drawn by scripts/make_assets.py
st.set_page_config(page_title="mosecrot_viz", page_icon=str(ASSETS / "icon.svg"), layout="wide")
st.logo(str(ASSETS / "logo.svg"), icon_image=str(ASSETS / "icon.svg"))
fonts.use_cjk_font()  # Chinese renders with the shipped Noto Sans SC where the browser has no CJK font
nav = st.navigation([
    st.Page("pages/home.py", title="Home", default=True),
    st.Page("pages/setup.py", title="Setup"),
    st.Page("pages/run.py", title="Run"),
    st.Page("pages/anchors.py", title="Anchors"),
    st.Page("pages/alignment.py", title="Alignment"),
    st.Page("pages/errors.py", title="Errors"),
    st.Page("pages/why.py", title="Why"),
    st.Page("pages/compare.py", title="Compare"),
    st.Page("pages/glossary.py", title="Glossary"),  # the project's words, one click from every page
])
state.setup_id()  # every page keeps ?setup= (and ?run=) in the URL: a reload finds the same choices
nav.run()
