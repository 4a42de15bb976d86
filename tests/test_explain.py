"""`python -m mosecrot_viz explain RUN_DIR`: the stored ladder as a table, JSON, and clear errors."""
import json

from mosecrot_viz.cli import main
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment


def test_explain_prints_each_rung_its_cost_and_a_reading(tmp_path, tiny_run_args, capsys):
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "source", "majority"], seeds=[1, 2], epochs=1,
                           top_k=5, out=str(tmp_path / "run"))
    res = run_experiment(cfg).results
    assert main(["explain", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    for rung in ("english_original", "english_method", "oracle_translation", "oracle_vector_vocab", "stitched",
                 "English model, English sentences", "exact translations, target sentences",  # words, key beside
                 "(dictionary only, no vectors)", "(English model reading target text: source)",
                 "(majority class: majority)"):
        assert rung in out
    stitched = next(line for line in out.splitlines() if line.split()[1:2] == ["stitched"])
    assert f"{res['methods']['rr-softmax']['macro_f1']:.3f}" in stitched
    assert "rr-softmax: " in out.splitlines()[-1]
    assert main(["explain", str(tmp_path / "run"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = [r for r in data["rows"] if r["method"] == "rr-softmax" and not r["rung"].startswith("(")]
    changes = sum(r["change"] for r in rows[1:])
    assert abs(changes - (rows[-1]["macro_f1"] - rows[0]["macro_f1"])) < 1e-9  # the changes telescope
    assert set(data["readings"]) == {"rr-softmax"}


def test_explain_fails_in_one_line_without_a_run_or_a_ladder(tmp_path, tiny_run_args, capsys):
    assert main(["explain", str(tmp_path / "nowhere")]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "results.json" in err and len(err.splitlines()) == 1
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=1, top_k=5, ladder=False,
                           out=str(tmp_path / "plain"))
    run_experiment(cfg)
    assert not (tmp_path / "plain" / "ladder.csv").exists()
    assert main(["explain", str(tmp_path / "plain")]) != 0
    assert "no gap ladder" in capsys.readouterr().err
