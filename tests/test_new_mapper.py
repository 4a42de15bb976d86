"""A new mapper is one class and one registry entry: registered in `core.method_registry` and nowhere else, it is in
the CLI's method list and `run --help`, `ExperimentConfig` accepts it, the contract test's parameter list holds it
(and it passes the contract), the run builds it with the run's options, and the Run page offers it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mosecrot_viz.core import method_registry
from mosecrot_viz.core.mappers import Mapper

ROOT = Path(__file__).resolve().parents[1]
TOY = "toy-mean"


class MeanAnchorMapper(Mapper):
    """Every target word onto `scale` times the mean of the English anchor rows: (n, d) -> (n, D); F_s = E_s."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def fit(self, source_anchors, target_anchors, target_ids=None):
        self.mean_ = np.asarray(source_anchors, dtype=np.float64).mean(axis=0)
        return self

    def transform_target(self, target_vectors):
        self.transform_source(target_vectors[:0])  # the base class's not-fitted check
        rows = np.broadcast_to(self.scale * self.mean_, (len(target_vectors), len(self.mean_)))
        return rows.astype(np.float32)


@pytest.fixture
def toy():
    """The toy registered in the one place, removed again afterwards."""
    spec = method_registry.register(method_registry.MapperSpec(TOY, MeanAnchorMapper, {"scale": 2.0}))
    yield spec
    method_registry.MAPPERS.pop(TOY)


def test_a_mapper_registered_once_is_everywhere(toy):
    from mosecrot_viz.cli import METHOD_NAMES, build_parser
    from mosecrot_viz.core.mappers import MAPPERS, RR_MAPPERS, make_mapper
    from mosecrot_viz.experiment.config import ALL_METHODS, MAPPED_METHODS, ExperimentConfig
    from tests.core.test_mapper_contract import check_mapper_contract, contract_cases

    assert TOY in METHOD_NAMES and TOY in MAPPED_METHODS and TOY in ALL_METHODS and TOY in MAPPERS
    assert TOY not in RR_MAPPERS  # it declares no run options
    run = next(a for a in build_parser()._actions if a.choices and "run" in a.choices).choices["run"]
    assert TOY in run.format_help().replace("\n", "").replace(" ", "")  # --methods' help lists the choices
    cfg = ExperimentConfig(vectors="v", lexicon="l", train="t", test="x", methods=[TOY, "majority"]).validate()
    assert cfg.methods == [TOY, "majority"]
    assert TOY in contract_cases()
    check_mapper_contract(TOY)
    assert make_mapper(TOY).scale == 2.0 and make_mapper(TOY, scale=3.0).scale == 3.0


def test_the_run_builds_it_with_its_registered_params(toy):
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.spaces import configured_mapper

    cfg = ExperimentConfig(vectors="v", lexicon="l", train="t", test="x", methods=[TOY], top_k=7)
    mapper = configured_mapper(cfg, TOY)
    assert isinstance(mapper, MeanAnchorMapper) and mapper.get_params() == {"scale": 2.0}
    assert configured_mapper(cfg, "rr-softmax", "cpu").get_params()["k"] == 7  # an RR mapper takes the run's top-k


def test_the_run_page_offers_it(toy, tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("MOSECROT_APP_DATA", str(tmp_path / "app-data"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/run.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert TOY in at.multiselect(key="run_methods").options


def test_without_it_the_name_is_refused():
    from mosecrot_viz.errors import InputError
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.spaces import configured_mapper

    cfg = ExperimentConfig(vectors="v", lexicon="l", train="t", test="x", methods=[TOY])
    with pytest.raises(InputError, match="unknown methods"):
        cfg.validate()
    with pytest.raises(ValueError, match="unknown mapper 'toy-mean'"):
        configured_mapper(cfg, TOY)
