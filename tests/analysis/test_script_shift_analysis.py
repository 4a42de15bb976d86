"""Crossover of the unseen-script curves: known answers on hand-made sweep frames."""
import pandas as pd
import pytest

from mosecrot_viz.analysis.script_shift import crossover, crossover_figure, crossover_rows, curves


def _frame(col="script_shift"):
    rows = []
    for share, rr, mplm, source in ((0.0, 0.60, 0.90, 0.50), (0.5, 0.60, 0.70, 0.30), (1.0, 0.60, 0.40, 0.10)):
        for seed_noise in (-0.01, 0.01):  # two seeds per share: averaged
            rows += [{col: share, "method": "rr-softmax", "macro_f1": rr + seed_noise},
                     {col: share, "method": "mplm", "macro_f1": mplm}, {col: share, "method": "source", "macro_f1": source}]
    return pd.DataFrame(rows)


def test_crossing_share_by_interpolation():
    f = _frame()
    # rr - mplm: -0.30, -0.10, +0.20: crosses between 0.5 and 1.0 at 0.5 + 0.5 * 0.1 / 0.3
    assert crossover(f, "rr-softmax", "mplm") == pytest.approx(0.5 + 0.5 / 3)
    assert crossover(f, "rr-softmax", "source") == 0.0  # ahead from the start
    assert crossover(f, "mplm", "rr-softmax") == 0.0
    assert crossover(f.assign(macro_f1=f["macro_f1"].where(f["method"] != "rr-softmax", 0.05)), "rr-softmax") is None
    assert crossover(f, "ls") is None
    assert curves(_frame("value")).loc[0.5, "rr-softmax"] == pytest.approx(0.60)


def test_rows_and_figure():
    rows = crossover_rows(_frame())
    assert [(r["method"], r["reference"]) for r in rows] == [("rr-softmax", "mplm"), ("rr-softmax", "source")]
    assert rows[0]["reference_first"] == 0.90 and rows[0]["reference_last"] == 0.40
    fig = crossover_figure(_frame())
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert set(names) == {"rr-softmax", "mplm", "source"}
    marks = [t for t in fig.data if t.showlegend is False]
    assert len(marks) == 1 and marks[0].x[0] == pytest.approx(0.5 + 0.5 / 3)
    with pytest.raises(ValueError, match="no share column"):
        curves(pd.DataFrame({"method": [], "macro_f1": []}))


def test_results_table_says_how_each_crossing_was_found():
    """The RESULTS crossover table (scripts/sib200_sweeps.py): an interpolated share names the swept shares around
    it; a method ahead before any renaming, or never reaching the reader, says so instead of a share."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from sib200_sweeps import _crossover_lines

    frame = _frame("value")
    lines = _crossover_lines(frame)
    assert "| rr-softmax | mplm | 0.67 (between 0.5 and 1, interpolated) |" in lines[2]
    assert "| rr-softmax | source | ahead already at 0 |" in lines[3]
    low = frame.assign(macro_f1=frame["macro_f1"].where(frame["method"] != "rr-softmax", 0.05))
    assert "| not on the swept shares |" in _crossover_lines(low)[2]
