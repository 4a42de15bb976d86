"""The run store: background runs report status, complete runs list with their results."""
import time

import pytest

from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.store.runs import list_runs, runs_table, start_run


def _wait(run, timeout=120):
    t = time.time()
    while run.active and time.time() - t < timeout:
        time.sleep(0.2)
    return run.status()


def test_background_run_lands_in_the_store(tmp_path, tiny_run_args):
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=1)
    run = start_run(cfg, name="tiny", root=tmp_path)
    assert _wait(run)["state"] == "complete"
    [listed] = list_runs(tmp_path)
    assert listed.run_id == run.run_id and set(listed.results()["methods"]) == {"rr-softmax", "majority"}
    assert listed.anchors()["target_words"][0].startswith("x")
    assert len(listed.predictions()) == 2 * 12
    table = runs_table(list_runs(tmp_path))
    assert table.loc[0, "state"] == "complete" and table.loc[0, "anchors"] > 0


def test_failed_run_reports_the_input_error(tmp_path, tiny_run_args):
    bad = tmp_path / "bad.vec"
    bad.write_text("a 1 2\nb 1\n")
    run = start_run(ExperimentConfig(**dict(tiny_run_args, vectors=str(bad)), methods=["majority", "rr-softmax"]),
                    root=tmp_path)
    st = _wait(run)
    assert st["state"] == "failed" and f"{bad}:2" in st["message"]


def test_invalid_config_fails_before_starting(tmp_path, tiny_run_args):
    with pytest.raises(InputError, match="unknown methods"):
        start_run(ExperimentConfig(**tiny_run_args, methods=["nope"]), root=tmp_path)
    assert list_runs(tmp_path) == []


def test_a_killed_run_is_marked_incomplete_and_earlier_runs_survive(tmp_path, tiny_run_args):
    import json
    import os
    import signal
    import subprocess
    import sys

    done = start_run(ExperimentConfig(**tiny_run_args, methods=["majority", "rr-softmax"], epochs=1), root=tmp_path)
    assert _wait(done)["state"] == "complete"
    cfg = dict(tiny_run_args, methods=["rr-softmax"], epochs=400)
    child = (
        "import json, sys\n"
        "from mosecrot_viz.experiment.config import ExperimentConfig\n"
        "from mosecrot_viz.store.runs import execute_run, prepare_run\n"
        "cfg = ExperimentConfig(**json.loads(sys.argv[1]))\n"
        "execute_run(cfg, prepare_run(cfg, 'victim', root=__import__('pathlib').Path(sys.argv[2])))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", child, json.dumps(cfg), str(tmp_path)])
    t = time.time()
    victim = None
    while time.time() - t < 120:
        victim = next((r for r in list_runs(tmp_path) if "victim" in r.run_id), None)
        if victim and victim.status().get("state") == "running" and victim.status().get("fraction", 0) > 0.05:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert victim is not None
    assert victim.status()["state"] == "incomplete" and "stopped before finishing" in victim.status()["message"]
    assert done.results()["methods"]["rr-softmax"]["macro_f1"] >= 0  # the earlier run is intact
    assert runs_table(list_runs(tmp_path)).set_index("run").loc[victim.run_id, "state"] == "incomplete"


def test_two_sessions_starting_runs_at_once_get_their_own_results(tmp_path, tiny_run_args):
    a = start_run(ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=1, top_k=3),
                  name="alice", root=tmp_path)
    b = start_run(ExperimentConfig(**tiny_run_args, methods=["rr-sparsemax", "ls"], epochs=1, top_k=7),
                  name="bob", root=tmp_path)
    assert _wait(a)["state"] == "complete" and _wait(b)["state"] == "complete"
    ra, rb = a.results(), b.results()
    assert set(ra["methods"]) == {"rr-softmax", "majority"} and ra["config"]["top_k"] == 3
    assert set(rb["methods"]) == {"rr-sparsemax", "ls"} and rb["config"]["top_k"] == 7
    # serialised runs are deterministic: alice's result equals the same run made alone
    alone = start_run(ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=1, top_k=3),
                      root=tmp_path / "alone")
    _wait(alone)
    assert alone.results()["methods"]["rr-softmax"]["per_seed"] == ra["methods"]["rr-softmax"]["per_seed"]


def test_a_run_analysing_its_results_is_active_until_its_process_is_gone(tmp_path):
    import json
    import os

    from mosecrot_viz.store.runs import ACTIVE_STATES, StoredRun, cancel_run

    path = tmp_path / "r"
    path.mkdir()
    (path / "results.json").write_text("{}")
    (path / "status.json").write_text(json.dumps({"state": "analysing", "fraction": 1.0, "pid": os.getpid(),
                                                  "message": "computing"}))
    run = StoredRun(path)
    assert run.status()["state"] == "analysing" and run.active and "analysing" in ACTIVE_STATES
    assert cancel_run(run) is False  # its results are in: nothing left to cancel
    (path / "status.json").write_text(json.dumps({"state": "analysing", "fraction": 1.0, "pid": 2 ** 22 + 12345}))
    assert run.status()["state"] == "complete" and not run.active  # the process died: the results stand


def test_an_app_runs_analysis_stage_reads_and_maps_nothing_again_and_stores_what_a_fresh_read_computes(
        tmp_path, tiny_run_args, monkeypatch):
    import json

    from mosecrot_viz.analysis import registry
    from mosecrot_viz.experiment import pipeline
    from mosecrot_viz.experiment import run as run_module
    from mosecrot_viz.store.runs import execute_run, prepare_run

    calls = {"load_inputs": 0, "map_spaces": 0}

    def counted(name, fn):
        def wrapper(*a, **k):
            calls[name] += 1
            return fn(*a, **k)
        return wrapper

    originals = {"load_inputs": pipeline.load_inputs, "map_spaces": pipeline.map_spaces}
    for module in (pipeline, run_module):  # the run reads them from experiment.run, the analyses from pipeline
        for name, fn in originals.items():
            monkeypatch.setattr(module, name, counted(name, fn))
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "ls", "majority"], epochs=1, top_k=5)
    path = prepare_run(cfg, "tiny", root=tmp_path)
    assert execute_run(cfg, path, analyse=True)
    assert calls == {"load_inputs": 1, "map_spaces": 1}  # the run's own: the analysis stage reused them
    entries = json.loads((path / "analysis.json").read_text())
    assert "holdout_bli" in json.dumps(entries) and registry.computed_with_run(path, "holdout_bli",
                                                                               n_test=registry.DEFAULT_HELD_OUT)
    reused = registry.stored_result(path, "holdout_bli", n_test=registry.DEFAULT_HELD_OUT)
    (path / "analysis.json").unlink()
    registry.precompute(cfg, path)  # read and mapped afresh, as a page would
    assert calls == {"load_inputs": 2, "map_spaces": 2}
    fresh = registry.stored_result(path, "holdout_bli", n_test=registry.DEFAULT_HELD_OUT)
    assert fresh.to_json() == reused.to_json()
