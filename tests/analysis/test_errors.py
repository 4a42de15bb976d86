"""Error analyses on a hand-built run: per-class table, misclassified examples, error rate by coverage."""
import math

import pandas as pd
import pytest

from mosecrot_viz.analysis.errors import error_by_coverage, misclassified, per_class_table

RATES = {1: 0.0, 2: 0.1, 3: 0.4, 4: 0.9, 5: 1.0}
# (seed, id, gold, pred): seed 0 misses ids 2, 4, 5; seed 1 misses ids 1, 4, 5
RR = [(0, 1, "x", "x"), (0, 2, "x", "y"), (0, 3, "y", "y"), (0, 4, "y", "x"), (0, 5, "x", "y"),
      (1, 1, "x", "y"), (1, 2, "x", "x"), (1, 3, "y", "y"), (1, 4, "y", "x"), (1, 5, "x", "y")]


def _predictions() -> pd.DataFrame:
    rows = [{"method": "rr-softmax", "seed": s, "id": i, "gold": g, "pred": p, "unknown_rate": RATES[i]}
            for s, i, g, p in RR]
    rows += [{"method": "mplm", "seed": 0, "id": i, "gold": "x", "pred": "y" if i % 2 else "x",
              "unknown_rate": float("nan")} for i in RATES]
    return pd.DataFrame(rows)


TEST = pd.DataFrame({"id": [str(i) for i in RATES], "label": ["x", "x", "y", "y", "x"],
                     "text": [f"text {i}" for i in RATES]})


def test_per_class_table_is_long_and_complete():
    pc = {"x": {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 3},
          "y": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}}
    results = {"methods": {"rr-softmax": {"macro_f1": 0.6, "per_class": pc},
                           "lr": {"per_class": {"x": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 3}}},
                           "broken": {"macro_f1": 0.1}}}
    df = per_class_table(results)
    assert list(df.columns) == ["method", "label", "f1", "precision", "recall", "support"]
    assert len(df) == 3 and set(df["method"]) == {"rr-softmax", "lr"}
    row = df[(df.method == "rr-softmax") & (df.label == "y")].iloc[0]
    assert (row.precision, row.recall, row.support) == (1.0, 0.5, 2)
    assert per_class_table({"methods": {}}).empty


def test_misclassified_sorted_by_unknown_rate_with_text():
    wrong = misclassified(_predictions(), TEST, "rr-softmax")
    assert list(wrong.columns) == ["method", "seed", "id", "text", "gold", "pred", "unknown_rate"]
    assert list(zip(wrong.seed, wrong.id)) == [(0, 5), (1, 5), (0, 4), (1, 4), (0, 2), (1, 1)]
    assert list(wrong.unknown_rate) == [1.0, 1.0, 0.9, 0.9, 0.1, 0.0]
    assert list(wrong.text) == ["text 5", "text 5", "text 4", "text 4", "text 2", "text 1"]  # int ids join str ids
    assert (wrong.gold != wrong.pred).all()
    assert list(misclassified(_predictions(), TEST, "rr-softmax", seed=1).id) == [5, 4, 1]
    assert list(misclassified(_predictions(), TEST, "mplm").id) == [1, 3, 5]  # NaN rates keep order
    assert misclassified(_predictions(), TEST, "absent").empty


def test_error_by_coverage_hand_computed():
    df = error_by_coverage(_predictions(), "rr-softmax")
    assert list(df.bin) == ["[0, 0.2)", "[0.2, 0.4)", "[0.4, 0.6)", "[0.6, 0.8)", "[0.8, 1]"]
    assert list(df.n) == [4, 0, 2, 0, 4]  # both seeds pooled; 0.4 opens its bin, 1.0 closes the last
    assert list(df.errors) == [2, 0, 0, 0, 4]
    assert df.error_rate[0] == 0.5 and df.error_rate[2] == 0.0 and df.error_rate[4] == 1.0
    assert math.isnan(df.error_rate[1])
    one = error_by_coverage(_predictions(), "rr-softmax", bins=(0, 0.5, 1), seed=0)
    assert list(one.n) == [3, 2] and list(one.errors) == [1, 2]


def test_error_by_coverage_without_rates_is_empty_but_shaped():
    df = error_by_coverage(_predictions(), "mplm", bins=(0, 0.5, 1.0))
    assert list(df.n) == [0, 0] and df.error_rate.isna().all()


def test_error_by_coverage_refuses_bad_bins():
    with pytest.raises(ValueError, match="bins"):
        error_by_coverage(_predictions(), "rr-softmax", bins=(0, 0.5, 0.5))
