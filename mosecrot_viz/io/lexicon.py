"""Bilingual lexicons: one `english target` pair per line, separated by a tab or spaces.

The anchor set of MoSECroT is drawn from these pairs, so the loader keeps the file's order
(policies such as "first translation wins" depend on it) and reports what it skipped.
"""
from __future__ import annotations

import os
from pathlib import Path

from mosecrot_viz.atomic import atomic_path
from mosecrot_viz.errors import FormatError, InputError
from mosecrot_viz.io.limits import LimitedGzip, bounded_lines, check_regular_file, refuse_unsafe, strip_bom


def load_lexicon(path: str | os.PathLike, *, lowercase_english: bool = False) -> list[tuple[str, str]]:
    """Read (english, target) pairs in file order; blank lines are skipped.

    There is no comment syntax: a line starting with `#` is a pair like any other (MUSE lists `#the #der`).

    Raises `FormatError` with the line for a line that is not exactly two fields, for non-UTF-8
    bytes, and for a file with no pairs; `LimitError` for an over-long line or a gzip bomb;
    `UnsafeFormatError` for a pickle.
    """
    path = check_regular_file(path, "lexicon")
    pairs: list[tuple[str, str]] = []
    with (LimitedGzip(path) if path.name.endswith(".gz") else open(path, "rb")) as fh:
        try:
            refuse_unsafe(fh.peek(8)[:8] if hasattr(fh, "peek") else b"", path, "lexicon")
        except (OSError, EOFError) as exc:
            raise FormatError(f"cannot read lexicon file ({exc})", path) from None
        for lineno, raw in bounded_lines(fh, path):
            try:
                line = (strip_bom(raw) if lineno == 1 else raw).decode("utf-8").strip()
            except UnicodeDecodeError:
                raise FormatError("not UTF-8 text", path, lineno) from None
            if not line:
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            parts = [p.strip() for p in parts]
            if len(parts) != 2 or not parts[0] or not parts[1]:
                raise FormatError(
                    f"expected 'english<TAB>target' (2 fields), found {len(parts)}: {line[:60]!r}", path, lineno
                )
            en, tgt = parts
            pairs.append((en.lower() if lowercase_english else en, tgt))
    if not pairs:
        raise FormatError("lexicon holds no pairs", path)
    return pairs


def write_lexicon(pairs, path: str | os.PathLike) -> Path:
    """Write (english, target) pairs one `english<TAB>target` per line (UTF-8), atomically.

    Why: lexicons are cached and read back by `lexicon.load_lexicon`; writing to a temporary
    file in the same folder and renaming means a crash never leaves a half-written lexicon.
    Raises `InputError` for an empty word or one holding a tab or line break.
    """
    path = Path(path)
    lines = []
    for en, tgt in pairs:
        for w in (en, tgt):
            if not isinstance(w, str) or not w or any(c in w for c in "\t\r\n"):
                raise InputError(f"cannot write pair ({en!r}, {tgt!r}): empty word, tab or line break", path)
        lines.append(f"{en}\t{tgt}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(lines)
    return path


def to_simplified(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Convert the Chinese side to simplified script (MUSE mixes scripts; the zh vectors are simplified)."""
    from opencc import OpenCC

    cc = OpenCC("t2s")
    return [(en, cc.convert(zh)) for en, zh in pairs]
