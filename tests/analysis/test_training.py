"""The fine-tune table reads a run's histories: epochs, the kept epoch, time-weighted speed and MFU."""
import pandas as pd
import pytest

from mosecrot_viz.analysis.training import fine_tune_table


def test_fine_tune_table_known_answers():
    results = {"config": {"seeds": [3, 7]}, "histories": {
        "rr-softmax": [
            {"epochs": [{"epoch": 1, "dev_macro_f1": 0.5, "train_seconds": 2.0, "examples_per_s": 100.0,
                         "achieved_gflops": 50.0},
                        {"epoch": 2, "dev_macro_f1": 0.7, "train_seconds": 6.0, "examples_per_s": 50.0,
                         "achieved_gflops": 150.0}],
             "best_dev_macro_f1": 0.7, "best_epoch": 2, "stopped_early": False, "matmul_gflops": 250.0},
            {"epochs": [{"epoch": 1, "dev_macro_f1": 0.6, "train_seconds": 1.0, "examples_per_s": 9.0,
                         "achieved_gflops": 9.0}], "best_dev_macro_f1": 0.6,
             "reused_from_cache": True}],  # another run's times: not shown as this run's
    }}
    t = fine_tune_table(results)
    assert t["seed"].tolist() == [3, 7] and t["epochs trained"].tolist() == [2, 1]
    first = t.iloc[0]
    assert first["train seconds"] == 8.0
    assert first["examples/s"] == pytest.approx((200 + 300) / 8, abs=0.05)  # examples over time, not a mean of rates
    assert first["MFU"] == pytest.approx((100 + 900) / 8 / 250)
    second = t.iloc[1]
    assert second["reused from the model cache"] and not first["reused from the model cache"]
    assert second["best epoch"] == 1 and pd.isna(second["MFU"]) and pd.isna(second["examples/s"])
    assert fine_tune_table({}).empty
