"""Input limits shared by the loaders: a gzip reader that stops decompression bombs early, a
line reader that stops at an over-long line, a refusal of anything that is not a regular file
(a FIFO or a device would block or never end), a rows x dim memory budget checked before
allocating, and a sniffer for formats that can run code."""
from __future__ import annotations

import gzip
import math
import os
import stat
import threading
from contextlib import contextmanager
from pathlib import Path

from mosecrot_viz.errors import FormatError, InputError, LimitError, PathError, UnsafeFormatError


def env_number(name: str, default: float, *, integer: bool = False, minimum: float = 1) -> float:
    """The number in environment variable `name` (or `default`), refusing junk with the variable named.

    Why: `int(os.environ[...])` fails with "invalid literal for int()", which names neither the
    variable nor what it should hold.
    """
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip().replace("_", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum or (integer and value != int(value)):
        kind = "a whole number" if integer else "a number"
        raise InputError(f"environment variable {name}={raw!r} must be {kind} >= {minimum:g}")
    return int(value) if integer else value


def mb(n: int) -> str:
    """`n` bytes in MB for a message: "8,192" for a default, "0.1" for a test's tiny limit."""
    x = n / 2**20
    return f"{x:,.0f}" if x >= 10 else f"{x:.3g}"


def max_decompressed_bytes() -> int:
    """Largest size a gzip upload may expand to ($MOSECROT_MAX_DECOMPRESSED_MB, default 20,000 MB)."""
    return int(env_number("MOSECROT_MAX_DECOMPRESSED_MB", 20_000, minimum=0.001) * 2**20)


def max_task_bytes() -> int:
    """Largest task file read ($MOSECROT_MAX_TASK_MB, default 512 MB; SIB-200 and Taxi1500 are under 1 MB).

    Why: a task file becomes a pandas frame held for the whole run; a runaway file (a log, a
    disk image) stops at the limit instead of filling memory.
    """
    return int(env_number("MOSECROT_MAX_TASK_MB", 512, minimum=0.001) * 2**20)


def max_matrix_bytes() -> int:
    """Largest vector matrix a file may ask for, rows x dim x 4 bytes ($MOSECROT_MAX_MATRIX_MB, default 8,192 MB).

    Why: a header such as `4000000 4096` is inside the row and width limits but asks for 61 GiB;
    it is checked from the header before anything is allocated. fastText's 2M-word, 300-d
    models with their 2M subword buckets need 4.6 GB.
    """
    return int(env_number("MOSECROT_MAX_MATRIX_MB", 8_192, minimum=0.001) * 2**20)


_asked = threading.local()  # the last matrix size a reader asked for in this thread, for a MemoryError's message


def asked_bytes() -> int | None:
    """The bytes of the last matrix `check_matrix_budget` allowed in this thread (None before any)."""
    return getattr(_asked, "bytes", None)


def check_matrix_budget(rows: int, dim: int, path, what: str = "vectors") -> None:
    """Raise `LimitError` naming `path` and $MOSECROT_MAX_MATRIX_MB when rows x dim float32 exceed the budget."""
    need, budget = int(rows) * int(dim) * 4, max_matrix_bytes()
    _asked.bytes = need
    if need > budget:
        raise LimitError(f"{what} of {int(rows):,} x {int(dim):,} would need {need / 2**20:,.0f} MB, more than the "
                         f"limit {mb(budget)} MB: keep fewer with --max-vocab N, or raise MOSECROT_MAX_MATRIX_MB",
                         path)


def check_regular_file(path, kind: str) -> Path:
    """Refuse, before opening, a path that is missing, a folder, or not a regular file (a FIFO, a device, a socket).

    Why: opening a FIFO blocks until a writer comes, and `/dev/zero` or `/dev/urandom` never end;
    a folder fails later with a bare IsADirectoryError. `stat` never blocks, so this runs first.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise PathError(f"{kind} file not found", path) from None
    except OSError as exc:
        raise PathError(f"cannot open {kind} file ({exc.strerror or exc})", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise PathError(f"is a folder, not a {kind} file", path)
    if not stat.S_ISREG(st.st_mode):
        what = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else
                "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise PathError(f"is {what}, not a regular {kind} file: give a file on disk", path)
    return path


def strip_bom(raw: bytes) -> bytes:
    """`raw` without a leading UTF-8 byte-order mark (editors on Windows write one)."""
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


class LimitedGzip(gzip.GzipFile):
    """A gzip reader that stops a decompression bomb early instead of filling memory or disk."""

    def __init__(self, path: Path):
        super().__init__(filename=str(path), mode="rb")
        self._limit, self._read, self._path = max_decompressed_bytes(), 0, path

    def _count(self, n: int) -> None:
        self._read += n
        if self._read > self._limit:
            raise LimitError(f"decompresses to more than {self._limit // 2**20:,} MB (limit: set "
                             "MOSECROT_MAX_DECOMPRESSED_MB)", self._path)

    def read(self, size=-1):
        data = super().read(size)
        self._count(len(data))
        return data

    def read1(self, size=-1):
        data = super().read1(size)
        self._count(len(data))
        return data

    def readline(self, size=-1):
        data = super().readline(size)
        self._count(len(data))
        return data

    def __iter__(self):
        return iter(self.readline, b"")


def max_dimension() -> int:
    """Largest vector width accepted ($MOSECROT_MAX_DIM, default 4096): a wider row is a malformed file."""
    return env_number("MOSECROT_MAX_DIM", 4096, integer=True)


def max_vectors() -> int:
    """Most vectors a file may hold ($MOSECROT_MAX_VECTORS, default 4,000,000; fastText's largest has 2.5M).

    Why: rows cost memory all the way through mapping; past the limit the loader stops reading at
    once and asks for --max-vocab instead of filling memory.
    """
    return env_number("MOSECROT_MAX_VECTORS", 4_000_000, integer=True)


def max_labels() -> int:
    """Most distinct labels a task may have ($MOSECROT_MAX_LABELS, default 1000): more means a wrong column."""
    return env_number("MOSECROT_MAX_LABELS", 1000, integer=True)


def max_line_bytes() -> int:
    """Longest line a text parser reads ($MOSECROT_MAX_LINE_KB, default 1024 KB).

    Why: a file without line breaks would otherwise be read whole into one string. A 1000-d
    vector line is about 12 KB, so the default leaves plenty of room.
    """
    return int(env_number("MOSECROT_MAX_LINE_KB", 1024, minimum=0.001) * 2**10)


def _line_limit_error(path, lineno: int, limit: int) -> LimitError:
    return LimitError(f"line is longer than {limit // 2**10:,} KB: not a text file of this kind? "
                      "(limit: set MOSECROT_MAX_LINE_KB)", path, lineno)


def bounded_lines(fh, path):
    """Yield (line number, raw bytes) from a binary file, raising `LimitError` at an over-long line.

    Why: plain iteration reads a line whole however long it is; this reads at most the limit
    plus the line break, so a hostile file never costs more memory than one line's worth. A
    corrupt or truncated gzip stream is a `FormatError` naming the file and the line reached.
    """
    limit = max_line_bytes()
    lineno = 0
    while True:
        try:
            raw = fh.readline(limit + 2)
        except (OSError, EOFError) as exc:
            raise FormatError(f"cannot read this line: corrupt or truncated file ({exc})", path, lineno + 1) from None
        if not raw:
            return
        lineno += 1
        if len(raw.rstrip(b"\r\n")) > limit:
            raise _line_limit_error(path, lineno, limit)
        yield lineno, raw


def bounded_line_blocks(fh, path, block: int = 1 << 20):
    """Yield (number of the block's first line, its lines as bytes without b"\\n") about `block` bytes at a time.

    The same bounds as `bounded_lines` (a line over the limit is a `LimitError` naming it, memory holds
    one block plus one line) with the per-line work done in C: a 10-million-line lexicon is read in
    seconds instead of a minute.
    """
    limit, lineno, rest = max_line_bytes(), 0, b""
    while True:
        try:
            data = fh.read(block)
        except (OSError, EOFError) as exc:
            raise FormatError(f"cannot read this line: corrupt or truncated file ({exc})", path, lineno + 1) from None
        if not data:
            if rest:
                if len(rest.rstrip(b"\r")) > limit:
                    raise _line_limit_error(path, lineno + 1, limit)
                yield lineno + 1, [rest]
            return
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        if lines and max(map(len, lines)) > limit:  # a line break may be "\r\n": its "\r" does not count
            i = next((i for i, ln in enumerate(lines) if len(ln.rstrip(b"\r")) > limit), None)
            if i is not None:
                raise _line_limit_error(path, lineno + i + 1, limit)
        if len(rest) > limit + 1:
            raise _line_limit_error(path, lineno + len(lines) + 1, limit)
        if lines:
            yield lineno + 1, lines
        lineno += len(lines)


def check_line_lengths(data: bytes, path) -> None:
    """Raise `LimitError` naming the first line of `data` longer than the line limit (for whole-file readers)."""
    limit = max_line_bytes()
    if len(data) <= limit:
        return
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        if len(line.rstrip(b"\r")) > limit:
            raise _line_limit_error(path, lineno, limit)


UNSAFE_HINTS = {
    "vectors": "export the vectors as word2vec/fastText text (.vec) or word2vec binary (.bin) instead",
    "lexicon": "export the lexicon as text, one 'english<TAB>target' pair per line, instead",
    "task": "export the data as a CSV/TSV file with label and text columns instead",
}


def sniff_unsafe(head: bytes) -> str | None:
    """Name the code-executing format `head` starts with (a Python pickle, a torch.save archive), or None.

    Why: such files are never loaded (unpickling runs code), and a user who renamed one to .vec
    or .bin deserves "this is a pickle" rather than a confusing parse error.
    """
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "a Python pickle"
    if head.startswith(b"PK\x03\x04") and (b"data.pkl" in head or b"/data/" in head):
        return "a PyTorch torch.save archive (pickle inside)"
    return None


def refuse_unsafe(head: bytes, path, kind: str) -> None:
    """Raise `UnsafeFormatError` when `head` is a pickle-based format, saying what to export for `kind`."""
    found = sniff_unsafe(head)
    if found:
        raise UnsafeFormatError(f"this is {found}, which can run code when loaded and is never opened: "
                                f"{UNSAFE_HINTS[kind]}", path)


def max_word_bytes() -> int:
    """Longest single word a vector file may hold, in UTF-8 bytes ($MOSECROT_MAX_WORD_BYTES, default 4096).

    Why: a "word" without its separator (a binary file whose space never comes, a text row of one
    long token) would otherwise be held, scanned and re-scanned whole; fastText's own `.bin` reader
    here already stopped at 4 KB, and real vocabularies stay far below it.
    """
    return env_number("MOSECROT_MAX_WORD_BYTES", 4096, integer=True)


def max_lexicon_bytes() -> int:
    """Most text a lexicon's distinct pairs may hold ($MOSECROT_MAX_LEXICON_MB, default 256 MB; MUSE's lists hold
    about 2 MB).

    Why: the pair limit assumes word-sized pairs; a million distinct pairs of 1 KB each is a 1 GB file held whole
    (2 GB with Python's overhead). Counted as distinct pairs are kept, so exact repeats cost nothing.
    """
    return int(env_number("MOSECROT_MAX_LEXICON_MB", 256, minimum=0.001) * 2**20)


def max_pairs() -> int:
    """Most distinct pairs a lexicon may hold ($MOSECROT_MAX_PAIRS, default 2,000,000; MUSE's lists hold ~100k).

    Why: every pair is held for the run (about 200 bytes each, 0.4 GB at the limit); exact duplicates
    are dropped while streaming and counted, so only distinct pairs count against the limit.
    """
    return env_number("MOSECROT_MAX_PAIRS", 2_000_000, integer=True)


def max_run_table_bytes() -> int:
    """Largest table of a run folder read back (predictions.csv, ladder.csv; $MOSECROT_MAX_RUN_TABLE_MB, default
    256 MB; a SIB-200 run's predictions.csv is under 1 MB).

    Why: pandas holds a CSV's strings at several times their text; a tampered 90 MB predictions.csv ended explain in
    'out of memory' naming no file.
    """
    return int(env_number("MOSECROT_MAX_RUN_TABLE_MB", 256, minimum=0.001) * 2**20)


def max_json_bytes() -> int:
    """Largest JSON record read back ($MOSECROT_MAX_JSON_MB, default 64 MB; a run's results.json is about 0.2 MB).

    Why: parsed JSON costs four to five times its text in Python objects (a 390 MB results.json took 1.6 GB).
    """
    return int(env_number("MOSECROT_MAX_JSON_MB", 64, minimum=0.001) * 2**20)


def max_yaml_bytes() -> int:
    """Largest YAML file read ($MOSECROT_MAX_YAML_MB, default 1 MB; a grid file is a few hundred bytes, and the pure
    Python parser that can watch its nesting takes about 10 s per MB: a 3.4 MB grid took 31 s to refuse)."""
    return int(env_number("MOSECROT_MAX_YAML_MB", 1, minimum=0.001) * 2**20)


def max_json_containers() -> int:
    """Most lists and mappings a JSON file may hold ($MOSECROT_MAX_JSON_VALUES, default 1,000,000; a run's
    results.json holds a few thousand).

    Why: the size limit alone admits 64 MB of `[],[],...`: 22 million empty lists, 3-5 GB once parsed and
    walked. Counted from the bytes (every `[` and `{`, those inside strings included: an overcount) before parsing.
    """
    return env_number("MOSECROT_MAX_JSON_VALUES", 1_000_000, integer=True)


def max_nesting() -> int:
    """Deepest nesting of lists and mappings in a JSON or YAML file ($MOSECROT_MAX_NESTING, default 100).

    Why: Python's parsers recurse once per level, so `[[[[...` 100,000 deep ends in a RecursionError
    (or worse); our own records nest fewer than 10 levels.
    """
    return env_number("MOSECROT_MAX_NESTING", 100, integer=True)


def max_yaml_nodes() -> int:
    """Most values a YAML file may stand for once its aliases are expanded ($MOSECROT_MAX_YAML_NODES, default 100,000).

    Why: an alias (`*a`) repeats a whole earlier value; ten levels of ten aliases each stand for
    10^10 values from a 660-byte file (the "billion laughs"), which took 3.7 GB before this check.
    """
    return env_number("MOSECROT_MAX_YAML_NODES", 100_000, integer=True)


def check_file_size(path, limit: int, kind: str, variable: str) -> int:
    """The size of `path`, or `LimitError` naming it and `variable` when it is over `limit` bytes (checked before reading)."""
    size = Path(path).stat().st_size
    if size > limit:
        raise LimitError(f"{kind} file is {mb(size)} MB, more than the limit {mb(limit)} MB (set {variable})", path)
    return size


@contextmanager
def memory_error_as_limit(path, asked=asked_bytes, hint: str = "keep fewer rows with --max-vocab N, or set "
                          "MOSECROT_MAX_MATRIX_MB (now {budget} MB) lower to refuse such files before reading"):
    """Turn a MemoryError inside the block into one `LimitError` line: the file, the size asked for, what to change.

    `asked()` gives the bytes the reader was trying to hold (a header's matrix, the file's size) or None.
    Why: a bare MemoryError names no file and no way out; the reader knows both.
    """
    try:
        yield
    except MemoryError:
        need = asked()
        ceiling = address_space_limit()
        small = need if need is not None else _plain_size(path)
        if small is not None and ceiling is not None and small < SMALL_ASK:
            # the file asks for almost nothing: the process's own ceiling is too low for the libraries the reader
            # loads (under a 1.5 GB `ulimit -v`, a 26-row file 'ran out of memory (asked for 0.0006 MB)')
            raise LimitError(f"ran out of memory reading this file, which needs only {mb(small)} MB: the process may "
                             f"use at most {mb(ceiling)} MB of address space (ulimit -v), too little for the libraries "
                             "it loads; raise that limit", path) from None
        what = f" (asked for {mb(need)} MB)" if need else ""
        hint = hint.replace("{budget}", mb(max_matrix_bytes()))
        raise LimitError(f"ran out of memory reading this file{what}: {hint}", path) from None


def _plain_size(path) -> int | None:
    """The size of an uncompressed file (a bound on what reading it asks for), None for gzip or an unreadable one."""
    try:
        return None if str(path).endswith(".gz") else Path(path).stat().st_size
    except OSError:
        return None


SMALL_ASK = 64 * 2**20  # below this, a MemoryError is the process's ceiling, not the file's size


def address_space_limit() -> int | None:
    """This process's address-space ceiling in bytes (RLIMIT_AS, `ulimit -v`), or None when there is none."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def describe_limits() -> dict:
    """The limits in force, for the app and the docs."""
    return {"decompressed MB": max_decompressed_bytes() // 2**20, "line KB": max_line_bytes() // 2**10,
            "vectors per file": max_vectors(), "vector dimension": max_dimension(), "labels per task": max_labels(),
            "task file MB": max_task_bytes() // 2**20, "vector matrix MB": max_matrix_bytes() // 2**20,
            "word bytes": max_word_bytes(), "lexicon pairs": max_pairs(), "lexicon MB": max_lexicon_bytes() // 2**20,
            "JSON MB": max_json_bytes() // 2**20,
            "YAML MB": max_yaml_bytes() // 2**20, "nesting levels": max_nesting(),
            "YAML values (aliases expanded)": max_yaml_nodes()}
