"""Anchor extraction: whole-token rule, one translation per target word, drop reasons."""
import pytest

from mosecrot_viz.core.anchors import DROP_EXTRA, DROP_NOT_SOURCE, DROP_NOT_TARGET, DROP_REUSED_EN, extract_anchors
from mosecrot_viz.errors import InputError

SRC = {"[CLS]": 0, "cat": 1, "dog": 2, "##s": 3, "house": 4}
TGT = {"chat": 0, "chien": 1, "maison": 2, "minou": 3}


def test_first_translation_wins_and_drops_are_counted():
    pairs = [("Cat", "chat"), ("kitty", "chat"), ("dog", "chien"), ("cat", "chat"), ("house", "maison"),
             ("house", "logis"), ("##s", "minou"), ("[CLS]", "minou"), ("dog", "chat")]
    a = extract_anchors(pairs, SRC, TGT, special_tokens=["[CLS]"])
    assert a.source_words == ("cat", "dog", "house")
    assert a.target_words == ("chat", "chien", "maison")
    assert list(a.source_ids) == [1, 2, 4] and list(a.target_ids) == [0, 1, 2]
    assert a.dropped[DROP_NOT_SOURCE] == 3  # kitty, ##s, [CLS]
    assert a.dropped[DROP_NOT_TARGET] == 1  # logis
    assert a.dropped[DROP_EXTRA] == 1  # dog -> chat after cat -> chat
    assert a.summary()["count"] == 3 and a.lexicon_pairs == len(pairs)


def test_cased_model_does_not_lowercase():
    a = extract_anchors([("Cat", "chat"), ("dog", "chien")], SRC, TGT, lowercase_source=False)
    assert a.source_words == ("dog",)


def test_accented_english_anchor_survives_with_an_uncased_plm():
    """Uncased BERT strips accents (`café` reaches the model as `cafe`), so the lexicon's accented
    English side must be matched folded; a cased model keeps the word as written."""
    vocab = {"cafe": 5, "naive": 6, "resume": 7, "résumé": 8}
    pairs = [("café", "chat"), ("Naïve", "chien"), ("résumé", "maison")]
    a = extract_anchors(pairs, vocab, TGT)
    assert a.source_words == ("cafe", "naive", "résumé")  # the exact lower-cased form wins when the vocab has it
    assert list(a.source_ids) == [5, 6, 8]
    with pytest.raises(InputError):
        extract_anchors(pairs[:2], vocab, TGT, lowercase_source=False)


def test_accent_folding_matches_the_real_uncased_tokenizer():
    from conftest import cached_resource

    from mosecrot_viz.core.anchors import fold_accents
    from mosecrot_viz.io.models import is_uncased, load_tokenizer

    tok = load_tokenizer(str(cached_resource("model:minilm")))
    assert is_uncased(tok)
    for word in ("café", "naïve", "Résumé"):
        assert tok.tokenize(word) == [fold_accents(word.lower())]


def test_one_to_one_policy():
    a = extract_anchors([("cat", "chat"), ("cat", "minou")], SRC, TGT, policy="one-to-one")
    assert a.target_words == ("chat",) and a.dropped[DROP_REUSED_EN] == 1
    assert len(extract_anchors([("cat", "chat"), ("cat", "minou")], SRC, TGT)) == 2


def test_empty_overlap_is_a_clear_error():
    with pytest.raises(InputError, match="no lexicon pair"):
        extract_anchors([("zebra", "zèbre")], SRC, TGT)
    with pytest.raises(InputError, match="policy"):
        extract_anchors([("cat", "chat")], SRC, TGT, policy="best")


def test_subset_keeps_alignment():
    a = extract_anchors([("cat", "chat"), ("dog", "chien"), ("house", "maison")], SRC, TGT)
    b = a.subset([2, 0])
    assert b.source_words == ("house", "cat") and list(b.target_ids) == [2, 0]


def test_filter_anchors_stopwords_and_random_subset():
    from mosecrot_viz.core.anchors import DROP_STOPWORD, DROP_SUBSET, filter_anchors

    src = {"the": 5, "cat": 1, "dog": 2, "house": 4, "of": 6}
    tgt = {"le": 0, "chat": 1, "chien": 2, "maison": 3, "de": 4}
    a = extract_anchors([("the", "le"), ("cat", "chat"), ("dog", "chien"), ("house", "maison"), ("of", "de")], src, tgt)
    no_stop = filter_anchors(a, drop_stopwords=True)
    assert no_stop.source_words == ("cat", "dog", "house") and no_stop.dropped[DROP_STOPWORD] == 2
    sub = filter_anchors(a, n=2, seed=3)
    assert len(sub) == 2 and sub.dropped[DROP_SUBSET] == 3
    assert set(sub.source_words) <= set(a.source_words)
    assert filter_anchors(a, n=2, seed=3).source_words == sub.source_words  # seeded
    for w, t in zip(sub.source_words, sub.target_words):  # pairs stay aligned
        assert dict(zip(a.source_words, a.target_words))[w] == t
    with pytest.raises(InputError, match="no anchors left"):
        filter_anchors(extract_anchors([("the", "le")], src, tgt), drop_stopwords=True)
