"""Every page runs inside app.py's navigation, even when a fresh server's first visitor opens a page's own URL.

Why: Streamlit keeps, per server process, a flag for the old "pages/ folder" mode, set while a `pages/` folder sits
beside the main script and cleared by the first `st.navigation` call. Until app.py has run once, a request for
/compare (a bookmark, a reload after the server restarted, a link handed to a class) runs pages/compare.py on its
own: no page config, no logo, no CJK font, and a sidebar of file names ("app", "alignment", ...) that stays so for
every later visitor, since app.py's `st.navigation` never runs. `require_app()`, the first call of every page,
clears the flag and reruns: the rerun runs app.py, whose navigation opens the page the URL names.
"""
from __future__ import annotations

import streamlit as st


def require_app() -> None:
    """Rerun through app.py when this page was run on its own (the pages/-folder mode); else nothing.

    Not under Streamlit's AppTest (loaded in this process): it sets the flag again before every run it makes
    (streamlit/testing/v1/app_test.py), so a rerun there would eat each run's widget event; the browser tests run
    the real server, where the flag is set once per process."""
    import sys

    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and "streamlit.testing.v1.app_test" not in sys.modules:
        PagesManager.uses_pages_directory = False  # what app.py's st.navigation would have done
        st.rerun()
