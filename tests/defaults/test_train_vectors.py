"""Tests for training static word vectors on a Bible translation."""
import os
import sqlite3

import numpy as np
import pytest
from gensim.models import KeyedVectors

from mosecrot_viz.defaults.train_vectors import (
    save_binary_atomic,
    tokenize_for_vectors,
    train_bible_vectors,
    train_word2vec,
)

# word counts: a=10, b=8, c=5, d=2, e=1
CORPUS = [["a", "b", "c"]] * 5 + [["a", "b"]] * 3 + [["a", "d"]] * 2 + [["e"], []]


def test_tokenize_alphabetic_keeps_accents_drops_punctuation():
    assert tokenize_for_vectors("Über den Fluß, König!", "de") == ["über", "den", "fluß", "könig"]
    assert tokenize_for_vectors("¿Dónde está el AÑO?", "es") == ["dónde", "está", "el", "año"]


def test_tokenize_chinese_uses_jieba():
    words = tokenize_for_vectors("起初，神创造天地。", "zh")
    assert "".join(words) == "起初神创造天地"
    assert len(words) > 1 and "，" not in words


def test_vocabulary_by_min_count_sorted_by_frequency():
    kv = train_word2vec(CORPUS, dim=8, epochs=2, min_count=3)
    assert kv.index_to_key == ["a", "b", "c"]
    assert kv.vectors.shape == (3, 8)
    assert kv.get_vecattr("a", "count") == 10


def test_deterministic_with_one_worker():
    one = train_word2vec(CORPUS, dim=8, epochs=3, min_count=1, seed=7)
    two = train_word2vec(iter(CORPUS), dim=8, epochs=3, min_count=1, seed=7)
    assert one.index_to_key == two.index_to_key
    assert np.array_equal(one.vectors, two.vectors)


def test_empty_vocabulary_is_an_error():
    with pytest.raises(ValueError, match="min_count"):
        train_word2vec(CORPUS, dim=8, min_count=100)
    with pytest.raises(ValueError, match="no tokens"):
        train_word2vec([[], []], dim=8)


def test_binary_roundtrip_is_identical_and_atomic(tmp_path):
    kv = train_word2vec(CORPUS, dim=8, epochs=2, min_count=1)
    out = save_binary_atomic(kv, tmp_path / "sub" / "v.bin")
    back = KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert back.index_to_key == kv.index_to_key == ["a", "b", "c", "d", "e"]
    assert np.array_equal(back.vectors, kv.vectors)
    assert os.listdir(out.parent) == ["v.bin"]  # no temp file left behind


def test_train_bible_vectors_on_tiny_db(tmp_path):
    from mosecrot_viz.defaults.bible import BIBLE_TRANSLATIONS

    DE, EN = BIBLE_TRANSLATIONS["de"][0], BIBLE_TRANSLATIONS["en"][0]
    db = tmp_path / "bible.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE bible (id INTEGER, bbName TEXT, bNumber INTEGER, cNumber INTEGER, "
                "vNumber INTEGER, vText TEXT)")
    verses = ["Und Gott sprach: Es werde Licht!", "Und es ward Licht.", "Gott sah das Licht, daß es gut war."]
    con.executemany("INSERT INTO bible VALUES (?,?,?,?,?,?)",
                    [(i, DE, 1, 1, i + 1, t) for i, t in enumerate(verses * 3)]
                    + [(99, EN, 1, 1, 1, "In the beginning")])
    con.commit()
    con.close()
    out = train_bible_vectors(db, "de", tmp_path / "de.bin", dim=10, epochs=1, min_count=3)
    kv = KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert kv.vector_size == 10
    assert set(kv.index_to_key[:2]) == {"licht", "es"}  # 9 times each; then und/gott 6
    assert set(kv.index_to_key) == {"und", "gott", "sprach", "es", "werde", "licht", "ward", "sah",
                                    "das", "daß", "gut", "war"}
    with pytest.raises(ValueError, match="'es'"):
        train_bible_vectors(db, "es", tmp_path / "es.bin")
    assert not (tmp_path / "es.bin").exists()
