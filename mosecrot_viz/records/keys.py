"""Machine keys of a run's record and their display text, in one table each.

A stored record keys its anchor drop reasons, ladder rungs and ladder links by short machine keys in memory; the text
a person reads is looked up here, once. results.json still stores the drop reasons by their text (that is what
every run so far wrote, and the numbers' files must not move); `records.results.AnchorReport` turns them into keys
when it reads and back into text when it writes.
"""
from __future__ import annotations

#: anchor drop reason key -> the sentence results.json and the Anchors page show
DROP_REASONS = {
    "not_source_token": "English side not a whole PLM token",
    "no_target_vector": "target side has no static vector",
    "extra_translation": "extra translation of a target word already anchored",
    "reused_english": "English word already anchored (one-to-one policy)",
    "duplicate": "duplicate pair",
    "stop_word": "English side is a stop word (filter)",
    "not_in_subset": "not in the random anchor subset (filter)",
    "low_agreement": "low cross-lingual agreement of relative representations (filter)",
}
_DROP_KEY_OF = {text: key for key, text in DROP_REASONS.items()}

#: the suffix results.json appends to an English rung read on the English dev split (no English test set)
DEV_SUFFIX = " (dev)"

#: every rung, reference and baseline in words: the chart, the table, the glossary and `explain` use these
RUNG_TEXT = {
    "english_original": "English model, English sentences",
    "english_method": "re-initialised model, English sentences",
    "oracle_translation": "exact translations, target sentences",
    "oracle_vector_vocab": "exact translations where a vector exists",
    "stitched": "stitched (mapped rows)",
    "self_trained": "self-trained on unlabelled target text",
    "dictionary": "dictionary only, no vectors",
    "mplm": "multilingual model",
    "source": "English model reading target text",
    "majority": "majority class",
}

#: what the step *into* each rung (a link of the chain) changes, keyed by that rung
LINK_TEXT = {
    "english_method": "re-initialised embeddings",
    "oracle_translation": "word-by-word transfer",
    "oracle_vector_vocab": "vector coverage",
    "stitched": "the mapping",
    "self_trained": "self-training on unlabelled target text",
}


def drop_key(text: str) -> str:
    """The machine key of a stored drop reason; a reason this version has no key for is its own key."""
    return _DROP_KEY_OF.get(text, text)


def drop_text(key: str) -> str:
    """The sentence of a drop reason key (a key without an entry is already text: an older run's reason)."""
    return DROP_REASONS.get(key, key)


def split_rung(stored: str) -> tuple[str, bool]:
    """A stored rung name as (machine key, read on the English dev split): `'english_original (dev)'` ->
    `('english_original', True)`."""
    if stored.endswith(DEV_SUFFIX):
        return stored[: -len(DEV_SUFFIX)], True
    return stored, False


def rung_text(key: str, on_dev: bool = False) -> str:
    """A rung (or reference, or baseline) in words, with " (dev)" when its English sentences were the dev split."""
    return RUNG_TEXT.get(key, key) + (DEV_SUFFIX if on_dev else "")
