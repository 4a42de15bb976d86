"""2-D projections of embedding rows for the anchor-space and neighbourhood views.

Rows are L2-normalised before projecting, so the layout reflects cosine geometry (what relative
representations use), not vector norms. PCA (numpy SVD, deterministic signs) is the fast default;
UMAP (umap-learn, cosine metric, fixed `random_state`, single-threaded so the seed is honoured) shows
local neighbourhoods better but takes seconds and compiles numba on first use.

Source and target anchors live in different spaces (often of different dimension), so a joint
layout cannot come from one projection. `joint_anchor_projection` projects each side separately and
then aligns the target layout onto the source one: both layouts are centred and scaled to unit RMS
radius, then an orthogonal Procrustes fit on the paired anchors rotates (or reflects) the target one.
Orthogonal maps keep the target layout's own shape; the alignment just puts it in the same frame, so
lines joining translation pairs are short where the two spaces agree and long where they do not.
`pair_distance_control` says how long "long" is: the same mean distance for randomly re-paired anchors.
"""
from __future__ import annotations

import warnings

import numpy as np

METHODS = ("pca", "umap")


def _check_rows(vectors, name: str = "vectors") -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows = words), got shape {x.shape}")
    if x.shape[0] < 3:
        raise ValueError(f"{name}: need at least 3 rows to project, got {x.shape[0]}")
    if x.shape[1] < 1:
        raise ValueError(f"{name}: rows have no dimensions")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows stay zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _pca(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    xy = u[:, :2] * s[:2]
    # Deterministic signs: the largest-magnitude coordinate of each component is positive.
    for j in range(xy.shape[1]):
        col = xy[:, j]
        if col[np.argmax(np.abs(col))] < 0:
            xy[:, j] = -col
    if xy.shape[1] < 2:  # 1-D input: a flat second axis
        xy = np.hstack([xy, np.zeros((xy.shape[0], 2 - xy.shape[1]))])
    return xy


def _umap(x: np.ndarray, random_state: int, n_neighbors: int) -> np.ndarray:
    import umap  # lazy: importing umap-learn takes seconds (numba)

    n = x.shape[0]
    reducer = umap.UMAP(
        n_components=2,
        metric="cosine",
        n_neighbors=max(2, min(int(n_neighbors), n - 1)),
        random_state=random_state,
        n_jobs=1,
        # Spectral init needs a connected, reasonably sized graph; random init is safe for tiny inputs.
        init="spectral" if n > 10 else "random",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(reducer.fit_transform(x), dtype=np.float64)


def project_2d(vectors, method: str = "pca", *, random_state: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """Project rows of `vectors` (n, d) to (n, 2) after L2-normalising each row.

    `method="pca"`: principal components via numpy SVD (deterministic: component signs are fixed).
    `method="umap"`: umap-learn with `metric="cosine"` and the given `random_state`
    (`n_neighbors` is capped at n - 1). Raises `ValueError` for fewer than 3 rows, non-finite values
    or an unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; choose from {list(METHODS)}")
    x = l2_normalise(_check_rows(vectors))
    if method == "pca":
        return _pca(x)
    return _umap(x, random_state, n_neighbors)


def procrustes_align(moving, fixed, *, scale: bool = True) -> np.ndarray:
    """Map `moving` (n, k) onto `fixed` (n, k) row by row: translation, an orthogonal map, a uniform scale.

    Solves min ||s (M - mean M) R + mean F - F|| over orthogonal R (rotations and reflections) and,
    when `scale`, a scalar s > 0; returns the transformed `moving`. A rotated, reflected, shifted or
    scaled copy of `fixed` is mapped back onto it exactly.
    """
    m = np.asarray(moving, dtype=np.float64)
    f = np.asarray(fixed, dtype=np.float64)
    if m.shape != f.shape or m.ndim != 2:
        raise ValueError(f"Procrustes needs two arrays of the same (n, k) shape, got {m.shape} and {f.shape}")
    m_mean, f_mean = m.mean(axis=0), f.mean(axis=0)
    mc, fc = m - m_mean, f - f_mean
    u, s, vt = np.linalg.svd(mc.T @ fc)
    r = u @ vt
    factor = 1.0
    if scale:
        denom = float((mc**2).sum())
        factor = float(s.sum()) / denom if denom > 0 else 1.0
    return factor * (mc @ r) + f_mean


def joint_anchor_projection(source_anchor_vecs, target_anchor_vecs, method: str = "pca", *, random_state: int = 0,
                            n_neighbors: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """2-D layouts of paired source and target anchors in one frame: `(src_xy, tgt_xy)`, each (n, 2).

    Row i of both inputs is one translation pair; the two sides may have different dimensions.
    Each side is projected on its own with `project_2d`; the target layout is then aligned to the
    source layout by orthogonal Procrustes (with translation and uniform scale) on the paired rows,
    so both can be drawn on the same axes with lines joining translation pairs.
    """
    src = _check_rows(source_anchor_vecs, "source anchor vectors")
    tgt = _check_rows(target_anchor_vecs, "target anchor vectors")
    if src.shape[0] != tgt.shape[0]:
        raise ValueError(f"anchor sets must be paired row by row: {src.shape[0]} source vs {tgt.shape[0]} target rows")
    src_xy = standardise_layout(project_2d(src, method, random_state=random_state, n_neighbors=n_neighbors))
    tgt_xy = standardise_layout(project_2d(tgt, method, random_state=random_state, n_neighbors=n_neighbors))
    # rotation only: a least-squares scale shrinks a poorly matching target cloud into the source's centre,
    # which made every line long for a plotting reason, not a finding
    return src_xy, procrustes_align(tgt_xy, src_xy, scale=False)


def standardise_layout(xy: np.ndarray) -> np.ndarray:
    """A 2-D layout (n, 2) centred on the origin and scaled to unit root-mean-square radius."""
    c = np.asarray(xy, dtype=np.float64) - np.mean(xy, axis=0)
    rms = float(np.sqrt((c**2).sum(axis=1).mean()))
    return c / rms if rms > 0 else c


def pair_distance_control(src_xy, tgt_xy, *, seed: int = 0) -> dict:
    """Mean distance between translation partners in a joint layout, against a control.

    The control re-pairs the target points at random, re-fits the rotation on that pairing and measures
    the same mean distance: pairs much closer than the control show real agreement between the two
    spaces; pairs as far apart as the control show none. Both layouts come from `joint_anchor_projection`
    (standardised, so distances are in units of the layouts' RMS radius). Returns
    {"pairs": mean distance, "control": mean distance for random pairs, "ratio": pairs / control}.
    """
    src, tgt = np.asarray(src_xy, dtype=np.float64), np.asarray(tgt_xy, dtype=np.float64)
    pairs = float(np.linalg.norm(src - tgt, axis=1).mean())
    perm = np.random.default_rng(seed).permutation(len(tgt))
    shuffled = procrustes_align(standardise_layout(tgt[perm]), src, scale=False)
    control = float(np.linalg.norm(src - shuffled, axis=1).mean())
    return {"pairs": pairs, "control": control, "ratio": pairs / control if control > 0 else float("nan")}
