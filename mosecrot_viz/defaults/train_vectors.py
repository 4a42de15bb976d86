"""Train small static word vectors on a Bible translation (the default German/Spanish vectors).

MoSECroT needs static vectors for the target language. Pre-trained fastText files are gigabytes,
so the default ones are trained here on the verse-aligned Bible (`bible.py`): about 0.8M tokens
per language, skip-gram with negative sampling, the way fastText's word2vec mode is set up.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

from gensim.models import KeyedVectors, Word2Vec

from mosecrot_viz.atomic import atomic_path
from mosecrot_viz.defaults.bible import bible_corpus
from mosecrot_viz.io.text import segment


def tokenize_for_vectors(text: str, lang: str) -> list[str]:
    """Lower-cased words of `text` by the language's segmentation rule (`text.segment`: jieba for zh,
    elision splitting for fr/it/ca, a Unicode word regex with accents kept elsewhere; punctuation
    dropped), so training and look-up split words the same way; look-ups must lower-case too."""
    return [w.lower() for w in segment(text, lang)]


def train_word2vec(sentences: Iterable[list[str]], *, dim: int = 300, epochs: int = 5,
                   min_count: int = 3, seed: int = 0, workers: int = 1, window: int = 5,
                   negative: int = 5) -> KeyedVectors:
    """Train skip-gram word2vec (fastText-like settings: window 5, 5 negatives, sub-sampling 1e-4)
    on token lists and return its `KeyedVectors`, rows sorted by descending frequency.

    The sentences are materialised once (gensim makes several passes). With `workers=1` the result
    is bit-for-bit reproducible for a given `seed`.
    """
    sentences = [list(s) for s in sentences]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise ValueError("no tokens to train word vectors on")
    model = Word2Vec(vector_size=dim, window=window, min_count=min_count, sg=1, negative=negative,
                     sample=1e-4, seed=seed, workers=workers, sorted_vocab=1)
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise ValueError(f"no word occurs min_count={min_count} times; vocabulary is empty")
    model.train(sentences, total_examples=len(sentences), epochs=epochs)
    return model.wv


def save_binary_atomic(kv: KeyedVectors, out_path) -> Path:
    """Save `kv` in word2vec binary format via a temp file in the same folder + rename, so a
    reader never sees half a file."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        kv.save_word2vec_format(str(tmp), binary=True)
    return out


def train_bible_vectors(db_path, lang: str, out_path, **kw) -> Path:
    """Train vectors on every verse of `lang`'s Bible translation (see `BIBLE_TRANSLATIONS`) and
    write them to `out_path` in word2vec binary format. `kw` goes to `train_word2vec`."""
    sentences = [tokenize_for_vectors(t, lang) for t in bible_corpus(db_path, lang)]
    return save_binary_atomic(train_word2vec(sentences, **kw), out_path)


if __name__ == "__main__":  # python -m mosecrot_viz.defaults.train_vectors DB LANG OUT [DIM] [EPOCHS]
    import sys

    db, lang, out = sys.argv[1:4]
    opts = {"dim": int(sys.argv[4])} if len(sys.argv) > 4 else {}
    if len(sys.argv) > 5:
        opts["epochs"] = int(sys.argv[5])
    start = time.perf_counter()
    path = train_bible_vectors(db, lang, out, **opts)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    print(f"{lang}: {len(kv)} words x {kv.vector_size} in {time.perf_counter() - start:.1f}s -> {path}")
