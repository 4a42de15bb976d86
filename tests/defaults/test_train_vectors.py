"""Tests for training static word vectors on a Bible translation or a user's corpus (word2vec and fastText)."""
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from mosecrot_viz.core.vocab_extension import has_subword_vectors, subword_words
from mosecrot_viz.defaults.train_vectors import (
    save_binary_atomic,
    save_fasttext_atomic,
    tokenize_for_vectors,
    train_bible_vectors,
    train_corpus_vectors,
    train_fasttext,
    train_word2vec,
)
from mosecrot_viz.errors import FormatError, LimitError, PathError
from mosecrot_viz.io.vectors import detect_format, load_vectors

ROOT = Path(__file__).resolve().parents[2]

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


def _tiny_bible(tmp_path):
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
    return db


def test_train_bible_vectors_on_tiny_db(tmp_path):
    db = _tiny_bible(tmp_path)
    out = train_bible_vectors(db, "de", tmp_path / "de.bin", "word2vec", dim=10, epochs=1, min_count=3)
    kv = KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert kv.vector_size == 10
    assert set(kv.index_to_key[:2]) == {"licht", "es"}  # 9 times each; then und/gott 6
    assert set(kv.index_to_key) == {"und", "gott", "sprach", "es", "werde", "licht", "ward", "sah",
                                    "das", "daß", "gut", "war"}
    with pytest.raises(ValueError, match="'es'"):
        train_bible_vectors(db, "es", tmp_path / "es.bin")
    assert not (tmp_path / "es.bin").exists()
    with pytest.raises(ValueError, match="unknown vector kind 'glove'"):
        train_bible_vectors(db, "de", tmp_path / "x.bin", "glove")
    ft = load_vectors(train_bible_vectors(db, "de", tmp_path / "de-ft.bin", dim=10, epochs=1, min_count=3, bucket=100))
    assert has_subword_vectors(ft) and set(ft.index_to_key) == set(kv.index_to_key)  # the default kind: fastText


# a small corpus in which "licht" and "lichter" share n-grams and "lichtung" never occurs
FT_CORPUS = ([["und", "gott", "sprach", "es", "werde", "licht"], ["die", "lichter", "am", "himmel"],
              ["gott", "sah", "das", "licht"]] * 20)


def _tiny_fasttext(seed=0):
    return train_fasttext(FT_CORPUS, dim=12, epochs=2, min_count=1, bucket=2000, seed=seed)


def test_fasttext_bin_is_read_by_the_project_reader_with_its_ngram_buckets(tmp_path):
    model = _tiny_fasttext()
    out = save_fasttext_atomic(model, tmp_path / "sub" / "ft.bin")
    assert os.listdir(out.parent) == ["ft.bin"]  # no temp file left behind
    assert detect_format(out) == "fasttext-bin"
    kv = load_vectors(out)
    assert has_subword_vectors(kv) and kv.bucket == 2000
    assert kv.index_to_key == model.wv.index_to_key
    np.testing.assert_allclose(kv.vectors, model.wv.vectors, rtol=1e-6, atol=1e-7)
    # a word the corpus never had: the reader gives it the model's own n-gram vector, and the run's
    # subword step appends it (so it is not a word without a vector)
    assert "lichtung" not in kv.key_to_index
    np.testing.assert_allclose(kv.get_vector("lichtung"), model.wv.get_vector("lichtung"), rtol=1e-5, atol=1e-6)
    sub = subword_words(kv, ["die lichtung und das licht"], lang="de")
    assert sub.words == ("lichtung",) and sub.tokens == 1 and sub.n_tokens == 5


def test_fasttext_unseen_word_is_nearer_to_its_ngram_relatives_than_to_unrelated_words():
    wv = train_fasttext(FT_CORPUS, dim=24, epochs=30, min_count=1, bucket=5000, seed=3).wv
    assert wv.similarity("lichtes", "licht") > wv.similarity("lichtes", "sprach")


def test_fasttext_is_deterministic_with_one_worker(tmp_path):
    a = save_fasttext_atomic(_tiny_fasttext(seed=5), tmp_path / "a.bin")
    b = save_fasttext_atomic(_tiny_fasttext(seed=5), tmp_path / "b.bin")
    assert a.read_bytes() == b.read_bytes()
    c = save_fasttext_atomic(_tiny_fasttext(seed=6), tmp_path / "c.bin")
    assert a.read_bytes() != c.read_bytes()


def test_corpus_build_is_identical_across_processes_with_different_hash_seeds(tmp_path):
    """Python's string hash changes per process; the built file must not (gensim hashes n-grams itself)."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in FT_CORPUS) + "\n", encoding="utf-8")
    code = ("import sys; from mosecrot_viz.defaults.train_vectors import train_corpus_vectors as t; "
            "t(sys.argv[1], sys.argv[2], lang='de', dim=8, epochs=1, min_count=1, bucket=500)")
    digests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"v{hash_seed}.bin"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", code, str(corpus), str(out)], check=True, env=env, timeout=120)
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_corpus_file_in_bin_out_for_both_kinds(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\ufeff" + "Und Gott sprach: Es werde Licht!\n\n...\nUnd es ward Licht.\n" * 5, encoding="utf-8")
    seen = []
    info = train_corpus_vectors(corpus, tmp_path / "ft.bin", lang="de", dim=8, epochs=1, min_count=2, bucket=300,
                                progress=seen.append)
    assert info["lines"] == 10 and info["words"] == 50 and info["kind"] == "fasttext"
    assert "segmenting" in seen[0] and "training fasttext" in seen[1]
    kv = load_vectors(tmp_path / "ft.bin")
    assert has_subword_vectors(kv) and kv.vector_size == 8
    assert set(kv.index_to_key) == {"und", "gott", "sprach", "es", "werde", "licht", "ward"}  # lower-cased, no BOM
    assert info["vocabulary"] == 7
    w2v = train_corpus_vectors(corpus, tmp_path / "w2v.bin", lang="de", kind="word2vec", dim=8, epochs=1,
                               min_count=2)
    assert detect_format(tmp_path / "w2v.bin") == "word2vec-bin" and w2v["vocabulary"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "ft.bin", "w2v.bin"]  # temp copies gone


def test_corpus_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("gut\n".encode() + b"caf\xe9\n")
    with pytest.raises(FormatError, match=r"bad.txt:2: not UTF-8"):
        train_corpus_vectors(bad, tmp_path / "x.bin", lang="de", dim=8, epochs=1, min_count=1, bucket=100)
    empty = tmp_path / "empty.txt"
    empty.write_text("... !!!\n", encoding="utf-8")
    with pytest.raises(FormatError, match="has no words"):
        train_corpus_vectors(empty, tmp_path / "x.bin", lang="de", min_count=1)
    with pytest.raises(PathError, match="corpus file not found"):
        train_corpus_vectors(tmp_path / "missing.txt", tmp_path / "x.bin")
    with pytest.raises(LimitError, match="MOSECROT_MAX_MATRIX_MB"):
        train_corpus_vectors(bad, tmp_path / "x.bin", dim=4000, bucket=2_000_000)
    assert not (tmp_path / "x.bin").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "empty.txt"]
