"""Issue 25, one option schema: `run --help`, the Run page and `ExperimentConfig` give every option the same default
(epochs one number everywhere; the demo its own preset), a refusal names the flag on the command line and the
widget's label in the app, and a grid refuses the same bad values with the CLI's text."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mosecrot_viz.cli import _experiment_config, build_parser, demo_config, main
from mosecrot_viz.defaults.registry import DEMO_METHODS
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.options import OPTIONS, OptionError, app_message, default_of, flag_of
from mosecrot_viz.experiment.presets import DEMO
from mosecrot_viz.store.grid import expand, load_grid
from mosecrot_viz.ui import state

ROOT = Path(__file__).resolve().parents[2]
FILES = {"vectors": "v.vec", "lexicon": "l.txt", "train": "en.tsv", "test": "xx.tsv"}


def _subparser(command: str):
    import argparse

    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[command]


def _cli_config(command: str = "run") -> ExperimentConfig:
    """The config the command line builds when only the required flags are given (parsed, not read from text)."""
    argv = [command] + [x for k, v in FILES.items() for x in (f"--{k}", v)] + ["--out", "o"]
    return _experiment_config(build_parser().parse_args(argv))


def test_cli_run_and_sweep_defaults_are_the_configs_for_every_option():
    plain = ExperimentConfig(**FILES, out="o")
    for command in ("run", "sweep"):
        cli = _cli_config(command)
        assert cli.to_dict() == plain.to_dict(), command
    flagged = [n for n in OPTIONS if flag_of(n)]
    parsed = {a.dest for a in _subparser("run")._actions}
    assert set(flagged) <= parsed  # every option with a flag is on the command line, by its field name
    assert {"max_length", "anchor_seed", "simplify_chinese", "sweep"} == set(OPTIONS) - set(flagged)


def test_the_run_page_defaults_are_the_configs(tmp_path, monkeypatch):
    """ui.state's defaults, and the widgets the Run page draws (AppTest), are ExperimentConfig's defaults."""
    from streamlit.testing.v1 import AppTest

    plain = ExperimentConfig(**FILES)
    overrides = state.config_overrides({})
    assert overrides and all(getattr(plain, k) == v for k, v in overrides.items()), overrides
    monkeypatch.setenv("MOSECROT_APP_DATA", str(tmp_path / "app-data"))
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/run.py").run()
    assert not at.exception, [e.value for e in at.exception]
    kinds = {"run_seeds": at.text_input, "run_device": at.selectbox, "run_policy": at.selectbox,
             "run_freeze": at.checkbox, "run_stop": at.checkbox, "run_lexvocab": at.checkbox,
             "run_subwords": at.checkbox}
    for key, name in state.RUN_WIDGETS.items():
        widget = kinds.get(key, at.number_input)(key=key)
        assert state.option_value(name, widget.value) == getattr(plain, name), (key, widget.value)
        assert widget.label == OPTIONS[name].label
    # the methods preselected: the config's, without lr when there is no target-language training data
    assert at.multiselect(key="run_methods").value == [m for m in plain.methods if m != "lr"]
    assert at.number_input(key="run_epochs").min == OPTIONS["epochs"].low


def test_epochs_is_one_number_everywhere_and_the_demo_is_its_preset():
    epochs = {ExperimentConfig(**FILES).epochs, default_of("epochs"), _cli_config("run").epochs,
              _cli_config("sweep").epochs, state.RUN_DEFAULTS["run_epochs"], state.config_overrides({})["epochs"]}
    assert epochs == {5}
    # the teaching demo keeps today's numbers: its methods, 3 epochs, the schema's other defaults
    assert DEMO.options == {"methods": list(DEMO_METHODS), "epochs": 3}
    demo_args = build_parser().parse_args(["demo", "--out", "o"])
    assert demo_args.epochs == 3
    inputs = {**FILES, "lang": "zh"}
    from_cli, preset = demo_config(demo_args, inputs), DEMO.config(inputs, out="o")
    assert from_cli.to_dict() == preset.to_dict()
    assert preset.methods == list(DEMO_METHODS) and preset.epochs == 3 and preset.top_k == 50 and preset.seeds == [1]
    with pytest.raises(ValueError, match="not run options"):
        type(DEMO)("bad", {"epoch": 3})


def test_the_schema_imports_no_torch():
    code = ("import sys\nimport mosecrot_viz.experiment.options, mosecrot_viz.experiment.presets\n"
            "print('torch' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "False", res.stderr


@pytest.mark.parametrize("field,value,cli,app", [
    ("epochs", 0, "--epochs must be a whole number >= 1, got 0", '"epochs" must be a whole number >= 1, got 0'),
    ("top_k", -1, "--top-k must be a whole number >= 0, got -1", '"top-k (0 = all)" must be a whole number >= 0'),
    ("anchor_agreement_share", 1.5, "--anchor-agreement must be in (0, 1], got 1.5",
     '"keep share by R_s/R_t agreement (0 = off)" must be in (0, 1], got 1.5'),
    ("seeds", [], "--seeds: give at least one seed", '"seeds": give at least one seed'),
    ("methods", ["lr"], "give --target-train", 'give "target-language training data"'),
    ("device", "gpu", "--device must be one of", '"device" must be one of'),
    ("vectors", "default:qq", "--vectors names no embedded default; known: default:de",
     '"vectors" names no embedded default'),
    ("bli_test_lexicon", "default:qq", "--bli-test-lexicon names no embedded default; known: default:es",
     '"BLI test dictionary" names no embedded default'),
])
def test_a_refusal_names_the_flag_on_the_cli_and_the_label_in_the_app(field, value, cli, app):
    with pytest.raises(OptionError) as err:
        ExperimentConfig(**{**FILES, field: value}).validate()
    assert cli in str(err.value) and app in app_message(err.value)
    assert "--" not in app_message(err.value)
    assert app_message(InputError("plain")) == "plain"  # anything else is shown as it is


def test_a_users_value_is_never_read_as_an_option_name():
    with pytest.raises(OptionError) as err:
        ExperimentConfig(**FILES, methods=["{vectors}"]).validate()
    assert "unknown methods ['{vectors}']" in str(err.value) and "['{vectors}']" in app_message(err.value)


def test_the_run_page_shows_a_refusal_by_the_widgets_label(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MOSECROT_APP_DATA", str(tmp_path / "app-data"))
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    sid = "0123456789ab"
    inputs = {**{k: str(tmp_path / v) for k, v in FILES.items()}, "label": "files (test)", "source_model": "default",
              "multilingual_model": "default-multilingual"}
    folder = tmp_path / "app-data" / "setups"
    folder.mkdir(parents=True)
    (folder / f"{sid}.json").write_text(json.dumps({"inputs": inputs}))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["setup"] = sid
    at.run().switch_page("pages/run.py").run()
    at.text_input(key="run_seeds").set_value("1,x")
    at.button(key="run_start").click().run()
    assert [e.value for e in at.error] == ["\"seeds\" must be comma-separated whole numbers, got '1,x'"]
    at.text_input(key="run_seeds").set_value("1")
    at.multiselect(key="run_methods").set_value(["lr"])
    at.button(key="run_start").click().run()
    assert [e.value for e in at.error] == ['method \'lr\' trains on target-language data: give '
                                           '"target-language training data"']
    assert not list((tmp_path / "runs").glob("*/status.json"))  # nothing was started


def _cli_error(tmp_path, capsys, flag: str, value: str) -> str:
    argv = ["run", *[x for k, v in FILES.items() for x in (f"--{k}", v)], "--methods", "majority", flag, value,
            "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    return capsys.readouterr().err.removeprefix("error: ").strip()


@pytest.mark.parametrize("field,yaml_value,cli_value", [
    ("epochs", "0", "0"), ("batch_size", "-3", "-3"), ("top_k", "-1", "-1"), ("max_vocab", "0", "0"),
    ("lr", "0.0", "0"), ("temperature", ".nan", "nan"), ("anchor_agreement_share", "1.5", "1.5"),
    ("script_shift", "2.0", "2"), ("n_anchors", "0", "0"), ("patience", "0", "0"),
])
def test_a_grid_refuses_what_the_cli_refuses_with_its_text(tmp_path, capsys, field, yaml_value, cli_value):
    cli = _cli_error(tmp_path, capsys, flag_of(field), cli_value)
    grid = tmp_path / "grid.yaml"
    base = "\n".join(f"  {k}: {v}" for k, v in {**FILES, "methods": "[majority]", field: yaml_value}.items())
    grid.write_text(f"name: g\nbase:\n{base}\naxes: {{}}\n")
    with pytest.raises(InputError) as err:
        expand(load_grid(grid))
    assert str(err.value).endswith(f"base: field {field!r}: {cli}"), (str(err.value), cli)


def test_a_grid_axis_value_is_checked_by_the_same_path(tmp_path):
    grid = tmp_path / "grid.yaml"
    base = "\n".join(f"  {k}: {v}" for k, v in FILES.items())
    grid.write_text(f"base:\n{base}\naxes:\n  epochs: [1, 0]\n  seed: [1]\n")
    with pytest.raises(InputError, match=r"axis 'epochs': field 'epochs': --epochs must be a whole number >= 1, got 0"):
        load_grid(grid)


def test_a_recorded_config_is_checked_before_anything_is_built_from_it(tiny_run_args, tmp_path):
    """The hostile sweep's results.json edited to `top_k: -7`: export failed late with an IndexError; a stored
    config now answers one line naming the file and the option, and a GPU run's device is not checked here."""
    from mosecrot_viz.errors import SchemaError
    from mosecrot_viz.experiment.config import ExperimentConfig

    good = ExperimentConfig(**tiny_run_args, methods=["ls"], device="cuda").to_dict()
    assert ExperimentConfig.from_record(good, tmp_path / "results.json").top_k == good["top_k"]
    for field, value, needle in [("top_k", -7, "--top-k"), ("epochs", 0, "--epochs"), ("seeds", [-1], "--seeds")]:
        with pytest.raises(SchemaError) as err:
            ExperimentConfig.from_record({**good, field: value}, tmp_path / "results.json")
        assert str(err.value).startswith(str(tmp_path / "results.json")) and needle in str(err.value), str(err.value)
