"""Property tests for the mapping's numerical range: unit rows at any scale, weights finite and summing to one for
any tau > 0, and maps that do not depend on the vectors' scale (the issue's 1e20 and 1e-44 cases)."""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mosecrot_viz.core.mappers import make_mapper
from mosecrot_viz.core.numerics import fit_rows, norm_range, unit_rows
from mosecrot_viz.core.relative import _normalise, anchor_weights, relative_representation, sparsemax

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# a direction: components bounded away from 0 relative to the row, so float32 subnormals keep >= 3 digits at 1e-40
directions = arrays(np.float64, (3, 5), elements=st.floats(0.05, 1.0)).map(
    lambda a: a * np.where(np.arange(a.size).reshape(a.shape) % 3 == 0, -1, 1))


@SETTINGS
@given(x=directions, exponent=st.floats(-40, 30))
def test_normalise_is_overflow_safe_for_scales_1e_minus40_to_1e30(x, exponent):
    scaled = torch.as_tensor(x * 10.0**exponent, dtype=torch.float32)  # float32 as the map reads it: 1e-40 is subnormal
    got = _normalise(scaled).numpy()
    want = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, atol=2e-3)
    np.testing.assert_allclose(unit_rows(x * 10.0**exponent), want, atol=1e-12)  # float64 path: exact


def test_normalise_keeps_zero_rows_zero_and_norms_are_scale_safe():
    x = torch.tensor([[0.0, 0.0], [3e30, 4e30], [3e-40, 4e-40]], dtype=torch.float32)
    np.testing.assert_allclose(_normalise(x).numpy(), [[0, 0], [0.6, 0.8], [0.6, 0.8]], atol=1e-5)
    lo, hi = norm_range(np.array([[3e30, 4e30], [3e-40, 4e-40], [0, 0]], dtype=np.float32))
    assert hi == pytest.approx(5e30, rel=1e-6) and lo == pytest.approx(5e-40, rel=1e-3)
    # the plain float32 norm, as the map computed it before: infinite at 1e20
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.linalg.norm(np.float32([[3e20, 4e20]]), axis=1)).all()


def test_fit_rows_copies_only_out_of_range_matrices_and_keeps_directions():
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    assert fit_rows(x) is x  # ordinary vectors: no copy
    big = fit_rows(x * np.float32(1e20))
    assert big is not x and np.abs(big).max(axis=1).min() >= 0.5 and np.abs(big).max() < 1
    np.testing.assert_allclose(unit_rows(big), unit_rows(x), atol=1e-6)


def test_relative_representation_of_tiny_float64_rows_is_their_cosine():
    x = np.array([[1e-44, 0.0], [1e-44, 1e-44]])  # float64 input: normalised before it becomes float32
    np.testing.assert_allclose(relative_representation(x, [[1.0, 0.0]]), [[1.0], [2**-0.5]], atol=1e-6)


WEIGHTINGS = ["softmax", "sparsemax", "standard"]
sims_strategy = arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 9)),
                       elements=st.floats(width=32, allow_nan=False, allow_infinity=False))  # any finite float32
cosines = arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 9)), elements=st.floats(-1, 1, width=32))
# every tau > 0 that is a float: from the smallest subnormal to large
taus = st.floats(min_value=5e-324, max_value=1e6, allow_nan=False, allow_infinity=False, exclude_min=False)


@SETTINGS
@given(sims=st.one_of(cosines, sims_strategy), tau=taus, weighting=st.sampled_from(WEIGHTINGS))
def test_weights_are_finite_non_negative_and_sum_to_one_for_any_tau(sims, tau, weighting):
    w = anchor_weights(torch.from_numpy(sims), weighting, tau)
    assert torch.isfinite(w).all() and (w >= 0).all()
    np.testing.assert_allclose(w.sum(dim=1).numpy(), 1.0, atol=1e-5)


@SETTINGS
@given(sims=cosines, tau=st.floats(1e-12, 1e-6))
def test_tiny_tau_gives_anchors_clearly_behind_the_best_no_weight(sims, tau):
    t = torch.from_numpy(sims)
    far = t.amax(dim=1, keepdim=True) - t > 1e-3  # anchors clearly behind the best: no weight at such a tau
    for weighting in ("softmax", "sparsemax"):
        w = anchor_weights(t, weighting, tau)
        assert torch.all(w[far] == 0) and torch.allclose(w.sum(dim=1), torch.ones(len(t)))


def test_sparsemax_tau_1e_minus8_keeps_its_support_where_it_raised_index_error():
    sims = torch.tensor([[0.91, 0.90, 0.10], [0.5, 0.5, 0.5]])
    w = anchor_weights(sims, "sparsemax", 1e-8)  # raised IndexError (index -1) before
    assert torch.equal(w[0], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(w[1], torch.full((3,), 1 / 3))  # ties share the weight
    assert torch.allclose(sparsemax(torch.tensor([[1e8, 0.0]])), torch.tensor([[1.0, 0.0]]))  # 1 + 1e8 == 1e8 in fp32
    with pytest.raises(ValueError, match="positive"):
        anchor_weights(sims, "softmax", 0.0)


MAP_METHODS = ["rr-softmax", "rr-sparsemax", "rr-standard", "ls", "procrustes", "rr-procrustes-keep"]


def _space(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(30, 8)).astype(np.float32), rng.normal(size=(45, 5)).astype(np.float32)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exponent=st.floats(-30, 30), method=st.sampled_from(MAP_METHODS))
def test_the_map_does_not_depend_on_the_vectors_scale(exponent, method):
    e_s, e_t = _space()
    scaled = (e_t.astype(np.float64) * 10.0**exponent).astype(np.float32)
    mapper = make_mapper(method)
    base = make_mapper(method).fit(e_s[:20], e_t[:20]).transform_target(e_t)
    got = mapper.fit(e_s[:20], scaled[:20]).transform_target(scaled)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, base, rtol=1e-3, atol=1e-3 * np.abs(base).max())


@pytest.mark.parametrize("method", MAP_METHODS)
def test_vectors_at_1e20_map_to_the_same_rows_as_at_1(method):
    e_s, e_t = _space(1)
    base = make_mapper(method).fit(e_s[:20], e_t[:20]).transform_target(e_t)
    big = e_t * np.float32(1e20)
    got = make_mapper(method).fit(e_s[:20], big[:20]).transform_target(big)
    assert len(np.unique(got.round(4), axis=0)) == len(np.unique(base.round(4), axis=0)) > 1  # not one row
    np.testing.assert_allclose(got, base, rtol=1e-4, atol=1e-4 * np.abs(base).max())


@pytest.mark.parametrize("scale", [1e-11, 1e-13, 1e-20, 1e15, 1e30])
def test_rr_weights_at_scales_where_the_plain_norm_clamps_or_overflows(scale):
    # a norm below the map's 1e-12 clamp shrank every similarity (softmax then near uniform), one above ~1e19
    # overflowed it: both gave wrong weights without any error
    e_s, e_t = _space(2)
    base = make_mapper("rr-softmax").fit(e_s[:20], e_t[:20]).transform_target(e_t)
    s = (e_t.astype(np.float64) * scale).astype(np.float32)
    got = make_mapper("rr-softmax").fit(e_s[:20], s[:20]).transform_target(s)
    np.testing.assert_allclose(got, base, rtol=1e-4, atol=1e-4 * np.abs(base).max())


@pytest.mark.parametrize("weighting,tau", [("softmax", 1e-40), ("sparsemax", 1e-8), ("softmax", 5e-324)])
def test_a_tiny_tau_maps_every_word_to_its_nearest_anchor_instead_of_nan(weighting, tau):
    # the issue: tau 1e-40 made the softmax weights NaN (inf - inf) and F_s all NaN; sparsemax at 1e-8 raised
    e_s, e_t = _space(3)
    got = make_mapper("rr-softmax", weighting=weighting, temperature=tau).fit(e_s[:20], e_t[:20]).transform_target(e_t)
    nearest = make_mapper("rr-softmax", k=1).fit(e_s[:20], e_t[:20]).transform_target(e_t)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, nearest, atol=1e-6)
