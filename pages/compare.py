"""Compare: past runs from the run store side by side, with CSV export."""
import pandas as pd
import streamlit as st

from mosecrot_viz import plots
from mosecrot_viz.runs import list_runs, runs_table
from mosecrot_viz.sweeps import sweep_frame
from mosecrot_viz.ui.components import show_figure

st.title("Compare")
runs = list_runs()
if not runs:
    st.info("No runs yet: start one on **Run** or **Home**.")
    st.stop()
table = runs_table(runs)
st.dataframe(table, hide_index=True)
st.download_button("runs as CSV", table.to_csv(index=False), "runs.csv", "text/csv", key="compare_runs_csv")

done = [r for r in runs if r.status()["state"] == "complete"]
chosen = st.multiselect("runs to compare", [r.run_id for r in done], [r.run_id for r in done[:2]], key="compare_pick")
rows = []
for r in done:
    if r.run_id in chosen:
        res = r.results()
        for m, v in res["methods"].items():
            rows.append({"run": r.run_id, "lang": res["config"].get("lang"), "method": m, "macro_f1": v["macro_f1"],
                         "macro_f1_std": v["macro_f1_std"], "accuracy": v["accuracy"], "anchors": res["anchors"]["count"],
                         "top_k": res["config"].get("top_k"), "seeds": len(v["per_seed"])})
if rows:
    long = pd.DataFrame(rows)
    wide = long.pivot_table(index="method", columns="run", values="macro_f1")
    st.dataframe(wide.style.format("{:.3f}"))
    st.download_button("comparison as CSV", long.to_csv(index=False), "comparison.csv", "text/csv", key="compare_csv")

st.subheader("Sweeps")
sweeps = sweep_frame(done)
if sweeps.empty:
    st.caption("No sweep yet: start one from **Run** (expander 'Sweep one parameter') or "
               "`python -m mosecrot_viz sweep --param top_k --values 1,10,50,100,all ...`.")
else:
    sid = st.selectbox("sweep", sorted(sweeps["sweep"].unique()), key="compare_sweep",
                       format_func=lambda s: f"{s} ({sweeps[sweeps['sweep'] == s]['param'].iloc[0]})")
    one = sweeps[sweeps["sweep"] == sid].copy()
    one["value"] = one["value"].astype(str)
    show_figure(plots.sweep_plot(one, x="value", title=f"macro-F1 against {one['param'].iloc[0]}"), "compare_sweep_fig")
    st.dataframe(one, hide_index=True)
    st.download_button("sweep as CSV", one.to_csv(index=False), f"sweep-{sid}.csv", "text/csv", key="compare_sweep_csv")
