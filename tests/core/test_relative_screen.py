"""The screened top-k (bf16 screen + exact re-score) and the certified fp32 path return the exact top-k sets.

"Exact" here is the top-k of the cosines of the float32 unit rows computed in float64 (ties to the lower
anchor id), written independently below. Both screens must match it, and each other, on random data and on
adversarial near-ties: duplicated anchors, anchors whose similarities differ by 1e-8 to 1e-7, and rows whose
k-th and (k+1)-th similarities differ by far less than bf16's error.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mosecrot_viz.core.relative as relative
from mosecrot_viz.core.relative import relative_map, resolve_precision, topk_anchors
from mosecrot_viz.errors import InputError


def _unit32(x):
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _exact_topk(vectors, anchors, k):
    """Reference: float64 cosines of the float32 unit rows, sorted by (-score, anchor id)."""
    v, a = _unit32(vectors).astype(np.float64), _unit32(anchors).astype(np.float64)
    scores = (v[:, None, :] * a[None, :, :]).sum(-1)
    ids = np.arange(len(a))
    order = np.array([np.lexsort((ids, -row))[:k] for row in scores])
    return np.take_along_axis(scores, order, 1), order


def _softmax_map(sims, ids, basis, tau=0.05):
    z = sims / tau
    w = np.exp(z - z.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    return (w[:, :, None] * basis[ids]).sum(1), w


def _check_exact(vectors, anchors, k, basis=None):
    """Both forced screens give the reference sets; sims within 1e-6; weights and mapped rows within 1e-5."""
    want_s, want_i = _exact_topk(vectors, anchors, k)
    basis = np.random.default_rng(0).normal(size=(len(anchors), 5)) if basis is None else basis
    want_out, want_w = _softmax_map(want_s, want_i, basis)
    for precision in ("fp32", "bf16"):
        stats = {}
        sims, ids = topk_anchors(vectors, anchors, k, precision=precision, stats=stats, chunk_size=37)
        assert stats["precision"] == precision
        np.testing.assert_array_equal(np.sort(ids.numpy(), 1), np.sort(want_i, 1), err_msg=precision)
        order = np.argsort(ids.numpy(), 1)
        got_s = np.take_along_axis(sims.numpy(), order, 1)
        ref_s = np.take_along_axis(want_s, np.argsort(want_i, 1), 1)
        np.testing.assert_allclose(got_s, ref_s, atol=1e-6, rtol=0, err_msg=precision)
        _, got_w = _softmax_map(sims.numpy().astype(np.float64), ids.numpy(), basis)
        np.testing.assert_allclose(np.take_along_axis(got_w, order, 1),
                                   np.take_along_axis(want_w, np.argsort(want_i, 1), 1), atol=1e-5, rtol=0)
        out = relative_map(vectors, anchors, basis, k=k, weighting="softmax", temperature=0.05, precision=precision)
        np.testing.assert_allclose(out, want_out, atol=1e-5, rtol=0, err_msg=precision)
    return stats


def test_random_rows_give_the_exact_top_k_with_either_screen():
    rng = np.random.default_rng(3)
    v, a = rng.normal(size=(300, 40)).astype(np.float32), rng.normal(size=(500, 40)).astype(np.float32)
    stats = _check_exact(v, a, 20)
    assert stats["rows re-scored exactly (bf16 screen)"] > 0


def test_duplicated_anchors_across_the_cut_break_ties_by_the_lower_id():
    """Exact copies tie exactly; the k-th place goes to the lowest id among them, in both screens."""
    rng = np.random.default_rng(4)
    base = rng.normal(size=(60, 24)).astype(np.float32)
    anchors = np.concatenate([base, base[:30], base[10:20], base[10:20]])  # some anchors three times
    vectors = np.concatenate([base[:40] + 0.3 * rng.normal(size=(40, 24)).astype(np.float32),
                              rng.normal(size=(40, 24)).astype(np.float32)])
    for k in (1, 5, 9, 33):
        _check_exact(vectors, anchors, k)


def test_near_ties_within_1e7_are_decided_exactly():
    """Anchors perturbed by 1e-7..1e-9 of a shared direction: similarities equal to within 1e-7, far below the
    bf16 screen's error (about 4e-3) and near the float32 GEMM's own rounding."""
    rng = np.random.default_rng(5)
    d = 32
    vectors = rng.normal(size=(60, d)).astype(np.float32)
    cores = rng.normal(size=(12, d)).astype(np.float32)
    anchors = np.concatenate([c + s * rng.normal(size=(8, d)).astype(np.float32)
                              for c in cores for s in (1e-7,)] + [rng.normal(size=(40, d)).astype(np.float32)])
    # the queries point near the cores, so each row's top-k cut falls inside a cluster of near-equal anchors
    vectors[:36] = np.repeat(cores[:12], 3, axis=0) + 0.05 * rng.normal(size=(36, d)).astype(np.float32)
    want_s, _ = _exact_topk(vectors, anchors, 12)
    gaps = np.abs(np.diff(want_s, axis=1))
    assert (gaps[:36] < 1e-7).any(axis=1).mean() > 0.9  # the adversarial construction holds
    for k in (3, 4, 8, 12):
        _check_exact(vectors, anchors, k)


def test_rows_whose_cut_gap_is_below_the_bf16_error_are_resolved_and_counted():
    """k-th and (k+1)-th similarities 1e-5 apart (bf16 cannot tell them apart): the re-score decides."""
    rng = np.random.default_rng(6)
    d = 48
    q = _unit32(rng.normal(size=(1, d)))[0]
    ortho = rng.normal(size=(30, d))
    ortho -= np.outer(ortho @ q, q)
    ortho = _unit32(ortho)
    cos = 0.5 + 1e-5 * np.arange(30)  # thirty anchors 1e-5 apart in cosine to q
    anchors = (cos[:, None] * q + np.sqrt(1 - cos[:, None] ** 2) * ortho).astype(np.float32)
    anchors = np.concatenate([anchors, rng.normal(size=(50, d)).astype(np.float32) * 0.1])
    vectors = np.repeat(q[None, :], 4, axis=0) + np.float32(1e-9)
    for k in (1, 7, 15):
        _check_exact(vectors, anchors, k)


def test_candidate_overflow_falls_back_to_exact_scores_and_says_so():
    """Forty copies of one anchor all tie with k=5: the candidates overflow the screen's slack, the row is redone
    in fp32, whose near-tie band overflows too, so it is scored exactly over every anchor (counted)."""
    rng = np.random.default_rng(7)
    one = rng.normal(size=(1, 16)).astype(np.float32)
    anchors = np.concatenate([rng.normal(size=(20, 16)).astype(np.float32), np.repeat(one, 40, 0)])
    vectors = one + 0.01 * rng.normal(size=(3, 16)).astype(np.float32)
    stats = {}
    sims, ids = topk_anchors(vectors, anchors, 5, precision="bf16", stats=stats)
    np.testing.assert_array_equal(ids.numpy(), np.tile(np.arange(20, 25), (3, 1)))  # the five lowest copy ids
    assert stats["rows redone in fp32 (screen candidates overflowed)"] == 3
    assert stats["rows scored exactly over every anchor"] == 3


def test_zero_rows_take_the_lowest_ids():
    a = np.random.default_rng(8).normal(size=(30, 6)).astype(np.float32)
    for precision in ("fp32", "bf16"):
        sims, ids = topk_anchors(np.zeros((2, 6), np.float32), a, 4, precision=precision)
        assert ids.tolist() == [[0, 1, 2, 3]] * 2 and float(sims.abs().max()) == 0.0


def test_the_screen_error_bounds_hold():
    """Soundness of the bounds the candidate sets rest on: the bf16 screen's and float32's errors against float64."""
    rng = np.random.default_rng(9)
    v, a = _unit32(rng.normal(size=(200, 300))), rng.normal(size=(400, 300)).astype(np.float32)
    anc = relative._Anchors(a, "cpu")
    exact = v.astype(np.float64) @ anc.unit.astype(np.float64).T
    y32 = relative._gemm32(torch.from_numpy(v), anc).numpy()
    assert np.abs(y32 - exact).max() <= relative._gamma(300) * anc.norm_max * (1 + 1e-4)
    ab_t, ab_max, ra_max = anc.bf16()
    vb = torch.from_numpy(v).bfloat16()
    y16 = (vb @ ab_t).double().numpy()
    vbn = vb.double().norm(dim=1).numpy()
    err = vbn * ra_max + (torch.from_numpy(v).double() - vb.double()).norm(dim=1).numpy() * anc.norm_max
    err = err + relative._gamma(300) * vbn * ab_max
    bound = err[:, None] + 2.0**-8 / (1 - 2.0**-8) * np.abs(y16)
    assert (np.abs(y16 - exact) <= bound).all()
    # the screen is far coarser than float32: the re-score is what makes the answer exact
    assert np.abs(y16 - exact).max() > 1e-4 > 100 * np.abs(y32 - exact).max()


@pytest.mark.parametrize("n_anchors", [7, 100, 1003, 4099])
def test_two_level_top_m_is_the_exact_top_m(n_anchors):
    rng = np.random.default_rng(n_anchors)
    y = torch.from_numpy(rng.normal(size=(50, n_anchors)).astype(np.float32))
    vals, idx = relative._top_m(y, 12)
    top = torch.topk(y, min(12, n_anchors), dim=1)
    torch.testing.assert_close(vals, top.values)
    torch.testing.assert_close(y.gather(1, idx), vals)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 30), a=st.integers(1, 70), d=st.integers(1, 12),
       k=st.integers(1, 20), dup=st.integers(0, 10), grid=st.booleans())
def test_property_screens_equal_the_exact_top_k(seed, n, a, d, k, dup, grid):
    """Any shapes; duplicated anchors; on `grid`, coordinates from a few values so exact ties are common."""
    rng = np.random.default_rng(seed)
    draw = (lambda size: rng.integers(-2, 3, size=size)) if grid else (lambda size: rng.normal(size=size))
    anchors = draw((a, d)).astype(np.float32)
    if dup:
        anchors = np.concatenate([anchors, anchors[rng.integers(0, a, size=dup)]])
    vectors = draw((n, d)).astype(np.float32)
    k = min(k, len(anchors))
    want_s, want_i = _exact_topk(vectors, anchors, k)
    for precision in ("fp32", "bf16"):
        sims, ids = topk_anchors(vectors, anchors, k, precision=precision, chunk_size=7)
        np.testing.assert_array_equal(np.sort(ids.numpy(), 1), np.sort(want_i, 1))
        np.testing.assert_allclose(np.sort(sims.numpy(), 1), np.sort(want_s, 1), atol=1e-6)


def test_precision_choice(monkeypatch):
    monkeypatch.delenv(relative.PRECISION_ENV, raising=False)
    assert resolve_precision("auto", 10, 10) == "fp32"  # a small map never pays for the probe
    assert resolve_precision("bf16", 10, 10) == "bf16"
    monkeypatch.setattr(relative, "bf16_gemm_speedup", lambda device: 3.0)
    assert resolve_precision("auto", 10**6, 10**4) == "bf16"
    monkeypatch.setattr(relative, "bf16_gemm_speedup", lambda device: 0.05)
    assert resolve_precision("auto", 10**6, 10**4) == "fp32"
    monkeypatch.setenv(relative.PRECISION_ENV, "bf16")
    assert resolve_precision("auto", 10, 10) == "bf16"
    assert resolve_precision("fp32", 10, 10) == "fp32"  # an explicit choice wins over the variable
    monkeypatch.setenv(relative.PRECISION_ENV, "int4")
    with pytest.raises(InputError, match="MOSECROT_MAP_PRECISION"):
        resolve_precision("auto", 10, 10)
    with pytest.raises(ValueError, match="unknown map precision"):
        resolve_precision("fp16", 10, 10)


def test_bf16_speedup_probe_is_measured_once():
    relative.bf16_gemm_speedup.cache_clear()
    first = relative.bf16_gemm_speedup("cpu")
    assert first > 0 and relative.bf16_gemm_speedup("cpu") == first
    assert relative.bf16_gemm_speedup.cache_info().hits >= 1
