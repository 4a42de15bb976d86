"""Alignment analyses: BLI (NN and CSLS), held-out pairs, translation cosines, neighbours, drift."""
import numpy as np
import pytest

from mosecrot_viz.analysis.alignment import (
    bli,
    csls_scores,
    drift,
    drift_summary,
    mean_topk_cosine,
    neighbours,
    translation_cosines,
)


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _permuted(n_src=50, n_q=30, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    f_s = rng.normal(size=(n_src, dim)).astype(np.float32)
    perm = rng.permutation(n_src)[:n_q]
    return f_s, f_s[perm], [{int(p)} for p in perm]


def _hub_case():
    """Four target words, each with its own translation, plus one source 'hub' nearer to all of them."""
    queries = _unit(np.array([[1, 0, 1], [0, 1, 1], [-1, 0, 1], [0, -1, 1]], dtype=np.float32))
    sources = _unit(np.array([[1, .5, 0], [-.5, 1, 0], [-1, -.5, 0], [.5, -1, 0], [0, 0, 1]], dtype=np.float32))
    return queries, sources, [{0}, {1}, {2}, {3}]


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_permuted_rows_are_found_exactly(method):
    f_s, f_t, gold = _permuted()
    res = bli(f_t, f_s, gold, ks=(1, 5), method=method, csls_k=3, chunk=7)
    assert res.precision == {1: 1.0, 5: 1.0}
    assert res.n_queries == 30 and res.method == method and res.n_candidates == 50


def test_noise_lowers_precision_and_precision_grows_with_k():
    f_s, f_t, gold = _permuted(n_src=200, n_q=100, dim=16)
    rng = np.random.default_rng(1)
    small = bli(f_t + rng.normal(scale=1.0, size=f_t.shape), f_s, gold, ks=(1, 5, 10))
    large = bli(f_t + rng.normal(scale=2.0, size=f_t.shape), f_s, gold, ks=(1, 5, 10))
    assert large.precision[1] < small.precision[1] < 1.0
    for res in (small, large):
        assert res.precision[1] <= res.precision[5] <= res.precision[10]


def test_chunking_does_not_change_the_answer():
    f_s, f_t, gold = _permuted(n_src=60, n_q=40)
    noisy = f_t + np.random.default_rng(2).normal(scale=1.0, size=f_t.shape)
    for method in ("nn", "csls"):
        whole = bli(noisy, f_s, gold, ks=(1, 3, 10), method=method, csls_k=4)
        blocks = bli(noisy, f_s, gold, ks=(1, 3, 10), method=method, csls_k=4, chunk=3)
        assert whole.precision == blocks.precision


def test_csls_fixes_the_hub_that_nn_picks():
    queries, sources, gold = _hub_case()
    cos = queries @ sources.T
    assert (cos.argmax(1) == 4).all()  # the hub is every query's nearest neighbour
    assert bli(queries, sources, gold, ks=(1,), method="nn").precision[1] == 0.0
    assert bli(queries, sources, gold, ks=(1,), method="csls", csls_k=2).precision[1] == 1.0
    # leaving the hub out of the candidates also fixes NN, and ids still refer to the full vocabulary
    assert bli(queries, sources, gold, ks=(1,), candidate_ids=[0, 1, 2, 3]).precision[1] == 1.0


def _np_r(x, y, k):
    cos = _unit(x) @ _unit(y).T
    return np.sort(cos, axis=1)[:, ::-1][:, :k].mean(axis=1)


def test_csls_matches_the_formula_evaluated_directly():
    rng = np.random.default_rng(3)
    q, c, ref = rng.normal(size=(7, 5)), rng.normal(size=(9, 5)), rng.normal(size=(11, 5))
    k = 3
    np.testing.assert_allclose(mean_topk_cosine(q, c, k, chunk=2), _np_r(q, c, k), atol=1e-5)
    expected = 2 * (_unit(q) @ _unit(c).T) - _np_r(q, c, k)[:, None] - _np_r(c, ref, k)[None, :]
    np.testing.assert_allclose(csls_scores(q, c, reference=ref, k=k, chunk=4), expected, atol=1e-5)
    # bli's chunked CSLS ranking agrees with the argmax of the full matrix
    gold = [{int(i)} for i in expected.argmax(1)]
    assert bli(q, c, gold, ks=(1,), method="csls", csls_k=k, chunk=2, f_t_all=ref).precision[1] == 1.0


def test_bli_edge_cases():
    f_s, f_t, gold = _permuted(n_src=5, n_q=3)
    assert np.isnan(bli(f_t[:0], f_s, [], ks=(1,)).precision[1])
    assert bli(f_t, f_s, [set(), *gold[1:]], ks=(1, 50)).precision == {1: 2 / 3, 50: 2 / 3}  # k capped at |V_s|
    with pytest.raises(ValueError, match="gold"):
        bli(f_t, f_s, gold[:2])
    with pytest.raises(ValueError, match="method"):
        bli(f_t, f_s, gold, method="cosine")


SRC = {"[CLS]": 0, "cat": 1, "dog": 2, "##s": 3, "house": 4, "home": 5}
TGT = {"chat": 0, "chien": 1, "maison": 2, "minou": 3, "toutou": 4, "logis": 5}


def test_translation_cosines_hand_values():
    f_t = np.array([[1, 0], [0, 2], [3, 3]], dtype=np.float32)
    f_s = np.array([[2, 0], [0, -1], [1, 0]], dtype=np.float32)
    cos = translation_cosines(f_t, f_s, [(0, 0), (1, 1), (2, 2), (1, 0)], chunk=3)
    np.testing.assert_allclose(cos, [1.0, -1.0, np.sqrt(0.5), 0.0], atol=1e-6)
    assert translation_cosines(f_t, f_s, []).shape == (0,)


def test_neighbours_across_spaces():
    words = ["east", "north", "west", "northeast"]
    m = np.array([[1, 0], [0, 1], [-1, 0], [1, 1]], dtype=np.float32)
    got = neighbours(np.array([2.0, 0.1]), m, words, k=3, chunk=2)
    assert [w for w, _ in got] == ["east", "northeast", "north"]
    np.testing.assert_allclose([s for _, s in got], (_unit(np.array([[2.0, 0.1]])) @ _unit(m[[0, 3, 1]]).T)[0],
                               atol=1e-6)
    assert len(neighbours(m[0], m, words, k=10)) == 4
    with pytest.raises(ValueError):
        neighbours(m[0], m, words[:3])


def test_drift_and_summary():
    rng = np.random.default_rng(5)
    e_s = rng.normal(size=(20, 4)).astype(np.float32)
    np.testing.assert_allclose(drift(e_s, e_s * 3, chunk=6), 1.0, atol=1e-6)
    np.testing.assert_allclose(drift(e_s, -e_s, ids=[2, 5]), -1.0, atol=1e-6)
    assert drift(e_s, e_s, ids=[1, 2, 3]).shape == (3,)
    s = drift_summary(np.array([0.0, 0.5, 1.0, np.nan]))
    assert s["n"] == 3 and s["mean"] == pytest.approx(0.5) and s["median"] == pytest.approx(0.5)
    assert s["min"] == 0.0 and s["max"] == 1.0 and s["q25"] == pytest.approx(0.25) and s["q95"] == pytest.approx(0.95)
    assert drift_summary([]) == {"n": 0}
