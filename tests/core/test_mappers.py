"""Mapper estimators: registry, fit/transform contract, LS recovers a linear map."""
import numpy as np
import pytest

from mosecrot_viz.core.mappers import MAPPERS, LeastSquaresMapper, RelativeMapper, make_mapper
from mosecrot_viz.core.relative import relative_map


def test_ls_recovers_an_exact_linear_map():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 4))
    t = rng.normal(size=(50, 6))
    mapper = LeastSquaresMapper().fit(t @ w, t)
    np.testing.assert_allclose(mapper.coef_, w, atol=1e-4)
    new = rng.normal(size=(3, 6))
    np.testing.assert_allclose(mapper.transform_target(new), new @ w, atol=1e-4)
    src = rng.normal(size=(4, 4))
    np.testing.assert_array_equal(mapper.transform_source(src), src.astype(np.float32))


def test_relative_mapper_uses_source_anchor_rows_as_basis():
    rng = np.random.default_rng(3)
    s_anchor, t_anchor = rng.normal(size=(10, 4)), rng.normal(size=(10, 7))
    m = RelativeMapper(k=3, weighting="softmax", temperature=0.1).fit(s_anchor, t_anchor)
    assert m.n_anchors_ == 10
    words = rng.normal(size=(5, 7))
    np.testing.assert_allclose(m.transform_target(words),
                               relative_map(words, t_anchor, s_anchor, k=3, weighting="softmax", temperature=0.1),
                               rtol=1e-6)
    # an anchor word maps (almost) onto its own English anchor row with a sharp softmax
    sharp = RelativeMapper(k=10, weighting="softmax", temperature=1e-3).fit(s_anchor, t_anchor)
    np.testing.assert_allclose(sharp.transform_target(t_anchor), s_anchor, atol=1e-3)


def test_unfitted_and_bad_parameters_fail_clearly():
    with pytest.raises(RuntimeError, match="not fitted"):
        RelativeMapper().transform_target(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="weighting"):
        RelativeMapper(weighting="nope").fit(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="equal length"):
        LeastSquaresMapper().fit(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="unknown mapper"):
        make_mapper("magic")


def test_registry_names():
    assert {"rr-standard", "rr-softmax", "rr-sparsemax", "ls"} <= set(MAPPERS)
    assert make_mapper("rr-sparsemax").weighting == "sparsemax"
