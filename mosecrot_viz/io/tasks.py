"""Task data: labelled sentences in the SIB-200, Taxi1500 or generic CSV/TSV layout.

Every loader returns the same small frame (`id`, `label`, `text`) so the pipeline never cares
where the data came from.
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pandas as pd

from mosecrot_viz.errors import FormatError, LabelError, LimitError, SchemaError
from mosecrot_viz.io.limits import (
    bounded_lines,
    check_regular_file,
    max_labels,
    max_task_bytes,
    mb,
    memory_error_as_limit,
    refuse_unsafe,
    strip_bom,
)
from mosecrot_viz.io.text import nfc

LABEL_COLUMNS = ("label", "category", "class", "labels", "topic", "intent")  # first found wins
TEXT_COLUMNS = ("text", "sentence", "verse", "content", "utterance", "document")
ID_COLUMNS = ("index_id", "id", "index", "idx", "uid", "guid", "verse_id", "sentence_id")
KNOWN_COLUMNS = frozenset(LABEL_COLUMNS + TEXT_COLUMNS + ID_COLUMNS)
MAX_BLANK_LINES = 1_000_000  # a task file has a sentence on every line; SIB-200's have none blank
_NAME = re.compile(r"[a-z_][a-z0-9_ .\-]{0,39}")  # what a column name looks like: short, starts with a letter


def _column_key(name: str) -> str:
    """A header cell as it is matched: stripped, quotes around it dropped (a TSV written with every cell quoted),
    lower-cased, spaces and hyphens as underscores (`"Index ID"` -> index_id)."""
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1].strip()
    return re.sub(r"[\s\-]+", "_", name.lower())


def _looks_like_header(cells: list[str]) -> bool:
    """True when every cell of a first row is a column-name-shaped word and one of them is a name we know.

    Why: a headerless Taxi1500 row (`v1<TAB>Faith<TAB>Believe`) is also all short words, so shape
    alone cannot tell; a known name (`id`, `class`, `text`...) can. Such a row is never read as data:
    a header row read as data put a label `class` into the test set and the macro-F1 average.
    """
    keys = [_column_key(c) for c in cells]
    return (bool(keys) and all(_NAME.fullmatch(k) for k in keys)
            and any(k in KNOWN_COLUMNS for k in keys))


def _read_text(path: Path) -> str:
    """The file's text, read line by line within the line and task-size limits (a BOM dropped).

    Why: a whole-file read of a runaway file (a log, a disk image) fills memory before any check
    runs; here memory stops at $MOSECROT_MAX_TASK_MB plus one line.
    """
    limit, size, parts, blank = max_task_bytes(), 0, [], 0
    with open(path, "rb") as fh:
        refuse_unsafe(fh.peek(8)[:8], path, "task")
        for lineno, raw in bounded_lines(fh, path):
            size += len(raw)
            if size > limit:
                raise LimitError(f"task file is larger than {mb(limit)} MB: is it the right file? "
                                 "(limit: set MOSECROT_MAX_TASK_MB)", path, lineno)
            if lineno == 1:
                raw = strip_bom(raw)
            if b"\0" in raw:  # text never holds NUL; UTF-16 and binary files do (each ASCII letter is 'x\0')
                raise FormatError("holds a NUL byte: not UTF-8 text (UTF-16, or a binary file?)", path, lineno)
            if not raw.strip():
                blank += 1
                if blank > MAX_BLANK_LINES:  # each costs a Python string once split: 512 MB of them took GBs
                    raise FormatError(f"holds more than {MAX_BLANK_LINES:,} blank lines: not a task file?", path,
                                      lineno)
            try:
                parts.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise FormatError("not UTF-8 text", path, lineno) from None
    return "".join(parts)


def load_task(path: str | os.PathLike) -> pd.DataFrame:
    """Load a task file into a frame with columns `id`, `label`, `text` (all strings).

    Layouts: SIB-200 (TSV, header `index_id category text`), Taxi1500 (headerless TSV
    `id label text`) and any CSV/TSV whose header names a label column (`LABEL_COLUMNS`) and a text
    column (`TEXT_COLUMNS`), matched case-blind. A first row that looks like a header (column-shaped
    words, one of them a known name) but lacks one of the two is refused, never read as data.
    Labels and text are put in Unicode NFC (`io.text.nfc`).
    Raises `FormatError` for malformed content, `SchemaError` without label and text columns,
    `LimitError` for an over-long line or too many labels. The frame's `attrs["path"]` is the
    file, so `check_labels` can name it.
    """
    path = check_regular_file(path, "task")
    with memory_error_as_limit(path, lambda: path.stat().st_size, "set MOSECROT_MAX_TASK_MB lower to refuse such "
                               "files before reading them"):
        return _load_task(path)


def _load_task(path: Path) -> pd.DataFrame:
    content = _read_text(path)
    lines = content.splitlines()
    if not any(line.strip() for line in lines):
        raise FormatError("task file is empty", path)
    first = lines[0]
    sep = "\t" if ("\t" in first or path.suffix.lower() in {".tsv", ".txt"}) else ","
    cells = first.split("\t") if sep == "\t" else next(csv.reader([first]), [])
    header = [_column_key(c) for c in cells]
    label_col = next((c for c in LABEL_COLUMNS if c in header), None)
    text_col = next((c for c in TEXT_COLUMNS if c in header), None)
    if label_col and text_col:
        twice = sorted({c for c in header if c and header.count(c) > 1})
        if twice:  # pandas renamed the second 'text' to 'text.1' and read the first, without a word (hostile h09)
            raise SchemaError(f"the header names column {', '.join(twice)} twice: which one holds the data?", path, 1)
        df = _read_with_header(content, sep, path)
        df.columns = [_column_key(str(c)) for c in df.columns]
        id_col = next((c for c in ID_COLUMNS if c in df.columns and c not in (label_col, text_col)), None)
        ids = df[id_col] if id_col else pd.Series(range(len(df)))
        out = pd.DataFrame({"id": ids.astype(str), "label": df[label_col], "text": df[text_col]})
    elif _looks_like_header(cells):
        raise SchemaError(
            f"the first row looks like a header ({', '.join(c.strip() for c in cells[:6])}) but names no "
            f"{'label' if not label_col else 'text'} column: call the label column one of "
            f"{'/'.join(LABEL_COLUMNS)} and the text column one of {'/'.join(TEXT_COLUMNS)}", path, 1)
    elif sep == "\t" and len(first.split("\t")) >= 3:
        out = _read_taxi1500(lines, path)
    else:
        raise SchemaError(
            f"cannot find a label column ({'/'.join(LABEL_COLUMNS)}) and a text column "
            f"({'/'.join(TEXT_COLUMNS)}); header was {header[:6]}",
            path,
            1,
        )
    out = _validate(out, path)
    out.attrs["path"] = str(path)
    return out


def _read_with_header(content: str, sep: str, path: Path) -> pd.DataFrame:
    try:
        if sep == "\t":
            return pd.read_csv(io.StringIO(content), sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
        return pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise FormatError(f"malformed table ({exc})", path) from None


def _read_taxi1500(lines: list[str], path: Path) -> pd.DataFrame:
    rows = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        if len(parts) != 3:
            raise FormatError(f"expected 'id<TAB>label<TAB>text', found {len(parts)} fields", path, lineno)
        rows.append(parts)
    return pd.DataFrame(rows, columns=["id", "label", "text"])


def _validate(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    df = df.astype(str)
    df["label"] = df["label"].str.strip().map(nfc)  # one Unicode form (NFC) for labels and words: io.text.nfc
    df["text"] = df["text"].str.strip().map(nfc)
    empty = (df["label"] == "") | (df["text"] == "")
    if empty.any():
        i = int(empty.to_numpy().nonzero()[0][0])
        raise FormatError(f"row {i + 1} has an empty label or text", path)
    if df.empty:
        raise FormatError("task file has a header but no rows", path)
    n_labels = df["label"].nunique()
    if n_labels > max_labels():
        raise LimitError(f"{n_labels:,} distinct labels, more than the limit {max_labels():,}: is the label column "
                         "right? (set MOSECROT_MAX_LABELS)", path)
    return df.reset_index(drop=True)


def check_labels(train: pd.DataFrame, other: pd.DataFrame, *, name: str = "test") -> None:
    """Raise `LabelError` when `other` holds labels never seen in training (they can't be predicted).

    The message names `other`'s file (from `load_task`'s `attrs["path"]`) when it is known.
    """
    unseen = sorted(set(other["label"]) - set(train["label"]))
    if unseen:
        where = other.attrs.get("path")
        more = f" (and {len(unseen) - 10:,} more)" if len(unseen) > 10 else ""
        raise LabelError(f"{name} data has labels not in the training data: {', '.join(map(str, unseen[:10]))}{more}",
                         where)


def check_trainable(train: pd.DataFrame, dev: pd.DataFrame) -> None:
    """Raise `LabelError` for training data a classifier cannot learn from: one label, or no dev rows left.

    Why: one class trains to a constant and reports a meaningless F1; with one row per label no
    dev split can be held out (each label keeps its only row), and epoch selection then fails
    deep in training with an IndexError.
    """
    where = train.attrs.get("path")
    labels = sorted(set(train["label"]))
    if len(labels) < 2:
        raise LabelError(f"training data has only one label ({labels[0]!r} in {len(train)} rows): a classifier needs "
                         "at least two", where)
    if dev.empty:
        raise LabelError(f"training data has too few rows per label to hold out a dev split ({len(train)} rows, "
                         f"{len(labels)} labels): give --dev, or more rows", where)
