"""Anchor extraction: which lexicon pairs become the shared coordinates of both spaces.

An anchor is a pair (English word, target word) where the English word is one whole token of the
PLM vocabulary and the target word has a static vector. The counts of what was dropped and why
are part of the result, because noisy or scarce anchors are one of the paper's suspects.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from mosecrot_viz.errors import InputError, OverlapError
from mosecrot_viz.records.keys import DROP_REASONS

POLICIES = ("first", "one-to-one", "aligned", "self-learned")  # the last two start from first (see the pipeline)

# drop reasons as results.json and the Anchors page word them (`records.keys.DROP_REASONS`: key -> text, one table)
DROP_NOT_SOURCE = DROP_REASONS["not_source_token"]
DROP_NOT_TARGET = DROP_REASONS["no_target_vector"]
DROP_EXTRA = DROP_REASONS["extra_translation"]
DROP_REUSED_EN = DROP_REASONS["reused_english"]
DROP_DUPLICATE = DROP_REASONS["duplicate"]
DROP_STOPWORD = DROP_REASONS["stop_word"]
DROP_SUBSET = DROP_REASONS["not_in_subset"]


def fold_accents(word: str) -> str:
    """`café` -> `cafe`, `naïve` -> `naive`: drop combining marks after NFD, as uncased BERT tokenizers do."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def source_key(word: str, source_vocab, lowercase: bool = True) -> str:
    """The form of an English lexicon word to look up in the PLM vocabulary.

    Uncased models (`lowercase`) also strip accents from their input, so `café` reaches the model as
    `cafe`: the lower-cased word is tried first and its accent-folded form when the vocabulary lacks it.
    """
    if not lowercase:
        return word
    key = word.lower()
    if key not in source_vocab:
        folded = fold_accents(key)
        if folded in source_vocab:
            return folded
    return key


@dataclass(frozen=True)
class AnchorSet:
    """Anchors in a fixed order: `source_ids[i]` (PLM token id) pairs with `target_ids[i]` (row in E_t)."""

    source_words: tuple[str, ...]
    source_ids: np.ndarray
    target_words: tuple[str, ...]
    target_ids: np.ndarray
    lexicon_pairs: int
    dropped: dict = field(default_factory=dict)
    policy: str = "first"
    rechosen: int = 0  # English translations re-chosen by alignment (policy "aligned")

    def __len__(self) -> int:
        return len(self.source_ids)

    def summary(self) -> dict:
        """Counts for results.json and the Anchors page."""
        return {
            "count": len(self),
            "lexicon_pairs": self.lexicon_pairs,
            "unique_english": len(set(self.source_words)),
            "policy": self.policy,
            "rechosen_by_alignment": self.rechosen,
            "dropped": dict(self.dropped),
        }

    def subset(self, idx) -> "AnchorSet":
        """A new AnchorSet keeping the anchors at positions `idx` (for held-out evaluation, sweeps)."""
        idx = np.asarray(idx, dtype=int)
        return AnchorSet(
            tuple(self.source_words[i] for i in idx),
            self.source_ids[idx],
            tuple(self.target_words[i] for i in idx),
            self.target_ids[idx],
            self.lexicon_pairs,
            dict(self.dropped),
            self.policy,
            self.rechosen,
        )


def extract_anchors(
    pairs,
    source_vocab: dict[str, int],
    target_vocab: dict[str, int],
    *,
    lowercase_source: bool = True,
    special_tokens=(),
    policy: str = "first",
) -> AnchorSet:
    """Keep lexicon pairs usable as anchors, one English translation per target word.

    pairs : iterable of (english, target) in lexicon order; `policy="first"` keeps the first
    translation listed for each target word (the paper's rule); `"one-to-one"` also uses each
    English word at most once. With `lowercase_source` (an uncased PLM) the English side is
    lower-cased and, where only that form is missing, accent-folded (`source_key`).
    Raises `InputError` when no pair survives.

    >>> a = extract_anchors([("Cat", "gato"), ("cat", "felino"), ("xylophone", "xilófono"), ("dog", "perro")],
    ...                     {"cat": 0, "dog": 1}, {"gato": 0, "felino": 1, "perro": 2})
    >>> list(zip(a.source_words, a.target_words)), a.summary()["count"]
    ([('cat', 'gato'), ('cat', 'felino'), ('dog', 'perro')], 3)
    """
    if policy not in POLICIES:
        raise InputError(f"unknown anchor policy {policy!r}; choose from {POLICIES}")
    if policy in ("aligned", "self-learned"):
        policy = "first"  # both need vectors: the pipeline applies them after extraction
    specials = set(special_tokens)
    dropped: Counter = Counter()
    seen_pairs, seen_tgt, seen_en = set(), set(), set()
    src_words, src_ids, tgt_words, tgt_ids = [], [], [], []
    n = 0
    for en, tgt in pairs:
        n += 1
        en_key = source_key(en, source_vocab, lowercase_source)
        if (en_key, tgt) in seen_pairs:
            dropped[DROP_DUPLICATE] += 1
            continue
        seen_pairs.add((en_key, tgt))
        sid = source_vocab.get(en_key)
        if sid is None or en_key.startswith("##") or en_key in specials:
            dropped[DROP_NOT_SOURCE] += 1
            continue
        tid = target_vocab.get(tgt)
        if tid is None:
            dropped[DROP_NOT_TARGET] += 1
            continue
        if tgt in seen_tgt:
            dropped[DROP_EXTRA] += 1
            continue
        if policy == "one-to-one" and en_key in seen_en:
            dropped[DROP_REUSED_EN] += 1
            continue
        seen_tgt.add(tgt)
        seen_en.add(en_key)
        src_words.append(en_key)
        src_ids.append(sid)
        tgt_words.append(tgt)
        tgt_ids.append(tid)
    if not src_ids:
        raise OverlapError(
            f"no lexicon pair has its English side in the model vocabulary and its target side in the "
            f"static vectors ({n:,} pairs read; dropped: "
            + "; ".join(f"{count:,} {reason}" for reason, count in dropped.most_common()) + ")"
        )
    repeats = int(getattr(pairs, "duplicates", 0))  # exact repeats the lexicon reader dropped while streaming
    if repeats:  # still counted as read pairs and as duplicates, as when the reader passed them on
        dropped[DROP_DUPLICATE] += repeats
        n += repeats
    return AnchorSet(
        tuple(src_words), np.array(src_ids, dtype=np.int64), tuple(tgt_words),
        np.array(tgt_ids, dtype=np.int64), n, dict(dropped), policy,
    )


def filter_anchors(anchors: AnchorSet, *, drop_stopwords: bool = False, n: int | None = None, seed: int = 0) -> AnchorSet:
    """Optionally drop anchors whose English side is a stop word, then keep a random subset of `n`.

    The paper's anchor-count study (Table 4) uses exactly these two knobs. The drops are counted
    in `dropped` like every other reason, so the Anchors page shows them.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    keep = np.arange(len(anchors))
    dropped = dict(anchors.dropped)
    if drop_stopwords:
        keep = np.array([i for i in keep if anchors.source_words[i] not in ENGLISH_STOP_WORDS], dtype=int)
        dropped[DROP_STOPWORD] = len(anchors) - len(keep)
    if n is not None and n < len(keep):
        rng = np.random.default_rng(seed)
        dropped[DROP_SUBSET] = len(keep) - n
        keep = np.sort(rng.choice(keep, size=n, replace=False))
    if len(keep) == 0:
        raise OverlapError("no anchors left after filtering")
    out = anchors.subset(keep)
    return AnchorSet(out.source_words, out.source_ids, out.target_words, out.target_ids, out.lexicon_pairs, dropped,
                     out.policy, out.rechosen)
