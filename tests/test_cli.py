"""The command line as a tool: exit statuses, --help without torch, defaults in every option's help, --version."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mosecrot_viz import __version__
from mosecrot_viz.cli import METHOD_NAMES, build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def _python(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, **kw)


def test_help_answers_without_importing_torch():
    code = ("import sys\nfrom mosecrot_viz.cli import main\n"
            "try:\n    main(['run', '--help'])\nexcept SystemExit as e:\n    code = e.code\n"
            "print('EXIT', code, 'torch' in sys.modules, 'transformers' in sys.modules)")
    res = _python("-c", code)
    assert res.returncode == 0, res.stderr
    assert "--top-k" in res.stdout and res.stdout.strip().splitlines()[-1] == "EXIT 0 False False"


def test_module_help_and_version_in_a_process():
    res = _python("-m", "mosecrot_viz", "--help")
    assert res.returncode == 0 and "explain" in res.stdout and "resources" in res.stdout
    res = _python("-m", "mosecrot_viz", "--version")
    assert res.returncode == 0 and res.stdout.strip() == f"python -m mosecrot_viz {__version__}"


def _subparsers(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("command", ["run", "sweep", "demo", "bench", "explain", "resources"])
def test_every_option_has_help_with_its_default(command):
    sub = _subparsers(build_parser())[command]
    text = sub.format_help()
    for action in sub._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        assert action.help, f"{command} {action.option_strings} has no help text"
        if isinstance(action, argparse._StoreTrueAction) or action.required or "--help" in action.option_strings:
            continue
        shown = sub._get_formatter()._get_help_string(action)
        assert "(default" in shown or "; default" in shown, (command, action.option_strings, shown)
    assert "(default: 50)" in text if command in ("run", "sweep") else True


def test_method_names_match_the_registry():
    from mosecrot_viz.experiment.config import ALL_METHODS

    assert tuple(METHOD_NAMES) == tuple(ALL_METHODS)


def test_usage_errors_exit_2_and_failed_runs_exit_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:  # argparse's own usage error: one line too, no usage block
        main(["run", "--no-such-flag"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "required: --vectors" in err
    with pytest.raises(SystemExit):
        main(["run", "--seeds", "1,x"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seeds" in err and "1,x" in err
    # a bad option value found before any work: a usage error, one line
    assert main(["run", "--vectors", "v", "--lexicon", "l", "--train", "t", "--test", "t", "--top-k", "-1",
                 "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == "error: --top-k must be a whole number >= 0, got -1\n"
    assert main(["sweep", "--param", "top_k"]) == 2
    assert "sweep needs --grid" in capsys.readouterr().err
    # a run that fails on its data: 1, one line
    assert main(["explain", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")


def test_resources_json_lists_every_default_with_a_licence(capsys):
    assert main(["resources", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["licence"].strip() and r["rights"].strip() for r in rows)
