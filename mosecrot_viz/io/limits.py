"""Input limits shared by the loaders: a gzip reader that stops decompression bombs early, a
line reader that stops at an over-long line, and a sniffer for formats that can run code."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

from ..errors import FormatError, LimitError, UnsafeFormatError


def max_decompressed_bytes() -> int:
    """Largest size a gzip upload may expand to ($MOSECROT_MAX_DECOMPRESSED_MB, default 20,000 MB)."""
    return int(float(os.environ.get("MOSECROT_MAX_DECOMPRESSED_MB", 20_000)) * 2**20)


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
    return int(os.environ.get("MOSECROT_MAX_DIM", 4096))


def max_vectors() -> int:
    """Most vectors a file may hold ($MOSECROT_MAX_VECTORS, default 4,000,000; fastText's largest has 2.5M).

    Why: rows cost memory all the way through mapping; past the limit the loader stops reading at
    once and asks for --max-vocab instead of filling memory.
    """
    return int(os.environ.get("MOSECROT_MAX_VECTORS", 4_000_000))


def max_labels() -> int:
    """Most distinct labels a task may have ($MOSECROT_MAX_LABELS, default 1000): more means a wrong column."""
    return int(os.environ.get("MOSECROT_MAX_LABELS", 1000))


def max_line_bytes() -> int:
    """Longest line a text parser reads ($MOSECROT_MAX_LINE_KB, default 1024 KB).

    Why: a file without line breaks would otherwise be read whole into one string. A 1000-d
    vector line is about 12 KB, so the default leaves plenty of room.
    """
    return int(float(os.environ.get("MOSECROT_MAX_LINE_KB", 1024)) * 2**10)


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


def describe_limits() -> dict:
    """The limits in force, for the app and the docs."""
    return {"decompressed MB": max_decompressed_bytes() // 2**20, "line KB": max_line_bytes() // 2**10,
            "vectors per file": max_vectors(), "vector dimension": max_dimension(), "labels per task": max_labels()}
