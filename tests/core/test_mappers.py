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


def test_procrustes_recovers_a_random_rotation_exactly():
    from mosecrot_viz.core.mappers import ProcrustesMapper

    rng = np.random.default_rng(5)
    rot, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    target = rng.normal(size=(60, 8))
    source = target @ rot
    m = ProcrustesMapper(center=False, normalize=False).fit(source, target)
    np.testing.assert_allclose(m.coef_, rot, atol=1e-6)
    new = rng.normal(size=(5, 8))
    np.testing.assert_allclose(m.transform_target(new), new @ rot, atol=1e-5)
    # with preprocessing, anchor rows still land on their partners up to E_s's scale and centre
    pre = ProcrustesMapper().fit(source * 3 + 1, target)
    assert np.corrcoef(pre.transform_target(target).ravel(), (source * 3 + 1).ravel())[0, 1] > 0.95
    assert not pre.reinitialises_source


def test_procrustes_between_different_dimensions_is_semi_orthogonal():
    from mosecrot_viz.core.mappers import ProcrustesMapper

    rng = np.random.default_rng(6)
    m = ProcrustesMapper().fit(rng.normal(size=(40, 12)), rng.normal(size=(40, 5)))
    assert m.coef_.shape == (5, 12)
    np.testing.assert_allclose(m.coef_ @ m.coef_.T, np.eye(5), atol=1e-8)


def test_rr_keep_leaves_source_embeddings_alone():
    rng = np.random.default_rng(7)
    e_s = rng.normal(size=(20, 4)).astype(np.float32)
    m = make_mapper("rr-softmax-keep").fit(e_s[:6], rng.normal(size=(6, 3)))
    assert not m.reinitialises_source and make_mapper("rr-softmax").reinitialises_source
    np.testing.assert_array_equal(m.transform_source(e_s), e_s)
    assert m.transform_target(rng.normal(size=(2, 3))).shape == (2, 4)


def test_procrustes_relative_mapper_lands_anchor_words_on_their_partners():
    rng = np.random.default_rng(8)
    rot, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    s = rng.normal(size=(30, 6))
    t = s @ rot.T  # target space = rotated source
    m = make_mapper("rr-procrustes-keep", k=30, temperature=1e-3).fit(s, t)
    assert not m.reinitialises_source
    mapped = m.transform_target(t)
    # with a sharp softmax each target anchor maps onto its own source anchor row
    np.testing.assert_allclose(mapped, s, atol=1e-3)


def test_lexicon_copy_gives_anchor_words_their_english_rows_and_maps_the_rest():
    from mosecrot_viz.core.mappers import ProcrustesMapper

    rng = np.random.default_rng(9)
    e_t = rng.normal(size=(12, 5))
    anchor_t = np.array([7, 2, 9, 4, 0, 11])
    s_anchor = rng.normal(size=(6, 8))  # unrelated to E_t: the base map is poor, the copy must be exact
    m = make_mapper("lexcopy-procrustes").fit(s_anchor, e_t[anchor_t], target_ids=anchor_t)
    assert not m.reinitialises_source
    out = m.transform_target(e_t)
    np.testing.assert_array_equal(out[anchor_t], s_anchor.astype(np.float32))
    rest = np.setdiff1d(np.arange(12), anchor_t)
    base = ProcrustesMapper().fit(s_anchor, e_t[anchor_t]).transform_target(e_t)
    np.testing.assert_allclose(out[rest], base[rest], rtol=1e-6)
    # without anchor ids it is the base mapper; the base must keep E_s
    np.testing.assert_allclose(make_mapper("lexcopy-ls").fit(s_anchor, e_t[anchor_t]).transform_target(e_t),
                               make_mapper("ls").fit(s_anchor, e_t[anchor_t]).transform_target(e_t), rtol=1e-6)
    with pytest.raises(ValueError, match="keeps it"):
        make_mapper("lexcopy-procrustes", base="rr-softmax").fit(s_anchor, e_t[anchor_t])
    assert make_mapper("lexcopy-rr-keep", k=3).base_params["k"] == 3
