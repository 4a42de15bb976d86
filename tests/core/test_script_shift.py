"""The simulated unseen script: a bijective, case-consistent, nested renaming of a share of the alphabet."""
import unicodedata

import pytest
from conftest import cached_resource

from mosecrot_viz.core.script_shift import (
    ShiftedWordTokenizer,
    _cased_pool,
    _uncased_pool,
    alphabet,
    make_shift,
    tokenizer_knows,
)

TEXTS = ["Über den Fluß sprach König Ödön: l'autre a-t-il?", "über die Brücke", "起初神创造天地", "İstanbul 42"]
SPECIALS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}


def test_alphabet_counts_a_case_pair_once_and_leaves_out_letters_without_a_one_letter_lower_case():
    units, skipped = alphabet(["Aa b ß İ 1 ,"])
    assert units == [("a", "A"), ("b", "B"), ("ß",)]
    assert skipped == 1  # İ lower-cases to two characters


def test_share_one_renames_every_letter_bijectively_and_keeps_the_rest():
    shift = make_shift(1.0, TEXTS)
    units, _ = alphabet(TEXTS)
    assert shift.renamed == shift.letters == len(units)
    text = TEXTS[0]
    renamed = shift.rename(text)
    assert shift.restore(renamed) == text
    assert all(not c.isalpha() or c not in shift.table for c in renamed)  # no original letter remains
    assert [c for c in renamed if not c.isalpha()] == [c for c in text if not c.isalpha()]  # punctuation, spaces stay
    assert len(set(shift.table.values())) == len(shift.table)  # one to one
    assert not set(shift.table.values()) & {c for t in TEXTS for c in t}  # targets never clash with the text
    assert shift.rename("İstanbul 42")[0] == "İ" and shift.rename("42") == "42"  # left-out letters and digits stay


def test_case_survives_so_lower_cased_look_ups_still_meet():
    shift = make_shift(1.0, TEXTS)
    for word in ("König", "ÜBER", "Fluß", "Brücke"):
        assert shift.rename(word).lower() == shift.rename(word.lower())
    for src, dst in shift.table.items():
        assert unicodedata.category(dst) in ("Lu", "Ll", "Lo") and src.isupper() == dst.isupper()


def test_shares_are_nested_and_zero_is_the_identity():
    assert make_shift(0.0, TEXTS).table == {}
    half, most = make_shift(0.5, TEXTS), make_shift(0.8, TEXTS)
    assert half.renamed < most.renamed
    assert all(most.table[k] == v for k, v in half.table.items())  # a bigger share only adds letters
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        make_shift(1.5, TEXTS)


def test_shifted_word_tokenizer_segments_in_the_original_script_then_renames():
    shift = make_shift(1.0, TEXTS)
    plain_words = ["l'", "autre", "a", "-t", "-il"]
    words = [shift.rename(w) for w in plain_words]
    wtok = ShiftedWordTokenizer(shift, words, SPECIALS, lang="fr")
    # the French rule splits elisions and clitics; after renaming it could not, so it runs on the restored text
    assert wtok.split(shift.rename("l'autre a-t-il")) == words
    assert wtok.encode([shift.rename("L'autre a-t-il")]).unknown_rate[0] == 0.0  # L' found lower-cased
    zh = ShiftedWordTokenizer(shift, [shift.rename("起初")], SPECIALS, lang="zh")
    assert zh.split(shift.rename("起初神创造天地"))[0] == shift.rename("起初")  # jieba on the original characters


def test_the_pools_are_letters_and_large_enough():
    cased, uncased = _cased_pool(), _uncased_pool()
    assert len(cased) >= 250 and len(uncased) >= 50_000
    assert all(lo.upper() == up and up.lower() == lo for lo, up in cased)


def test_neither_embedded_tokenizer_knows_any_code_point_of_the_pools():
    from mosecrot_viz.defaults import models

    cached_resource("model:minilm")
    cached_resource("model:e5")
    chars = [c for pair in _cased_pool() for c in pair] + _uncased_pool()
    assert tokenizer_knows(models.load_tokenizer("default"), chars) == 0
    assert tokenizer_knows(models.load_tokenizer("default-multilingual"), chars) == 0
    assert tokenizer_knows(models.load_tokenizer("default-multilingual"), list("abé")) == 3  # the check can fail
