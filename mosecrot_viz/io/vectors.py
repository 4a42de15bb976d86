"""Load static word vectors (fastText / word2vec text or binary, fastText `.bin`, gzip of each).

Everything returns a gensim `KeyedVectors` with rows in file order (the usual frequency order),
so `max_vocab` keeps the N most frequent words. Errors name the file and line: a research user
uploading a 2 GB file deserves to learn that row 81,223 has 299 numbers, not a numpy traceback.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from ..errors import FormatError, InputError, LimitError, PathError
from .limits import LimitedGzip as _LimitedGzip
from .limits import bounded_lines, max_dimension, max_line_bytes, max_vectors, refuse_unsafe

FASTTEXT_MAGIC = 793712314  # first int32 of a fastText .bin model
PARSE_VERSION = 1  # bump when the text parser's output changes, to invalidate parsed-vector caches
TEXT_SUFFIXES = {".vec", ".txt", ".tsv"}


def _strip_gz(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return Path(name[:-3]).suffix, True
    return path.suffix.lower(), False


def _open(path: Path, gz: bool):
    return _LimitedGzip(path) if gz else open(path, "rb")


def detect_format(path: str | os.PathLike) -> str:
    """Return 'text', 'word2vec-bin' or 'fasttext-bin' from the suffix and the first bytes."""
    path = Path(path)
    suffix, gz = _strip_gz(path)
    try:
        with _open(path, gz) as fh:
            head = fh.read(4096)
    except (OSError, EOFError) as exc:
        raise FormatError(f"cannot read vector file ({exc})", path) from None
    if not head:
        raise FormatError("vector file is empty", path)
    refuse_unsafe(head, path, "vectors")
    if len(head) >= 4 and struct.unpack("<i", head[:4])[0] == FASTTEXT_MAGIC:
        return "fasttext-bin"
    if suffix == ".bin":
        return "word2vec-bin"
    first, _, rest = head.partition(b"\n")
    if _parse_header(first.split()) is not None and any(b < 9 for b in rest[:1024]):
        return "word2vec-bin"  # a header line followed by raw float bytes, whatever the suffix
    return "text"


def load_vectors(path: str | os.PathLike, *, max_vocab: int | None = None) -> KeyedVectors:
    """Load static vectors from `path`, keeping at most the first `max_vocab` rows.

    Raises `FormatError` (naming file and line) for empty, ragged, non-numeric, non-finite or
    non-UTF-8 content, `LimitError` past a size/line/width limit, `UnsafeFormatError` for a pickle.
    """
    path = Path(path)
    if not path.exists():
        raise PathError("vector file not found", path)
    if max_vocab is not None and max_vocab <= 0:
        raise InputError(f"max_vocab must be positive, got {max_vocab}")
    limit = max_vectors()
    if max_vocab is not None and max_vocab > limit:
        raise LimitError(f"max_vocab {max_vocab:,} is more than the limit of {limit:,} vectors "
                         "(set MOSECROT_MAX_VECTORS)", path)
    rows = max_vocab if max_vocab is not None else limit + 1  # one past the limit tells "too many" early
    fmt = detect_format(path)
    if fmt == "text":
        kv = _load_text_cached(path, rows)
    elif fmt == "word2vec-bin":
        kv = _load_word2vec_bin(path, rows)
    else:
        kv = _load_fasttext_bin(path, rows)
    if len(kv) > limit:
        raise LimitError(f"has more than {limit:,} vectors: keep the most frequent with --max-vocab N (the app's "
                         "'max vocabulary'), or raise the limit with MOSECROT_MAX_VECTORS", path)
    _check_finite(kv, path)
    if kv.vector_size > max_dimension():
        raise LimitError(f"vectors have {kv.vector_size} dimensions, more than the limit {max_dimension()} "
                         "(set MOSECROT_MAX_DIM)", path)
    return kv


def _parse_header(parts: list[bytes]) -> tuple[int, int] | None:
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return int(parts[0]), int(parts[1])
    return None


def _read_head_lines(path: Path, max_vocab: int | None) -> list[bytes]:
    """The file's lines (at most header + max_vocab of them), read in one go."""
    _, gz = _strip_gz(path)
    with _open(path, gz) as fh:
        if max_vocab is None:
            return fh.read().splitlines()
        lines = []
        for _, raw in bounded_lines(fh, path):
            lines.append(raw.rstrip(b"\r\n"))
            if len(lines) > max_vocab:  # one extra in case the first is a header
                break
        return lines


def _load_text_fast(path: Path, max_vocab: int | None) -> KeyedVectors | None:
    """Vectorised parse: C-level splitting and one `np.fromstring` over all numbers.

    Returns None when anything looks irregular (bad bytes, ragged rows, duplicates...), so the
    careful line-by-line parser can run and name the exact file and line.
    """
    lines = [ln for ln in _read_head_lines(path, max_vocab) if ln.strip()]
    if not lines or max(map(len, lines)) > max_line_bytes():
        return None  # the careful parser names the long line
    header = _parse_header(lines[0].split())
    if header is not None:
        lines = lines[1:]
    if max_vocab is not None:
        lines = lines[:max_vocab]
    try:
        heads, tails = zip(*(ln.rstrip().split(b" ", 1) for ln in lines))
        words = [h.decode("utf-8") for h in heads]
    except (ValueError, UnicodeDecodeError):
        return None
    dim = len(tails[0].split())
    if header is not None and header[1] != dim:
        return None  # the careful parser reports the first row that disagrees with the header
    try:
        flat = np.fromstring(b" ".join(tails), dtype=np.float32, sep=" ")
    except ValueError:  # a value that is not a number
        return None
    if dim == 0 or flat.size != len(words) * dim or len(set(words)) != len(words):
        return None
    matrix = flat.reshape(len(words), dim)
    if not np.isfinite(matrix).all():
        return None
    kv = KeyedVectors(vector_size=dim, dtype=np.float32)
    kv.add_vectors(words, matrix)
    return kv


def _fingerprint(path: Path, max_vocab: int | None) -> str:
    """Identity of a file's parse: path, size, mtime, the first and last MiB, and the row limit."""
    st = path.stat()
    h = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{max_vocab}|{PARSE_VERSION}".encode())
    with open(path, "rb") as fh:
        h.update(fh.read(1 << 20))
        if st.st_size > 1 << 20:
            fh.seek(-(1 << 20), os.SEEK_END)
            h.update(fh.read())
    return h.hexdigest()[:24]


def _load_text_cached(path: Path, max_vocab: int | None) -> KeyedVectors:
    """Parse once, then reload the parsed arrays (`.npy` + JSON word list, never pickle) in a fraction of a second."""
    from .resources import cache_dir

    root = Path(os.environ.get("MOSECROT_PARSED_VECTORS") or cache_dir() / "parsed-vectors")
    folder = root / _fingerprint(path, max_vocab)
    words_file, vec_file = folder / "words.json", folder / "vectors.npy"
    if words_file.exists() and vec_file.exists():
        words = json.loads(words_file.read_text(encoding="utf-8"))
        matrix = np.load(vec_file, allow_pickle=False)
        kv = KeyedVectors(vector_size=matrix.shape[1], dtype=np.float32)
        kv.add_vectors(words, matrix)
        return kv
    kv = _load_text(path, max_vocab)
    try:
        tmp = folder.with_name(folder.name + f".{os.getpid()}.partial")
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "words.json").write_text(json.dumps(kv.index_to_key, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "vectors.npy", kv.vectors, allow_pickle=False)
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a cache we cannot write is only slower, never wrong
    return kv


def _load_text(path: Path, max_vocab: int | None) -> KeyedVectors:
    try:
        fast = _load_text_fast(path, max_vocab)
    except (OSError, EOFError, MemoryError):
        fast = None
    return fast if fast is not None else _load_text_careful(path, max_vocab)


def _load_text_careful(path: Path, max_vocab: int | None) -> KeyedVectors:
    _, gz = _strip_gz(path)
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    dim = None
    with _open(path, gz) as fh:
        for lineno, raw in bounded_lines(fh, path):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path, lineno) from None
            parts = line.rstrip("\r\n").rstrip().split(" ")
            if lineno == 1 and _parse_header([p.encode() for p in parts]) is not None:
                dim = int(parts[1])
                if dim <= 0:
                    raise FormatError(f"header gives dimension {dim}", path, 1)
                continue
            if len(parts) == 1 and not parts[0]:
                continue  # blank line
            if len(parts) < 2:
                raise FormatError("row has a word but no numbers", path, lineno)
            word, values = parts[0], parts[1:]
            if dim is None:
                dim = len(values)
            if len(values) != dim:
                raise FormatError(f"row has {len(values)} numbers, expected {dim}", path, lineno)
            if dim > max_dimension():
                raise LimitError(f"row has {dim} numbers, more than the limit {max_dimension()} (set MOSECROT_MAX_DIM)",
                                 path, lineno)
            try:
                with np.errstate(over="ignore"):  # 1e40 becomes inf and is reported just below
                    vec = np.array(values, dtype=np.float32)
            except ValueError:
                raise FormatError(f"row for {word!r} holds a value that is not a number", path, lineno) from None
            if not np.isfinite(vec).all():
                raise FormatError(f"row for {word!r} holds NaN or inf", path, lineno)
            if word in seen:
                continue  # keep the first (most frequent) occurrence
            seen.add(word)
            words.append(word)
            rows.append(vec)
            if max_vocab is not None and len(words) >= max_vocab:
                break
    if not words:
        raise FormatError("no vectors found (empty file or header only)", path)
    kv = KeyedVectors(vector_size=dim, dtype=np.float32)
    kv.add_vectors(words, np.vstack(rows))
    return kv


def _load_word2vec_bin(path: Path, max_vocab: int | None) -> KeyedVectors:
    src = _ungzip_to_temp(path)
    try:
        return KeyedVectors.load_word2vec_format(
            str(src), binary=True, limit=max_vocab, unicode_errors="ignore"
        )
    except (ValueError, EOFError, UnicodeDecodeError, struct.error) as exc:
        raise FormatError(f"not a readable word2vec binary file ({exc})", path) from None
    finally:
        if src != path:
            src.unlink(missing_ok=True)


def _load_fasttext_bin(path: Path, max_vocab: int | None) -> KeyedVectors:
    from gensim.models.fasttext import load_facebook_vectors

    src = _ungzip_to_temp(path)
    try:
        kv = load_facebook_vectors(str(src))
    except (ValueError, EOFError, NotImplementedError, struct.error, AssertionError) as exc:
        raise FormatError(f"not a readable fastText .bin model ({exc})", path) from None
    finally:
        if src != path:
            src.unlink(missing_ok=True)
    if max_vocab is not None and max_vocab < len(kv.index_to_key):
        # keep subword buckets (for unknown words) but trim the listed vocabulary
        kv.index_to_key = kv.index_to_key[:max_vocab]
        kv.key_to_index = {w: i for i, w in enumerate(kv.index_to_key)}
        kv.vectors = kv.vectors[:max_vocab]
    return kv


def _ungzip_to_temp(path: Path) -> Path:
    _, gz = _strip_gz(path)
    if not gz:
        return path
    fd, tmp = tempfile.mkstemp(suffix=".bin", prefix="mosecrot-vec-")
    with os.fdopen(fd, "wb") as out, _LimitedGzip(path) as src:
        try:
            shutil.copyfileobj(src, out, length=1 << 20)
        except (OSError, EOFError) as exc:
            Path(tmp).unlink(missing_ok=True)
            raise FormatError(f"corrupt gzip file ({exc})", path) from None
        except InputError:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Path(tmp)


def _check_finite(kv: KeyedVectors, path: Path) -> None:
    if len(kv.index_to_key) == 0:
        raise FormatError("no vectors found", path)
    bad = ~np.isfinite(kv.vectors).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FormatError(f"vector for {kv.index_to_key[i]!r} (row {i + 1}) holds NaN or inf", path)


def save_text(kv: KeyedVectors, path: str | os.PathLike, *, header: bool = True) -> None:
    """Write `kv` as fastText/word2vec text (gzip when `path` ends in .gz)."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as fh:
        if header:
            fh.write(f"{len(kv.index_to_key)} {kv.vector_size}\n")
        for word, vec in zip(kv.index_to_key, kv.vectors):
            fh.write(word + " " + " ".join(repr(float(x)) for x in vec) + "\n")


def subset(kv: KeyedVectors, keep) -> KeyedVectors:
    """A new KeyedVectors holding only the words for which `keep(word)` is true, order kept."""
    idx = [i for i, w in enumerate(kv.index_to_key) if keep(w)]
    out = KeyedVectors(vector_size=kv.vector_size, dtype=np.float32)
    out.add_vectors([kv.index_to_key[i] for i in idx], kv.vectors[idx].astype(np.float32))
    return out
