"""Beyond the paper's setting: target words that have no static vector, read through English rows.

Two label-free ways to cover target words the static vectors miss (the coverage suspect):

* lexicon vocabulary: a lexicon target word without a vector joins the target vocabulary and gets
  the PLM row(s) of its English translation (the mean of its word pieces' rows in F_s);
* subword fallback: any other unknown word is split by the PLM's own tokenizer and read with the
  PLM's rows (see `WordTokenizer(unk_policy="subwords")`).

Both leave MoSECroT's setting (static vectors only) and are labelled as such wherever they are reported.

Within the setting, a fastText `.bin` model gives any unseen word a vector from its character n-grams:
`subword_words` collects the test words it does not list, and the pipeline appends them to the target
vocabulary before mapping (reported apart, as `data.subword_vocabulary` and `data.test_subword_word_rate`).
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


@dataclass(frozen=True)
class SubwordWords:
    """Within the paper's setting: test words a fastText `.bin` model does not list, with the vectors its
    character n-grams give them (fastText's own answer for an unseen word).

    They are appended after the `n_listed` listed words, so each gets a row of E_t and hence of F_t;
    anchors are still drawn from the listed words only. `tokens` of the test set's `n_tokens` words
    are read through these vectors (reported as `data.test_subword_word_rate`).
    """

    words: tuple[str, ...]
    vectors: np.ndarray
    n_listed: int
    tokens: int
    n_tokens: int

    def __len__(self) -> int:
        return len(self.words)


def has_subword_vectors(kv) -> bool:
    """True for fastText vectors that carry their n-gram buckets (a `.bin` model, not a `.vec` file)."""
    ngrams = getattr(kv, "vectors_ngrams", None)
    return getattr(kv, "bucket", 0) > 0 and ngrams is not None and len(ngrams) > 0


def subword_words(kv, texts, *, lang=None, segmentation=None) -> SubwordWords:
    """The test words `kv` does not list (as written nor lower-cased, the way `WordTokenizer` looks them
    up), in order of first appearance, with their n-gram vectors; words without any n-gram are left out."""
    from collections import Counter

    from mosecrot_viz.io.text import segment

    listed = kv.key_to_index
    unknown: Counter = Counter()  # insertion order = first appearance
    n_tokens = 0
    for text in texts:
        words = segment(text, lang, rule=segmentation)
        n_tokens += len(words)
        unknown.update(w for w in words if w not in listed and w.lower() not in listed)
    kept, rows = [], []
    for w in unknown:
        v = np.asarray(kv.get_vector(w), dtype=np.float32)
        if np.any(v):
            kept.append(w)
            rows.append(v)
    vectors = np.stack(rows) if rows else np.zeros((0, kv.vector_size), dtype=np.float32)
    return SubwordWords(tuple(kept), vectors, len(kv.index_to_key), sum(unknown[w] for w in kept), n_tokens)


def with_subword_words(kv, sub: SubwordWords):
    """Plain `KeyedVectors`: the listed words of `kv`, then `sub`'s words with their n-gram vectors."""
    from gensim.models import KeyedVectors

    out = KeyedVectors(vector_size=kv.vector_size, count=0, dtype=np.float32)
    listed = np.asarray(kv.vectors[: sub.n_listed], dtype=np.float32)
    out.add_vectors(list(kv.index_to_key[: sub.n_listed]) + list(sub.words), np.vstack([listed, sub.vectors]))
    return out
