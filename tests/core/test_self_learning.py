"""Self-learning Procrustes: recovers a rotation and the true dictionary from a half-corrupted seed."""
import numpy as np

from mosecrot_viz.core.anchors import AnchorSet
from mosecrot_viz.core.self_learning import mutual_csls_pairs, self_learn, self_learned_anchors


def _rotated(n=300, d=10, seed=0):
    rng = np.random.default_rng(seed)
    rot, _ = np.linalg.qr(rng.normal(size=(d, d)))
    source = rng.normal(size=(n, d))
    perm = rng.permutation(n)  # target row perm[i] is the translation of source row i
    target = np.empty_like(source)
    target[perm] = source @ rot.T
    return source, target, perm, rot, rng


def test_mutual_csls_pairs_on_identical_spaces_is_the_identity():
    x = np.random.default_rng(1).normal(size=(50, 6))
    s, t = mutual_csls_pairs(x, x, k=5)
    np.testing.assert_array_equal(s, np.arange(50))
    np.testing.assert_array_equal(t, np.arange(50))


def test_self_learning_recovers_rotation_and_dictionary_from_half_corrupted_seed():
    source, target, perm, rot, rng = _rotated()
    seed_src = np.arange(40)
    seed_tgt = perm[seed_src].copy()
    bad = rng.choice(40, size=20, replace=False)
    seed_tgt[bad] = rng.permutation(seed_tgt[bad])  # half the seed pairs point at the wrong word
    from mosecrot_viz.core.mappers import ProcrustesMapper

    assert not np.allclose(ProcrustesMapper().fit(source[seed_src], target[seed_tgt]).coef_, rot, atol=1e-2)
    src, tgt, mapper = self_learn(source, target, seed_src, seed_tgt, n_iter=5)
    assert len(src) == len(source)
    np.testing.assert_array_equal(tgt, perm[src])  # every induced pair is a true translation
    np.testing.assert_allclose(mapper.coef_, rot, atol=1e-6)  # target @ rot = source: the rotation itself


def test_self_learned_anchors_returns_word_pairs_in_the_original_index():
    source, target, perm, rot, _ = _rotated(n=60, d=8, seed=2)
    vocab = {f"en{i}".replace("0", "o").replace("1", "l"): i for i in range(60)}
    vocab = {w.translate(str.maketrans("23456789", "abcdefgh")): i for w, i in vocab.items()}
    twords = [f"t{i}".translate(str.maketrans("0123456789", "abcdefghij")) for i in range(60)]
    seed = AnchorSet(tuple("x" * 10), np.arange(10), tuple("y" * 10), perm[:10], 99, {})
    out = self_learned_anchors(seed, vocab, source, twords, target, n_iter=5, k=5)
    assert out.policy == "self-learned" and len(out) == 60
    np.testing.assert_array_equal(out.target_ids, perm[out.source_ids])
    assert out.target_words[0] == twords[out.target_ids[0]]


def test_self_learning_with_fewer_than_two_seed_pairs_is_an_error_not_the_lexicon_anchors():
    import pytest

    from mosecrot_viz.errors import OverlapError

    source, target, perm, _, _ = _rotated(n=30, d=6, seed=4)
    vocab = {w: i for i, w in enumerate(f"w{c}{d}" for c in "abcdef" for d in "abcde")}
    twords = [f"t{c}{d}" for c in "abcdef" for d in "abcde"]
    one = AnchorSet(("x",), np.array([0]), ("y",), perm[:1], 5, {})
    with pytest.raises(OverlapError, match="at least 2 seed pairs"):
        self_learned_anchors(one, vocab, source, twords, target)


def test_english_pool_is_whole_english_words_not_single_characters():
    from mosecrot_viz.core.self_learning import english_word_pool

    vocab = {"[CLS]": 0, "a": 1, "é": 2, "!": 3, "##ing": 4, "中": 5, "the": 6, "café": 7, "of": 8, "x2": 9, "and": 10}
    assert english_word_pool(vocab, special_tokens=["[CLS]"]) == [6, 8, 10]
    assert english_word_pool(vocab, n=2) == [6, 8]


def test_real_english_pool_starts_with_frequent_words():
    from conftest import cached_resource

    from mosecrot_viz.core.self_learning import english_word_pool
    from mosecrot_viz.io.models import load_tokenizer

    tok = load_tokenizer(str(cached_resource("model:minilm")))
    inv = {i: w for w, i in tok.get_vocab().items()}
    pool = [inv[i] for i in english_word_pool(tok.get_vocab(), special_tokens=tok.all_special_tokens)]
    assert len(pool) == 10000 and pool[:3] == ["the", "of", "and"] and min(map(len, pool)) >= 2
