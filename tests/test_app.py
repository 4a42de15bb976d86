"""Every page renders without a browser (AppTest), from a real stored run on tiny data."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment
from mosecrot_viz.store.runs import new_run_dir

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["pages/setup.py", "pages/run.py", "pages/anchors.py", "pages/alignment.py", "pages/errors.py",
         "pages/why.py", "pages/compare.py", "pages/glossary.py"]


@pytest.fixture
def stored_run(tmp_path, monkeypatch, tiny_run_args):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "rr-sparsemax", "ls", "source", "majority"],
                           epochs=1, top_k=5)
    cfg.out = str(new_run_dir("tiny", tmp_path / "runs"))
    return run_experiment(cfg)


def _app():
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def test_home_renders_defaults_and_demo_button(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path))
    at = _app().run()
    assert not at.exception
    assert any("mosecrot_viz" in t.value for t in at.title)
    table = at.dataframe[0].value
    assert {"model:minilm", "vectors:zh", "lexicon:zh"} <= set(table["key"])
    assert "licence" in table.columns
    font = table[table["key"] == "font:noto-sans-sc"].iloc[0]  # the shipped CJK font, with its licence and origin
    assert font["licence"] == "OFL-1.1" and "@fontsource/noto-sans-sc==5.3.0" in font["package"]
    assert font["cached"] == "shipped" and "npm package" in font["provenance"]
    assert any(b.label == "Run the demo" for b in at.button)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_a_stored_run(stored_run, page):
    at = _app()
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, page


def test_pages_show_the_runs_numbers(stored_run):
    at = _app()
    at.run()
    at.switch_page("pages/run.py").run()
    at.session_state["current_run"] = Path(stored_run.results["config"]["out"]).name
    at.run()
    frames = [d.value for d in at.dataframe]
    results = next(f for f in frames if "macro-F1" in f.columns)
    want = stored_run.results["methods"]["rr-softmax"]["macro_f1"]
    assert results.set_index("method").loc["rr-softmax", "macro-F1"] == pytest.approx(want)
    tunes = next(f for f in frames if "MFU" in f.columns)  # the run's own fine-tunes, with speed and MFU
    hist = stored_run.results["histories"]["rr-softmax"][0]
    row = tunes.set_index("fine-tune").loc["rr-softmax"]
    assert row["epochs trained"] == len(hist["epochs"]) and 0 < row["MFU"] < 2
    at.switch_page("pages/why.py").run()
    assert not at.exception
    best = max(("rr-softmax", "rr-sparsemax", "ls"), key=lambda m: stored_run.results["methods"][m]["macro_f1"])
    assert any(m.label == f"stitched: {best}" for m in at.metric)
    at.switch_page("pages/alignment.py").run()
    assert not at.exception
    bli = next(d.value for d in at.dataframe if "csls P@1" in d.value.columns)
    assert set(bli.index) == {"rr-softmax", "rr-sparsemax", "ls"} and bli.notna().all().all()


def test_why_leads_with_the_ladder_waterfall_and_shows_an_example(stored_run):
    import json

    at = _app()
    at.run()
    at.switch_page("pages/why.py").run()
    at.selectbox(key="why_method").set_value("rr-softmax").run()
    assert not at.exception, [e.value for e in at.exception]
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    waterfall = next(s for s in specs if s["data"][0]["type"] == "waterfall")
    lad = stored_run.results["methods"]["rr-softmax"]["ladder"]
    assert waterfall["data"][0]["y"][0] == pytest.approx(lad[0]["macro_f1"])  # the English ceiling
    assert waterfall["data"][0]["y"][-1] == pytest.approx(stored_run.results["methods"]["rr-softmax"]["macro_f1"])
    assert not any("_" in x for x in waterfall["data"][0]["x"])  # rungs in words, no code names (issue 26)
    assert all(len(line) <= 24 for x in waterfall["data"][0]["x"] for line in x.split("<br>"))  # wrapped: no overlap
    changes = [t for t in waterfall["data"][0]["text"][1:-1]]
    assert all(t[0] in "+-" for t in changes)  # one signed convention, as the table and reading print it
    assert any("largest loss" in m.value or "no link loses" in m.value for m in at.markdown)
    example = at.selectbox(key="why_example")
    assert example.options  # the stored example sentences
    words = next(d.value for d in at.dataframe if "importance, stitched" in d.value.columns)
    assert len(words) and set(words["status"]) <= {"anchor", "vector only", "lexicon only", "no vector"}
    assert any(d.value.columns.tolist()[:3] == ["seed", "id", "gold"] for d in at.dataframe)  # the casualties table


def test_compare_draws_a_stored_sweep(tmp_path, monkeypatch, tiny_run_args):
    from mosecrot_viz.store.sweeps import run_sweep, sweep_configs

    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    base = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=1)
    run_sweep(sweep_configs(base, "top_k", [1, None]), root=tmp_path / "runs")
    at = _app()
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    sweep_tables = [d.value for d in at.dataframe if "param" in d.value.columns]
    assert sweep_tables and set(sweep_tables[0]["value"].astype(str)) == {"1", "all"}
    assert at.get("plotly_chart")


def test_compare_shows_a_grids_progress_failures_and_plot(tmp_path, monkeypatch, tiny_grid):
    import yaml

    from mosecrot_viz.store.engines import run_trials, trial_path
    from mosecrot_viz.store.grid import expand, load_grid
    from mosecrot_viz.store.runs import prepare_run_at

    root = tmp_path / "runs"
    monkeypatch.setenv("MOSECROT_RUNS", str(root))
    grid = yaml.safe_load(tiny_grid.read_text())
    (tmp_path / "zz.vec").write_text("1 6\nnothing_in_the_lexicon 1 2 3 4 5 6\n")
    grid["axes"]["language"].append({"name": "zz", "vectors": "zz.vec", "lexicon": "yy_lex.txt", "test": "yy_test.tsv"})
    grid["axes"]["method"], grid["axes"]["seed"] = ["ls"], [1, 2]
    tiny_grid.write_text(yaml.safe_dump(grid, sort_keys=False))
    trials = expand(load_grid(tiny_grid))  # 3 languages x 2 seeds
    summary = run_trials(trials[:4], root)  # xx and yy complete; the last trial not started
    assert len(summary.completed) == 4
    run_trials(trials[4:5], root)  # zz seed 1 fails: no anchors
    prepare_run_at(trials[5].config, trial_path(root, trials[5]))  # zz seed 2 still queued
    at = _app()
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert any("4 complete · 1 failed · 0 running · 1 queued" in p.proto.text for p in at.get("progress"))
    assert any("language=zz" in e.value and "static vector" in e.value for e in at.error)
    summary_table = next(d.value for d in at.dataframe if "series" in d.value.columns)
    assert set(summary_table["language"]) == {"xx", "yy"} and set(summary_table["n"]) == {2}
    assert at.get("plotly_chart")


def test_the_glossary_names_symbols_and_rungs_in_the_words_why_uses(tmp_path, monkeypatch):
    from mosecrot_viz.analysis.ladder import RUNG_LABELS

    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path))
    at = _app().run()
    at.switch_page("pages/glossary.py").run()
    text = " ".join(m.value for m in at.markdown)
    rungs = [RUNG_LABELS[k] for k in ("english_original", "english_method", "oracle_translation", "oracle_vector_vocab",
                                      "stitched", "dictionary")]
    for word in ("E_s", "F_s", "F_t", "RR", "LS", "CSLS", *rungs):
        assert word in text, word


def test_compare_shows_tasks_refuses_to_rank_across_them_and_gives_a_paired_difference(tmp_path, monkeypatch,
                                                                                         tiny_run_args):
    """Issue 26.5: LR is marked and never 'best'; runs of different tasks get separate tables; two runs of one
    task get a paired difference with its interval; a single seed's spread reads 'n/a (1 seed)'."""
    from mosecrot_viz.analysis.compare import paired_difference
    from mosecrot_viz.store.runs import StoredRun

    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    made = []
    for name, extra in (("a", {}), ("b", {"seeds": [2]}), ("other", {"test": tiny_run_args["source_test"]})):
        cfg = ExperimentConfig(**{**tiny_run_args, **extra}, methods=["majority", "ls", "lr"], epochs=1, ladder=False)
        cfg.out = str(new_run_dir(name, tmp_path / "runs"))
        made.append(run_experiment(cfg).results)
    at = _app().run()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="compare_pick").set_value([Path(r["config"]["out"]).name for r in made]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("2 different tasks" in w.value for w in at.warning)
    runs = at.dataframe[0].value
    assert "lr" not in set(runs["best zero-shot"].dropna())
    tables = [d.value for d in at.dataframe[1:3]]
    assert sorted(len(t.columns) for t in tables) == [1, 2]  # one task with two runs, the other alone
    assert any("(not zero-shot)" in str(v) for t in tables for v in t.loc["lr"])
    at.selectbox(key="compare_diff_method").set_value("ls").run()
    a, b = (StoredRun(Path(r["config"]["out"])) for r in made[:2])
    diff = paired_difference(a.results(), a.predictions(), "ls", b.results(), b.predictions(), "ls")
    shown = next(m for m in at.metric if m.label == "ls: A − B macro-F1")
    assert shown.value == f"{diff[0]:+.3f}" or shown.value == f"{-diff[0]:+.3f}"  # A/B order as the picker shows
    with pytest.raises(ValueError, match="different tasks"):
        other = StoredRun(Path(made[2]["config"]["out"]))
        paired_difference(a.results(), a.predictions(), "ls", other.results(), other.predictions(), "ls")
    at.switch_page("pages/run.py").run()
    at.selectbox(key="current_run").set_value(Path(made[0]["config"]["out"]).name).run()
    table = next(d.value for d in at.dataframe if "macro-F1" in d.value.columns)
    assert set(table["± std"]) == {"n/a (1 seed)"} and table["method"].iloc[-1] == "lr"  # LR last, marked
    assert table.set_index("method").loc["lr", "zero-shot"].startswith("no")


def test_home_says_the_restrictive_licence_above_the_table(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path))
    at = _app().run()
    assert any("Restrictive licence" in w.value and "task:bible-zh" in w.value and "do not redistribute" in w.value
               for w in at.warning)


def test_try_a_sentence_warns_when_the_sentence_is_not_in_the_target_language(stored_run):
    at = _app().run()
    at.switch_page("pages/errors.py").run()
    at.button(key="errors_try_rebuild_btn").click().run()
    at.text_area(key="errors_sentence").set_value("the dog and the cat").run()  # English: the target words are x...
    assert not at.exception, [e.value for e in at.exception]
    assert any("have no target-language vector" in w.value for w in at.warning)
    at.text_area(key="errors_sentence").set_value("xthe xdog xsat").run()  # the target language: no warning
    assert not any("have no target-language vector" in w.value for w in at.warning)


def test_a_script_shift_sweep_is_labelled_a_simulation_and_compare_draws_where_the_curves_cross(
        tmp_path, monkeypatch, tiny_run_args):
    from mosecrot_viz.analysis import script_shift
    from mosecrot_viz.store.sweeps import parse_values, run_sweep, sweep_configs

    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    base = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "source", "majority"], epochs=1)
    assert parse_values("script_shift", "0,1") == [0.0, 1.0]
    run_sweep(sweep_configs(base, "script_shift", [0.0, 1.0]), root=tmp_path / "runs")
    at = _app()
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    crossing = next(d.value for d in at.dataframe if "catches up at share" in d.value.columns)
    assert set(crossing["method"]) == {"rr-softmax", "majority"} and set(crossing["against"]) == {"source"}
    assert any(c.value == script_shift.SIMULATION_NOTE for c in at.caption)
    titles = [json.loads(p.proto.spec)["layout"]["title"]["text"] for p in at.get("plotly_chart")]
    assert any(t.startswith("Unseen-script simulation") for t in titles), titles
    at.switch_page("pages/run.py").run()
    assert any(c.value.startswith(script_shift.SIMULATION_NOTE) for c in at.caption)  # where it is set
    at.number_input(key="run_shift").set_value(0.5).run()
    assert not at.exception, [e.value for e in at.exception]
