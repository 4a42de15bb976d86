"""End to end on tiny data: the vectors' scale does not change a run's predictions (1e20), vectors float32 cannot
hold are refused before any fine-tune (1e-44, no file written), degenerate but legal inputs run and their run
records warnings (results.json, the CLI), and every JSON a run or `explain --json` writes is strict."""
import json

import numpy as np
import pandas as pd
import pytest

from mosecrot_viz.atomic import NonFiniteError
from mosecrot_viz.cli import main
from mosecrot_viz.errors import FormatError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment
from mosecrot_viz.experiment.results import RunOutput, write_results


def _strict(text: str):
    """json.loads that refuses NaN / Infinity tokens (Python's default accepts them)."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=refuse)


def _scaled_copy(src, dst, scale: float) -> None:
    """The .vec file `src` with every number times `scale`, written with 9 significant digits."""
    lines = open(src, encoding="utf-8").read().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        word, *nums = line.split(" ")
        out.append(word + " " + " ".join(f"{float(x) * scale:.9g}" for x in nums))
    open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")


def _cfg(args, out, **kw):
    base = dict(methods=["rr-softmax", "ls"], seeds=[1], epochs=1, top_k=5, out=str(out))
    return ExperimentConfig(**{**args, **base, **kw})


def test_vectors_scaled_by_1e20_give_the_predictions_of_unscaled(tmp_path, tiny_run_args, capsys):
    cache = str(tmp_path / "cache")  # the English fine-tunes do not depend on the target vectors: reused
    ref = run_experiment(_cfg(tiny_run_args, tmp_path / "plain", model_cache=cache))
    big = tmp_path / "big.vec"
    _scaled_copy(tiny_run_args["vectors"], big, 1e20)
    out = run_experiment(_cfg({**tiny_run_args, "vectors": str(big)}, tmp_path / "big", model_cache=cache))
    for method in ("rr-softmax", "ls"):
        f_t = out.mapped[method][1]
        assert len(np.unique(f_t.round(5), axis=0)) == len(f_t)  # every word its own row (was: all one row)
        want = ref.mapped[method][1]  # the swapped-in rows themselves, not only the (maybe few) labels they give
        np.testing.assert_allclose(f_t, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    plain = pd.read_csv(tmp_path / "plain" / "predictions.csv")
    scaled = pd.read_csv(tmp_path / "big" / "predictions.csv")
    assert plain[["method", "id", "pred"]].equals(scaled[["method", "id", "pred"]])
    res = _strict((tmp_path / "big" / "results.json").read_text())
    before = _strict((tmp_path / "plain" / "results.json").read_text())["warnings"]
    assert "vector_scale" not in [w["key"] for w in before]  # (a 1-epoch tiny model may predict one label: said)
    assert res["warnings"] == [{"key": "vector_scale", "message": res["warnings"][0]["message"]}] + before
    assert str(big) in res["warnings"][0]["message"] and "e+20" in res["warnings"][0]["message"]
    # explain --json on a one-seed run (its spreads are not measured) is strict JSON: null, not NaN
    capsys.readouterr()
    assert main(["explain", str(tmp_path / "big"), "--json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text and _strict(text)["rows"]


def test_vectors_scaled_by_1e_minus44_are_refused_before_any_file_is_written(tmp_path, tiny_run_args, capsys):
    tiny = tmp_path / "tiny.vec"
    _scaled_copy(tiny_run_args["vectors"], tiny, 1e-44)
    with pytest.raises(FormatError, match="subnormal"):
        run_experiment(_cfg({**tiny_run_args, "vectors": str(tiny)}, tmp_path / "out"))
    assert not (tmp_path / "out" / "results.json").exists()
    a = tiny_run_args
    code = main(["run", "--vectors", str(tiny), "--lexicon", a["lexicon"], "--train", a["train"], "--test", a["test"],
                 "--source-model", a["source_model"], "--methods", "ls", "--epochs", "1", "--out", str(tmp_path / "cli")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith(f"error: {tiny}: vectors have norms from") and "Traceback" not in "".join(err)
    assert not (tmp_path / "cli" / "results.json").exists()


def test_a_test_set_missing_labels_runs_with_a_warning_and_macro_f1_over_its_labels(tmp_path, tiny_run_args, capsys):
    test = pd.read_csv(tiny_run_args["test"], sep="\t")
    one = tmp_path / "one_label.tsv"
    test[test["category"] == "sport"].to_csv(one, sep="\t", index=False)
    a = tiny_run_args
    code = main(["run", "--vectors", a["vectors"], "--lexicon", a["lexicon"], "--train", a["train"], "--dev", a["dev"],
                 "--test", str(one), "--source-model", a["source_model"], "--methods", "rr-softmax,majority",
                 "--epochs", "1", "--top-k", "5", "--no-ladder", "--out", str(tmp_path / "out")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "warning (test_missing_labels): the test set has 1 of the 3 training labels" in printed
    res = _strict((tmp_path / "out" / "results.json").read_text())
    assert "test_missing_labels" in [w["key"] for w in res["warnings"]]
    for m in res["methods"].values():  # the mean F1 of the one label the test set holds, not a third of it
        assert m["macro_f1"] == pytest.approx(m["per_class"]["sport"]["f1"]) and m["macro_f1_labels"] == ["sport"]


def test_one_anchor_and_one_dimensional_vectors_run_and_say_so(tmp_path, tiny_run_args):
    lex = tmp_path / "one.txt"
    lex.write_text("cat\txcat\n")
    out = run_experiment(_cfg({**tiny_run_args, "lexicon": str(lex)}, tmp_path / "one", methods=["rr-softmax"],
                              ladder=False))
    keys = [w["key"] for w in out.results["warnings"]]
    assert {"one_anchor", "collapsed_map", "constant_predictions"} <= set(keys)
    words = [line.split(" ")[0] for line in open(tiny_run_args["vectors"]).read().splitlines()[1:]]
    flat = tmp_path / "flat.vec"
    rng = np.random.default_rng(0)
    flat.write_text(f"{len(words)} 1\n" + "".join(f"{w} {rng.normal():.6f}\n" for w in words))
    out = run_experiment(_cfg({**tiny_run_args, "vectors": str(flat)}, tmp_path / "flat", ladder=False))
    assert "one_dimensional_vectors" in [w["key"] for w in out.results["warnings"]]
    assert _strict((tmp_path / "flat" / "results.json").read_text())["methods"]["ls"]["per_seed"]


def test_a_nan_in_a_results_record_is_refused_naming_its_field_and_leaves_the_previous_run(tmp_path):
    anchors = type("A", (), {"source_words": [], "source_ids": np.array([]), "target_words": [],
                             "target_ids": np.array([])})()
    preds = pd.DataFrame({"method": ["ls"], "pred": ["a"]})
    write_results(RunOutput({"methods": {"ls": {"macro_f1": 0.5}}}, preds, anchors), tmp_path)
    with pytest.raises(NonFiniteError, match=r"nan as JSON at methods\.ls\.per_seed\[1\]"):
        write_results(RunOutput({"methods": {"ls": {"macro_f1": 0.5, "per_seed": [0.5, float("nan")]}}}, preds,
                                anchors), tmp_path)
    assert _strict((tmp_path / "results.json").read_text()) == {"methods": {"ls": {"macro_f1": 0.5}}}


def test_a_mapper_that_cannot_represent_its_anchors_names_the_vectors_file(tmp_path, tiny_run_args):
    from mosecrot_viz.core.checks import NumericsError
    from mosecrot_viz.experiment.inputs import load_inputs
    from mosecrot_viz.experiment.spaces import map_spaces

    lines = open(tiny_run_args["vectors"], encoding="utf-8").read().splitlines()
    anchors = [line.split(" ")[0] for line in lines[1:6]]  # five anchor words at 1e-44, the other 21 ordinary
    mixed = tmp_path / "mixed.vec"
    mixed.write_text("\n".join([lines[0]] + [" ".join([ln.split(" ")[0]] + [f"{float(x) * 1e-44:.9g}" for x in
                                                                           ln.split(" ")[1:]]) for ln in lines[1:6]]
                               + lines[6:]) + "\n")
    lex = tmp_path / "lex5.txt"
    lex.write_text("".join(f"{w[1:]}\t{w}\n" for w in anchors))
    cfg = _cfg({**tiny_run_args, "vectors": str(mixed), "lexicon": str(lex)}, tmp_path / "o")
    with pytest.raises(NumericsError, match=rf"ls: the least-squares map W.*\(vectors {mixed}, 5 anchors\)"):
        map_spaces(cfg, load_inputs(cfg), ["ls"])
    spaces = map_spaces(cfg, load_inputs(cfg), ["rr-softmax"])  # RR reads directions only: it runs, and says so
    assert "tiny_vectors" in spaces.warnings.keys()
