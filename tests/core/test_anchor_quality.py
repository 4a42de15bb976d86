"""The agreement score separates correct anchor pairs from shuffled (wrong) ones."""
import numpy as np
import pytest

from mosecrot_viz.core.anchor_quality import keep_agreeing, rr_agreement
from mosecrot_viz.core.anchors import AnchorSet


def _direct(s, t):
    un = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    rs, rt = un(s) @ un(s).T, un(t) @ un(t).T
    out = []
    for i in range(len(s)):
        m = np.arange(len(s)) != i
        out.append(np.corrcoef(rs[i, m], rt[i, m])[0, 1])
    return np.array(out)


def test_rr_agreement_matches_numpy_and_flags_wrong_pairs():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(40, 8))
    rot, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    t = s @ rot + 0.05 * rng.normal(size=(40, 8))
    t[[3, 7]] = t[[7, 3]]  # two wrong translations
    scores = rr_agreement(s, t, chunk=9)
    np.testing.assert_allclose(scores, _direct(s, t), atol=1e-4)
    assert set(np.argsort(scores)[:2]) == {3, 7}


def test_keep_agreeing_keeps_the_best_share():
    a = AnchorSet(("a", "b", "c", "d"), np.arange(4), ("w", "x", "y", "z"), np.arange(4), 10, {})
    kept = keep_agreeing(a, np.array([0.9, 0.1, 0.8, 0.2]), 0.5)
    assert kept.source_words == ("a", "c") and sum(kept.dropped.values()) == 2
    with pytest.raises(ValueError):
        keep_agreeing(a, np.zeros(4), 0)
