"""Bilingual lexicons: one `english target` pair per line, separated by a tab or spaces.

The anchor set of MoSECroT is drawn from these pairs, so the loader keeps the file's order
(policies such as "first translation wins" depend on it) and reports what it skipped.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from mosecrot_viz.atomic import atomic_path
from mosecrot_viz.errors import FormatError, InputError, LimitError
from mosecrot_viz.io.limits import (
    LimitedGzip,
    bounded_line_blocks,
    check_regular_file,
    max_lexicon_bytes,
    max_pairs,
    memory_error_as_limit,
    refuse_unsafe,
    strip_bom,
)
from mosecrot_viz.io.text import nfc


class Lexicon(list):
    """(english, target) pairs in file order, each distinct pair once, with what reading dropped.

    A plain list to every caller; `duplicates` counts the exact repeats dropped while reading (the
    first occurrence kept, so "first translation wins" is unchanged), so a run can record a warning.
    """

    duplicates: int = 0
    path: str | None = None


_BLANK = ("", "")  # a blank line: skipped
_RECENT = 65_536  # raw lines remembered with their parse: a file of repeated lines is read at dictionary speed


def _parse_pair(raw: bytes, path, lineno, lowercase_english: bool) -> tuple[str, str]:
    """One raw line as an NFC (english, target) pair, `_BLANK` for a blank line; `FormatError` naming the line
    (`lineno()`, found only when there is an error)."""
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise FormatError("not UTF-8 text", path, lineno()) from None
    if not line:
        return _BLANK
    parts = line.split("\t") if "\t" in line else line.split()
    parts = [p.strip() for p in parts]
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise FormatError(f"expected 'english<TAB>target' (2 fields), found {len(parts)}: {line[:60]!r}", path, lineno())
    return nfc(parts[0].lower() if lowercase_english else parts[0]), nfc(parts[1])


def load_lexicon(path: str | os.PathLike, *, lowercase_english: bool = False) -> Lexicon:
    """Read (english, target) pairs in file order; blank lines are skipped, exact repeats dropped and counted.

    There is no comment syntax: a line starting with `#` is a pair like any other (MUSE lists `#the #der`).
    Both words are put in Unicode NFC (`io.text.nfc`), so `café` matches its vector in either encoding;
    a pair repeated (after that) is kept once, and `result.duplicates` says how many repeats were dropped.

    Raises `FormatError` with the line for a line that is not exactly two fields, for non-UTF-8
    bytes, and for a file with no pairs; `LimitError` for an over-long line, a gzip bomb, more
    distinct pairs than $MOSECROT_MAX_PAIRS or more of their text than $MOSECROT_MAX_LEXICON_MB; `UnsafeFormatError` for a pickle.
    """
    path = check_regular_file(path, "lexicon")
    pairs = Lexicon()
    pairs.path = str(path)
    seen: set[tuple[str, str]] = set()
    recent: dict[bytes, tuple[str, str]] = {}
    limit, text_limit, held = max_pairs(), max_lexicon_bytes(), 0
    with (LimitedGzip(path) if path.name.endswith(".gz") else open(path, "rb")) as fh, \
            memory_error_as_limit(path, lambda: len(pairs) * 200, "set MOSECROT_MAX_PAIRS lower to refuse such "
                                  "lexicons early, or give a shorter lexicon"):
        try:
            refuse_unsafe(fh.peek(8)[:8] if hasattr(fh, "peek") else b"", path, "lexicon")
        except (OSError, EOFError) as exc:
            raise FormatError(f"cannot read lexicon file ({exc})", path) from None
        for start, lines in bounded_line_blocks(fh, path):
            if start == 1:
                lines[0] = strip_bom(lines[0])
            # each distinct line of the block once, in first-occurrence order, with its count (in C): a file of
            # repeated lines costs a dictionary pass, and the first bad line is still the first reported
            for raw, count in Counter(lines).items():
                pair = recent.get(raw)
                if pair is None:
                    pair = _parse_pair(raw, path, lambda: start + lines.index(raw), lowercase_english)
                    if len(recent) < _RECENT:
                        recent[raw] = pair
                if pair is _BLANK:
                    continue
                if pair in seen:
                    pairs.duplicates += count
                    continue
                if len(pairs) >= limit:
                    raise LimitError(f"holds more than {limit:,} distinct pairs: is it a lexicon? "
                                     "(limit: set MOSECROT_MAX_PAIRS)", path, start + lines.index(raw))
                held += len(raw)
                if held > text_limit:
                    raise LimitError(f"its distinct pairs hold more than {text_limit // 2**20:,} MB of text: is it a "
                                     "lexicon? (limit: set MOSECROT_MAX_LEXICON_MB)", path, start + lines.index(raw))
                seen.add(pair)
                pairs.append(pair)
                pairs.duplicates += count - 1
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


def to_simplified(pairs: list[tuple[str, str]]) -> Lexicon:
    """Convert the Chinese side to simplified script (MUSE mixes scripts; the zh vectors are simplified)."""
    from opencc import OpenCC

    cc = OpenCC("t2s")
    out = Lexicon((en, cc.convert(zh)) for en, zh in pairs)
    out.duplicates, out.path = getattr(pairs, "duplicates", 0), getattr(pairs, "path", None)
    return out
