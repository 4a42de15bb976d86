"""Glossary: the symbols, methods and gap-ladder rungs, in the words every page uses."""
import streamlit as st

from mosecrot_viz.ui.components import glossary
from mosecrot_viz.ui.entry import require_app

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)

st.title("Glossary")
glossary()
