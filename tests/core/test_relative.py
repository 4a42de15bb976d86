"""RR mapping against a direct NumPy evaluation of the paper's formula, and sparsemax properties."""
import numpy as np
import pytest
import torch

from mosecrot_viz.core.relative import anchor_weights, relative_map, relative_representation, sparsemax


def _reference(vectors, anchors, basis, k, weighting, tau):
    """F(x) = sum_{n in topk} w_n B[n] / sum w_n, written as directly as possible."""
    out = []
    for v in vectors:
        cos = np.array([v @ a / (np.linalg.norm(v) * np.linalg.norm(a)) for a in anchors])
        top = np.argsort(-cos, kind="stable")[:k]
        z = cos[top] / tau
        if weighting == "softmax":
            w = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        elif weighting == "standard":
            w = np.clip(z, 0, None) / np.clip(z, 0, None).sum()
        else:  # sparsemax by its definition: Euclidean projection onto the simplex
            zs = np.sort(z)[::-1]
            css = np.cumsum(zs)
            kz = max(j for j in range(1, len(z) + 1) if 1 + j * zs[j - 1] > css[j - 1])
            w = np.clip(z - (css[kz - 1] - 1) / kz, 0, None)
        out.append((w[:, None] * basis[top]).sum(0) / w.sum())
    return np.array(out)


@pytest.mark.parametrize("weighting,tau", [("softmax", 0.05), ("softmax", 1.0), ("standard", 1.0), ("sparsemax", 0.1)])
@pytest.mark.parametrize("k", [1, 3, 7, None])
def test_relative_map_matches_numpy_formula(weighting, tau, k):
    rng = np.random.default_rng(1)
    vectors, anchors, basis = rng.normal(size=(40, 6)), rng.normal(size=(7, 6)), rng.normal(size=(7, 5))
    if weighting == "standard":  # standard weights need positive similarities to be meaningful
        vectors, anchors = np.abs(vectors), np.abs(anchors)
    got = relative_map(vectors, anchors, basis, k=k, weighting=weighting, temperature=tau, chunk_size=9)
    want = _reference(vectors, anchors, basis, k or 7, weighting, tau)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_relative_representation_is_cosine():
    rng = np.random.default_rng(2)
    v, a = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    want = (v / np.linalg.norm(v, axis=1, keepdims=True)) @ (a / np.linalg.norm(a, axis=1, keepdims=True)).T
    np.testing.assert_allclose(relative_representation(v, a), want, rtol=1e-5, atol=1e-6)


def test_sparsemax_is_a_sparse_distribution():
    z = torch.tensor([[3.0, 1.0, 0.2, -1.0], [0.5, 0.5, 0.5, 0.5], [10.0, 0.0, 0.0, 0.0]])
    p = sparsemax(z)
    assert torch.all(p >= 0)
    torch.testing.assert_close(p.sum(1), torch.ones(3))
    assert (p[0] == 0).sum() >= 2  # sparse: low scores get exactly zero
    torch.testing.assert_close(p[1], torch.full((4,), 0.25))
    torch.testing.assert_close(p[2], torch.tensor([1.0, 0.0, 0.0, 0.0]))
    # known closed form: z=[3,1,...] -> support {0} since 1 + 2*1 = 3 <= 3+1
    torch.testing.assert_close(p[0], torch.tensor([1.0, 0.0, 0.0, 0.0]))


def test_softmax_weights_sum_to_one_and_unknown_weighting_fails():
    sims = torch.rand(5, 4)
    torch.testing.assert_close(anchor_weights(sims, "softmax", 0.1).sum(1), torch.ones(5))
    with pytest.raises(ValueError, match="unknown weighting"):
        anchor_weights(sims, "cubic", 0.1)


def test_standard_weighting_ignores_tau_says_so_and_clamps_negatives():
    import warnings

    from mosecrot_viz.core.relative import STANDARD_TAU_WARNING, anchor_weights, relative_map

    sims = torch.tensor([[0.6, 0.3, -0.2], [-0.1, -0.5, -0.3]])
    w1, w5 = anchor_weights(sims, "standard", 1.0), anchor_weights(sims, "standard", 0.05)
    torch.testing.assert_close(w1, w5)  # tau cancels in max(sim, 0) / sum
    torch.testing.assert_close(w1[0], torch.tensor([2 / 3, 1 / 3, 0.0]))  # the negative similarity weighs nothing
    torch.testing.assert_close(w1[1], torch.full((3,), 1 / 3))  # all non-positive: uniform over the k anchors
    rng = np.random.default_rng(0)
    v, a, b = rng.normal(size=(5, 4)), rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    with pytest.warns(UserWarning, match="ignores the temperature"):
        out = relative_map(v, a, b, k=3, weighting="standard", temperature=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default tau (1) is silent
        np.testing.assert_allclose(out, relative_map(v, a, b, k=3, weighting="standard", temperature=1.0), rtol=1e-6)
    assert "tau cancels" in STANDARD_TAU_WARNING


@pytest.mark.parametrize("chunk", [None, 7, 64])
def test_chunked_topk_gives_the_dense_top_k_sets_and_similarities(chunk, monkeypatch):
    """The BLAS-into-a-reused-buffer path: same top-k sets and cosines as the dense matrix, whatever the chunk
    (None: the byte-budgeted default, forced small here so rows span several chunks)."""
    import mosecrot_viz.core.relative as relative

    monkeypatch.setattr(relative, "CPU_CHUNK_BYTES", 4 * 200 * 50)  # default chunk: 256 rows (the floor)
    rng = np.random.default_rng(5)
    v, a = rng.normal(size=(600, 12)).astype(np.float32), rng.normal(size=(200, 12)).astype(np.float32)
    sims, idx = relative.topk_anchors(v, a, 9, chunk_size=chunk)
    dense = relative_representation(v, a)
    want = np.argsort(-dense, axis=1)[:, :9]
    np.testing.assert_array_equal(np.sort(idx.numpy(), 1), np.sort(want, 1))
    np.testing.assert_allclose(sims.numpy(), np.take_along_axis(dense, idx.numpy(), 1), atol=1e-5)
    assert relative._cpu_chunk_rows(200) == 256  # CPU_CHUNK_BYTES / (4 x 200), raised to the 256-row floor


def test_topk_of_no_rows_and_k_above_the_anchor_count():
    from mosecrot_viz.core.relative import topk_anchors

    sims, idx = topk_anchors(np.zeros((0, 4), np.float32), np.eye(4, dtype=np.float32), 3)
    assert sims.shape == (0, 3) and idx.shape == (0, 3)
    sims, idx = topk_anchors(np.eye(4, dtype=np.float32)[:2], np.eye(4, dtype=np.float32), 10)
    assert idx.shape == (2, 4) and idx[:, 0].tolist() == [0, 1]
    assert relative_map(np.zeros((0, 4)), np.eye(4), np.eye(4)).shape == (0, 4)


def test_relative_map_refuses_mismatched_shapes_with_a_clear_error():
    rng = np.random.default_rng(0)
    v, a = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    with pytest.raises(ValueError, match="one basis row per anchor"):
        relative_map(v, a, rng.normal(size=(6, 2)))
    with pytest.raises(ValueError, match="one basis row per anchor"):
        relative_map(v, a[:0], rng.normal(size=(0, 2)))
    with pytest.raises(ValueError, match="same width"):
        relative_map(rng.normal(size=(4, 2)), a, rng.normal(size=(5, 2)))
