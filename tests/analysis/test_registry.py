"""The analysis registry on a tiny run folder: a stored result is read, a missing one computed once and stored, a
stale or corrupt one computed again; what an analysis reads is what it declared."""
import json
import os
from dataclasses import dataclass

import pytest

from mosecrot_viz.analysis import registry, stored
from mosecrot_viz.analysis.dtypes import AnchorView, BLIResult, Drift, Heatmap

CONFIG = {"vectors": "v.vec", "methods": ["rr-softmax", "majority"], "seeds": [1]}


@dataclass(frozen=True)
class Count:
    """A toy result: the number of methods in results.json, times a factor."""

    value: int

    def to_json(self) -> dict:
        return {"value": self.value}

    @classmethod
    def from_json(cls, rec: dict) -> "Count":
        return cls(int(rec["value"]))


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "20260101-000000-tiny-abcdef"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps({"config": CONFIG, "methods": {"rr-softmax": {}, "majority": {}}}))
    return folder


@pytest.fixture
def toy(monkeypatch):
    """A registered toy analysis `count` (parameter `factor`) whose computations are counted."""
    calls = []

    def compute(src, factor):
        calls.append(factor)
        return Count(len(src.results["methods"]) * factor)

    analysis = registry.Analysis("count", compute, Count, frozenset({"results"}), params={"factor": 1},
                                 keep=lambda p: p["factor"] < 100)
    monkeypatch.setitem(registry.ANALYSES, "count", analysis)
    return calls


def test_a_missing_result_is_computed_once_and_stored(run, toy):
    mtime = os.stat(run).st_mtime_ns
    assert registry.analysis_result(run, "count", factor=3) == Count(6)
    assert registry.analysis_result(run, "count", factor=3) == Count(6)
    assert toy == [3]  # the second call read analysis.json
    data = json.loads((run / "analysis.json").read_text())
    assert data["schema"] == 2 and data["config_key"] == stored.config_key(CONFIG)
    assert data["entries"]["count"]['{"factor":3}'] == {"version": 1, "with_run": False, "params": {"factor": 3},
                                                          "result": {"value": 6}}
    assert os.stat(run).st_mtime_ns == mtime  # the run list's order (folder mtime) is untouched
    assert registry.stored_result(run, "count", factor=3) == Count(6)
    assert not registry.computed_with_run(run, "count", factor=3)
    assert registry.stored_result(run, "count", factor=4) is None and toy == [3]  # stored_result never computes


def test_a_stored_result_is_returned_without_computing(run, toy):
    stored.write_run_entries(run, {"count": {'{"factor":1}': {"version": 1, "with_run": True, "params": {"factor": 1},
                                                               "result": {"value": 41}}}}, 2.5)
    assert registry.analysis_result(run, "count") == Count(41) and toy == []  # the stored value, not 2
    assert registry.computed_with_run(run, "count") and stored.analysis_seconds(run) == 2.5


@pytest.mark.parametrize("spoil", ["version", "entry", "file", "config", "not an object"])
def test_a_stale_or_corrupt_result_is_computed_again(run, toy, spoil):
    entry = {"version": 1, "with_run": True, "params": {"factor": 1}, "result": {"value": 41}}
    if spoil == "version":
        entry["version"] = 0  # written by an older definition of the analysis
    elif spoil == "entry":
        entry["result"] = {"wrong": 1}
    stored.write_run_entries(run, {"count": {'{"factor":1}': entry}}, 1.0)
    if spoil == "file":
        (run / "analysis.json").write_bytes(b'{"schema": 2, "entr')
    elif spoil == "config":  # the folder was reused by a later run with another config
        (run / "results.json").write_text(json.dumps({"config": {**CONFIG, "seeds": [2]}, "methods": {"x": {}}}))
    elif spoil == "not an object":
        (run / "analysis.json").write_text("[1, 2]")
    want = Count(1) if spoil == "config" else Count(2)
    assert registry.analysis_result(run, "count") == want and toy == [1]
    assert registry.analysis_result(run, "count") == want and toy == [1]  # and stored in its place


def test_parameters_keep_and_declared_needs(run, toy, monkeypatch):
    assert registry.analysis_result(run, "count", factor=100) == Count(200)
    assert registry.stored_result(run, "count", factor=100) is None  # `keep` said no: computed, not stored
    with pytest.raises(TypeError, match="no parameter colour"):
        registry.analysis_result(run, "count", colour="red")

    def peeks(src):
        return Count(len(src.predictions()))

    monkeypatch.setitem(registry.ANALYSES, "peek", registry.Analysis("peek", peeks, Count, frozenset({"results"})))
    with pytest.raises(AttributeError, match="'peek' reads 'predictions' without declaring it"):
        registry.analysis_result(run, "peek")
    with pytest.raises(ValueError, match="not among"):
        registry.Analysis("bad", peeks, Count, frozenset({"weights"}))


def test_later_results_are_kept_a_few_per_analysis_the_runs_own_always(run, toy):
    stored.write_run_entries(run, {"count": {'{"factor":1}': {"version": 1, "with_run": True, "params": {"factor": 1},
                                                               "result": {"value": 2}}}}, 1.0)
    for f in range(2, 2 + stored.MAX_KEPT + 3):
        registry.analysis_result(run, "count", factor=f)
    kept = json.loads((run / "analysis.json").read_text())["entries"]["count"]
    later = [e["params"]["factor"] for e in kept.values() if not e["with_run"]]
    assert later == list(range(5, 2 + stored.MAX_KEPT + 3))  # the newest MAX_KEPT, oldest dropped first
    assert registry.computed_with_run(run, "count") and stored.analysis_seconds(run) == 1.0


def test_an_analysis_reads_another_through_its_sources(run, toy, monkeypatch):
    def double(src):
        return Count(2 * src.result("count", factor=5).value)

    monkeypatch.setitem(registry.ANALYSES, "double", registry.Analysis("double", double, Count, frozenset({"result"})))
    assert registry.analysis_result(run, "double") == Count(20) and toy == [5]
    assert registry.stored_result(run, "count", factor=5) == Count(10)  # the one it read is stored too


def test_a_schema_1_file_is_read_as_the_same_results(run):
    """analysis.json as written before the registry: one private shape per analysis, all computed with the run."""
    old = {"config_key": stored.config_key(CONFIG), "seconds": 7.5,
           "holdout_bli": {"1000": {"precision": {"rr-softmax": {"nn": {"1": 0.5, "5": 0.75}, "csls": {"1": 0.25}}},
                                    "n_test": 4, "n_train": 16, "cosines": {"rr-softmax": [0.1, 0.2, 0.3, 0.4]}}},
           "drift": {"rr-softmax": {"n": 2, "mean": 0.5}}, "drift_cosines": {"rr-softmax": [0.25, 0.75]},
           "anchor_view": {"settings": ["pca", 800, 0], "sxy": [[0.0, 1.0]], "txy": [[1.0, 0.0]],
                           "source_words": ["cat"], "target_words": ["xcat"], "control": {"pairs": 1.0,
                           "control": 2.0, "ratio": 0.5}, "target_rows": [3], "extras": [], "highlight": [],
                           "matches": [], "bli_hits": {"rr-softmax": [True]}},
           "heatmap": {"words": ["xcat"], "columns": 40, "anchors": ["xdog/dog"], "matrix": [[0.9]]}}
    (run / "analysis.json").write_text(json.dumps(old))
    bli = registry.stored_result(run, "holdout_bli", n_test=1000)
    assert isinstance(bli, BLIResult) and bli.precision == {"rr-softmax": {"nn": {1: 0.5, 5: 0.75}, "csls": {1: 0.25}}}
    assert bli.p_at("rr-softmax") == 0.25 and (bli.n_test, bli.n_train) == (4, 16)
    assert bli.cosines["rr-softmax"].tolist() == [0.1, 0.2, 0.3, 0.4]
    drift = registry.stored_result(run, "drift")
    assert isinstance(drift, Drift) and drift.summary["rr-softmax"]["mean"] == 0.5
    assert drift.cosines["rr-softmax"].tolist() == [0.25, 0.75]
    view = registry.stored_result(run, "anchor_view", method="pca", n=800, search="", seed=0)
    assert isinstance(view, AnchorView) and view.sxy.shape == (1, 2) and view.target_words == ["xcat"]
    assert view.control["ratio"] == 0.5 and view.target_rows == [3]
    assert registry.stored_result(run, "anchor_bli_hits", method="pca", n=800, search="", seed=0).hits == {
        "rr-softmax": [True]}
    heat = registry.stored_result(run, "heatmap", words=("xcat",), columns=40)
    assert isinstance(heat, Heatmap) and heat.missing == [] and heat.matrix.tolist() == [[0.9]]
    assert registry.stored_result(run, "heatmap", words=("xcat",), columns=41) is None
    assert registry.computed_with_run(run, "holdout_bli", n_test=1000) and stored.analysis_seconds(run) == 7.5


def test_every_registered_analysis_declares_a_typed_result():
    assert set(registry.ANALYSES) == {"holdout_bli", "drift", "anchor_view", "anchor_bli_hits", "heatmap",
                                      "misclassified_words", "neighbours", "shared_neighbours"}
    for name, a in registry.ANALYSES.items():
        assert a.name == name and a.spinner and a.needs <= registry.NEEDS
        assert callable(a.result.to_json) and callable(a.result.from_json)
        assert set(a.bind({})) == set(a.params)
