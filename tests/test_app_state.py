"""Issue 12: state that survives (URL + setup record), one truth for Setup's anchor count, runs you can steer."""
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment
from mosecrot_viz.store.runs import (
    CANCEL_FILE,
    StoredRun,
    cancel_run,
    eta_seconds,
    latest_run,
    list_runs,
    new_run_dir,
    start_run,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("MOSECROT_APP_DATA", str(tmp_path / "app-data"))
    return tmp_path


def _app(setup_id=None):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if setup_id:
        at.query_params["setup"] = setup_id  # a reload, a second tab or a shared link: only the URL is known
    return at.run()


def _choose_files(at, args, **extra):
    at.switch_page("pages/setup.py").run()
    at.radio(key="setup_source").set_value("files").run()
    for kind in ("vectors", "lexicon", "train", "test"):
        at.text_input(key=f"setup_path_{kind}").set_value(args[kind])
    at.text_input(key="setup_src_model").set_value(args["source_model"])
    for key, value in extra.items():
        at.text_input(key=key).set_value(value)
    return at.run()


def _ready(at) -> bool:
    return any("Inputs ready" in s.value for s in at.success)


def _setup_id(at) -> str:
    return at.query_params["setup"][0] if isinstance(at.query_params["setup"], list) else at.query_params["setup"]


def _wait(run: StoredRun, timeout=300) -> dict:
    end = time.time() + timeout
    while run.active and time.time() < end:
        time.sleep(0.2)
    return run.status()


def test_setup_and_run_choices_survive_navigation_reload_and_a_second_tab(store, tiny_run_args):
    a = tiny_run_args
    at = _choose_files(_app(), a)
    assert not at.exception, [e.value for e in at.exception]
    assert _ready(at)
    sid = _setup_id(at)
    at.switch_page("pages/run.py").run()
    caption = " ".join(c.value for c in at.caption)
    assert a["vectors"] in caption and a["test"] in caption  # Run names the inputs it will use
    assert not at.button(key="run_start").disabled
    at.number_input(key="run_epochs").set_value(2).run()
    at.switch_page("pages/setup.py").run()  # back to Setup: still the user's files, not the embedded default
    assert at.radio(key="setup_source").value == "files"
    assert at.text_input(key="setup_path_vectors").value == a["vectors"] and _ready(at)
    at.switch_page("pages/run.py").run()
    assert at.number_input(key="run_epochs").value == 2
    for again in (_app(sid), _app(sid)):  # a reload, then a second tab opened with the URL
        again.switch_page("pages/setup.py").run()
        assert again.radio(key="setup_source").value == "files"
        assert again.text_input(key="setup_path_lexicon").value == a["lexicon"] and _ready(again)
        again.switch_page("pages/run.py").run()
        assert again.number_input(key="run_epochs").value == 2
        assert a["vectors"] in " ".join(c.value for c in again.caption)
    other = _app()  # a new visitor without the link starts from nothing: Run refuses, no demo fallback
    other.switch_page("pages/run.py").run()
    assert any("No inputs chosen yet" in w.value for w in other.warning)
    assert other.button(key="run_start").disabled and other.button(key="run_sweep_start").disabled


def test_setup_that_fails_is_not_run(store, tmp_path, tiny_run_args):
    at = _choose_files(_app(), dict(tiny_run_args, test=str(tmp_path / "missing.tsv")))
    assert not _ready(at)
    at.switch_page("pages/run.py").run()
    assert any("No inputs chosen yet" in w.value for w in at.warning)
    assert at.button(key="run_start").disabled


def test_a_kept_upload_is_used_after_a_restart(store, tmp_path, tiny_run_args):
    """An upload lives in the app's data folder and the record names it: a new session (or a restarted server)
    with the link uses it, named as the user named it."""
    a = tiny_run_args
    sid = "0123456789ab"
    kept = store / "app-data" / "uploads" / sid / "vectors-abc-my_vectors.vec"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(Path(a["vectors"]).read_bytes())
    record = {"setup": {"setup_source": "files", "setup_path_lexicon": a["lexicon"], "setup_path_train": a["train"],
                        "setup_path_test": a["test"], "setup_src_model": a["source_model"]},
              "uploads": {"vectors": {"name": "my vectors.vec", "path": str(kept)}}, "rev": "r1"}
    (store / "app-data" / "setups").mkdir(parents=True)
    (store / "app-data" / "setups" / f"{sid}.json").write_text(json.dumps(record))
    at = _app(sid)
    at.switch_page("pages/setup.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("my vectors.vec" in c.value for c in at.caption) and _ready(at)
    at.switch_page("pages/run.py").run()
    assert "vectors: `my vectors.vec`" in " ".join(c.value for c in at.caption)
    assert json.loads((store / "app-data" / "setups" / f"{sid}.json").read_text())["inputs"]["vectors"] == str(kept)


def test_upload_folder_is_the_app_data_folder_not_a_temp_folder(store):
    at = AppTest.from_string("""
from mosecrot_viz.ui.state import uploads_dir
import streamlit as st
st.write(str(uploads_dir()))
""").run()
    folder = Path(at.markdown[0].value)
    assert folder.parent == store / "app-data" / "uploads" and folder.is_dir()


def _zh_files(folder: Path, tiny_task) -> dict:
    """A lexicon in traditional script against simplified vectors: a run converts it (lang zh), a naive count
    would keep only the words written alike in both scripts."""
    from tests.conftest import write_vec

    pairs = {"dog": "狗", "cat": "貓", "car": "車", "tree": "樹", "house": "房子", "road": "路", "ball": "球",
             "game": "遊戲", "team": "隊", "win": "贏", "doctor": "醫生", "health": "健康"}
    simplified = ["狗", "猫", "车", "树", "房子", "路", "球", "游戏", "队", "赢", "医生", "健康"]
    write_vec(folder / "zh.vec", simplified, dim=6, seed=4)
    (folder / "zh_lex.txt").write_text("\n".join(f"{e}\t{z}" for e, z in pairs.items()) + "\n")
    rows = ["index_id\tcategory\ttext"] + [f"{i}\t{lab}\t{text}" for i, (lab, text) in enumerate(
        [("animals", "狗 猫 路"), ("sport", "球 队 赢"), ("health", "医生 健康"), ("animals", "猫 树"),
         ("sport", "游戏 球"), ("health", "健康 医生 路")])]
    (folder / "zh_test.tsv").write_text("\n".join(rows) + "\n")
    return {"vectors": str(folder / "zh.vec"), "lexicon": str(folder / "zh_lex.txt"), "test": str(folder / "zh_test.tsv"),
            "train": str(tiny_task["en_train"])}


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_setups_anchor_count_is_the_runs(store, tmp_path, tiny_run_args, tiny_task):
    files = _zh_files(tmp_path, tiny_task)
    at = _choose_files(_app(), dict(tiny_run_args, **files), setup_lang="zh")
    assert not at.exception, [e.value for e in at.exception]
    assert _ready(at)
    shown = int(_metric(at, "anchors").replace(",", ""))
    assert shown == 12  # every pair once the lexicon is simplified as the run reads it (4 without)
    at.switch_page("pages/run.py").run()  # an anchor option chosen on Run changes Setup's preview too
    at.multiselect(key="run_methods").set_value(["ls", "majority"])
    at.number_input(key="run_epochs").set_value(1)
    at.number_input(key="run_nanchors").set_value(7).run()
    at.switch_page("pages/setup.py").run()
    shown = int(_metric(at, "anchors").replace(",", ""))
    dropped = next(c.value for c in at.caption if c.value.startswith("Dropped lexicon pairs"))
    at.switch_page("pages/run.py").run()
    at.button(key="run_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [run] = list_runs()
    assert _wait(run)["state"] == "complete", run.status()
    anchors = run.results()["anchors"]
    assert shown == anchors["count"] == 7
    for reason, n in anchors["dropped"].items():
        assert f"{reason}: {n:,}" in dropped


def test_progress_counts_every_fine_tune(tiny_run_args):
    seen = []
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "ls", "source", "mplm", "majority"], epochs=2,
                           ladder=False)
    run_experiment(cfg, progress=lambda m, f: seen.append((m, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    epochs = [(m, f) for m, f in seen if ": epoch " in m]
    assert len(epochs) == 6  # three fine-tunes (rr-softmax, the shared E_s one, mplm) x 2 epochs
    assert "mplm: epoch 2/2" in epochs[-1][0]
    assert epochs[-1][1] == 1.0 and epochs[-3][1] < 1.0  # the bar reaches the end only with mplm's last epoch
    assert epochs[0][1] == pytest.approx(4 / 9)  # 3 set-up steps + 1 of 6 epochs


def test_eta_from_measured_pace():
    assert eta_seconds(60.0, 0.5, 0.5) == pytest.approx(60.0)  # 60 s for half the epochs: 60 s to go
    assert eta_seconds(30.0, 0.25, 0.5) == pytest.approx(60.0)
    assert eta_seconds(5.0, 0.0, 0.7) is None and eta_seconds(5.0, 0.3, 0.0) is None  # nothing measured / done


def _slow_cfg(args):
    return ExperimentConfig(**args, methods=["rr-softmax", "majority"], epochs=20, ladder=False)


def test_cancel_marks_the_run_cancelled_and_keeps_earlier_runs(store, tiny_run_args):
    root = store / "runs"
    earlier = start_run(ExperimentConfig(**tiny_run_args, methods=["majority", "ls"], epochs=1), name="earlier",
                        root=root)
    assert _wait(earlier)["state"] == "complete"
    before = {p.name: p.read_bytes() for p in earlier.path.iterdir()}
    run = start_run(_slow_cfg(tiny_run_args), name="slow", root=root)
    queued = start_run(_slow_cfg(tiny_run_args), name="waiting", root=root)  # waits for the lock
    end = time.time() + 120
    while time.time() < end and not (run.status().get("state") == "running" and run.status().get("eta_seconds")):
        time.sleep(0.1)
    s = run.status()
    assert s["state"] == "running" and s["eta_seconds"] > 0 and s["elapsed"] > 0, s
    assert ": epoch " in s["message"]  # the ETA comes only once an epoch has been measured
    assert cancel_run(queued) and cancel_run(run)
    assert run.status().get("cancelling")
    assert _wait(run, 120)["state"] == "cancelled", run.status()
    assert _wait(queued, 120)["state"] == "cancelled" and "before it started" in queued.status()["message"]
    assert not (run.path / "results.json").exists() and (run.path / CANCEL_FILE).exists()
    assert earlier.status()["state"] == "complete"
    assert {p.name: p.read_bytes() for p in earlier.path.iterdir()} == before  # nothing else lost
    assert not cancel_run(earlier)  # a finished run cannot be cancelled


def test_home_shows_the_latest_demo_after_a_reload_and_steers_a_running_one(store, tiny_run_args):
    root = store / "runs"
    root.mkdir()
    cfg = ExperimentConfig(**tiny_run_args, methods=["majority"], epochs=1)
    cfg.out = str(new_run_dir("demo", root))
    run_experiment(cfg)
    at = _app()  # a fresh session: nothing in session state
    assert not at.exception, [e.value for e in at.exception]
    assert any("finished" in s.value for s in at.success)
    assert not at.button(key="home_run").disabled
    running = new_run_dir("demo", root)  # a demo still going (in this very process)
    going = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=3)
    (running / "config.json").write_text(json.dumps(going.to_dict()))
    (running / "status.json").write_text(json.dumps({"state": "running", "fraction": 0.5,
                                                     "message": "seed 1, rr-softmax: epoch 1/3, dev F1 0.500",
                                                     "pid": os.getpid(), "started": time.time() - 60,
                                                     "elapsed": 60.0, "eta_seconds": 60.0}))
    assert latest_run("demo", root).path == running
    at = _app()
    assert at.button(key="home_run").disabled
    bar = at.get("progress")[0].proto.text
    assert "60 s so far" in bar and "about" in bar  # time left from the cost model (analysis.eta), not the bare pace
    assert "left to the results, then the analysis stage" in bar  # no earlier run timed the analysis stage
    at.button(key="home_cancel").click().run()
    assert (running / CANCEL_FILE).exists()


def test_a_run_from_the_app_stores_what_the_analysis_pages_need(store, tiny_run_args, monkeypatch):
    from mosecrot_viz.analysis import alignment
    from mosecrot_viz.analysis.anchor_search import anchor_bli_hits, anchor_space_view
    from mosecrot_viz.analysis.holdout import holdout_bli
    from mosecrot_viz.analysis.registry import stored_result
    from mosecrot_viz.analysis.stored import analysis_seconds
    from mosecrot_viz.experiment import pipeline
    from mosecrot_viz.experiment.pipeline import load_inputs, map_spaces

    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "ls", "majority"], epochs=1, top_k=5)
    run = start_run(cfg, name="stored", root=store / "runs")
    assert _wait(run)["state"] == "complete"  # complete only once the analyses are stored (state "analysing" before)
    assert not (run.path / "analysis-error.txt").exists()
    assert (run.path / "analysis.json").exists() and analysis_seconds(run.path) >= 0
    held_out = stored_result(run.path, "holdout_bli", n_test=1000)
    precision, n_test, n_train = held_out.precision, held_out.n_test, held_out.n_train
    inputs = load_inputs(cfg)
    spaces = map_spaces(cfg, inputs, ["rr-softmax", "ls"])
    fresh = holdout_bli(cfg, inputs, spaces, ["rr-softmax", "ls"], n_test=1000)
    assert precision == fresh.precision and (n_test, n_train) == (fresh.n_test, fresh.n_train)
    assert set(stored_result(run.path, "drift").summary) == {"rr-softmax", "ls"}
    ids = np.setdiff1d(np.arange(len(spaces.e_s)), spaces.tokenizer.all_special_ids)
    drift = stored_result(run.path, "drift").cosines
    assert set(drift) == {"rr-softmax"}  # only the re-initialising mapper moves E_s
    np.testing.assert_allclose(drift["rr-softmax"], alignment.drift(spaces.e_s, spaces.mapped["rr-softmax"][0], ids),
                               atol=1e-4)
    def stored_view(name, method, n, search):
        return stored_result(run.path, name, method=method, n=n, search=search, seed=0)

    view = stored_view("anchor_view", "pca", 800, "")
    want = anchor_space_view(spaces, inputs.vectors, inputs.pairs, "pca", 800, "", 0)
    np.testing.assert_allclose(view.sxy, want.sxy, atol=1e-5)
    assert view.target_words == want.target_words and stored_view("anchor_view", "umap", 800, "") is None
    assert stored_view("anchor_view", "pca", 800, "word") is None  # a search is computed, never stored
    assert stored_view("anchor_bli_hits", "pca", 800, "").hits == anchor_bli_hits(
        spaces, inputs.vectors, inputs.pairs, want.target_rows, ["rr-softmax", "ls"])

    def no_rebuild(*a, **k):
        raise AssertionError("a page rebuilt the mapped spaces although the run stored its analyses")

    monkeypatch.setattr(pipeline, "map_spaces", no_rebuild)
    at = _app()  # the Alignment page shows the stored numbers (and does not refit: see its caption)
    at.switch_page("pages/alignment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    bli = next(d.value for d in at.dataframe if "csls P@1" in d.value.columns)
    assert bli.loc["rr-softmax", "csls P@1"] == pytest.approx(precision["rr-softmax"]["csls"][1])
    assert any("computed with the run" in c.value for c in at.caption)
    assert any("Drift" in h.value for h in at.subheader)  # drawn from the stored per-token cosines
    at.switch_page("pages/anchors.py").run()  # the default view and heatmap, as stored
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 3  # drop counts, anchor space, heatmap
    at.selectbox(key="anchors_colour").set_value("BLI hit (nearest English token is a translation): rr-softmax").run()
    assert not at.exception, [e.value for e in at.exception]


def _shown(at) -> str:
    return " ".join(c.value for c in at.caption if c.value.startswith("Showing run"))


def test_a_picker_never_replaces_the_run_a_setup_waits_for(store, tiny_run_args, monkeypatch):
    """Issue 26: start a run, look at an older run on an analysis page, come back: Run still shows the started run
    and Start stays disabled while it goes, after a reload and in a second tab; a new setup shows no run at all.
    The test holds the machine's compute slot from the start, so the run stays queued (going) however fast the
    machine is, until the test cancels it."""
    from mosecrot_viz.store.worker import compute_slot

    root = store / "runs"
    root.mkdir()
    older = ExperimentConfig(**tiny_run_args, methods=["majority"], epochs=1, ladder=False)
    older.out = str(new_run_dir("older", root))
    run_experiment(older)
    old_id = Path(older.out).name
    at = _choose_files(_app(), tiny_run_args)
    sid = _setup_id(at)
    at.switch_page("pages/run.py").run()
    assert _shown(at) == "" and not any("Results of" in h.value for h in at.subheader)  # a new setup: no results
    at.multiselect(key="run_methods").set_value(["rr-softmax", "majority"])
    at.number_input(key="run_epochs").set_value(20).run()
    stale = _app(sid)  # a second tab, drawn before the start (Start enabled there)
    stale.switch_page("pages/run.py").run()
    assert not stale.button(key="run_start").disabled
    monkeypatch.delenv("MOSECROT_SHARE_CORES", raising=False)  # the app's run waits for the slot the test holds
    slot = compute_slot()
    slot.__enter__()
    try:
        at.button(key="run_start").click().run()
    except BaseException:
        slot.__exit__(None, None, None)
        raise
    assert not at.exception, [e.value for e in at.exception]
    new = next(r for r in list_runs() if r.run_id != old_id)
    try:
        assert new.active and at.button(key="run_start").disabled
        assert new.run_id in _shown(at) and "started from this setup" in _shown(at)
        at.switch_page("pages/errors.py").run()  # a page with a picker (complete runs only): it shows the older run
        assert at.selectbox(key="errors_run").value == old_id
        assert any(f"showing {old_id}" in c.value for c in at.caption)
        at.switch_page("pages/run.py").run()
        assert new.run_id in _shown(at) and at.button(key="run_start").disabled, _shown(at)
        assert at.selectbox(key="current_run").value == new.run_id
        for again in (_app(sid), _app(sid)):  # a reload, then a second tab with the URL
            again.switch_page("pages/run.py").run()
            assert new.run_id in _shown(again) and again.button(key="run_start").disabled
        rec = json.loads((store / "app-data" / "setups" / f"{sid}.json").read_text())
        assert rec["runs"] == [new.run_id] and rec["run_shown"] == new.run_id
        assert rec["viewed_run"] == new.run_id  # the analysis pages switch to it once it is complete
        stale.button(key="run_start").click().run()  # a tab drawn before the start: no duplicate is queued
        assert len(list_runs()) == 2 and stale.button(key="run_start").disabled
        fresh = _app()  # another setup sees none of this setup's runs on Run
        fresh.switch_page("pages/run.py").run()
        assert _shown(fresh) == "" and not any("Results of" in h.value for h in fresh.subheader)
    finally:
        cancel_run(new)
        slot.__exit__(None, None, None)
        _wait(new, 120)
    at.switch_page("pages/run.py").run()  # it ended: Start is enabled again, the same run still shown
    assert not at.button(key="run_start").disabled and new.run_id in _shown(at)
