"""A word-level tokenizer over the static vocabulary, carrying the PLM's special tokens.

After the swap the model reads target text one word per token: ids 0..S-1 are the PLM's
special tokens (whose embedding rows stay E_s), ids S.. are the static-vector words in order.
With `unk_policy="subwords"` (beyond the paper) a word without a vector is split by the PLM's own
tokenizer instead, into ids `len(tokenizer) + piece id`: the swapped matrix then ends with F_s.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mosecrot_viz.io.text import segment

SPECIAL_ORDER = ("pad_token", "unk_token", "cls_token", "sep_token", "mask_token")
UNK_POLICIES = ("unk", "drop", "subwords")


@dataclass
class Encoded:
    """Token ids per text, and per text the share of words that had no static vector."""

    input_ids: list[list[int]]
    unknown_rate: np.ndarray
    n_words: np.ndarray


class WordTokenizer:
    """Maps target text to ids over `[specials] + words`; unknown words become [UNK], are dropped, or
    (`"subwords"`, given the PLM's `subword_tokenizer`) become the PLM's word pieces after the words."""

    def __init__(self, words, special_tokens: dict[str, str], *, lang=None, unk_policy="unk", lowercase_fallback=True,
                 subword_tokenizer=None, segmentation=None):
        if unk_policy not in UNK_POLICIES:
            raise ValueError(f"unk_policy must be one of {UNK_POLICIES}, got {unk_policy!r}")
        if unk_policy == "subwords" and subword_tokenizer is None:
            raise ValueError("unk_policy 'subwords' needs the PLM's tokenizer (subword_tokenizer=)")
        self.subword_tokenizer = subword_tokenizer
        self.special_tokens = {k: v for k, v in special_tokens.items() if v is not None}
        self.specials = [self.special_tokens[k] for k in SPECIAL_ORDER if k in self.special_tokens]
        self.words = list(words)
        self.vocab = {w: i + len(self.specials) for i, w in enumerate(self.words)}
        self.lang = lang
        self.segmentation = segmentation  # a rule of io.text.SEGMENTATIONS; None/"auto": the language's rule
        self.unk_policy = unk_policy
        self.lowercase_fallback = lowercase_fallback
        self.pad_token_id = self.specials.index(self.special_tokens["pad_token"])
        self.unk_token_id = self.specials.index(self.special_tokens["unk_token"])
        self.cls_token_id = self.specials.index(self.special_tokens["cls_token"])
        self.sep_token_id = self.specials.index(self.special_tokens["sep_token"])

    def __len__(self) -> int:
        return len(self.specials) + len(self.words)

    def lookup(self, word: str) -> int | None:
        """Id of `word` (exact, then lower-cased), or None when it has no vector."""
        i = self.vocab.get(word)
        if i is None and self.lowercase_fallback:
            i = self.vocab.get(word.lower())
        return i

    def split(self, text: str) -> list[str]:
        """The words of `text`, segmented as the target vectors were built (see `io.text.segment`)."""
        return segment(text, self.lang, rule=self.segmentation)

    def encode(self, texts, max_length: int = 128) -> Encoded:
        """Segment and look up each text; [CLS] ... [SEP], truncated to `max_length`."""
        all_ids, rates, counts = [], [], []
        for text in texts:
            words = self.split(text)
            ids, unknown = [], 0
            for w in words:
                unknown += self.lookup(w) is None
                ids += self.word_ids(w)
            ids = [self.cls_token_id] + ids[: max_length - 2] + [self.sep_token_id]
            all_ids.append(ids)
            rates.append(unknown / len(words) if words else 1.0)
            counts.append(len(words))
        return Encoded(all_ids, np.array(rates), np.array(counts))

    def word_ids(self, word: str) -> list[int]:
        """The ids `encode` gives one word: its own id, or what the unknown-word policy makes of it."""
        i = self.lookup(word)
        if i is not None:
            return [i]
        if self.unk_policy == "unk":
            return [self.unk_token_id]
        if self.unk_policy == "subwords":
            return self.subword_ids(word)
        return []

    def subword_ids(self, word: str) -> list[int]:
        """The PLM's pieces for `word`, as ids into the block of F_s rows that follows the words."""
        pieces = self.subword_tokenizer(word, add_special_tokens=False)["input_ids"]
        return [len(self) + i for i in pieces] or [self.unk_token_id]

    def special_source_ids(self, source_tokenizer) -> list[int]:
        """The PLM ids of our special tokens, in our id order (to copy their E_s rows)."""
        return [source_tokenizer.convert_tokens_to_ids(t) for t in self.specials]
