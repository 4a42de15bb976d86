"""One estimator contract, run over every registered mapper (after scikit-learn's `parametrize_with_checks`).

`contract_cases()` lists the entries from the registry itself, so a mapper registered in `core.method_registry` is
checked without editing this file; `check_mapper_contract(name)` is the whole contract for one entry. Data: tiny
real-shaped spaces (E_s 40 x 12, E_t 30 x 8, 10 anchors), so D = 12 is the source dimension every mapper maps into.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from mosecrot_viz.core.mappers import MAPPERS, Mapper, make_mapper

N_S, D, N_T, DIM_T, N_ANCHORS = 40, 12, 30, 8, 10


def contract_cases() -> list[str]:
    """Every registered mapper's name: the parameter list of the contract test."""
    return list(MAPPERS)


def tiny_spaces(seed: int = 0):
    """E_s (N_S, D), E_t (N_T, DIM_T), and the anchors' rows in each: source_ids, target_ids (N_ANCHORS,)."""
    rng = np.random.default_rng(seed)
    e_s = rng.normal(size=(N_S, D)).astype(np.float32)
    e_t = rng.normal(size=(N_T, DIM_T)).astype(np.float32)
    source_ids = rng.choice(N_S, N_ANCHORS, replace=False)
    target_ids = rng.choice(N_T, N_ANCHORS, replace=False)
    return e_s, e_t, source_ids, target_ids


def _fit_map(mapper, e_s, e_t, source_ids, target_ids):
    fitted = mapper.fit(e_s[source_ids], e_t[target_ids], target_ids=target_ids)
    return fitted, fitted.transform_source(e_s), fitted.transform_target(e_t)


def _same_params(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k] == b[k] for k in a)


def check_mapper_contract(name: str) -> None:
    """The estimator contract for registered mapper `name`; raises AssertionError on the first broken clause."""
    e_s, e_t, source_ids, target_ids = tiny_spaces()
    inputs = [x.copy() for x in (e_s, e_t, source_ids, target_ids)]
    mapper = make_mapper(name)
    assert isinstance(mapper, Mapper) and isinstance(mapper, BaseEstimator), type(mapper)

    # parameters: exactly __init__'s explicit arguments, stored unchanged; set_params round-trips them
    signature = inspect.signature(type(mapper).__init__).parameters
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for n, p in signature.items() if n != "self"), "no *args/**kwargs"
    params = mapper.get_params()
    assert set(params) == set(signature) - {"self"}
    assert _same_params(make_mapper(name).set_params(**params).get_params(), params)

    # not fitted: both transforms refuse with scikit-learn's error
    for transform, x in ((mapper.transform_source, e_s), (mapper.transform_target, e_t)):
        with pytest.raises(NotFittedError, match="not fitted"):
            transform(x)

    fitted, f_s, f_t = _fit_map(mapper, e_s, e_t, source_ids, target_ids)
    assert fitted is mapper, "fit returns self"
    assert _same_params(mapper.get_params(), params), "fit changed a parameter"
    for got, want in zip((e_s, e_t, source_ids, target_ids), inputs):
        np.testing.assert_array_equal(got, want, err_msg="fit or transform wrote into its input")

    # shapes and values: F_s (|V_s|, D), F_t (|V_t|, D), float32, finite; F_s is E_s for a mapper that keeps it
    assert f_s.shape == (N_S, D) and f_t.shape == (N_T, D), (f_s.shape, f_t.shape)
    assert f_s.dtype == np.float32 and f_t.dtype == np.float32
    assert np.isfinite(f_s).all() and np.isfinite(f_t).all()
    if not mapper.reinitialises_source:
        np.testing.assert_array_equal(f_s, e_s)

    # clone: unfitted, equal parameters, and fitted on the same anchors the same output
    twin = clone(mapper)
    assert twin is not mapper and _same_params(twin.get_params(), params)
    with pytest.raises(NotFittedError):
        twin.transform_target(e_t)
    _, twin_s, twin_t = _fit_map(twin, e_s, e_t, source_ids, target_ids)
    np.testing.assert_array_equal(twin_s, f_s)
    np.testing.assert_array_equal(twin_t, f_t)

    # deterministic: a second fit of a fresh mapper gives the same matrices
    _, again_s, again_t = _fit_map(make_mapper(name), e_s, e_t, source_ids, target_ids)
    np.testing.assert_array_equal(again_s, f_s)
    np.testing.assert_array_equal(again_t, f_t)


@pytest.mark.parametrize("name", contract_cases())
def test_every_registered_mapper_keeps_the_estimator_contract(name):
    check_mapper_contract(name)


def test_the_contract_covers_every_builtin_mapper():
    """The parameter list is the registry (not a copy that could fall behind it)."""
    assert contract_cases() == ["rr-standard", "rr-softmax", "rr-sparsemax", "ls", "procrustes", "rr-softmax-keep",
                                "rr-procrustes-keep", "lexcopy-procrustes", "lexcopy-ls", "lexcopy-rr-keep"]


class _NoFitState(Mapper):
    """Breaks the contract: `fit` returns a fitted copy instead of fitting itself."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def fit(self, source_anchors, target_anchors, target_ids=None):
        copy = _NoFitState(self.scale)
        copy.dim_ = np.shape(source_anchors)[1]
        return copy

    def transform_target(self, target_vectors):
        self.transform_source(target_vectors)  # the base class's not-fitted check
        return np.zeros((len(target_vectors), self.dim_), dtype=np.float32)


def test_the_contract_catches_a_broken_mapper(monkeypatch):
    """The contract is not vacuous: a mapper whose fit does not return self (and never becomes fitted) fails it."""
    from mosecrot_viz.core.method_registry import MapperSpec

    monkeypatch.setitem(MAPPERS, "broken", MapperSpec("broken", _NoFitState))
    with pytest.raises(AssertionError, match="fit returns self"):
        check_mapper_contract("broken")
