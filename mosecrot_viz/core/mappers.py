"""Mappers: scikit-learn estimators that place source tokens and target words in one PLM input space.

Every mapper is a `Mapper` (`sklearn.base.BaseEstimator`): `__init__` stores its explicit parameters unchanged (so
`get_params`, `set_params` and `sklearn.base.clone` work), `fit(source_anchors, target_anchors, target_ids=None)`
learns from the anchor rows (E_s[A_en], E_t[A_tgt]) and returns the mapper, fitted state lives in trailing-underscore
attributes, and two pure transforms give the embedding matrices used for fine-tuning (`transform_source`, F_s) and
for the swapped target model (`transform_target`, F_t). Every `fit` takes the same arguments: a mapper that does not
use the anchors' E_t row ids ignores them. Using a mapper before `fit` raises `MapperNotFittedError`.

The registry (`MAPPERS`: method name -> `MapperSpec`) is data in `core.method_registry`, which imports no torch; a new
variant is one class here and one `MapperSpec` line there. `tests/core/test_mapper_contract.py` runs every entry
through the estimator contract.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from mosecrot_viz.core.checks import check_finite
from mosecrot_viz.core.method_registry import MAPPERS, RR_MAPPER_NAMES, MapperSpec, register  # noqa: F401 (re-exported)
from mosecrot_viz.core.numerics import fit_rows, unit_rows
from mosecrot_viz.core.relative import WEIGHTINGS, relative_map

#: the mappers that take the run's top-k / temperature / device: a live view of the registry's declared data
RR_MAPPERS = RR_MAPPER_NAMES


class MapperNotFittedError(NotFittedError, RuntimeError):
    """A mapper used before `fit`: scikit-learn's NotFittedError, and the RuntimeError this project raised before."""


def _check_fitted(est) -> None:
    try:
        check_is_fitted(est)  # fitted = has a trailing-underscore attribute (scikit-learn's rule)
    except NotFittedError:
        raise MapperNotFittedError(f"{type(est).__name__} is not fitted yet: call fit() first") from None


def _check_anchor_rows(source_anchors, target_anchors):
    s, t = np.asarray(source_anchors, dtype=np.float32), np.asarray(target_anchors, dtype=np.float32)
    if s.ndim != 2 or t.ndim != 2 or len(s) != len(t) or len(s) == 0:
        raise ValueError(f"anchor rows must be two non-empty matrices of equal length, got {s.shape} and {t.shape}")
    return s, t


class Mapper(BaseEstimator):
    """The contract every mapper keeps (see the module text). Subclasses define `__init__` with explicit
    parameters, `fit` and `transform_target`; this base's `transform_source` keeps E_s (F_s = E_s), which is right
    for every mapper whose `reinitialises_source` is False."""

    #: True when F_s differs from E_s (the model must be fine-tuned with the mapped embeddings)
    reinitialises_source = False

    def fit(self, source_anchors, target_anchors, target_ids=None):
        """Learn from (m, D) source and (m, d) target anchor rows; `target_ids` (m,) are the anchors' rows in E_t.
        Returns self."""
        raise NotImplementedError

    def transform_source(self, source_vectors) -> np.ndarray:
        """F_s = E_s (|V_s|, D): no re-initialisation of the PLM's embeddings."""
        _check_fitted(self)
        return np.asarray(source_vectors, dtype=np.float32)

    def transform_target(self, target_vectors) -> np.ndarray:
        """F_t: (n, d) target rows -> (n, D) rows in the PLM's input space."""
        raise NotImplementedError


class RelativeMapper(Mapper):
    """MoSECroT's relative-representation mapping (RR) with top-k anchors.

    Parameters
    ----------
    k : int or None, anchors kept per word (None or 0: all).
    weighting : 'standard' | 'softmax' | 'sparsemax'.
    temperature : float, tau dividing the similarities before weighting. With 'standard' it has no
        effect (negatives are clamped to 0 and the rest normalised, so tau cancels; a warning says so).
    """

    def __init__(self, k=50, weighting="softmax", temperature=0.05, reinit_source=True, chunk_size=2048, device="cpu"):
        self.k = k
        self.weighting = weighting
        self.temperature = temperature
        self.reinit_source = reinit_source
        self.chunk_size = chunk_size
        self.device = device

    @property
    def reinitialises_source(self) -> bool:
        """True when F_s differs from E_s (the model must be fine-tuned with the mapped embeddings)."""
        return self.reinit_source

    def fit(self, source_anchors, target_anchors, target_ids=None):
        """Store the anchor rows of both spaces; the source rows are also the basis of the map.

        source_anchors: (m, D) rows of E_s for the m anchors' English tokens; target_anchors: (m, d) rows of E_t
        for their target words, in the same order. `target_ids` is not used."""
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"unknown weighting {self.weighting!r}; choose from {WEIGHTINGS}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        self.source_anchor_vectors_, self.target_anchor_vectors_ = _check_anchor_rows(source_anchors, target_anchors)
        self.n_anchors_ = len(self.source_anchor_vectors_)
        return self

    def _map(self, vectors, anchors):
        # rows far from unit scale (1e20, 1e-40) are brought near it first, row by row: cosines do not change, and
        # the similarities' float32 norms neither overflow nor vanish (`core.numerics.fit_rows`; no copy otherwise)
        return relative_map(
            fit_rows(vectors), fit_rows(anchors), self.source_anchor_vectors_, k=self.k, weighting=self.weighting,
            temperature=self.temperature, chunk_size=self.chunk_size, device=self.device,
        )

    def transform_source(self, source_vectors) -> np.ndarray:
        """F_s: every PLM token re-expressed through its top-k English anchors, shape (|V_s|, D).

        With `reinit_source=False` the PLM keeps E_s and only target words are mapped (F_t still
        lives in E_s's space: each row is a weighted mean of English anchor embeddings).
        """
        _check_fitted(self)
        if not self.reinit_source:
            return np.asarray(source_vectors, dtype=np.float32)
        return self._map(source_vectors, self.source_anchor_vectors_)

    def transform_target(self, target_vectors) -> np.ndarray:
        """F_t: every target word expressed through its top-k target anchors, shape (|V_t|, D)."""
        _check_fitted(self)
        return self._map(target_vectors, self.target_anchor_vectors_)


class LeastSquaresMapper(Mapper):
    """The paper's LS baseline: W = argmin ||A_t W - A_s||, applied to every target vector.

    The source side is left as it is (F_s = E_s), so the model is fine-tuned with its own embeddings.
    `fit(source_anchors (m, d_s), target_anchors (m, d_t))` sets `coef_` (d_t, d_s);
    `transform_target(E_t (n, d_t))` gives F_t (n, d_s).

    >>> import numpy as np
    >>> t = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])       # target anchors, 2-d
    >>> s = t @ np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]])    # their English rows: a known linear map to 3-d
    >>> LeastSquaresMapper().fit(s, t).transform_target([[2.0, 1.0]]).round(3)
    array([[1., 4., 0.]], dtype=float32)
    """

    def __init__(self, rcond=None):
        self.rcond = rcond

    def fit(self, source_anchors, target_anchors, target_ids=None):
        """Solve the least-squares map from target anchor rows (m, d) to source anchor rows (m, D) (`target_ids`
        is not used)."""
        s, t = _check_anchor_rows(source_anchors, target_anchors)
        coef, *_ = np.linalg.lstsq(t.astype(np.float64), s.astype(np.float64), rcond=self.rcond)
        with np.errstate(over="ignore"):
            self.coef_ = coef.astype(np.float32)
        check_finite(self.coef_.T, "ls: the least-squares map W", "target anchor vectors too small (or too large) "
                     "for float32: W scales by the inverse of their size")
        return self

    def transform_target(self, target_vectors) -> np.ndarray:
        """F_t = E_t W: (n, d) target rows -> (n, D)."""
        _check_fitted(self)
        return np.asarray(target_vectors, dtype=np.float32) @ self.coef_


class ProcrustesMapper(Mapper):
    """Orthogonal Procrustes (VecMap/MUSE style): W = UV^T from the SVD of T'^T S' on anchor rows.

    Rows are optionally unit-normalised, mean-centred and re-normalised on both sides (`normalize`,
    `center`); mapped target rows are brought back to E_s's scale and centre, so F_t sits where the
    PLM's embeddings live. Only target words are mapped (F_s = E_s). With equal dimensions and no
    preprocessing, a target space that is an exact rotation of the source is recovered exactly.
    """

    def __init__(self, center=True, normalize=True):
        self.center = center
        self.normalize = normalize

    def _pre(self, x, mean):
        x = np.asarray(x, dtype=np.float64)
        if self.normalize:  # scale-safe unit rows: a row of norm 1e-20 is a direction, not a zero (core.numerics)
            x = unit_rows(x)
        if mean is not None:
            x = x - mean
            if self.normalize:
                x = unit_rows(x)
        return x

    def _mean(self, x):
        if not self.center:
            return None
        x = np.asarray(x, dtype=np.float64)
        if self.normalize:
            x = unit_rows(x)
        return x.mean(axis=0)

    def fit(self, source_anchors, target_anchors, target_ids=None):
        """Learn the semi-orthogonal map W (d_t, D) from (m, D) source and (m, d_t) target anchor rows, and the
        scale/offset back to E_s (`target_ids` is not used)."""
        s, t = _check_anchor_rows(source_anchors, target_anchors)
        self.target_mean_, self.source_mean_ = self._mean(t), self._mean(s)
        u, _, vt = np.linalg.svd(self._pre(t, self.target_mean_).T @ self._pre(s, self.source_mean_), full_matrices=False)
        self.coef_ = u @ vt
        raw = s.astype(np.float64) - (s.mean(axis=0) if self.center else 0)
        self.scale_ = float(np.linalg.norm(raw, axis=1).mean()) if self.normalize else 1.0
        self.offset_ = s.mean(axis=0) if self.center else np.zeros(s.shape[1])
        return self

    def transform_target(self, target_vectors) -> np.ndarray:
        """F_t = pre(E_t) W: (n, d_t) target rows -> (n, D), rescaled and re-centred onto E_s."""
        _check_fitted(self)
        mapped = self._pre(target_vectors, self.target_mean_) @ self.coef_
        if self.normalize or self.center:
            mapped = mapped * self.scale_ + self.offset_
        return mapped.astype(np.float32)


class ProcrustesRelativeMapper(Mapper):
    """A combination: align target vectors with Procrustes, then express each one through its top-k
    English anchors by CROSS-lingual similarity (in E_s space) instead of target-space similarity.

    F_t[x] = sum_n w_n E_s[a_n] over the k source anchors nearest to Procrustes(x); F_s = E_s.
    """

    def __init__(self, k=50, weighting="softmax", temperature=0.05, chunk_size=2048, device="cpu"):
        self.k = k
        self.weighting = weighting
        self.temperature = temperature
        self.chunk_size = chunk_size
        self.device = device

    def fit(self, source_anchors, target_anchors, target_ids=None):
        """Fit the Procrustes map on (m, D) source and (m, d) target anchor rows and keep the source rows as both
        anchors and basis (`target_ids` is not used)."""
        s, t = _check_anchor_rows(source_anchors, target_anchors)
        self.procrustes_ = ProcrustesMapper().fit(s, t)
        self.source_anchor_vectors_ = s
        return self

    def transform_target(self, target_vectors) -> np.ndarray:
        """Procrustes-aligned target rows (n, d), re-expressed through their nearest English anchors: (n, D)."""
        _check_fitted(self)
        aligned = self.procrustes_.transform_target(target_vectors)
        return relative_map(fit_rows(aligned), fit_rows(self.source_anchor_vectors_), self.source_anchor_vectors_, k=self.k,
                            weighting=self.weighting, temperature=self.temperature, chunk_size=self.chunk_size,
                            device=self.device)


class LexiconCopyMapper(Mapper):
    """Beyond the paper: anchor words take their English translation's E_s row exactly; others a keep mapping.

    A target word that is an anchor gets F_t[x] = E_s[en(x)] (the row the English fine-tune saw for
    its translation), every other target word gets `base`'s mapping (a mapper that keeps E_s, e.g.
    Procrustes). This removes mapping noise for the lexicon's words and measures how much of the gap
    is translation quality. `fit` needs the anchors' rows in E_t (`target_ids`) to know which words
    to copy; without them it is the base mapper.

    Parameters
    ----------
    base : str, the registered name of the mapper it wraps (one that keeps E_s).
    base_params : dict or None, parameters for that mapper (e.g. {"k": 50}); None: its registered defaults.
    """

    def __init__(self, base="procrustes", base_params=None):
        self.base = base
        self.base_params = base_params

    def fit(self, source_anchors, target_anchors, target_ids=None):
        """Fit the base mapper on (m, D) source and (m, d) target anchor rows; remember which E_t rows are anchors
        (`target_ids`, m ids) and their English E_s rows."""
        s, t = _check_anchor_rows(source_anchors, target_anchors)
        self.base_ = make_mapper(self.base, **(self.base_params or {}))
        if self.base_.reinitialises_source:
            raise ValueError(f"base mapper {self.base!r} re-initialises E_s; lexicon copy needs one that keeps it")
        self.base_.fit(s, t)
        ids = np.asarray([] if target_ids is None else target_ids, dtype=np.int64)
        if len(ids) and len(ids) != len(s):
            raise ValueError(f"target_ids has {len(ids)} entries for {len(s)} anchors")
        self.copy_ids_, self.copy_rows_ = ids, s[: len(ids)]
        return self

    def transform_target(self, target_vectors) -> np.ndarray:
        """The base mapping of (n, d) target rows -> (n, D), with each anchor word's row replaced by its English
        translation's E_s row."""
        _check_fitted(self)
        out = np.array(self.base_.transform_target(target_vectors), dtype=np.float32, copy=True)
        out[self.copy_ids_] = self.copy_rows_
        return out


def make_mapper(name: str, **params) -> Mapper:
    """Build the registered mapper `name` (unfitted); `params` override its registered ones (e.g. k, temperature)."""
    if name not in MAPPERS:
        raise ValueError(f"unknown mapper {name!r}; choose from {sorted(MAPPERS)}")
    return MAPPERS[name].build(**params)
