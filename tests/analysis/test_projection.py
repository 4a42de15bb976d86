"""2-D projections: PCA keeps in-plane geometry, Procrustes undoes rotations, UMAP is seeded."""
from __future__ import annotations

import numpy as np
import pytest

from mosecrot_viz.analysis.projection import joint_anchor_projection, procrustes_align, project_2d


def _pairwise(x):
    return np.linalg.norm(x[:, None, :] - x[None, :, :], axis=-1)


def _plane_data(n=40, d=12, seed=0):
    """Rows spanning a 2-D linear subspace of R^d (still in it after L2 normalisation)."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(d, 2)))  # (d, 2) orthonormal columns
    coef = rng.normal(size=(n, 2)) * rng.uniform(0.5, 3.0, size=(n, 1))
    return coef @ basis.T


def _orthonormal_rows(d_in, d_out, seed):
    """(d_in, d_out) map with orthonormal rows: x @ R keeps norms and distances, changes the dimension."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d_out, d_in)))
    return q.T


def test_pca_shape_and_preserves_distances_of_planar_data():
    x = _plane_data()
    xy = project_2d(x, "pca")
    assert xy.shape == (40, 2)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(_pairwise(xy), _pairwise(unit), atol=1e-10)


def test_pca_is_scale_invariant_per_row_and_deterministic():
    x = _plane_data(seed=3)
    scaled = x * np.random.default_rng(1).uniform(0.1, 10, size=(len(x), 1))
    np.testing.assert_allclose(project_2d(scaled), project_2d(x), atol=1e-10)
    np.testing.assert_array_equal(project_2d(x), project_2d(x))


def test_pca_handles_one_dimensional_input():
    xy = project_2d(np.array([[1.0], [-2.0], [3.0], [-0.5]]))
    assert xy.shape == (4, 2) and np.isfinite(xy).all()


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 5)), "at least 3 rows"),
    (np.zeros(5), "2-D"),
    (np.array([[1.0, np.nan], [1, 2], [3, 4]]), "NaN"),
])
def test_project_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        project_2d(bad)


def test_project_rejects_unknown_method():
    with pytest.raises(ValueError, match="unknown projection method 'tsne'"):
        project_2d(np.eye(4), "tsne")


def test_procrustes_maps_rotated_reflected_shifted_scaled_copy_back_exactly():
    rng = np.random.default_rng(0)
    fixed = rng.normal(size=(30, 2))
    theta = 0.7
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    for r in (rot, rot @ np.diag([1.0, -1.0])):  # a rotation and a reflection
        moving = 2.5 * fixed @ r + np.array([4.0, -1.0])
        np.testing.assert_allclose(procrustes_align(moving, fixed), fixed, atol=1e-10)


def test_procrustes_without_scale_keeps_size():
    fixed = np.random.default_rng(1).normal(size=(10, 2))
    out = procrustes_align(3 * fixed, fixed, scale=False)
    np.testing.assert_allclose(_pairwise(out), 3 * _pairwise(fixed), atol=1e-10)
    with pytest.raises(ValueError, match="same"):
        procrustes_align(fixed, fixed[:5])


def test_joint_projection_aligns_rotated_copy_in_another_dimension_exactly():
    src = _plane_data(n=50, d=12, seed=2)
    tgt = src @ _orthonormal_rows(12, 20, seed=5)  # same geometry, rotated into 20 dimensions
    src_xy, tgt_xy = joint_anchor_projection(src, tgt, "pca")
    assert src_xy.shape == tgt_xy.shape == (50, 2)
    from mosecrot_viz.analysis.projection import standardise_layout

    np.testing.assert_allclose(src_xy, standardise_layout(project_2d(src)), atol=1e-10)  # only centred and scaled
    np.testing.assert_allclose(tgt_xy, src_xy, atol=1e-9)  # each translation pair lands on its partner


def test_joint_projection_needs_paired_rows():
    with pytest.raises(ValueError, match="paired"):
        joint_anchor_projection(np.eye(5), np.eye(4))


def test_umap_shape_finite_and_deterministic():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 4
    x = np.repeat(centres, 20, axis=0) + rng.normal(size=(60, 16))
    a = project_2d(x, "umap", random_state=7, n_neighbors=10)
    b = project_2d(x, "umap", random_state=7, n_neighbors=10)
    assert a.shape == (60, 2) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    src_xy, tgt_xy = joint_anchor_projection(x[:12], x[:12] @ _orthonormal_rows(16, 24, 1), "umap")
    assert src_xy.shape == tgt_xy.shape == (12, 2) and np.isfinite(tgt_xy).all()


def test_unrelated_spaces_keep_their_size_and_the_control_tells_them_apart():
    from mosecrot_viz.analysis.projection import pair_distance_control

    rng = np.random.default_rng(3)
    src = _plane_data(n=80, d=12, seed=2)
    unrelated = rng.normal(size=(80, 20))
    s_xy, t_xy = joint_anchor_projection(src, unrelated, "pca")
    # the target cloud is not shrunk into the source's centre: both have unit RMS radius
    assert np.sqrt((t_xy**2).sum(1).mean()) == pytest.approx(1.0)
    assert np.sqrt((s_xy**2).sum(1).mean()) == pytest.approx(1.0)
    bad = pair_distance_control(s_xy, t_xy)
    good = pair_distance_control(*joint_anchor_projection(src, src @ _orthonormal_rows(12, 20, seed=5), "pca"))
    assert good["ratio"] < 0.01 and bad["ratio"] > 0.6
