"""The method registry as data: torch-free, the declared run options, live name lists, refused registrations."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mosecrot_viz.core import method_registry as reg
from mosecrot_viz.core.mappers import RR_MAPPERS, LexiconCopyMapper, MapperNotFittedError, make_mapper

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_registry_and_the_config_loads_neither_torch_nor_sklearn():
    """What `run --help` and the option schema need costs nothing: the estimator classes are loaded on first build."""
    code = ("import sys\nimport mosecrot_viz.core.method_registry, mosecrot_viz.experiment.config\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'transformers') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_rr_mappers_are_the_declared_ones_and_what_wraps_them():
    """Before, this tuple was found by looking inside functools.partial objects; the same names come out."""
    assert tuple(RR_MAPPERS) == ("rr-standard", "rr-softmax", "rr-sparsemax", "rr-softmax-keep", "rr-procrustes-keep",
                                 "lexcopy-rr-keep")
    assert reg.takes_rr_options("lexcopy-rr-keep") and not reg.takes_rr_options("lexcopy-procrustes")


def test_a_wrapper_passes_the_options_it_does_not_take_to_the_mapper_it_wraps():
    m = make_mapper("lexcopy-rr-keep", k=3, temperature=0.2)
    assert isinstance(m, LexiconCopyMapper) and m.get_params() == {"base": "rr-softmax-keep",
                                                                   "base_params": {"k": 3, "temperature": 0.2}}
    assert make_mapper("lexcopy-procrustes", base="ls").get_params() == {"base": "ls", "base_params": None}
    with pytest.raises(TypeError):  # explicit parameters: an unknown one is refused, not swallowed by **kwargs
        make_mapper("procrustes", k=3)


def test_not_fitted_is_sklearns_error_and_the_projects_runtime_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(MapperNotFittedError) as info:
        make_mapper("ls").transform_target([[1.0]])
    assert isinstance(info.value, NotFittedError) and isinstance(info.value, RuntimeError)


@pytest.mark.parametrize("spec, why", [
    (reg.MapperSpec("ls", "x:Y"), "already taken"),
    (reg.MapperSpec("majority", "x:Y"), "already taken"),
    (reg.MapperSpec("ls+st", "x:Y"), "lower-case"),
    (reg.MapperSpec("a,b", "x:Y"), "lower-case"),
    (reg.MapperSpec("lexcopy-new", "x:Y", wraps="nope"), "not a registered mapper"),
])
def test_a_bad_registration_is_refused(spec, why):
    before = dict(reg.MAPPERS)
    with pytest.raises(ValueError, match=why):
        reg.register(spec)
    assert reg.MAPPERS == before


def test_name_lists_read_like_tuples_and_follow_the_registry(monkeypatch):
    names = reg.MAPPER_NAMES
    assert names == tuple(reg.MAPPERS) and list(names) == list(reg.MAPPERS) and names[0] == "rr-standard"
    assert reg.METHOD_NAMES == tuple(reg.MAPPERS) + reg.BASELINES and names + ("x",) == (*reg.MAPPERS, "x")
    assert repr(names) == repr(tuple(reg.MAPPERS)) and len(names) == len(reg.MAPPERS)
    monkeypatch.setitem(reg.MAPPERS, "late", reg.MapperSpec("late", "x:Y"))
    assert "late" in names and names[-1] == "late" and "late" in reg.METHOD_NAMES


def test_specs_are_frozen_data():
    spec = reg.MAPPERS["rr-softmax"]
    with pytest.raises(AttributeError):
        spec.name = "other"
    with pytest.raises(TypeError):
        spec.params["temperature"] = 1.0
