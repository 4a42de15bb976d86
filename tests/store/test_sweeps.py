"""Sweeps: value parsing, one stored run per trial, the sweep table, the CLI command."""
import pandas as pd
import pytest

from mosecrot_viz.cli import main
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.store.runs import list_runs
from mosecrot_viz.store.sweeps import parse_values, run_sweep, sweep_configs, sweep_frame


def test_parse_values():
    assert parse_values("top_k", "1, 10,all,0") == [1, 10, None, None]
    assert parse_values("temperature", "0.05,1") == [0.05, 1.0]
    assert parse_values("drop_stopword_anchors", "false,true") == [False, True]
    with pytest.raises(InputError, match="cannot sweep"):
        parse_values("lr", "1")
    with pytest.raises(InputError, match="bad value"):
        parse_values("top_k", "ten")


def test_sweep_over_top_k_stores_every_trial(tmp_path, tiny_run_args):
    base = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "ls"], epochs=1)
    configs = sweep_configs(base, "top_k", [1, 5, None], model_cache=str(tmp_path / "mc"))
    frame = run_sweep(configs, root=tmp_path / "runs")
    assert sorted(frame["value"].astype(str).unique()) == ["1", "5", "all"]
    assert set(frame["method"]) == {"rr-softmax", "ls"}
    # LS does not depend on top-k and its English fine-tune is shared: identical scores in every trial
    assert frame[frame["method"] == "ls"]["macro_f1"].nunique() == 1
    assert len(list((tmp_path / "mc").iterdir())) == 4  # 3 RR models (k changes F_s) + 1 shared original-embedding model
    again = sweep_frame(list_runs(tmp_path / "runs"))
    pd.testing.assert_frame_equal(again.sort_values(["value", "method"]).reset_index(drop=True)[frame.columns],
                                  frame.astype({"value": object}).sort_values(["value", "method"]).reset_index(drop=True),
                                  check_dtype=False)


def test_anchor_count_sweep_from_the_cli(tmp_path, tiny_run_args, capsys):
    a = tiny_run_args
    argv = ["sweep", "--param", "n_anchors", "--values", "5,all", "--vectors", a["vectors"], "--lexicon", a["lexicon"],
            "--train", a["train"], "--test", a["test"], "--source-model", a["source_model"],
            "--methods", "rr-softmax,majority", "--epochs", "1", "--model-cache", str(tmp_path / "mc"),
            "--out", str(tmp_path / "sw")]
    assert main(argv) == 0
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    anchors = table.groupby("value")["anchors"].first().to_dict()
    assert anchors == {"5": 5, "all": 26}
    assert "trials stored" in capsys.readouterr().out
