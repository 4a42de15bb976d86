"""Vector loaders: every format round-trips; every kind of bad file names the file and line."""
import gzip

import numpy as np
import pytest
from conftest import write_vec
from gensim.models import FastText, KeyedVectors

from mosecrot_viz.errors import InputError
from mosecrot_viz.io.vectors import detect_format, load_vectors, save_text

WORDS = ["le", "chat", "noir", "dort", "maison", "été"]


@pytest.mark.parametrize("header", [True, False])
def test_text_round_trip_with_and_without_header(tmp_path, header):
    m = write_vec(tmp_path / "v.vec", WORDS, header=header)
    kv = load_vectors(tmp_path / "v.vec")
    assert kv.index_to_key == WORDS
    np.testing.assert_allclose(kv.vectors, m, atol=1e-6)


def test_gzip_text_and_max_vocab(tmp_path):
    write_vec(tmp_path / "v.vec", WORDS)
    with open(tmp_path / "v.vec", "rb") as src, gzip.open(tmp_path / "v.vec.gz", "wb") as dst:
        dst.write(src.read())
    kv = load_vectors(tmp_path / "v.vec.gz", max_vocab=3)
    assert kv.index_to_key == WORDS[:3]


def test_save_text_then_load_is_identity(tmp_path):
    write_vec(tmp_path / "v.vec", WORDS)
    kv = load_vectors(tmp_path / "v.vec")
    save_text(kv, tmp_path / "w.txt.gz")
    back = load_vectors(tmp_path / "w.txt.gz")
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)


@pytest.mark.parametrize("name", ["v.bin", "v.bin.gz", "words.vector"])
def test_word2vec_binary_round_trip(tmp_path, name):
    write_vec(tmp_path / "v.vec", WORDS)
    kv = load_vectors(tmp_path / "v.vec")
    raw = tmp_path / "raw.bin"
    kv.save_word2vec_format(str(raw), binary=True)
    target = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(target, "wb") as fh:
            fh.write(raw.read_bytes())
    else:
        raw.rename(target)
    assert detect_format(target) == "word2vec-bin"
    back = load_vectors(target, max_vocab=4)
    assert back.index_to_key == WORDS[:4]
    np.testing.assert_array_equal(back.vectors, kv.vectors[:4])


def test_fasttext_bin_gives_subword_vectors_for_unknown_words(tmp_path):
    from gensim.models.fasttext import save_facebook_model

    sents = [["le", "chat", "noir", "dort"], ["la", "maison", "noire"]] * 20
    ft = FastText(vector_size=8, min_count=1, epochs=2, seed=0, workers=1, bucket=1000)
    ft.build_vocab(sents)
    ft.train(sents, total_examples=len(sents), epochs=2)
    save_facebook_model(ft, str(tmp_path / "m.bin"))
    kv = load_vectors(tmp_path / "m.bin")
    assert set(kv.index_to_key) == {"le", "chat", "noir", "dort", "la", "maison", "noire"}
    assert "chats" not in kv.key_to_index and kv["chats"].shape == (8,)  # built from subwords
    np.testing.assert_allclose(kv["chat"], ft.wv["chat"], rtol=1e-5)


def _lines(tmp_path, text, name="bad.vec"):
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def test_max_vocab_must_be_positive(tmp_path):
    with pytest.raises(InputError, match="max_vocab"):
        load_vectors(_lines(tmp_path, "a 1\n", "ok.vec"), max_vocab=0)


# Every bad, oversized or disguised vector file is a case in tests/io/test_hostile_inputs.py.


def test_fast_text_parser_matches_gensim_and_careful_parser(tmp_path):
    """The vectorised path returns exactly what gensim's own loader and the line-by-line parser return."""
    from mosecrot_viz.io.vectors import _load_text_careful, _load_text_fast

    words = [f"w{i}" for i in range(300)] + ["naïve", "l'été", "NaN", "null", '"quoted"']
    write_vec(tmp_path / "v.vec", words, dim=7, seed=4)
    raw = (tmp_path / "v.vec").read_text().replace("\n", " \n")  # fastText's trailing spaces
    (tmp_path / "v.vec").write_text(raw)
    fast = _load_text_fast(tmp_path / "v.vec", 200)
    careful = _load_text_careful(tmp_path / "v.vec", 200)
    ref = KeyedVectors.load_word2vec_format(str(tmp_path / "v.vec"), binary=False, limit=200)
    assert fast.index_to_key == careful.index_to_key == ref.index_to_key
    np.testing.assert_array_equal(fast.vectors, ref.vectors)
    np.testing.assert_array_equal(fast.vectors, careful.vectors)
    full = _load_text_fast(tmp_path / "v.vec", None)
    assert full.index_to_key[-5:] == words[-5:]


@pytest.mark.parametrize("stated", [40, 300, 1000])
def test_header_preallocated_matrix_matches_careful_parser_across_batches(tmp_path, monkeypatch, stated):
    """With a header the fast path writes rows into one preallocated matrix; a header that understates the rows
    (overflow batches), states them exactly or overstates them gives the same words and vectors as the careful
    parser, over many small batches and with a duplicate word dropped."""
    import mosecrot_viz.io.vectors as vectors

    monkeypatch.setattr(vectors, "_BATCH_BYTES", 2000)  # a few rows per batch: many batches
    words = [f"w{i}" for i in range(299)] + ["w7"]
    write_vec(tmp_path / "v.vec", words, dim=5, seed=9)
    body = (tmp_path / "v.vec").read_text().split("\n", 1)[1]
    (tmp_path / "v.vec").write_text(f"{stated} 5\n" + body)
    if stated >= 299:  # every row fits the header's matrix: nothing may be concatenated (no second copy)
        with monkeypatch.context() as m:
            m.setattr(vectors.np, "concatenate", lambda *a, **k: pytest.fail("rows were concatenated"))
            fast = vectors._load_text_fast(tmp_path / "v.vec", None)
    else:
        fast = vectors._load_text_fast(tmp_path / "v.vec", None)
    careful = vectors._load_text_careful(tmp_path / "v.vec", None)
    assert fast.index_to_key == careful.index_to_key == words[:299]
    np.testing.assert_array_equal(fast.vectors, careful.vectors)
    capped = vectors._load_text_fast(tmp_path / "v.vec", 120)
    np.testing.assert_array_equal(capped.vectors, careful.vectors[:120])


def _parsed_entries(root):
    return [p for p in root.iterdir() if p.name != "index"]  # index/: which bytes each file's parse read


def test_parsed_text_vectors_are_cached_by_file_identity(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_PARSED_VECTORS", str(tmp_path / "cache" / "parsed-vectors"))
    write_vec(tmp_path / "v.vec", WORDS)
    first = load_vectors(tmp_path / "v.vec")
    [entry] = _parsed_entries(tmp_path / "cache" / "parsed-vectors")
    assert (entry / "vectors.npy").exists() and (entry / "words.json").exists()
    again = load_vectors(tmp_path / "v.vec")
    assert again.index_to_key == first.index_to_key
    np.testing.assert_array_equal(again.vectors, first.vectors)
    # a changed file is parsed again, not served stale
    write_vec(tmp_path / "v.vec", WORDS[:3], seed=9)
    assert load_vectors(tmp_path / "v.vec").index_to_key == WORDS[:3]
    assert len(_parsed_entries(tmp_path / "cache" / "parsed-vectors")) == 2


def test_the_parsed_vector_cache_is_keyed_by_content_not_size_and_mtime(tmp_path, monkeypatch):
    """A file rewritten in place with the same size and the same mtime (`touch -r`, `cp -p`) is parsed again."""
    import os

    monkeypatch.setenv("MOSECROT_PARSED_VECTORS", str(tmp_path / "parsed"))
    p = tmp_path / "v.vec"
    p.write_text("2 2\nchat 1 2\nnoir 3 4\n")
    assert load_vectors(p)["chat"].tolist() == [1.0, 2.0]
    st = p.stat()
    p.write_text("2 2\nchat 5 6\nnoir 7 8\n")  # same length
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert p.stat().st_size == st.st_size and p.stat().st_mtime_ns == st.st_mtime_ns
    assert load_vectors(p)["chat"].tolist() == [5.0, 6.0]
    # with max_vocab the key is the bytes the parse read: a change inside them is parsed again
    p.write_text("3 2\nchat 1 2\nnoir 3 4\nchien 5 6\n")
    assert load_vectors(p, max_vocab=1).index_to_key == ["chat"]
    p.write_text("3 2\nchat 9 9\nnoir 3 4\nchien 5 6\n")
    assert load_vectors(p, max_vocab=1)["chat"].tolist() == [9.0, 9.0]
