"""The app's one worker queue (FIFO, one job at a time, survives a failing job) and the machine-wide compute
slot (a second process waits, says so, and can be cancelled while it waits)."""
import subprocess
import sys
import threading
import time

import pytest

from mosecrot_viz.store import worker
from mosecrot_viz.store.worker import SlotWaitCancelled, compute_slot


def test_jobs_run_one_at_a_time_in_the_order_asked():
    spans, lock = [], threading.Lock()

    def job(name):
        start = time.monotonic()
        time.sleep(0.15)
        with lock:
            spans.append((name, start, time.monotonic()))

    def boom():
        raise RuntimeError("a failing job")

    for name in "abc":
        worker.submit(job, name)
        if name == "a":
            worker.submit(boom)  # the worker logs it and goes on
    assert worker.wait_idle(timeout=10)
    assert [s[0] for s in spans] == ["a", "b", "c"]
    for (_, _, end), (_, start, _) in zip(spans, spans[1:]):
        assert start >= end  # never two at once
    assert worker.pending() == 0


HOLD = """
import sys, time
from mosecrot_viz.store.worker import compute_slot
with compute_slot():
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def _holder(seconds, env):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(seconds)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def slot_env(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("MOSECROT_CACHE", str(tmp_path))
    monkeypatch.delenv("MOSECROT_SHARE_CORES", raising=False)
    return dict(os.environ)


def test_a_second_process_waits_for_the_slot_and_says_whose_it_is(slot_env):
    proc = _holder(1.5, slot_env)
    said = []
    t = time.monotonic()
    with compute_slot(on_wait=said.append, poll=0.1):
        waited = time.monotonic() - t
    proc.wait(timeout=10)
    assert waited >= 0.5, "the slot was free while another process held it"
    assert len(said) == 1 and f"process {proc.pid}" in said[0]


def test_waiting_for_the_slot_can_be_cancelled_and_share_cores_skips_it(slot_env, monkeypatch):
    proc = _holder(5, slot_env)
    try:
        with pytest.raises(SlotWaitCancelled):
            with compute_slot(cancelled=lambda: True, poll=0.05):
                pass
        monkeypatch.setenv("MOSECROT_SHARE_CORES", "1")
        t = time.monotonic()
        with compute_slot(poll=0.05):
            assert time.monotonic() - t < 0.5  # no waiting under an engine that shares the cores itself
    finally:
        proc.kill()
        proc.wait()


def test_a_run_cancelled_while_it_waits_for_the_slot_ends_cancelled(slot_env, tmp_path, tiny_run_args):
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.store.runs import CANCEL_FILE, StoredRun, execute_run, prepare_run

    proc = _holder(30, slot_env)
    try:
        cfg = ExperimentConfig(**tiny_run_args, methods=["majority"], epochs=1)
        path = prepare_run(cfg, "waiting", tmp_path / "runs")
        done = []
        t = threading.Thread(target=lambda: done.append(execute_run(cfg, path)))
        t.start()
        deadline = time.monotonic() + 10
        while "waiting for another run" not in (StoredRun(path).status().get("message") or ""):
            assert time.monotonic() < deadline, StoredRun(path).status()
            time.sleep(0.05)
        assert StoredRun(path).status()["state"] == "queued"
        (path / CANCEL_FILE).write_text("now")
        t.join(timeout=10)
        assert done == [False] and StoredRun(path).status()["state"] == "cancelled"
    finally:
        proc.kill()
        proc.wait()


def test_available_cores_reads_the_overrides_and_configure_threads_sets_torch(monkeypatch):
    import torch

    from mosecrot_viz.core.devices import available_cores, configure_threads

    monkeypatch.setenv("MOSECROT_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert available_cores() == 3
    monkeypatch.delenv("MOSECROT_THREADS")
    assert available_cores() == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "4,2")  # OpenMP's nested form: the outer level counts
    assert available_cores() == 4
    for bad in ("lots", "0", "-3"):
        monkeypatch.setenv("OMP_NUM_THREADS", bad)
        with pytest.raises(ValueError, match="OMP_NUM_THREADS must be a whole number >= 1"):
            available_cores()
    monkeypatch.setenv("MOSECROT_THREADS", "0")
    with pytest.raises(ValueError, match="MOSECROT_THREADS must be a whole number >= 1"):
        available_cores()
    monkeypatch.delenv("MOSECROT_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    import os

    assert 1 <= available_cores() <= len(os.sched_getaffinity(0))
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_slot_that_cannot_be_taken_fails_the_run_with_the_reason(tmp_path, tiny_run_args, monkeypatch):
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.store import runs

    def broken(**_):
        raise PermissionError("read-only cache folder")

    monkeypatch.setattr(runs, "compute_slot", broken)
    cfg = ExperimentConfig(**tiny_run_args, methods=["majority"], epochs=1)
    path = runs.prepare_run(cfg, "noslot", tmp_path)
    assert runs.execute_run(cfg, path) is False
    status = runs.StoredRun(path).status()
    assert status["state"] == "failed" and "read-only cache folder" in status["message"]
    assert "MOSECROT_SHARE_CORES=1" in status["message"]


def test_cancelling_a_queued_run_says_so_at_once(tmp_path, tiny_run_args):
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.store.runs import StoredRun, cancel_run, execute_run, prepare_run

    cfg = ExperimentConfig(**tiny_run_args, methods=["majority"], epochs=1)
    path = prepare_run(cfg, "queued", tmp_path)
    assert cancel_run(StoredRun(path))
    assert StoredRun(path).status()["state"] == "cancelled"
    assert execute_run(cfg, path) is False  # its turn comes: it never starts
    assert StoredRun(path).status()["state"] == "cancelled" and not (path / "results.json").exists()
