"""Compare: past runs from the run store side by side, with CSV export."""
import pandas as pd
import streamlit as st

from mosecrot_viz.analysis import plots
from mosecrot_viz.store.runs import list_runs, runs_table
from mosecrot_viz.store.sweeps import FRAME_COLUMNS, grid_summary, sweep_frame, sweep_progress
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
progress = sweep_progress(runs)
if progress.empty:
    st.caption("No sweep yet: start one from **Run** (expander 'Sweep one parameter'), "
               "`python -m mosecrot_viz sweep --param top_k --values 1,10,50,100,all ...`, or a whole grid with "
               "`python -m mosecrot_viz sweep --grid GRID.yaml [--engine ray]` (see the README).")
    st.stop()
sid = st.selectbox("sweep", progress["sweep"].tolist(), key="compare_sweep",
                   format_func=lambda s: "{0} ({1}: {2}/{3} complete)".format(
                       s, *progress.set_index("sweep").loc[s, ["name", "complete", "total"]]))
still_going = bool(progress.set_index("sweep").loc[sid, ["running", "queued"]].sum())


@st.fragment(run_every=3 if still_going else None)
def show_sweep(sid: str) -> None:
    """Progress and results of one sweep; refreshes every 3 s while trials are still queued or running."""
    trials = [r for r in list_runs() if ((r.config() or {}).get("sweep") or {}).get("id") == sid]
    prog = sweep_progress(trials)
    if prog.empty:
        return
    row = prog.iloc[0]
    st.progress(float(row["complete"] + row["failed"]) / max(int(row["total"]), 1),
                text=f"{row['complete']} complete · {row['failed']} failed · {row['running']} running · "
                     f"{row['queued']} queued · {row['incomplete']} incomplete, of {row['total']} trials")
    status = {r.run_id: r.status() for r in trials}  # read once per refresh
    for r in trials:
        if status[r.run_id]["state"] in ("failed", "incomplete"):
            st.error(f"{r.config()['sweep']['value']}: {status[r.run_id]['message']}")
    one = sweep_frame([r for r in trials if status[r.run_id]["state"] == "complete"])
    if one.empty:
        st.caption("No trial has finished yet.")
        return
    axes = [c for c in one.columns if c not in FRAME_COLUMNS and c != "seed"]
    if axes:  # a grid: pick the axis to draw against; seeds are averaged
        x = st.selectbox("x axis", axes, key=f"compare_grid_x_{sid}")
        summary = grid_summary(one, x)
        show_figure(plots.sweep_plot(summary, x=x, color="series", title=f"macro-F1 against {x} (mean over seeds)"),
                    f"compare_grid_fig_{sid}")
        st.dataframe(summary, hide_index=True)
    else:
        one["value"] = one["value"].astype(str)
        show_figure(plots.sweep_plot(one, x="value", title=f"macro-F1 against {one['param'].iloc[0]}"),
                    "compare_sweep_fig")
        st.dataframe(one, hide_index=True)
    st.download_button("sweep as CSV", one.to_csv(index=False), f"sweep-{sid}.csv", "text/csv",
                       key=f"compare_sweep_csv_{sid}")


show_sweep(sid)
