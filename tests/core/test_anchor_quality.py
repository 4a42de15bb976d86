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


def test_choose_by_alignment_picks_the_translation_that_fits_the_space():
    from mosecrot_viz.core.anchor_quality import choose_by_alignment
    from mosecrot_viz.core.anchors import extract_anchors

    rng = np.random.default_rng(1)
    words = [f"e{i}" for i in range(30)]
    src_vocab = {w: i for i, w in enumerate(words)}
    e_s = rng.normal(size=(30, 6))
    rot, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    e_t = e_s[:20] @ rot  # target word t_i is the translation of e_i
    tgt_vocab = {f"t{i}": i for i in range(20)}
    pairs = [(f"e{i}", f"t{i}") for i in range(20)]
    pairs.insert(0, ("e25", "t3"))  # a wrong first-listed gloss for t3
    first = extract_anchors(pairs, src_vocab, tgt_vocab, lowercase_source=False)
    assert dict(zip(first.target_words, first.source_words))["t3"] == "e25"
    fixed = choose_by_alignment(first, pairs, src_vocab, e_s, e_t, lowercase_source=False)
    assert dict(zip(fixed.target_words, fixed.source_words))["t3"] == "e3"
    assert fixed.policy == "aligned" and fixed.rechosen == 1 and fixed.summary()["rechosen_by_alignment"] == 1
