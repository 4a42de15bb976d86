"""One atomic commit of a run, one run per output folder, and every option checked before any work.

The kill test stops a writer with SIGKILL at each file-system step of its commit in turn and reads
the folder the way the run store does: it must hold the previous complete run or the new one,
never one run's results.json beside another's predictions. Each CLI case runs in its own process
under an address-space ceiling and a timeout (see tests/io/test_hostile_inputs.py).
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mosecrot_viz.atomic import LOCK_NAME, commit_files, out_lock, probe_writable, write_bytes
from mosecrot_viz.cli import main
from mosecrot_viz.errors import InputError, PathError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "io"))
from test_hostile_inputs import run_bounded  # noqa: E402

RUN_FILES = ("anchors.json", "predictions.csv", "ladder.csv", "results.json")


def _run_files(tag: str, ladder: bool = True) -> dict:
    files = {"anchors.json": json.dumps({"run": tag}).encode(), "predictions.csv": f"run\n{tag}\n".encode(),
             "results.json": json.dumps({"run": tag, "methods": {}}).encode()}
    if ladder:
        files["ladder.csv"] = f"run\n{tag}\n".encode()
    return files


def _read_state(folder: Path) -> str:
    """'old', 'new' (complete and consistent), 'incomplete' (no results.json), or 'MIXED: ...'."""
    if not (folder / "results.json").exists():
        return "incomplete"
    tag = json.loads((folder / "results.json").read_text())["run"]
    seen = {"anchors.json": json.loads((folder / "anchors.json").read_text())["run"],
            "predictions.csv": (folder / "predictions.csv").read_text().split()[1]}
    if (folder / "ladder.csv").exists():
        seen["ladder.csv"] = (folder / "ladder.csv").read_text().split()[1]
    elif tag == "old":
        seen["ladder.csv"] = "missing"
    if any(v != tag for v in seen.values()):
        return f"MIXED: results.json of {tag}, {seen}"
    if json.loads((folder / "status.json").read_text()) != {"state": "running"}:
        return "MIXED: status.json lost"
    return tag


KILLER = r"""
import json, os, signal, sys
from pathlib import Path
import mosecrot_viz.atomic as atomic

folder, kill_at, exchange = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
calls = [0]

def step(fn):
    def wrapped(*a, **k):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return fn(*a, **k)
    return wrapped

for name in ("fsync", "rename", "replace", "link", "unlink"):
    setattr(atomic.os, name, step(getattr(os, name)))
atomic._exchange = step(atomic._exchange) if exchange else (lambda a, b: False)
files = {"anchors.json": json.dumps({"run": "new"}).encode(), "predictions.csv": b"run\nnew\n",
         "results.json": json.dumps({"run": "new", "methods": {}}).encode()}
atomic.commit_files(folder, files, drop=("ladder.csv",))
print("steps", calls[0])
"""


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "file-by-file"])
def test_a_run_killed_during_its_commit_leaves_the_old_run_or_the_new_never_a_mixture(tmp_path, exchange):
    """Every file-system step of the commit in turn is where the writer dies (SIGKILL: no cleanup runs)."""
    states = []
    for kill_at in range(1, 60):
        folder = tmp_path / f"run{kill_at}"
        folder.mkdir()
        for name, data in _run_files("old").items():
            (folder / name).write_bytes(data)
        (folder / "status.json").write_text(json.dumps({"state": "running"}))  # the run store's own file is kept
        done = subprocess.run([sys.executable, "-c", KILLER, str(folder), str(kill_at), "1" if exchange else "0"],
                              capture_output=True, text=True, timeout=30, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        state = _read_state(folder)
        assert not state.startswith("MIXED"), (kill_at, state)
        if exchange:  # renameat2 swaps the folders in one step: never even incomplete
            assert state in ("old", "new"), (kill_at, state)
        states.append(state)
        if done.returncode == 0:
            assert state == "new" and "steps" in done.stdout
            break
        assert done.returncode == -9, done.stderr
    else:
        pytest.fail("the commit never finished")
    assert states[0] == "old" and states[-1] == "new" and len(states) > 3


def test_a_failed_commit_leaves_the_folder_as_it_was_and_no_temp_files(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    commit_files(folder, _run_files("old"))
    real_open = open

    def full_disk(path, *a, **k):
        if "results.json" in str(path) and "commit" in str(path):
            raise OSError(28, "No space left on device")
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", full_disk)
    with pytest.raises(PathError, match="No space left on device") as err:
        commit_files(folder, _run_files("new"))
    monkeypatch.undo()
    assert str(err.value).startswith(f"{folder}: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left behind
    assert sorted(p.name for p in folder.iterdir()) == sorted(RUN_FILES)
    assert json.loads((folder / "results.json").read_text())["run"] == "old"


def test_many_concurrent_writers_of_one_file_never_collide(tmp_path):
    """Temp names are unique (the fixed `predictions.csv.tmp` made two writers fail 31-37 times in 300)."""
    errors = []

    def writer(tag):
        for i in range(150):
            try:
                write_bytes(tmp_path / "predictions.csv", f"{tag}{i}".encode() * 100)
            except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.csv"]


def test_a_new_run_replaces_an_older_ones_extra_files(tmp_path):
    folder = tmp_path / "run"
    commit_files(folder, _run_files("old"))
    commit_files(folder, _run_files("new", ladder=False), drop=("ladder.csv",))
    assert sorted(p.name for p in folder.iterdir()) == ["anchors.json", "predictions.csv", "results.json"]


def test_output_folders_are_created_and_probed_before_any_work(tmp_path):
    assert probe_writable(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"
    (tmp_path / "file").write_text("x")
    with pytest.raises(PathError, match="--out names an existing file"):
        probe_writable(tmp_path / "file", "--out")
    with pytest.raises(PathError, match="--model-cache: cannot create this folder"):
        probe_writable(tmp_path / "file" / "sub", "--model-cache")
    with pytest.raises(InputError, match="--out is empty"):
        probe_writable("  ", "--out")


def test_one_run_per_output_folder(tmp_path):
    first = out_lock(tmp_path)
    with pytest.raises(PathError, match="another run is writing to this folder"):
        out_lock(tmp_path)
    first.release()
    out_lock(tmp_path).release()


# ---- the CLI: every option checked before any work, one line naming the flag, nothing written


def _argv(args: dict, out, **flags) -> list[str]:
    argv = ["run", "--vectors", args["vectors"], "--lexicon", args["lexicon"], "--train", args["train"],
            "--dev", args["dev"], "--test", args["test"], "--source-model", args["source_model"],
            "--methods", "majority", "--epochs", "1", "--out", str(out)]
    for flag, value in flags.items():
        argv += [f"--{flag.replace('_', '-')}", str(value)]
    return argv


@pytest.mark.parametrize("flags,message", [
    ({"temperature": "nan"}, "--temperature must be a finite number > 0, got nan"),
    ({"temperature": "inf"}, "--temperature must be a finite number > 0, got inf"),
    ({"batch_size": "-3"}, "--batch-size must be a whole number >= 1, got -3"),
    ({"epochs": "0"}, "--epochs must be a whole number >= 1, got 0"),
    ({"lr": "0"}, "--lr must be a finite number > 0, got 0.0"),
    ({"lr": "nan"}, "--lr must be a finite number > 0, got nan"),
    ({"top_k": "-1"}, "--top-k must be a whole number >= 0, got -1"),
    ({"max_vocab": "0"}, "--max-vocab must be a whole number >= 1, got 0"),
    ({"seeds": ","}, "give at least one seed"),
    ({"anchor_agreement": "nan"}, "--anchor-agreement must be a finite number > 0, got nan"),
])
def test_cli_refuses_bad_options_before_any_work(tmp_path, tiny_run_args, capsys, flags, message):
    out = tmp_path / "out"
    t = time.perf_counter()
    assert main(_argv(tiny_run_args, out, **flags)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()  # nothing created, let alone half-written
    assert time.perf_counter() - t < 5


def test_cli_refuses_unusable_output_folders_first(tmp_path, tiny_run_args, capsys):
    (tmp_path / "file").write_text("x")
    cases = [(["--out", ""], "--out is empty"),
             (["--out", str(tmp_path / "file")], "--out names an existing file"),
             (["--out", str(tmp_path / "file" / "sub")], "--out: cannot create this folder"),
             (["--out", str(tmp_path / "ok"), "--model-cache", str(tmp_path / "file" / "mc")],
              "--model-cache: cannot create this folder")]
    for extra, message in cases:
        argv = _argv(tiny_run_args, tmp_path / "unused")[:-2] + extra
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (extra, err)


def test_duplicate_methods_and_seeds_are_folded(tiny_run_args):
    from mosecrot_viz.experiment.config import ExperimentConfig

    cfg = ExperimentConfig(**tiny_run_args, methods=["ls", "majority", "ls"], seeds=[1, 2, 1]).validate()
    assert cfg.methods == ["ls", "majority"] and cfg.seeds == [1, 2]
    with pytest.raises(InputError, match="--seeds must be a whole number"):
        ExperimentConfig(**tiny_run_args, seeds=[1.5]).validate()


@pytest.mark.parametrize("role,make,message", [
    ("test", lambda tmp: (os.mkfifo(tmp / "fifo.tsv"), tmp / "fifo.tsv")[1], "is a FIFO (named pipe)"),
    ("test", lambda tmp: Path("/dev/zero"), "is a device, not a regular task file"),
    ("vectors", lambda tmp: Path("/dev/urandom"), "is a device, not a regular vector file"),
    ("train", lambda tmp: (tmp / "folder").mkdir() or tmp / "folder", "is a folder, not a task file"),
], ids=["test-fifo", "test-dev-zero", "vectors-dev-urandom", "train-a-folder"])
def test_cli_hostile_inputs_fail_in_one_line_bounded(tmp_path, tiny_run_args, role, make, message):
    """Each in its own process under 1.5 GB of address space and a 30 s timeout (a FIFO used to block for ever)."""
    bad = str(make(tmp_path))
    args = dict(tiny_run_args, **{role: bad})
    out = tmp_path / "out"
    rc, stdout, err, seconds = run_bounded(["-m", "mosecrot_viz", *_argv(args, out)])
    assert rc == 1, (stdout, err)  # a failed run (bad input data), not a usage error
    assert err.count("\n") == 1 and err.startswith(f"error: {bad}: ") and message in err, err
    assert seconds < 30
    assert not (out / "results.json").exists() and not list(tmp_path.glob(".out.commit-*"))


def test_cli_nan_temperature_is_refused_in_a_bounded_process(tmp_path, tiny_run_args):
    rc, _, err, seconds = run_bounded(["-m", "mosecrot_viz", *_argv(tiny_run_args, tmp_path / "out", temperature="nan")])
    assert rc == 2 and err == "error: --temperature must be a finite number > 0, got nan\n" and seconds < 30
    assert not (tmp_path / "out").exists()


def _held(lock_file: Path) -> bool:
    """True when another process holds the flock on `lock_file`."""
    if not lock_file.exists():
        return False
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops our own lock if we got it
    return False


def test_two_concurrent_runs_on_one_out_one_proceeds_the_other_is_refused(tmp_path, tiny_run_args):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    first = subprocess.Popen([sys.executable, "-m", "mosecrot_viz", *_argv(tiny_run_args, out)], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not _held(out / LOCK_NAME):
            assert first.poll() is None and time.time() < deadline, "the first run never took the lock"
            time.sleep(0.05)
        rc, _, err, seconds = run_bounded(["-m", "mosecrot_viz", *_argv(tiny_run_args, out)])
        assert rc == 1 and err.count("\n") == 1 and seconds < 30  # this run failed; its options were fine
        assert err.startswith(f"error: {out}: another run is writing to this folder"), err
        stdout, stderr = first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == 0, stderr
    assert "majority" in json.loads((out / "results.json").read_text())["methods"]
    assert stderr == ""  # no progress bar when stderr is not a terminal


def _output(tag: str, results_extra=None):
    import numpy as np
    import pandas as pd

    from mosecrot_viz.core.anchors import AnchorSet
    from mosecrot_viz.experiment.pipeline import RunOutput

    anchors = AnchorSet(("cat",), np.array([5]), (tag,), np.array([0]), lexicon_pairs=1)
    preds = pd.DataFrame({"method": ["ls"], "seed": [1], "id": [tag], "gold": ["a"], "pred": ["a"]})
    return RunOutput({"run": tag, "methods": {}, **(results_extra or {})}, preds, anchors,
                     ladder_predictions=preds.assign(rung="oracle"))


def test_write_results_fails_whole_the_previous_run_stays_complete(tmp_path):
    """A results dict that cannot be written (here: not JSON-serialisable) used to fail after predictions.csv and
    anchors.json had been replaced, leaving the old results.json beside the new predictions."""
    from mosecrot_viz.experiment.pipeline import write_results
    from mosecrot_viz.store.runs import StoredRun

    folder = tmp_path / "run"
    write_results(_output("old"), folder)
    with pytest.raises(TypeError):
        write_results(_output("new", {"bad": object()}), folder)
    run = StoredRun(folder)
    assert run.status()["state"] == "complete"
    assert run.results()["run"] == "old" and list(run.predictions()["id"]) == ["old"]
    assert run.anchors()["target_words"] == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    write_results(_output("new"), folder)
    assert run.results()["run"] == "new" and list(run.predictions()["id"]) == ["new"]


def test_a_corrupt_model_cache_entry_is_reported_with_its_path_removed_and_rebuilt(tmp_path, tiny_bert_dir):
    from safetensors.torch import save_file

    from mosecrot_viz.core import model_cache
    from mosecrot_viz.io import models

    trained = models.load_classifier(str(tiny_bert_dir), 2)
    folder, history = tmp_path / "mc" / "key", {"best_dev_macro_f1": 0.5, "warnings": []}
    model_cache.save(trained, history, folder)
    assert model_cache.load(models.load_classifier(str(tiny_bert_dir), 2), folder) == history
    for corrupt in (lambda: (folder / "model.safetensors").write_bytes(b"\x10" + b"\x00" * 7 + b"{junk"),
                    lambda: save_file({k: v.contiguous() for k, v in
                                       models.load_classifier(str(tiny_bert_dir), 3).state_dict().items()},
                                      str(folder / "model.safetensors"))):  # another model's weights
        corrupt()
        fresh = models.load_classifier(str(tiny_bert_dir), 2)
        before = {k: v.clone() for k, v in fresh.state_dict().items()}
        notes = []
        assert model_cache.load(fresh, folder, warn=notes.append) is None  # a miss: the run fine-tunes again
        assert len(notes) == 1 and notes[0].startswith(f"model cache entry {folder} is corrupt"), notes
        assert not folder.exists() and not list(folder.parent.iterdir())
        assert all((before[k] == v).all() for k, v in fresh.state_dict().items())  # untouched by the bad entry
        model_cache.save(trained, history, folder)  # rebuilt, and served again
        assert model_cache.load(models.load_classifier(str(tiny_bert_dir), 2), folder) == history
