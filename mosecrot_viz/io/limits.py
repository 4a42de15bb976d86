"""Input limits shared by the loaders: a gzip reader that stops decompression bombs early."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

from ..errors import InputError


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
            raise InputError(f"decompresses to more than {self._limit // 2**20:,} MB (limit: set "
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


def max_labels() -> int:
    """Most distinct labels a task may have ($MOSECROT_MAX_LABELS, default 1000): more means a wrong column."""
    return int(os.environ.get("MOSECROT_MAX_LABELS", 1000))


def describe_limits() -> dict:
    """The limits in force, for the app and the docs."""
    return {"decompressed MB": max_decompressed_bytes() // 2**20, "vector dimension": max_dimension(),
            "labels per task": max_labels()}
