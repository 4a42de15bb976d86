"""results.json["environment"]: package versions, git commit, device, and the sha256 of every input file."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment
from mosecrot_viz.experiment.provenance import model_record, run_environment


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_run_records_its_environment_with_input_hashes(tmp_path, tiny_run_args):
    cfg = ExperimentConfig(**tiny_run_args, methods=["ls", "majority"], epochs=1, out=str(tmp_path / "run"),
                           ladder=False)
    env = run_experiment(cfg).results["environment"]
    json.dumps(env)  # stored as JSON
    packages = env["packages"]
    import numpy
    import torch
    import transformers

    from mosecrot_viz import __version__
    assert (packages["torch"], packages["transformers"], packages["numpy"], packages["mosecrot-viz"]) == (
        torch.__version__, transformers.__version__, numpy.__version__, __version__)
    assert env["device"]["device"] == "cpu" and env["device"]["name"]
    inputs = env["inputs"]
    for field in ("vectors", "lexicon", "train", "dev", "test", "target_train", "source_test"):
        assert inputs[field]["sha256"] == _sha(tiny_run_args[field]), field
        assert inputs[field]["bytes"] == Path(tiny_run_args[field]).stat().st_size
    model = inputs["source_model"]
    assert model["path"] == tiny_run_args["source_model"]
    assert model["files"]["config.json"] == _sha(Path(tiny_run_args["source_model"]) / "config.json")
    assert any(name.endswith(".safetensors") for name in model["files"])
    assert "multilingual_model" not in inputs  # mplm not run
    git = env["git"]
    if (Path(__file__).resolve().parents[2] / ".git").exists():
        assert len(git["commit"]) == 40 and isinstance(git["dirty"], bool)


def test_default_specs_are_hashed_as_the_resolved_file(tmp_path, monkeypatch, tiny_run_args):
    from mosecrot_viz.defaults import registry as resources

    built = tmp_path / "zh.vec"
    built.write_text("1 2\na 0.1 0.2\n")
    monkeypatch.setattr(resources, "resolve", lambda key: built if key == "vectors:zh" else None)
    cfg = ExperimentConfig(**dict(tiny_run_args, vectors="default:zh"), methods=["majority"])
    env = run_environment(cfg, "cpu")
    assert env["inputs"]["vectors"] == {"spec": "default:zh", "path": str(built), "bytes": built.stat().st_size,
                                        "sha256": _sha(built)}


def test_a_hub_id_is_recorded_as_the_id():
    assert model_record("someone/not-a-local-folder") == {"spec": "someone/not-a-local-folder",
                                                         "hub_id": "someone/not-a-local-folder"}


def test_run_page_shows_the_environment(tmp_path, monkeypatch, tiny_run_args):
    from streamlit.testing.v1 import AppTest

    from mosecrot_viz.store.runs import new_run_dir

    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    cfg = ExperimentConfig(**tiny_run_args, methods=["ls", "majority"], epochs=1, ladder=False)
    cfg.out = str(new_run_dir("tiny", tmp_path / "runs"))
    res = run_experiment(cfg).results
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/run.py").run()
    at.session_state["current_run"] = Path(cfg.out).name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.label.startswith("Environment") for e in at.expander)
    table = next(d.value for d in at.dataframe if "sha256" in d.value.columns)
    assert table.set_index("input").loc["vectors", "sha256"] == res["environment"]["inputs"]["vectors"]["sha256"]
