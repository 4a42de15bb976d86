"""Beyond the paper's setting: target words that have no static vector, read through English rows.

Two label-free ways to cover target words the static vectors miss (the coverage suspect):

* lexicon vocabulary: a lexicon target word without a vector joins the target vocabulary and gets
  the PLM row(s) of its English translation (the mean of its word pieces' rows in F_s);
* subword fallback: any other unknown word is split by the PLM's own tokenizer and read with the
  PLM's rows (see `WordTokenizer(unk_policy="subwords")`).

Both leave MoSECroT's setting (static vectors only) and are labelled as such wherever they are reported.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LexiconVocabulary:
    """Extra target words (not in the static vectors) and, per word, the PLM piece ids of its translation."""

    words: tuple[str, ...]
    piece_ids: tuple[tuple[int, ...], ...]

    def __len__(self) -> int:
        return len(self.words)

    def rows(self, f_s) -> np.ndarray:
        """One row per extra word: the mean of F_s over its translation's pieces, shape (len(self), D)."""
        f_s = np.asarray(f_s, dtype=np.float32)
        if not self.words:
            return np.zeros((0, f_s.shape[1]), dtype=np.float32)
        return np.stack([f_s[list(ids)].mean(axis=0) for ids in self.piece_ids]).astype(np.float32)


def lexicon_vocabulary(pairs, target_vocab, source_tokenizer, *, special_ids=()) -> LexiconVocabulary:
    """Target words of `pairs` with no static vector (neither as written nor lower-cased), each with the
    PLM piece ids of its first listed English translation that the tokenizer can read (not all [UNK]).

    pairs : iterable of (english, target); target_vocab : the static vectors' word -> row mapping.
    """
    unk, specials = source_tokenizer.unk_token_id, set(special_ids)
    words, pieces, seen = [], [], set()
    for en, tgt in pairs:
        if tgt in seen or tgt in target_vocab or tgt.lower() in target_vocab:
            continue
        ids = [i for i in source_tokenizer(en, add_special_tokens=False)["input_ids"] if i not in specials]
        if not ids or all(i == unk for i in ids):
            continue
        seen.add(tgt)
        words.append(tgt)
        pieces.append(tuple(ids))
    return LexiconVocabulary(tuple(words), tuple(pieces))
