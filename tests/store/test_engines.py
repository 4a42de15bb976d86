"""Grid engines: a tiny 2 languages x 2 methods x 2 seeds grid on the local engine and on a local
Ray instance (2 CPUs) gives the same results in the store; re-runs skip complete trials; a failing
trial is recorded and the others go on."""
import json

import pytest
import yaml

from mosecrot_viz.cli import main
from mosecrot_viz.errors import InputError
from mosecrot_viz.store.engines import ray_runtime_env, run_trials, trial_path, write_trial_files
from mosecrot_viz.store.grid import expand, load_grid
from mosecrot_viz.store.runs import StoredRun, list_runs
from mosecrot_viz.store.sweeps import sweep_frame, sweep_progress


def _scores(root, trials) -> dict:
    out = {}
    for t in trials:
        res = StoredRun(trial_path(root, t)).results()
        out[t.trial_id] = {m: round(v["macro_f1"], 6) for m, v in res["methods"].items()}
    return out


def test_local_and_ray_engines_store_the_same_results_and_resume(tmp_path, tiny_grid):
    ray = pytest.importorskip("ray", reason="Ray is the optional extra: pip install -r requirements-ray.txt")
    trials = expand(load_grid(tiny_grid))
    assert len(trials) == 8
    local = run_trials(trials, tmp_path / "local", "local")
    assert sorted(local.completed) == sorted(t.trial_id for t in trials) and not local.failed

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env=ray_runtime_env())
    try:
        on_ray = run_trials(trials, tmp_path / "ray", "ray")
        assert sorted(on_ray.completed) == sorted(local.completed) and not on_ray.failed
        again = run_trials(trials, tmp_path / "ray", "ray")
        assert sorted(again.skipped) == sorted(local.completed) and not again.completed
    finally:
        ray.shutdown()

    assert _scores(tmp_path / "ray", trials) == _scores(tmp_path / "local", trials)
    for root in ("local", "ray"):
        runs = list_runs(tmp_path / root)
        assert sorted(r.path.name for r in runs) == sorted(t.folder_name for t in trials)
        assert all(r.status()["state"] == "complete" for r in runs)
        assert all(r.results()["config"]["out"] == str(r.path) for r in runs)  # not the worker's scratch folder
        progress = sweep_progress(runs)
        assert progress[["total", "complete", "failed"]].values.tolist() == [[8, 8, 0]]
    frame = sweep_frame(list_runs(tmp_path / "ray"))
    assert set(frame["language"]) == {"xx", "yy"} and set(frame["seed"]) == {"1", "2"}


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(tmp_path, tiny_grid, capsys):
    grid = yaml.safe_load(tiny_grid.read_text())
    (tmp_path / "zz.vec").write_text("1 6\nnothing_in_the_lexicon 1 2 3 4 5 6\n")
    grid["axes"]["language"].append({"name": "zz", "vectors": "zz.vec", "lexicon": "yy_lex.txt", "test": "yy_test.tsv"})
    grid["axes"]["method"], grid["axes"]["seed"] = ["ls"], [1]
    tiny_grid.write_text(yaml.safe_dump(grid, sort_keys=False))
    out = tmp_path / "sw"
    assert main(["sweep", "--grid", str(tiny_grid), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "2 completed, 0 skipped (already complete), 1 failed" in captured.out
    assert "FAILED" in captured.err and "target side has no static vector" in captured.err
    assert "zz.vec and the vocabulary of model" in captured.err  # the overlap error names what was compared
    states = sorted(r.status()["state"] for r in list_runs(out))
    assert states == ["complete", "complete", "failed"]
    # the re-run skips both complete trials and retries only the failed one
    assert main(["sweep", "--grid", str(tiny_grid), "--out", str(out)]) == 1
    assert "0 completed, 2 skipped (already complete), 1 failed" in capsys.readouterr().out


def test_cli_refuses_mixed_or_missing_sweep_options(tmp_path, tiny_grid, capsys):
    assert main(["sweep", "--grid", str(tiny_grid), "--param", "top_k", "--values", "1", "--out", str(tmp_path)]) == 2
    assert "either --grid or --param" in capsys.readouterr().err
    assert main(["sweep", "--out", str(tmp_path)]) == 2
    assert "needs --grid" in capsys.readouterr().err
    pytest.importorskip("ray", reason="Ray is the optional extra: pip install -r requirements-ray.txt")
    assert main(["sweep", "--grid", str(tiny_grid), "--engine", "ray", "--out", str(tmp_path / "sw"),
                 "--address", "no-such-host"]) == 1  # the options parsed; reaching the cluster failed
    assert "cannot start or reach Ray at no-such-host" in capsys.readouterr().err
    assert not (tmp_path / "sw").exists() or not list_runs(tmp_path / "sw")  # no grid of queued folders left behind


def test_returned_files_cannot_escape_the_trial_folder(tmp_path):
    with pytest.raises(InputError, match="outside the trial folder"):
        write_trial_files(tmp_path / "t", {"../evil.txt": b"x"})
    write_trial_files(tmp_path / "t", {"results.json": json.dumps({"config": {"out": "/scratch"}}).encode()})
    assert json.loads((tmp_path / "t" / "results.json").read_text())["config"]["out"] == str(tmp_path / "t")


def test_a_grid_without_out_goes_to_the_apps_run_store(tmp_path, tiny_grid, monkeypatch):
    grid = yaml.safe_load(tiny_grid.read_text())
    grid["axes"] = {"language": grid["axes"]["language"][:1], "method": ["majority"]}
    tiny_grid.write_text(yaml.safe_dump(grid, sort_keys=False))
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "store"))
    assert main(["sweep", "--grid", str(tiny_grid)]) == 0
    runs = list_runs(tmp_path / "store")
    assert len(runs) == 1 and runs[0].status()["state"] == "complete"


def test_cli_ray_engine_starts_and_stops_its_own_local_instance(tmp_path, tiny_grid, capsys):
    ray = pytest.importorskip("ray", reason="Ray is the optional extra: pip install -r requirements-ray.txt")
    grid = yaml.safe_load(tiny_grid.read_text())
    grid["axes"]["method"], grid["axes"]["seed"] = ["majority", "ls"], [1]
    tiny_grid.write_text(yaml.safe_dump(grid, sort_keys=False))
    assert main(["sweep", "--grid", str(tiny_grid), "--engine", "ray", "--out", str(tmp_path / "sw")]) == 0
    assert "4 completed, 0 skipped (already complete), 0 failed" in capsys.readouterr().out
    assert not ray.is_initialized()
    assert len(list_runs(tmp_path / "sw")) == 4
