"""Objects the app shares between sessions are read-only: an in-place change raises instead of
silently changing what another session sees."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import write_vec

from mosecrot_viz.ui.cached import read_only, vectors


@dataclass
class _Holder:
    arrays: dict
    name: str = "x"


def test_read_only_reaches_arrays_inside_containers():
    a, b, c = np.zeros(3), np.ones((2, 2)), np.arange(4.0)
    holder = read_only(_Holder({"m": (a, [b])}, name="kept"))
    for arr in (a, b):
        with pytest.raises(ValueError, match="read-only"):
            arr += 1
    c += 1  # arrays outside the object are untouched
    assert holder.name == "kept" and c[0] == 1


def test_cached_vectors_are_shared_and_read_only(tmp_path):
    path = tmp_path / "v.vec"
    write_vec(path, ["a", "b", "c"], dim=4)
    kv = vectors(str(path))
    assert vectors(str(path)) is kv  # one copy for every session
    with pytest.raises(ValueError, match="read-only"):
        kv.vectors[0] *= 2
    assert kv.most_similar("a", topn=1)  # reading (norms, similarities) still works


def test_a_runs_inputs_reuse_the_one_copy_of_its_vectors(tiny_run_args, monkeypatch):
    """The vectors file is read once per process: Setup's `vectors` and a run's `inputs`/`spaces` share the copy."""
    from mosecrot_viz.experiment import inputs as experiment_inputs
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.ui import cached

    reads = []
    for module in (cached, experiment_inputs):
        real = module.load_vectors
        monkeypatch.setattr(module, "load_vectors", lambda *a, _real=real, **k: reads.append(a) or _real(*a, **k))
    config = ExperimentConfig(**tiny_run_args, methods=["ls", "majority"]).to_dict()
    kv = cached.vectors(config["vectors"], config["max_vocab"])
    run_inputs, spaces = cached.spaces("tiny", config, ("ls",))
    assert cached.spaces("tiny", config, ())[0] is run_inputs and cached.inputs(config) is run_inputs
    assert run_inputs.vectors is kv and len(reads) == 1 and "ls" in spaces.mapped


def test_a_page_computes_an_analysis_once_and_the_run_keeps_it(tiny_run_args, tmp_path, monkeypatch):
    """`cached.analysis` on a run that stored no analyses (a CLI run): computed now, stored beside the run, and the
    same values a fresh reader gets from the file."""
    from mosecrot_viz.analysis import registry
    from mosecrot_viz.experiment import pipeline
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.store.runs import StoredRun, new_run_dir
    from mosecrot_viz.ui import cached

    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=1, top_k=5, ladder=False)
    cfg.out = str(new_run_dir("cli", tmp_path))
    pipeline.run_experiment(cfg)
    run = StoredRun(Path(cfg.out))
    assert registry.stored_result(run, "holdout_bli", n_test=5) is None
    held_out = cached.analysis(run, "holdout_bli", n_test=5)
    assert held_out.n_test == 5 and set(held_out.precision) == {"rr-softmax"}
    again = registry.stored_result(run, "holdout_bli", n_test=5)
    assert again.precision == held_out.precision and not registry.computed_with_run(run, "holdout_bli", n_test=5)
    np.testing.assert_array_equal(again.cosines["rr-softmax"], held_out.cosines["rr-softmax"])

    def no_rebuild(*a, **k):
        raise AssertionError("computed again although stored")

    monkeypatch.setattr(pipeline, "map_spaces", no_rebuild)
    cached._analysis.clear()
    assert cached.analysis(run, "holdout_bli", n_test=5).precision == held_out.precision
