"""English-Chinese pairs from CC-CEDICT: single-word English glosses of simplified headwords.

CC-CEDICT lines look like `傳統 传统 [chuan2 tong3] /tradition/traditional/`. Only glosses that are
one English word after removing parentheses and a leading "to " are kept; proper nouns (capitalised
pinyin), classifiers, variants and cross-references are skipped, because they make poor anchors.
"""
from __future__ import annotations

import re
from pathlib import Path

from mosecrot_viz.errors import InputError

_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)")
_SKIP = ("variant of", "cl:", "surname", "abbr.", "see ", "used in", "old variant", "erhua", "japanese", "korean")
_EN_WORD = re.compile(r"^[a-z][a-z'-]*$")


def gloss_word(gloss: str) -> str | None:
    """The gloss as one lower-case English word, or None when it is not a single word."""
    g = _PAREN.sub("", gloss).strip().lower()
    if any(g.startswith(s) or s in g for s in _SKIP):
        return None
    if g.startswith("to "):
        g = g[3:].strip()
    return g if _EN_WORD.match(g) else None


def cedict_pairs(path) -> list[tuple[str, str]]:
    """(english, simplified) pairs in dictionary order, each entry's glosses in their listed order."""
    path = Path(path)
    pairs, seen = [], set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            m = _LINE.match(line.strip())
            if not m:
                continue
            _, simp, pinyin, glosses = m.groups()
            if pinyin[:1].isupper():
                continue  # proper noun
            for gloss in glosses.split("/"):
                en = gloss_word(gloss)
                if en and (en, simp) not in seen:
                    seen.add((en, simp))
                    pairs.append((en, simp))
    if not pairs:
        raise InputError("no CC-CEDICT entries with single-word glosses found", path)
    return pairs
