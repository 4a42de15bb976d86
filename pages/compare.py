"""Compare: past runs side by side (task, inputs, intervals), a paired difference between two runs of one task, sweeps."""
import streamlit as st

from mosecrot_viz.analysis import compare, plots, script_shift
from mosecrot_viz.records import RunState
from mosecrot_viz.store.runs import list_runs, runs_table
from mosecrot_viz.store.sweeps import FRAME_COLUMNS, grid_summary, sweep_frame, sweep_progress
from mosecrot_viz.ui.components import show_figure, zero_shot_best
from mosecrot_viz.ui.entry import require_app

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)

st.title("Compare")
runs = list_runs()
if not runs:
    st.info("No runs yet: start one on **Run** or **Home**.")
    st.stop()
table = runs_table(runs)
records = {r.run_id: r.record() for r in runs}  # each results.json read once per rerun; None: not finished
best = {i: zero_shot_best(res) for i, res in records.items() if res}  # LR (target labels) is never "best"
table["best"] = table["run"].map(lambda r: best[r][0] if best.get(r) else None)
table["best macro-F1"] = table["run"].map(lambda r: round(best[r][1], 3) if best.get(r) else None)
table = table.rename(columns={"best": "best zero-shot", "best macro-F1": "best zero-shot macro-F1"})
st.dataframe(table, hide_index=True)
st.download_button("runs as CSV", table.to_csv(index=False), "runs.csv", "text/csv", key="compare_runs_csv")

done = [r for r in runs if r.status().state is RunState.COMPLETE and records[r.run_id]]
chosen = st.multiselect("runs to compare", [r.run_id for r in done], [r.run_id for r in done[:2]], key="compare_pick")
picked = {r.run_id: r for r in done if r.run_id in chosen}
if picked:
    long = compare.long_table({i: records[i] for i in picked})
    tasks = list(dict.fromkeys(long["task"]))
    if len(tasks) > 1:
        st.warning(f"These runs measured {len(tasks)} different tasks: their macro-F1s are not comparable, so each "
                   "task gets its own table and no run is ranked against another task's.")
    for task in tasks:
        part = long[long["task"] == task]
        st.markdown(f"**Task:** {task}")
        st.caption(" · ".join(f"{run}: {inp}" for run, inp in dict(zip(part["run"], part["inputs"])).items()))
        cell = part.assign(value=[f"{f:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo == lo and lo is not None else "")
                                  + ("" if z else " (not zero-shot)")
                                  for f, lo, hi, z in zip(part["macro_f1"], part["ci95_low"], part["ci95_high"],
                                                          part["zero-shot"])])
        st.dataframe(cell.pivot(index="method", columns="run", values="value"))
    st.caption("macro-F1 [95% bootstrap interval over test sentences]; LR trains on target labels (not zero-shot).")
    st.download_button("comparison as CSV", long.to_csv(index=False), "comparison.csv", "text/csv", key="compare_csv")
    same = [t for t in tasks if long[long["task"] == t]["run"].nunique() > 1]
    if same:
        st.markdown("**Paired difference between two runs of the same task**")
        d = st.columns(4)
        task = same[0] if len(same) == 1 else d[0].selectbox("task", same, key="compare_diff_task")
        runs_of = list(dict.fromkeys(long[long["task"] == task]["run"]))
        a = d[0 if len(same) == 1 else 1].selectbox("run A", runs_of, key="compare_diff_a")
        b = d[1 if len(same) == 1 else 2].selectbox("run B", [r for r in runs_of if r != a], key="compare_diff_b")
        common = sorted(set(records[a].methods) & set(records[b].methods))
        m = d[2 if len(same) == 1 else 3].selectbox("method", common, key="compare_diff_method")
        if m:
            diff, lo, hi = compare.paired_difference(records[a], picked[a].predictions(), m,
                                                     records[b], picked[b].predictions(), m)
            st.metric(f"{m}: A − B macro-F1", f"{diff:+.3f}", help="paired bootstrap over the shared test sentences")
            st.caption(f"95% interval {lo:+.3f} to {hi:+.3f}: " + ("it contains 0, so the test set does not tell the "
                       "two runs apart." if lo <= 0 <= hi else "it excludes 0: the test set supports the difference."))

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
        if status[r.run_id].state.broken:
            st.error(f"{r.config()['sweep']['value']}: {status[r.run_id].message}")
    one = sweep_frame([r for r in trials if status[r.run_id].state is RunState.COMPLETE])
    if one.empty:
        st.caption("No trial has finished yet.")
        return
    axes = [c for c in one.columns if c not in FRAME_COLUMNS and c != "seed"]
    if script_shift.is_share_sweep(one, axes):  # the unseen-script simulation: where stitching catches up
        show_figure(script_shift.crossover_figure(one), f"compare_shift_fig_{sid}")
        st.dataframe(script_shift.crossover_table(one), hide_index=True)
        st.caption(script_shift.SIMULATION_NOTE)
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
