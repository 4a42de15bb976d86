"""`bench --full-size`: the synthetic fastText-size files in each form, the stage meter, the goals, and one real
CLI run at a tiny size (2,000 words, 32 sentences, the majority baseline only so nothing is fine-tuned, no
ladder) through the same code path; the fine-tune stages' names are checked on the meter itself."""
import numpy as np
import pytest

from mosecrot_viz import bench
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.vectors import load_vectors


def test_every_form_lists_the_lexicon_words_first_and_loads(tmp_path):
    words = ["alpha", "beta", "gamma"]
    kvs = {form: load_vectors(bench.write_full_size(tmp_path / f"s.{form}{'.gz' if form == 'gzip' else ''}", 50, 12,
                                                    words, form))
           for form in bench.FULL_FORMS}
    for kv in kvs.values():
        assert kv.index_to_key[:4] == ["alpha", "beta", "gamma", "w3"] and kv.vectors.shape == (50, 12)
    np.testing.assert_array_equal(kvs["text"].vectors, kvs["gzip"].vectors)
    # the .bin's word vector is fastText's mean of its word row and n-gram rows: same words, not the same numbers
    assert not np.array_equal(kvs["text"].vectors, kvs["bin"].vectors)


def test_stages_are_named_from_the_progress_messages_and_take_their_peak_rss():
    msgs = ["loading vectors, lexicon and task data", "loading the source model", "17 anchors; mapping embeddings",
            "mapped; fine-tuning", "seed 1, ls: epoch 1/1, dev F1 0.5", "seed 1, ls: measuring the gap ladder",
            "seed 1, ls: gap ladder, word importance (occlusion), sentence 1 of 2",
            "seed 1, ls: gap ladder, word importance (occlusion), sentence 2 of 2",
            "seed 1, source-embeddings: epoch 1/1, dev F1 0.4", "done"]
    events = [(float(i + 1), m) for i, m in enumerate(msgs)]
    # RSS rises to 500 MB in the mapping stage (t in 3..4), then falls: later stages show their own sampled RSS
    samples = [(t / 4, rss, max(500.0 if t / 4 >= 3.5 else 0.0, min(rss, 400.0)))
               for t, rss in ((i, 500.0 if 14 <= i <= 15 else 300.0) for i in range(0, 46))]
    stages = bench.stages_from(events, samples, 0.0, 11.0)
    assert [s["stage"] for s in stages] == [
        "start-up (imports, checks)", "loading vectors, lexicon and task data", "loading the source model",
        "anchors; mapping embeddings", "fine-tune seed 1, ls: epoch 1/1", "after fine-tune seed 1, ls (evaluation)",
        "seed 1, ls: measuring the gap ladder",
        "seed 1, ls: gap ladder, then fine-tune seed 1, source-embeddings: epoch 1/1",
        "after fine-tune seed 1, source-embeddings (evaluation)", "done"]
    assert [s["seconds"] for s in stages] == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0]
    peaks = {s["stage"]: s["peak_rss_mb"] for s in stages}
    assert peaks["anchors; mapping embeddings"] == 500.0  # the high-water mark rose there
    assert peaks["loading the source model"] == 300.0 and peaks["done"] == 300.0  # sampled RSS elsewhere


def test_a_fine_tunes_start_message_ends_the_stage_before_it():
    msgs = ["mapped; fine-tuning", "seed 1, ls: fine-tuning, 1 epoch", "seed 1, ls: epoch 1/1, dev F1 0.5",
            "seed 1, ls: measuring the gap ladder", "seed 1, source-embeddings: fine-tuning, 1 epoch",
            "seed 1, source-embeddings: epoch 1/1, dev F1 0.4", "done"]
    events = [(float(i + 1), m) for i, m in enumerate(msgs)]
    stages = bench.stages_from(events, [], 0.0, 8.0)
    assert [(s["stage"], s["seconds"]) for s in stages] == [
        ("start-up (imports, checks)", 1.0), ("fine-tune seed 1, ls: epoch 1/1", 2.0),
        ("after fine-tune seed 1, ls (evaluation)", 1.0), ("seed 1, ls: measuring the gap ladder", 1.0),
        ("fine-tune seed 1, source-embeddings: epoch 1/1", 1.0),
        ("after fine-tune seed 1, source-embeddings (evaluation)", 1.0), ("done", 1.0)]


def _run(words, form, seconds, peak, stages):
    return {"words": words, "form": form, "seconds": seconds, "peak_rss_mb": peak, "matrix_mb": words * 300 * 4 / 2**20,
            "file_mb": 1.0, "stages": [{"stage": n, "seconds": t, "peak_rss_mb": m} for n, t, m in stages]}


def test_goals_say_met_or_missed_with_the_measured_reason():
    small = _run(200_000, "text", 66, 4200, [("loading vectors, lexicon and task data", 10, 900),
                                              ("fine-tune seed 1, ls: epoch 1/1", 30, 4200)])
    large = _run(2_000_000, "text", 343, 22100, [("loading vectors, lexicon and task data", 150, 22100),
                                                  ("fine-tune seed 1, ls: epoch 1/1", 31, 9000)])
    goals = {g["goal"]: g for g in bench.full_size_goals([small, large])}
    rss = goals["peak RSS <= 2.5x the matrix (2,000,000 words, text)"]
    assert not rss["met"] and "9.7x" in rss["reason"] and "loading vectors" in rss["reason"]
    assert not goals["all stages <= 5 min (2,000,000 words, text)"]["met"]
    assert goals["all stages <= 5 min (200,000 words, text)"]["met"]
    lin = goals["'loading vectors, lexicon and task data' at most linear in the vocabulary (text)"]
    assert not lin["met"] and "15.0x the time for 10x the words" in lin["reason"]
    assert not any("fine-tune" in g for g in goals if "linear" in g)  # fine-tuning is exempt
    table = bench.full_size_report({"dim": 300, "sentences": 300, "epochs": 1, "methods": ["rr-softmax", "ls"],
                                    "runs": [small, large], "goals": list(goals.values())})
    assert "| loading vectors, lexicon and task data | 150.0 | 22,100 |" in table and "**missed**" in table


def test_bad_forms_and_sizes_fail_before_any_work(tmp_path):
    with pytest.raises(InputError, match="--forms"):
        bench.run_full_size(sizes=[10], forms=["csv"], workdir=tmp_path)
    with pytest.raises(InputError, match="--sizes"):
        bench.run_full_size(sizes=[0], forms=["text"], workdir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_tiny_full_size_cli_run_reports_every_stage(tmp_path):
    r = bench.run_full_size(sizes=[2000], forms=["text"], sentences=32, methods=("majority",), ladder=False,
                            workdir=tmp_path)
    (run,) = r["runs"]
    names = [s["stage"] for s in run["stages"]]
    assert names[:4] == ["start-up (imports, checks)", "loading vectors, lexicon and task data",
                         "loading the source model", "anchors; mapping embeddings"]
    assert names[-1] == "done"
    assert run["peak_rss_mb"] >= max(s["peak_rss_mb"] for s in run["stages"]) * 0.99 > 0
    assert abs(sum(s["seconds"] for s in run["stages"]) - run["seconds"]) < 0.05 * run["seconds"] + 1
    assert {g["goal"] for g in r["goals"]} == {"peak RSS <= 2.5x the matrix (2,000 words, text)",
                                              "all stages <= 5 min (2,000 words, text)"}
    assert "| anchors; mapping embeddings |" in bench.full_size_report(r)
