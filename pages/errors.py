"""Errors: per-class F1 and confusion matrices for every method, misclassified examples, errors vs coverage."""
import pandas as pd
import streamlit as st

from mosecrot_viz import plots
from mosecrot_viz.analysis.errors import error_by_coverage, misclassified, per_class_table
from mosecrot_viz.io.tasks import load_task
from mosecrot_viz.ui.components import run_picker, show_figure

st.title("Errors")
run = run_picker("errors")
if run is None:
    st.stop()
res, preds = run.results(), run.predictions()
methods = list(res["methods"])

st.subheader("Per-class F1, every method side by side")
show_figure(plots.per_class_f1(per_class_table(res)), "errors_perclass")

st.subheader("Confusion matrices")
shown = st.multiselect("methods", methods, methods[:3], key="errors_conf_methods")
if shown:
    show_figure(plots.confusion_matrices(res, shown), "errors_confusion")

mapped = [m for m in methods if preds[preds["method"] == m]["unknown_rate"].notna().any()]
if mapped:
    st.subheader("Error rate against the share of words without a vector")
    cov = pd.concat([error_by_coverage(preds, m).assign(method=m) for m in mapped], ignore_index=True)
    show_figure(plots.error_vs_coverage(cov), "errors_coverage")
    st.subheader("Misclassified target examples")
    m = st.selectbox("method", mapped, key="errors_mis_method")
    test = load_task(res["config"]["test"])
    wrong = misclassified(preds, test, m)
    st.caption(f"{len(wrong)} of {len(preds[preds['method'] == m])} predictions wrong; sorted by unknown-word share.")
    st.dataframe(wrong, hide_index=True)
    st.download_button("misclassified as CSV", wrong.to_csv(index=False), "misclassified.csv", key="errors_csv")
