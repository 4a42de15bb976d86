"""Train small static word vectors: on a Bible translation (the default German/Spanish vectors) or a user's corpus.

MoSECroT needs static vectors for the target language. Pre-trained fastText files are gigabytes,
so the default ones are trained here on the verse-aligned Bible (`bible.py`): about 0.7M tokens
per language, skip-gram with negative sampling.

Two builders, so that both can be compared on the same text (`VECTOR_KINDS`):

* `fasttext` (the default): gensim `FastText`, words plus character n-grams (3-6 characters, hashed into
  `FASTTEXT_SETTINGS["bucket"]` buckets), saved as a Facebook fastText `.bin` model. The project's reader
  (`io.vectors`) takes it like an uploaded fastText model, and a test word the corpus never had gets the sum
  of its n-gram vectors (`core.vocab_extension.subword_words`): on SIB-200 the share of German/Spanish test
  words without a vector falls from about a third to none (`scripts/vector_coverage.py`).
* `word2vec`: gensim `Word2Vec`, whole words only, saved as word2vec binary (the earlier default).

Both are seeded and single-threaded (`workers=1`), so a build is bit-for-bit reproducible for a given corpus,
seed and gensim version. `train_corpus_vectors` builds either from a plain text file (one sentence or document
per line), streaming it through a segmented temporary copy, so memory grows with the vocabulary, not the corpus.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Iterable

from gensim.models import FastText, KeyedVectors, Word2Vec
from gensim.models.word2vec import LineSentence

from mosecrot_viz.atomic import atomic_path
from mosecrot_viz.defaults.bible import bible_corpus
from mosecrot_viz.errors import FormatError, InputError
from mosecrot_viz.io.limits import bounded_lines, check_matrix_budget, check_regular_file
from mosecrot_viz.io.text import segment

VECTOR_KINDS = ("fasttext", "word2vec")
#: skip-gram settings shared by both builders (fastText's own: window 5, 5 negatives, sub-sampling 1e-4)
SKIPGRAM = {"window": 5, "negative": 5, "sample": 1e-4}
#: the fastText builder's defaults. 10 epochs: the Bible is a small corpus (0.7M tokens); 200,000 buckets hold the
#: ~85,000 distinct 3-6-grams of a Bible vocabulary with few collisions (fastText's 2M would make a 2.4 GB file);
#: min_count 2 trains the n-grams of words seen twice (min_count 3 drops a quarter of the vocabulary's n-grams).
#: One German build took about 2 minutes on one core of this machine (README).
FASTTEXT_SETTINGS = {"dim": 300, "epochs": 10, "min_count": 2, "bucket": 200_000, "min_n": 3, "max_n": 6}
#: the word2vec builder's defaults (the earlier default vectors, unchanged so their cached files stay valid)
WORD2VEC_SETTINGS = {"dim": 300, "epochs": 5, "min_count": 3}
MAX_RAW_VOCAB = 10_000_000  # distinct words counted before gensim prunes the rarest (about 1 GB; gensim's own unit)


def tokenize_for_vectors(text: str, lang: str | None, segmentation: str | None = None) -> list[str]:
    """Lower-cased words of `text` by the language's segmentation rule (`text.segment`: jieba for zh,
    elision splitting for fr/it/ca, a Unicode word regex with accents kept elsewhere; punctuation
    dropped), or by `segmentation` when given, so training and look-up split words the same way; look-ups
    must lower-case too."""
    return [w.lower() for w in segment(text, lang, rule=segmentation)]


def _nonempty(sentences: Iterable[list[str]]) -> list[list[str]]:
    sentences = [s for s in (list(s) for s in sentences) if s]
    if not sentences:
        raise InputError("no tokens to train word vectors on (an empty corpus, or no words by its segmentation)")
    return sentences


def _fit(model, sentences) -> None:
    """Build the vocabulary and train; `sentences` is a list or a restartable iterable (several passes)."""
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise InputError(f"no word occurs min_count={model.min_count} times in the corpus, so the vocabulary is "
                         "empty: lower --min-count, or give a larger corpus")
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)


def train_word2vec(sentences: Iterable[list[str]], *, dim: int = 300, epochs: int = 5,
                   min_count: int = 3, seed: int = 0, workers: int = 1, window: int = 5,
                   negative: int = 5, max_final_vocab: int | None = None) -> KeyedVectors:
    """Train skip-gram word2vec (fastText-like settings: window 5, 5 negatives, sub-sampling 1e-4)
    on token lists and return its `KeyedVectors`, rows sorted by descending frequency.

    A list (or any one-pass iterable) is materialised once; a `LineSentence` is streamed on every pass.
    With `workers=1` the result is bit-for-bit reproducible for a given `seed`.
    """
    if not isinstance(sentences, LineSentence):
        sentences = _nonempty(sentences)
    model = Word2Vec(vector_size=dim, window=window, min_count=min_count, sg=1, negative=negative,
                     sample=SKIPGRAM["sample"], seed=seed, workers=workers, sorted_vocab=1, epochs=epochs,
                     max_vocab_size=MAX_RAW_VOCAB, max_final_vocab=max_final_vocab)
    _fit(model, sentences)
    return model.wv


def train_fasttext(sentences: Iterable[list[str]], *, dim: int = 300, epochs: int = 10, min_count: int = 2,
                   seed: int = 0, workers: int = 1, window: int = 5, negative: int = 5, bucket: int = 200_000,
                   min_n: int = 3, max_n: int = 6, max_final_vocab: int | None = None) -> FastText:
    """Train skip-gram fastText (words and their character `min_n`..`max_n`-grams, hashed into `bucket` rows)
    on token lists and return the whole model (the `.bin` format needs it, not only its vectors).

    Rows are sorted by descending frequency; `workers=1` makes it bit-for-bit reproducible for a given `seed`.
    """
    if not isinstance(sentences, LineSentence):
        sentences = _nonempty(sentences)
    model = FastText(vector_size=dim, window=window, min_count=min_count, sg=1, negative=negative,
                     sample=SKIPGRAM["sample"], seed=seed, workers=workers, sorted_vocab=1, epochs=epochs,
                     bucket=bucket, min_n=min_n, max_n=max_n, max_vocab_size=MAX_RAW_VOCAB,
                     max_final_vocab=max_final_vocab)
    _fit(model, sentences)
    return model


def save_binary_atomic(kv: KeyedVectors, out_path) -> Path:
    """Save `kv` in word2vec binary format via a temp file in the same folder + rename, so a
    reader never sees half a file."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        kv.save_word2vec_format(str(tmp), binary=True)
    return out


def save_fasttext_atomic(model: FastText, out_path) -> Path:
    """Save a gensim `FastText` model as a Facebook fastText `.bin` (what `io.vectors.load_vectors` reads, n-gram
    buckets included), through a temp file and a rename."""
    from gensim.models.fasttext import save_facebook_model

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        save_facebook_model(model, str(tmp))
    return out


def settings_for(kind: str, **overrides) -> dict:
    """The builder's default settings with `overrides` (None values ignored); unknown kinds are a ValueError."""
    if kind not in VECTOR_KINDS:
        raise ValueError(f"unknown vector kind {kind!r}; choose from {', '.join(VECTOR_KINDS)}")
    base = FASTTEXT_SETTINGS if kind == "fasttext" else WORD2VEC_SETTINGS
    return {**base, **{k: v for k, v in overrides.items() if v is not None}}


def train_and_save(sentences, out_path, kind: str = "fasttext", **kw) -> Path:
    """Train `kind` vectors (`VECTOR_KINDS`) on `sentences` with the builder's settings overridden by `kw`, and
    write them to `out_path` (fastText `.bin` or word2vec binary) atomically."""
    opts = settings_for(kind, **kw)
    if kind == "fasttext":
        return save_fasttext_atomic(train_fasttext(sentences, **opts), out_path)
    return save_binary_atomic(train_word2vec(sentences, **opts), out_path)


def train_bible_vectors(db_path, lang: str, out_path, kind: str = "fasttext", *, segmentation: str | None = None,
                        **kw) -> Path:
    """Train vectors on every verse of `lang`'s Bible translation (any language of `BIBLE_TRANSLATIONS`) and write
    them to `out_path`: a fastText `.bin` model (`kind="fasttext"`) or word2vec binary (`kind="word2vec"`).
    Words are split by `lang`'s rule unless `segmentation` names another. `kw` overrides the builder's settings
    (`FASTTEXT_SETTINGS`, `WORD2VEC_SETTINGS`; also `seed`, `max_final_vocab`)."""
    settings_for(kind)  # an unknown kind fails before the corpus is read
    sentences = [tokenize_for_vectors(t, lang, segmentation) for t in bible_corpus(db_path, lang)]
    return train_and_save(sentences, out_path, kind, **kw)


def segment_corpus(path, lang: str | None, out_path, segmentation: str | None = None) -> tuple[int, int]:
    """Write `path` (UTF-8 text, one sentence or document per line) segmented and lower-cased as the run reads
    target text, one line of space-separated words per input line with words, to `out_path`.

    Raises `FormatError` naming the file and line for bytes that are not UTF-8, `LimitError` past the line limit
    (`MOSECROT_MAX_LINE_KB`), and `FormatError` when no line has a word. Returns (lines written, words).
    """
    path = check_regular_file(path, "corpus")
    lines = words = 0
    with open(path, "rb") as src, open(out_path, "w", encoding="utf-8", newline="\n") as dst:
        for lineno, raw in bounded_lines(src, path):
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError:
                raise FormatError("not UTF-8 text (a corpus is a plain text file, one sentence per line)",
                                  path, lineno) from None
            if "\0" in text:
                raise FormatError("holds NUL bytes: not a plain text file", path, lineno)
            toks = tokenize_for_vectors(text, lang, segmentation)
            if toks:
                dst.write(" ".join(toks) + "\n")
                lines += 1
                words += len(toks)
    if not words:
        raise FormatError("has no words to train vectors on", path)
    return lines, words


def check_corpus_budget(kind: str, max_final_vocab: int | None, out_path, **kw) -> None:
    """Refuse (`LimitError`, before any training) settings whose vectors the project's reader would refuse:
    at most `max_final_vocab` words (+ the n-gram buckets for fastText) of `dim` floats within the matrix budget."""
    opts = settings_for(kind, **kw)
    rows = (max_final_vocab or 0) + (opts["bucket"] if kind == "fasttext" else 0)  # None: vocabulary unbounded
    check_matrix_budget(rows, opts["dim"], out_path, what=f"{kind} vectors of up to {rows:,} rows")


def train_corpus_vectors(corpus_path, out_path, *, lang: str | None = None, kind: str = "fasttext",
                         segmentation: str | None = None, max_final_vocab: int | None = 200_000,
                         progress=None, **kw) -> dict:
    """A user's corpus in, vectors out: segment `corpus_path` by `lang`'s rule (or `segmentation`) into a
    temporary file beside `out_path`, train `kind` vectors on it (streamed, one pass per epoch), keep at most
    `max_final_vocab` words, and write `out_path` atomically. `progress(message)` is told each stage.

    Returns {"lines", "words", "vocabulary", "dim", "seconds", "kind", "out"}.
    """
    settings_for(kind)
    out = Path(out_path)
    check_corpus_budget(kind, max_final_vocab, out, **kw)
    out.parent.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda message: None)
    start = time.perf_counter()
    fd, tmp = tempfile.mkstemp(prefix=".corpus-", suffix=".txt", dir=out.parent)
    os.close(fd)
    try:
        say(f"segmenting {corpus_path}")
        lines, words = segment_corpus(corpus_path, lang, tmp, segmentation)
        say(f"{lines:,} lines, {words:,} words: training {kind}")
        train_and_save(LineSentence(tmp), out, kind, max_final_vocab=max_final_vocab, **kw)
    finally:
        Path(tmp).unlink(missing_ok=True)
    from mosecrot_viz.io.vectors import load_vectors

    kv = load_vectors(out)  # read back as a run reads it: the file is usable, or this says why not
    return {"lines": lines, "words": words, "vocabulary": len(kv.index_to_key), "dim": kv.vector_size,
            "seconds": round(time.perf_counter() - start, 1), "kind": kind, "out": str(out)}


if __name__ == "__main__":  # python -m mosecrot_viz.defaults.train_vectors DB LANG OUT [KIND] [EPOCHS]
    import sys

    db, lang, out = sys.argv[1:4]
    kind = sys.argv[4] if len(sys.argv) > 4 else "fasttext"
    opts = {"epochs": int(sys.argv[5])} if len(sys.argv) > 5 else {}
    start = time.perf_counter()
    path = train_bible_vectors(db, lang, out, kind, **opts)
    from mosecrot_viz.io.vectors import load_vectors

    kv = load_vectors(path)
    print(f"{lang} {kind}: {len(kv)} words x {kv.vector_size} in {time.perf_counter() - start:.1f}s -> {path}")
