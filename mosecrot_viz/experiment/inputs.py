"""Everything a run reads from disk: static vectors, the lexicon and the task splits (`load_inputs`).

The loaders are `io/`; here they are applied as a run applies them (defaults resolved, the Chinese side of a
lexicon simplified for `lang=zh`, dev split off the training data when none is given, labels checked across
splits, a fastText `.bin`'s n-gram vectors added for test words it does not list, and with `script_shift` the
target side renamed into unseen scripts: `shift_script`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mosecrot_viz.core.script_shift import ScriptShift
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
    script_shift: ScriptShift | None = None  # the simulated unseen script (core.script_shift), when on
    original_vectors: object = None  # with script_shift: the vectors under their original spelling (for `lr`)

    def static_baseline_view(self):
        """(vectors, target train texts, test texts) for the `lr` baseline, in the original script: a bag of vectors
        cannot know a script (renaming is a bijection), and its segmentation rule (jieba, spaCy's French rules) would
        otherwise meet renamed letters it was never written for. Without a script shift: the run's own inputs."""
        tt = self.target_train["text"].to_list() if self.target_train is not None else []
        test = self.test["text"].to_list()
        if self.script_shift is None:
            return self.vectors, tt, test
        back = self.script_shift.restore
        return self.original_vectors, [back(t) for t in tt], [back(t) for t in test]

    @property
    def warnings(self) -> list[tuple[str, str]]:
        """What the readers let through but a run should record (results.json's `warnings`): words that are one
        word once in Unicode NFC (the first row kept), a vectors header whose row count disagrees with the rows, and exact
        lexicon repeats (each pair used once)."""
        out = []
        dup = int(getattr(self.vectors if self.original_vectors is None else self.original_vectors, "duplicate_words", 0) or 0)
        if dup:
            out.append(("duplicate_words", f"vectors: {dup:,} rows repeat a word listed earlier (after Unicode NFC); "
                                           "the first row of each word is used"))
        declared = getattr(self.vectors if self.original_vectors is None else self.original_vectors, "header_rows",
                           None)
        if declared is not None:
            out.append(("vector_header_rows", f"vectors: the file's header declares {declared:,} rows, but it holds "
                                              f"{self.n_listed + dup:,}; every row it holds is used"))
        rep = int(getattr(self.pairs, "duplicates", 0) or 0)
        if rep:
            out.append(("duplicate_pairs", f"lexicon: {rep:,} lines repeat a pair listed earlier; each pair is "
                                           "used once"))
        return out

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


def load_inputs(cfg: ExperimentConfig, vectors=None) -> Inputs:
    """Read vectors, lexicon and task files named by `cfg` (raising `InputError` on bad input). `vectors`: the
    KeyedVectors of `cfg.vectors` at `cfg.max_vocab` already read (the app's shared copy, so a process reads a
    vectors file once); never changed here."""
    kv = vectors if vectors is not None else load_vectors(resolve_spec(cfg.vectors, "vectors"), max_vocab=cfg.max_vocab)
    pairs = load_pairs(cfg)
    train, dev, test, target_train, source_test = load_splits(cfg)
    sub = None
    if has_subword_vectors(kv):  # fastText .bin: unseen test words get their n-gram vectors, rows after the listed
        sub = subword_words(kv, test["text"], lang=cfg.lang, segmentation=cfg.segmentation)
        kv = with_subword_words(kv, sub)
    inputs = Inputs(kv, pairs, train, dev, test, target_train, source_test, sub)
    return shift_script(inputs, cfg.script_shift) if cfg.script_shift is not None else inputs


def shift_script(inputs: Inputs, share: float) -> Inputs:
    """`inputs` with `share` of the target alphabet renamed into unseen scripts (`core.script_shift`), after every
    step that reads spelling (segmentation rule, Chinese simplification, fastText n-grams): the vectors' words (same
    rows, same order), the lexicon's target side, the target test and train texts. English data is untouched."""
    from dataclasses import replace
    from itertools import chain

    from gensim.models import KeyedVectors

    from mosecrot_viz.core.script_shift import make_shift

    kv, tt = inputs.vectors, inputs.target_train
    shift = make_shift(share, chain(kv.index_to_key, (t for _, t in inputs.pairs), inputs.test["text"],
                                    tt["text"] if tt is not None else ()))
    words = [shift.rename(w) for w in kv.index_to_key]
    renamed = KeyedVectors(vector_size=kv.vector_size, count=0, dtype=np.float32)
    renamed.index_to_key, renamed.key_to_index = words, {w: i for i, w in enumerate(words)}
    renamed.vectors = kv.vectors  # the same rows: only the spelling of their words changes
    if len(renamed.key_to_index) != len(words):
        raise AssertionError("script shift renamed two words alike: the renaming is not one to one")
    sub = inputs.subword_words
    return replace(inputs, vectors=renamed, pairs=[(en, shift.rename(t)) for en, t in inputs.pairs],
                   test=inputs.test.assign(text=inputs.test["text"].map(shift.rename)),
                   target_train=tt.assign(text=tt["text"].map(shift.rename)) if tt is not None else None,
                   subword_words=replace(sub, words=tuple(map(shift.rename, sub.words))) if sub is not None else None,
                   script_shift=shift, original_vectors=kv)


def shift_summary(cfg: ExperimentConfig, inputs: Inputs, source_tokenizer) -> dict | None:
    """results.json's `data.script_shift`: the renaming's counts and how many of its new characters each tokenizer
    of the run knows (0 for both embedded models; anything else is recorded as a warning: the simulation then is
    not an unseen script to that model)."""
    shift = inputs.script_shift
    if shift is None:
        return None
    from mosecrot_viz.core.script_shift import tokenizer_knows
    from mosecrot_viz.defaults import models

    chars = shift.new_characters()
    out = {**shift.summary(), "known_to_source": tokenizer_knows(source_tokenizer, chars), "warnings": []}
    if "mplm" in cfg.methods:
        out["known_to_multilingual"] = tokenizer_knows(models.load_tokenizer(cfg.multilingual_model), chars)
    for key in ("known_to_source", "known_to_multilingual"):
        if out.get(key):
            out["warnings"].append(f"{out[key]} of the {len(chars)} renamed letters are in the "
                                   f"{key.split('_')[-1]} model's vocabulary: not an unseen script to it")
    return out


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
