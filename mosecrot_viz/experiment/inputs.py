"""Everything a run reads from disk: static vectors, the lexicon and the task splits (`load_inputs`).

The loaders are `io/`; here they are applied as a run applies them (defaults resolved, the Chinese side of a
lexicon simplified for `lang=zh`, dev split off the training data when none is given, labels checked across
splits, a fastText `.bin`'s n-gram vectors added for test words it does not list).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mosecrot_viz.core.vocab_extension import SubwordWords, has_subword_vectors, subword_words, with_subword_words
from mosecrot_viz.defaults.registry import resolve_spec
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.io.lexicon import load_lexicon, to_simplified
from mosecrot_viz.io.tasks import check_labels, check_trainable, load_task
from mosecrot_viz.io.text import is_chinese
from mosecrot_viz.io.vectors import load_vectors


@dataclass
class Inputs:
    """Everything read from disk for one run."""

    vectors: object
    pairs: list
    train: pd.DataFrame
    dev: pd.DataFrame
    test: pd.DataFrame
    target_train: pd.DataFrame | None = None
    source_test: pd.DataFrame | None = None
    subword_words: SubwordWords | None = None  # fastText .bin: test words given n-gram vectors, after the listed

    @property
    def n_listed(self) -> int:
        """Rows of `vectors` the vectors file lists (appended subword words come after them)."""
        return self.subword_words.n_listed if self.subword_words is not None else len(self.vectors.index_to_key)

    def listed_vocab(self) -> dict:
        """word -> row for the listed words only: anchors are drawn from these."""
        if self.subword_words is None:
            return self.vectors.key_to_index
        return {w: i for w, i in self.vectors.key_to_index.items() if i < self.n_listed}


def _split_dev(train: pd.DataFrame, share: float = 0.1, seed: int = 0):
    rng = np.random.default_rng(seed)
    dev_idx = []
    for _, grp in train.groupby("label"):
        n = max(1, int(round(len(grp) * share))) if len(grp) > 1 else 0
        dev_idx += list(rng.choice(grp.index.to_numpy(), size=n, replace=False))
    dev = train.loc[sorted(dev_idx)]
    return train.drop(index=dev.index).reset_index(drop=True), dev.reset_index(drop=True)


def load_pairs(cfg: ExperimentConfig, spec: str | None = None) -> list:
    """The lexicon (or another one, `spec`, such as the BLI test dictionary) as a run reads it (Chinese side
    converted to simplified script for `lang=zh`)."""
    pairs = load_lexicon(resolve_spec(spec or cfg.lexicon, "lexicon"))
    simplify = cfg.simplify_chinese if cfg.simplify_chinese is not None else is_chinese(cfg.lang)
    return to_simplified(pairs) if simplify else pairs


def load_splits(cfg: ExperimentConfig) -> tuple:
    """(train, dev, test, target_train or None, source_test or None) with every split's labels checked against
    the English training labels (a `LabelError` naming the file); the preflight (`experiment.preflight`) calls it
    too, so a label the training data lacks is refused before the run waits for the machine."""
    train = load_task(cfg.train)
    if cfg.dev:
        dev = load_task(cfg.dev)
    else:
        train, dev = _split_dev(train)
    check_trainable(train, dev)
    test = load_task(cfg.test)
    check_labels(train, test, name="test")
    check_labels(train, dev, name="dev")
    target_train = load_task(cfg.target_train) if cfg.target_train else None
    if target_train is not None:  # lr predicts the English label set: a label it lacks has no class to train
        check_labels(train, target_train, name="--target-train")
    source_test = load_task(cfg.source_test) if cfg.source_test else None
    if source_test is not None:
        check_labels(train, source_test, name="English test")
    return train, dev, test, target_train, source_test


def load_inputs(cfg: ExperimentConfig) -> Inputs:
    """Read vectors, lexicon and task files named by `cfg` (raising `InputError` on bad input)."""
    kv = load_vectors(resolve_spec(cfg.vectors, "vectors"), max_vocab=cfg.max_vocab)
    pairs = load_pairs(cfg)
    train, dev, test, target_train, source_test = load_splits(cfg)
    sub = None
    if has_subword_vectors(kv):  # fastText .bin: unseen test words get their n-gram vectors, rows after the listed
        sub = subword_words(kv, test["text"], lang=cfg.lang, segmentation=cfg.segmentation)
        kv = with_subword_words(kv, sub)
    return Inputs(kv, pairs, train, dev, test, target_train, source_test, sub)


def anchor_inputs(vectors, pairs) -> Inputs:
    """Inputs holding only what anchor selection reads (vectors and lexicon pairs), for previews."""
    empty = pd.DataFrame(columns=["id", "label", "text"])
    return Inputs(vectors, pairs, empty, empty, empty)


def encode_hf(tokenizer, texts, max_length) -> list[list[int]]:
    """Token ids of `texts` by a Hugging Face tokenizer, truncated to `max_length` (no padding)."""
    return tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


def encode_english(tokenizer, inputs: Inputs, max_length):
    """(train, dev, English test or None) token ids for the source-language data."""
    test = inputs.source_test
    return (encode_hf(tokenizer, inputs.train["text"], max_length), encode_hf(tokenizer, inputs.dev["text"], max_length),
            encode_hf(tokenizer, test["text"], max_length) if test is not None else None)
