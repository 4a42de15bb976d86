"""mosecrot_viz app entry: `streamlit run app.py`. Pages are listed explicitly (st.navigation)."""
import streamlit as st

st.set_page_config(page_title="mosecrot_viz", layout="wide")
nav = st.navigation([st.Page("pages/home.py", title="Home", default=True)])
nav.run()
