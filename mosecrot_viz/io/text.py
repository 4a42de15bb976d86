"""Word segmentation for target-language text.

Static vectors are looked up word by word, so every text must be split the way the vectors'
vocabulary was built: jieba for Chinese (the default zh vectors were trained on jieba output),
a Unicode word regex elsewhere.
"""
from __future__ import annotations

import logging
import re

_WORD = re.compile(r"\w+(?:['’-]\w+)*", re.UNICODE)
_CJK_LANGS = {"zh", "zho", "zh-cn", "zho_hans", "cmn"}


def is_chinese(lang: str | None) -> bool:
    """True for language codes we segment with jieba."""
    return bool(lang) and lang.lower().replace("-", "_") in {c.replace("-", "_") for c in _CJK_LANGS}


def segment(text: str, lang: str | None = None) -> list[str]:
    """Split `text` into words as the static vectors expect them (punctuation dropped)."""
    if is_chinese(lang):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        return [w for w in (t.strip() for t in jieba.cut(text)) if w and _WORD.search(w)]
    return _WORD.findall(text)
