"""Load static word vectors (fastText / word2vec text or binary, fastText `.bin`, gzip of each).

Everything returns a gensim `KeyedVectors` with rows in file order (the usual frequency order),
so `max_vocab` keeps the N most frequent words. Errors name the file and line: a research user
uploading a 2 GB file deserves to learn that row 81,223 has 299 numbers, not a numpy traceback.

Every word is put in Unicode NFC (`io.text.nfc`), in every format, so a word is one key whatever its
encoding; a word that appears twice (as written, or once NFC makes two forms one) keeps its first row,
and the count of rows dropped is `kv.duplicate_words` (0 when none), for the run to record a warning.
A word longer than $MOSECROT_MAX_WORD_BYTES is refused in every reader. A matrix whose size a header
declares is allocated once and filled in place (peak about 1.1x the matrix); a MemoryError becomes one
`LimitError` line naming the file and the size asked for.
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
from typing import TYPE_CHECKING

import numpy as np

from mosecrot_viz.atomic import atomic_dir, atomic_path
from mosecrot_viz.errors import FormatError, InputError, LimitError
from mosecrot_viz.io.limits import LimitedGzip as _LimitedGzip
from mosecrot_viz.io.limits import (
    bounded_lines,
    check_matrix_budget,
    check_regular_file,
    max_dimension,
    max_matrix_bytes,
    max_vectors,
    max_word_bytes,
    memory_error_as_limit,
    refuse_unsafe,
    strip_bom,
)
from mosecrot_viz.io.text import nfc

if TYPE_CHECKING:  # gensim (about 1 s to import, scipy with it) loads when a reader builds its result, so the
    # run's checks (experiment.preflight), which read no vectors, answer without it
    from gensim.models import KeyedVectors

FASTTEXT_MAGIC = 793712314  # first int32 of a fastText .bin model
PARSE_VERSION = 3  # bump when the text parser's output changes, to invalidate parsed-vector caches (2: NFC words;
# 3: invisible format characters dropped, the header's row count kept when it disagrees)
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
    first, _, rest = strip_bom(head).partition(b"\n")
    if _parse_header(first.split()) is not None and any(b < 9 for b in rest[:1024]):
        return "word2vec-bin"  # a header line followed by raw float bytes, whatever the suffix
    return "text"


def load_vectors(path: str | os.PathLike, *, max_vocab: int | None = None) -> KeyedVectors:
    """Load static vectors from `path`, keeping at most the first `max_vocab` rows.

    Raises `FormatError` (naming file and line) for empty, ragged, non-numeric, non-finite or
    non-UTF-8 content, `LimitError` past a size/line/width/word limit or when memory runs out,
    `UnsafeFormatError` for a pickle. Words are NFC; `kv.duplicate_words` counts the repeats dropped.
    """
    path = check_regular_file(path, "vector")
    if max_vocab is not None and max_vocab <= 0:
        raise InputError(f"max_vocab must be positive, got {max_vocab}")
    limit = max_vectors()
    if max_vocab is not None and max_vocab > limit:
        raise LimitError(f"max_vocab {max_vocab:,} is more than the limit of {limit:,} vectors "
                         "(set MOSECROT_MAX_VECTORS)", path)
    rows = max_vocab if max_vocab is not None else limit + 1  # one past the limit tells "too many" early
    fmt = detect_format(path)
    with memory_error_as_limit(path):
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
    if not kv.vectors.any():
        raise FormatError(f"every one of the {len(kv):,} vectors is all zeros: nothing to map (a placeholder file?)",
                          path)
    if kv.vector_size > max_dimension():
        raise LimitError(f"vectors have {kv.vector_size} dimensions, more than the limit {max_dimension()} "
                         "(set MOSECROT_MAX_DIM)", path)
    return kv


def _parse_header(parts: list[bytes]) -> tuple[int, int] | None:
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return int(parts[0]), int(parts[1])
    return None


_BATCH_BYTES = 4 * 2**20  # text parsed per vectorised batch: memory holds one batch of text (~4x in copies), never the file
# What one held line costs beyond its bytes: the (line number, bytes) tuple, the int and the bytes object's header.
# Why counted: a batch measured by its text alone never filled on blank lines (0 bytes each once the line break is
# dropped), so 256 MB of newlines in a .vec.gz became one batch of 268 million tuples (24 GB, killed).
_LINE_COST = 96
MAX_BLANK_LINES = 1_000_000  # a .vec has a word and its numbers on every line (a trailing blank line or two at most)


def _keyed(words: list[str], matrix: np.ndarray, duplicates: int = 0, header_rows: int | None = None) -> KeyedVectors:
    """A KeyedVectors over `matrix` without copying it (`add_vectors` would stack a second copy).

    `duplicates` (rows dropped because their word came earlier) is kept as `kv.duplicate_words`; `header_rows`
    (the row count a `rows dim` header declared, when the file held another number of rows) as `kv.header_rows`
    (None when they agree, or when the file was not read to its end).
    """
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=matrix.shape[1], dtype=np.float32)
    kv.vectors = matrix
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(kv.index_to_key)}
    kv.duplicate_words = int(duplicates)
    kv.header_rows = None if header_rows is None else int(header_rows)
    return kv


def _header_disagrees(declared: int | None, rows: int, complete: bool) -> int | None:
    """The header's declared row count when the whole file was read and held `rows` rows (repeats included)
    instead; else None."""
    return declared if declared is not None and complete and declared != rows else None


def _numbered_lines(fh, path, consumed: dict | None = None):
    """(line number, line without its line break) within the line limit; a BOM before line 1 dropped.

    More than `MAX_BLANK_LINES` blank lines is a `FormatError`: the text format has none, and a gzip
    stream of newlines (2.6 GB from a few MB) would otherwise cost a minute per gigabyte to skip.

    `consumed["bytes"]`, when given, counts the raw bytes read so far (the cache keys on exactly those).
    """
    blank = 0
    for lineno, raw in bounded_lines(fh, path):
        if consumed is not None:
            consumed["bytes"] += len(raw)
        line = (strip_bom(raw) if lineno == 1 else raw).rstrip(b"\r\n")
        if not line.strip():
            blank += 1
            if blank > MAX_BLANK_LINES:
                raise FormatError(f"holds more than {MAX_BLANK_LINES:,} blank lines: not a vectors file (a word and its "
                                  "numbers per line)?", path, lineno)
        yield lineno, line


def _fast_batch(lines: list[bytes], dim: int | None):
    """Vectorised parse of one batch of non-blank rows: (words, float32 matrix), or None when anything is irregular."""
    try:
        heads, tails = zip(*(ln.rstrip().split(b" ", 1) for ln in lines))
        if max(map(len, heads)) > max_word_bytes():
            return None  # the careful parser names the line
        words = [nfc(h.decode("utf-8")) for h in heads]
    except (ValueError, UnicodeDecodeError):
        return None
    width = len(tails[0].split())
    if width == 0 or (dim is not None and width != dim) or any(t.count(b" ") != width - 1 for t in tails):
        return None  # the careful parser reports the first row that disagrees (a ragged batch can add up)
    try:
        flat = np.fromstring(b" ".join(tails), dtype=np.float32, sep=" ")
    except ValueError:  # a value that is not a number
        return None
    if flat.size != len(words) * width:
        return None
    matrix = flat.reshape(len(words), width)
    if not np.isfinite(matrix).all():
        return None
    return words, matrix


def _load_text_fast(path: Path, max_vocab: int | None, consumed: dict | None = None) -> KeyedVectors | None:
    """Vectorised parse, batch by batch: C-level splitting and one `np.fromstring` per batch.

    Rows are written straight into one preallocated matrix: of the header's size when the file has a
    `rows dim` header (fastText's `.vec`), else of the row count estimated from the file's size and
    the first batch (plain files only). Memory is then the final matrix plus one batch of text (about
    1.1x the matrix); rows past the estimate (or in a gzip file without a header) are kept in batches
    and concatenated at the end (about 2x at the peak). The file's text is never held whole. A
    header's rows x dim is checked against the matrix budget before anything is read. Duplicate
    words keep their first row (counted in `kv.duplicate_words`).
    Returns None when anything looks irregular (bad bytes, ragged rows, bad numbers, a long word...),
    after the careful parser has looked at the offending batch, so the error names its exact line.
    """
    _, gz = _strip_gz(path)
    words: list[str] = []
    chunks: list[np.ndarray] = []
    seen: set[str] = set()
    dim = None
    first = True
    want = max_vocab if max_vocab is not None else max_vectors() + 1
    into: np.ndarray | None = None  # (expected rows, dim), filled in file order while rows fit
    estimate = not gz  # no header: estimate the rows from the file size once the first batch is parsed
    dropped = 0
    declared, complete = None, True  # the header's row count; whether every row of the file was read

    def take(batch) -> bool:
        nonlocal dim, into, estimate, dropped
        rows = [ln for _, ln in batch if ln.strip()]
        if not rows:
            return True
        parsed = _fast_batch(rows, dim)
        if parsed is None:
            # name the exact line when the batch is malformed; a merely unusual batch falls back to the careful parser
            for _ in _careful_rows(batch, path, {"dim": dim, "want": want}):
                pass
            return False
        bwords, matrix = parsed
        dim = matrix.shape[1]
        keep = [i for i, w in enumerate(bwords) if not (w in seen or seen.add(w))]
        dropped += len(bwords) - len(keep)
        keep = keep[: want - len(words)]
        if len(keep) < len(bwords):
            bwords, matrix = [bwords[i] for i in keep], matrix[keep]
        check_matrix_budget(len(words) + len(bwords), dim, path)
        if into is None and estimate:
            estimate = False
            per_row = max(1, sum(len(ln) + 1 for ln in rows) / len(rows))
            guess = min(want, int(path.stat().st_size / per_row * 1.05) + 1024,
                        max_matrix_bytes() // (4 * dim))
            if guess > len(bwords):
                into = np.empty((guess, dim), dtype=np.float32)  # pages never written cost no memory
        room = 0 if into is None else max(0, min(len(bwords), len(into) - len(words)))
        if room:  # the preallocated matrix: no second copy at the end
            into[len(words) : len(words) + room] = matrix[:room]
        if room < len(bwords):
            chunks.append(matrix[room:])
        words.extend(bwords)
        return True

    with _open(path, gz) as fh:
        batch, size = [], 0
        for lineno, line in _numbered_lines(fh, path, consumed):
            if first:
                first = False
                header = _parse_header(line.split())
                if header is not None:
                    if header[1] <= 0:
                        return None  # the careful parser says "header gives dimension 0"
                    dim, declared = header[1], header[0]
                    check_matrix_budget(min(header[0], want), dim, path)
                    into = np.empty((min(header[0], want), dim), dtype=np.float32)  # untouched pages cost nothing
                    estimate = False
                    continue
            batch.append((lineno, line))
            size += len(line) + _LINE_COST
            if size >= _BATCH_BYTES:
                if not take(batch):
                    return None
                batch, size = [], 0
                if len(words) >= want:
                    complete = False
                    break
        if batch and len(words) < want and not take(batch):
            return None
    if not words:
        return None  # the careful parser says what is missing
    if into is not None and len(into):  # the first min(rows read, preallocated rows) rows are in it
        chunks.insert(0, into[: min(len(words), len(into))])
    matrix = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    chunks.clear()
    complete = complete and len(words) < want
    return _keyed(words, matrix, dropped, _header_disagrees(declared, len(words) + dropped, complete))


def _parse_settings(max_vocab: int | None) -> str:
    """Everything besides the file's bytes that shapes a parse: the row limit, the limits that refuse a row."""
    return f"{max_vocab}|{max_word_bytes()}|{max_dimension()}|{PARSE_VERSION}"


def _prefix_sha256(path: Path, n: int) -> str:
    """sha256 of the first `n` bytes of `path`, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while n > 0 and (block := fh.read(min(n, 1 << 20))):
            h.update(block)
            n -= len(block)
    return h.hexdigest()


def _cache_root() -> Path:
    from mosecrot_viz.paths import cache_dir

    return Path(os.environ.get("MOSECROT_PARSED_VECTORS") or cache_dir() / "parsed-vectors")


def _index_file(path: Path, max_vocab: int | None) -> Path:
    """Where the parse of (`path`, settings) was last recorded: which bytes it read and their sha256."""
    name = hashlib.sha256(f"{path.resolve()}|{_parse_settings(max_vocab)}".encode()).hexdigest()[:24]
    return _cache_root() / "index" / f"{name}.json"


def _content_key(sha: str, n: int, max_vocab: int | None) -> str:
    """The parsed folder's name: the sha256 of exactly the bytes the parse read, their count and the settings."""
    return hashlib.sha256(f"{sha}|{n}|{_parse_settings(max_vocab)}".encode()).hexdigest()[:24]


def _cached_folder(path: Path, max_vocab: int | None) -> Path | None:
    """The parsed folder whose recorded bytes are still this file's bytes, or None.

    Keyed by content, not size and mtime: a file changed in place under the same size and mtime
    (a copy with `cp -p`, `touch -r`, a second edit within the clock's tick) is read again. The parse
    of a plain file depends only on the bytes it read (up to `max_vocab` rows), so those are hashed;
    a gzip file is hashed whole.
    """
    try:
        meta = json.loads(_index_file(path, max_vocab).read_text(encoding="utf-8"))
        n, whole, sha = int(meta["bytes"]), bool(meta["whole"]), str(meta["sha256"])
        size = path.stat().st_size
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if size < n or (whole and size != n) or _prefix_sha256(path, n) != sha:
        return None
    folder = _cache_root() / _content_key(sha, n, max_vocab)
    return folder if (folder / "words.json").exists() and (folder / "vectors.npy").exists() else None


def _load_text_cached(path: Path, max_vocab: int | None) -> KeyedVectors:
    """Parse once, then reload the parsed arrays (`.npy` + JSON word list, never pickle) in a fraction of a second."""
    folder = _cached_folder(path, max_vocab)
    if folder is not None:
        try:
            words = json.loads((folder / "words.json").read_text(encoding="utf-8"))
            matrix = np.load(folder / "vectors.npy", allow_pickle=False)
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if isinstance(words, list) and matrix.ndim == 2 and len(words) == len(matrix):
                return _keyed(words, matrix, int(meta.get("duplicate_words", 0)),  # no second copy of the matrix
                              meta.get("header_rows"))
        except (OSError, ValueError, TypeError, AttributeError):
            pass  # a damaged cache entry is parsed again
    consumed = {"bytes": 0}
    kv = _load_text(path, max_vocab, consumed)
    _, gz = _strip_gz(path)
    try:
        size = path.stat().st_size
        n, whole = (size, True) if gz else (consumed["bytes"], consumed["bytes"] >= size)
        sha = _prefix_sha256(path, n)
        folder = _cache_root() / _content_key(sha, n, max_vocab)
        folder.parent.mkdir(parents=True, exist_ok=True)
        with atomic_dir(folder, keep=lambda p: (p / "vectors.npy").exists()) as tmp:  # another process's copy stays
            (tmp / "words.json").write_text(json.dumps(kv.index_to_key, ensure_ascii=False, allow_nan=False),
                                            encoding="utf-8")
            (tmp / "meta.json").write_text(json.dumps({"duplicate_words": kv.duplicate_words,
                                                          "header_rows": kv.header_rows}, allow_nan=False), encoding="utf-8")
            np.save(tmp / "vectors.npy", kv.vectors, allow_pickle=False)
        index = _index_file(path, max_vocab)
        index.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(index) as tmp:
            Path(tmp).write_text(json.dumps({"bytes": n, "whole": whole, "sha256": sha}, allow_nan=False),
                                 encoding="utf-8")
    except OSError:
        pass  # a cache we cannot write is only slower, never wrong
    return kv


def _load_text(path: Path, max_vocab: int | None, consumed: dict | None = None) -> KeyedVectors:
    if consumed is not None:
        consumed["bytes"] = 0
    try:
        fast = _load_text_fast(path, max_vocab, consumed)
    except (OSError, EOFError):
        fast = None  # a MemoryError is not retried: the careful parser would need more, not less
    if fast is not None:
        return fast
    if consumed is not None:
        consumed["bytes"] = 0
    return _load_text_careful(path, max_vocab, consumed)


def _careful_rows(numbered, path, state: dict):
    """Yield (word, vector) for each row of (line number, line) pairs; raise at the first bad row, naming its line.

    `state["dim"]` is the width (from a header or the first row) and is updated in place;
    `state["want"]` (rows to keep) bounds the header's matrix-budget check.
    """
    for lineno, raw in numbered:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path, lineno) from None
        parts = line.rstrip().split(" ")
        if lineno == 1 and _parse_header([p.encode() for p in parts]) is not None:
            dim = int(parts[1])
            if dim <= 0:
                raise FormatError(f"header gives dimension {dim}", path, 1)
            if dim > max_dimension():
                raise LimitError(f"header gives {dim} dimensions, more than the limit {max_dimension()} "
                                 "(set MOSECROT_MAX_DIM)", path, 1)
            check_matrix_budget(min(int(parts[0]), state.get("want") or int(parts[0])), dim, path)
            state["dim"], state["declared"] = dim, int(parts[0])
            continue
        if len(parts) == 1 and not parts[0]:
            continue  # blank line
        if len(parts) < 2:
            raise FormatError("row has a word but no numbers", path, lineno)
        word, values = parts[0], parts[1:]
        if len(word.encode("utf-8")) > max_word_bytes():
            raise LimitError(f"the word of this row is longer than {max_word_bytes():,} bytes: not a vector file? "
                             "(limit: set MOSECROT_MAX_WORD_BYTES)", path, lineno)
        word = nfc(word)
        if state.get("dim") is None:
            state["dim"] = len(values)
        dim = state["dim"]
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
        yield word, vec


def _load_text_careful(path: Path, max_vocab: int | None, consumed: dict | None = None) -> KeyedVectors:
    _, gz = _strip_gz(path)
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    state = {"dim": None, "want": max_vocab}
    dropped, complete = 0, True
    with _open(path, gz) as fh:
        for word, vec in _careful_rows(_numbered_lines(fh, path, consumed), path, state):
            if word in seen:
                dropped += 1
                continue  # keep the first (most frequent) occurrence
            seen.add(word)
            words.append(word)
            rows.append(vec)
            if len(words) % 65_536 == 0:
                check_matrix_budget(len(words), state["dim"], path)
            if max_vocab is not None and len(words) >= max_vocab:
                complete = False
                break
    if not words:
        raise FormatError("no vectors found (empty file or header only)", path)
    check_matrix_budget(len(words), state["dim"], path)
    return _keyed(words, np.vstack(rows), dropped,
                  _header_disagrees(state.get("declared"), len(words) + dropped, complete))


def _load_word2vec_bin(path: Path, max_vocab: int | None) -> KeyedVectors:
    """Read a word2vec binary file (`rows dim` line, then per row: word, a space, dim little-endian float32).

    Our own streaming reader instead of gensim's: gensim re-scans its growing buffer for the space
    that ends a word, so a word without one costs time quadratic in its length, and it holds a gzip
    file's whole content in a temporary file. Here a gzip file is read as a stream, a word longer
    than $MOSECROT_MAX_WORD_BYTES is a `LimitError`, rows go straight into the header's matrix
    (checked against the budget first), and words are NFC (the first of a repeated word kept).
    """
    _, gz = _strip_gz(path)
    limit = max_word_bytes()
    with _open(path, gz) as fh:
        try:
            first = fh.readline(64)
            rows, dim, keep = _check_word2vec_header(first, None if gz else path.stat().st_size, path, max_vocab)
            into = np.empty((keep, dim), dtype=np.float32)
            row_bytes, block = 4 * dim, max(8 << 20, 4 * (4 * dim + limit))
            buf, pos, eof, offset = b"", 0, False, len(first)
            words: list[str] = []
            seen: set[str] = set()
            dropped = read = 0
            while read < rows and len(words) < keep:
                end = buf.find(b" ", pos, pos + limit + 8)  # a word, after the newline some writers put first
                if end < 0 or len(buf) - end - 1 < row_bytes:
                    if len(buf) - pos >= limit + 8 and end < 0:
                        raise LimitError(f"the word of row {read + 1:,} is longer than {limit:,} bytes (at byte "
                                         f"{offset:,}): not a word2vec binary file? (limit: set "
                                         "MOSECROT_MAX_WORD_BYTES)", path)
                    if eof:
                        raise FormatError(f"not a readable word2vec binary file (truncated: it ends inside row "
                                          f"{read + 1:,} of the {rows:,} its header announces)", path)
                    more = fh.read(block)
                    eof = not more
                    buf, pos = buf[pos:] + more, 0
                    continue
                word = nfc(buf[pos:end].lstrip(b"\n\r").decode("utf-8", errors="ignore"))
                if word in seen:
                    dropped += 1
                else:
                    seen.add(word)
                    into[len(words)] = np.frombuffer(buf, dtype="<f4", count=dim, offset=end + 1)
                    words.append(word)
                offset += end + 1 + row_bytes - pos
                pos = end + 1 + row_bytes
                read += 1
        except (OSError, EOFError) as exc:
            raise FormatError(f"not a readable word2vec binary file ({exc})", path) from None
    if not words:
        raise FormatError("not a readable word2vec binary file (no rows)", path)
    return _keyed(words, into[: len(words)], dropped)


def _load_fasttext_bin(path: Path, max_vocab: int | None) -> KeyedVectors:
    from gensim.models.fasttext import load_facebook_vectors

    src = _ungzip_to_temp(path)
    try:
        _check_fasttext_bin(src, path)
        kv = load_facebook_vectors(str(src))
    except InputError:
        raise  # our own checks, already naming the file
    except (ValueError, EOFError, NotImplementedError, struct.error, AssertionError, OverflowError, IndexError,
            KeyError) as exc:  # gensim's reader on a damaged model (found by mutating a real one, tests/io)
        raise FormatError(f"not a readable fastText .bin model ({type(exc).__name__}: {exc})", path) from None
    finally:
        if src != path:
            src.unlink(missing_ok=True)
    if max_vocab is not None and max_vocab < len(kv.index_to_key):
        # keep subword buckets (for unknown words) but trim the listed vocabulary
        kv.index_to_key = kv.index_to_key[:max_vocab]
        kv.key_to_index = {w: i for i, w in enumerate(kv.index_to_key)}
        kv.vectors = kv.vectors[:max_vocab]
    return _nfc_keys(kv, path)


def _nfc_keys(kv: KeyedVectors, path: Path) -> KeyedVectors:
    """`kv` with its listed words in NFC; where two words become one, the first row is kept (`duplicate_words`).

    The subword buckets are untouched: n-grams are hashed from whatever word is asked for.
    """
    words = [nfc(w) for w in kv.index_to_key]
    kv.duplicate_words = 0
    if words == kv.index_to_key:
        return kv
    first: dict[str, int] = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    if len(first) < len(words):
        keep = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        kv.duplicate_words = len(words) - len(first)
        kv.vectors = kv.vectors[keep]
        if getattr(kv, "vectors_vocab", None) is not None and len(kv.vectors_vocab) >= len(words):
            kv.vectors_vocab = kv.vectors_vocab[keep]
        words = [words[i] for i in keep]
    kv.index_to_key = words
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    return kv


def _check_word2vec_header(first: bytes, size: int | None, path: Path, max_vocab: int | None) -> tuple[int, int, int]:
    """(rows, dim, rows to keep) from a word2vec binary's first line, checked against the width limit, the
    matrix budget and (for a plain file of `size` bytes) what the file can hold, before anything is allocated."""
    header = _parse_header(strip_bom(first).split())
    if header is None:
        raise FormatError("not a readable word2vec binary file (no 'rows dim' header on the first line)", path, 1)
    rows, dim = header
    if dim <= 0 or rows <= 0:
        raise FormatError(f"not a readable word2vec binary file (header gives {rows} rows of dimension {dim})", path, 1)
    keep = min(rows, max_vocab or rows)
    if size is not None and size - len(first) < keep * (dim * 4 + 2):  # each row: a word of 1+ bytes, a space, dim float32
        raise FormatError(f"not a readable word2vec binary file (truncated: {size:,} bytes cannot hold {keep:,} rows "
                          f"of dimension {dim})", path)
    if dim > max_dimension():
        raise LimitError(f"header gives {dim} dimensions, more than the limit {max_dimension()} (set MOSECROT_MAX_DIM)",
                         path, 1)
    check_matrix_budget(keep, dim, path)
    return rows, dim, keep


class _Cursor:
    """Exact reads from a binary file: a short read is a `FormatError` naming the file, never an endless loop."""

    def __init__(self, fh, path: Path, what: str):
        self.fh, self.path, self.what, self.buf, self.pos, self.offset = fh, path, what, b"", 0, 0

    def _more(self) -> None:
        chunk = self.fh.read(1 << 20)
        if not chunk:
            raise FormatError(f"truncated: the file ends inside its {self.what} (at byte {self.offset:,}): "
                              "not a complete fastText .bin model", self.path)
        self.buf, self.pos = self.buf[self.pos:] + chunk, 0

    def take(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n:
            self._more()
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        self.offset += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def until_nul(self) -> bytes:
        while (i := self.buf.find(b"\0", self.pos)) < 0:
            if len(self.buf) - self.pos > max_word_bytes():
                raise LimitError(f"a vocabulary word longer than {max_word_bytes():,} bytes (at byte {self.offset:,}): "
                                 "not a fastText .bin model? (limit: set MOSECROT_MAX_WORD_BYTES)", self.path)
            self._more()
        out = self.buf[self.pos:i]
        self.offset += i + 1 - self.pos
        self.pos = i + 1
        return out


def _check_fasttext_bin(src: Path, path: Path) -> None:
    """Walk a fastText `.bin`'s header and vocabulary before gensim reads it.

    Why: gensim's reader loops for ever on a file truncated inside its vocabulary (`read(1)`
    returns b"" and never the word's end marker), and allocates whatever the matrix header says.
    Here a truncated or inconsistent file is a `FormatError` naming it, and the matrices gensim
    will build (words + buckets, then the word vectors) are checked against the budget first.
    """
    size = src.stat().st_size
    with open(src, "rb") as fh:
        cur = _Cursor(fh, path, "header")
        cur.unpack("@2i")  # magic (checked by detect_format), version
        dim = cur.unpack("@i")[0]
        cur.unpack("@11i")  # ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn, lr_update_rate
        cur.unpack("@d")  # t
        vocab_size, nwords, nlabels = cur.unpack("@3i")
        cur.unpack("@q")  # ntokens
        (prune,) = cur.unpack("@q")
        if not 0 < dim <= 1 << 20 or vocab_size < 0 or not 0 <= nwords <= vocab_size or nlabels < 0 or prune < -1:
            raise FormatError(f"not a readable fastText .bin model (header gives dimension {dim}, {vocab_size} "
                              f"words, {nwords} of them whole words)", path)
        if dim > max_dimension():
            raise LimitError(f"vectors have {dim} dimensions, more than the limit {max_dimension()} "
                             "(set MOSECROT_MAX_DIM)", path)
        cur.what = "vocabulary"
        for _ in range(vocab_size):
            cur.until_nul()
            cur.take(9)  # count (int64) and entry type (int8)
        cur.take(8 * max(prune, 0))  # -1: not pruned
        cur.what = "matrix header"
        cur.take(1)  # quantised?
        rows, width = cur.unpack("@2q")
        if width != dim or rows < nwords:
            raise FormatError(f"not a readable fastText .bin model (matrix of {rows} x {width} for {nwords} words "
                              f"of dimension {dim})", path)
        check_matrix_budget(rows + nwords, dim, path, what="fastText word and subword vectors")
        if size - cur.offset < rows * width * 4:
            raise FormatError(f"truncated: the file ends inside its input matrix ({size:,} bytes, the header asks for "
                              f"{cur.offset + rows * width * 4:,}): not a complete fastText .bin model", path)


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
    """Raise `FormatError` naming the first row holding NaN or inf; checked in row blocks (a bounded temporary)."""
    if len(kv.index_to_key) == 0:
        raise FormatError("no vectors found", path)
    step = max(1, (1 << 20) // max(1, kv.vectors.shape[1]))  # 1M values: a 1 MB temporary
    for start in range(0, len(kv.vectors), step):
        bad = ~np.isfinite(kv.vectors[start:start + step]).all(axis=1)
        if bad.any():
            i = start + int(np.flatnonzero(bad)[0])
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
    from gensim.models import KeyedVectors

    out = KeyedVectors(vector_size=kv.vector_size, dtype=np.float32)
    out.add_vectors([kv.index_to_key[i] for i in idx], kv.vectors[idx].astype(np.float32))
    return out
