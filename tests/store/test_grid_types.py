"""Typed grid values: YAML 1.1 number strings coerced at load, wrong types refused with the field named, before
any trial starts."""
from __future__ import annotations

import json

import pytest

from mosecrot_viz.cli import main
from mosecrot_viz.errors import InputError
from mosecrot_viz.store.grid import expand, load_grid


def _grid(tmp_path, args, **extra) -> str:
    lines = ["name: typed", "base:"] + [f"  {k}: {json.dumps(v)}" for k, v in {
        "vectors": args["vectors"], "lexicon": args["lexicon"], "train": args["train"], "dev": args["dev"],
        "test": args["test"], "source_model": args["source_model"]}.items()]
    lines += [f"  {k}: {v}" for k, v in extra.items()]  # written raw, so YAML's own reading applies
    lines += ["axes:", "  method: [ls]", "  seed: [1]"]
    path = tmp_path / "grid.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_yaml_1e_4_is_a_learning_rate_and_the_grid_runs(tmp_path, tiny_run_args):
    import yaml

    path = _grid(tmp_path, tiny_run_args, lr="1e-4", epochs='"1"')
    assert yaml.safe_load(open(path))["base"]["lr"] == "1e-4"  # what YAML 1.1 hands us: a string
    (trial,) = expand(load_grid(path))
    assert trial.config.lr == pytest.approx(1e-4) and isinstance(trial.config.lr, float)
    assert trial.config.epochs == 1
    out = tmp_path / "store"
    assert main(["sweep", "--grid", path, "--out", str(out)]) == 0
    results = [json.loads(p.read_text()) for p in out.rglob("results.json")]
    assert len(results) == 1 and results[0]["config"]["lr"] == pytest.approx(1e-4)


def test_a_word_for_a_number_stops_before_any_trial_naming_the_field(tmp_path, tiny_run_args, capsys):
    path = _grid(tmp_path, tiny_run_args, lr="fast")
    with pytest.raises(InputError, match=r"grid.yaml: base: field 'lr': .*number.*got 'fast'"):
        load_grid(path)
    out = tmp_path / "store"
    assert main(["sweep", "--grid", path, "--out", str(out)]) == 2  # a usage error: nothing ran
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "field 'lr'" in err
    assert not list(out.rglob("results.json")) and not list(out.rglob("status.json"))


@pytest.mark.parametrize("extra, message", [
    ({"epochs": "2.5"}, r"field 'epochs'"),
    ({"seeds": "[1, x]"}, r"field 'seeds'\[1\]"),
    ({"freeze_embeddings": "maybe"}, r"field 'freeze_embeddings'"),
    ({"lang": "12"}, r"field 'lang'"),
])
def test_wrong_types_are_refused_with_the_field(tmp_path, tiny_run_args, extra, message):
    with pytest.raises(InputError, match=message):
        load_grid(_grid(tmp_path, tiny_run_args, **extra))


def test_axis_values_are_typed_too(tmp_path, tiny_run_args):
    path = _grid(tmp_path, tiny_run_args)
    text = open(path).read().replace("  seed: [1]", "  seed: [1]\n  temperature: [\"5e-2\", 0.1]")
    open(path, "w").write(text)
    trials = expand(load_grid(path))
    assert sorted(t.config.temperature for t in trials) == [pytest.approx(0.05), pytest.approx(0.1)]
    open(path, "w").write(text.replace('"5e-2"', "cold"))
    with pytest.raises(InputError, match=r"axis 'temperature': field 'temperature'"):
        load_grid(path)
