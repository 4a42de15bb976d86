"""Glossary: the symbols, methods and gap-ladder rungs, in the words every page uses."""
import streamlit as st

from mosecrot_viz.ui.components import glossary

st.title("Glossary")
glossary()
