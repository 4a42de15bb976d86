"""The result types of the registered analyses (`analysis.registry`): frozen, JSON-able, one per analysis.

A page draws one of these and never reads a dict by key, so a renamed field is an error where it is read, not a
blank figure (LIT's `api/dtypes.py` states the same reason). Each type's `to_json` is what `analysis.json` holds
(arrays as lists, rounded where the page cannot show more digits) and `from_json` reads it back; `from_json` of
`to_json` gives what a page draws, so a result read from the run and one computed now are the same values.
A malformed record raises `KeyError`, `TypeError` or `ValueError` (the registry then computes it again).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def rounded(values, digits: int = 5) -> list:
    """`values` (any shape) as nested lists of floats rounded to `digits` decimals."""
    return np.asarray(values, dtype=float).round(digits).tolist()


def _array(values, width: int | None = None) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if width is not None and (a.ndim != 2 or a.shape[1] != width) and a.size:
        raise ValueError(f"expected an array of shape (n, {width}), got {a.shape}")
    return a.reshape(-1, width) if width is not None and not a.size else a


@dataclass(frozen=True, eq=False)
class BLIResult:
    """Held-out BLI of a run's mappers (`holdout.holdout_bli`, stored as `holdout_bli`).

    precision: mapper -> retrieval ("nn", "csls") -> k -> P@k; cosines: mapper -> (n_test,) cosine of each
    held-out translation pair in that mapper's shared space; n_test anchors held out, n_train refitted on.
    """

    precision: dict
    cosines: dict
    n_test: int
    n_train: int

    def p_at(self, mapper: str, k: int = 1, retrieval: str = "csls") -> float:
        """P@k of `mapper` by `retrieval` (the Why page's figure is CSLS P@1)."""
        return self.precision[mapper][retrieval][k]

    def to_json(self) -> dict:
        return {"precision": self.precision, "n_test": self.n_test, "n_train": self.n_train,
                "cosines": {m: rounded(c) for m, c in self.cosines.items()}}

    @classmethod
    def from_json(cls, rec: dict) -> "BLIResult":
        precision = {m: {kind: {int(k): float(v) for k, v in ks.items()} for kind, ks in d.items()}
                     for m, d in rec["precision"].items()}
        return cls(precision, {m: _array(c) for m, c in rec["cosines"].items()}, int(rec["n_test"]),
                   int(rec["n_train"]))


@dataclass(frozen=True, eq=False)
class Drift:
    """How far each mapper moves the English embeddings (stored as `drift`).

    summary: mapper -> `alignment.drift_summary` (n, mean, median, min, max, q05..q95) of cos(E_s, F_s) over
    the English tokens, for every mapper; cosines: mapper -> (n_tokens,) those cosines, for the re-initialising
    mappers only (the others keep E_s: every cosine is 1).
    """

    summary: dict
    cosines: dict

    def to_json(self) -> dict:
        return {"summary": self.summary, "cosines": {m: rounded(c, 4) for m, c in self.cosines.items()}}

    @classmethod
    def from_json(cls, rec: dict) -> "Drift":
        return cls({m: dict(s) for m, s in rec["summary"].items()}, {m: _array(c) for m, c in rec["cosines"].items()})


@dataclass(frozen=True, eq=False)
class AnchorView:
    """What the Anchors page draws (`anchor_search.anchor_space_view`, stored as `anchor_view`).

    sxy, txy: (m, 2) positions of the m plotted anchor pairs (English, target) in one frame; source_words,
    target_words: their words (m each); control: mean pair distance `pairs`, its re-paired `control` and their
    `ratio`; target_rows: the pairs' rows in the target vectors (m); extras: searched words that are not anchors
    ({x, y, side, word, partner}); highlight: the searched words and their partners ({x, y, side, word});
    matches: every match of the search (`anchor_search.Match` fields as a dict).
    """

    sxy: np.ndarray
    txy: np.ndarray
    source_words: list
    target_words: list
    control: dict
    target_rows: list
    extras: list
    highlight: list
    matches: list

    def to_json(self) -> dict:
        return {"sxy": rounded(self.sxy), "txy": rounded(self.txy), "source_words": list(self.source_words),
                "target_words": list(self.target_words), "control": {k: float(v) for k, v in self.control.items()},
                "target_rows": [int(r) for r in self.target_rows], "extras": list(self.extras),
                "highlight": list(self.highlight), "matches": list(self.matches)}

    @classmethod
    def from_json(cls, rec: dict) -> "AnchorView":
        sxy, txy = _array(rec["sxy"], 2), _array(rec["txy"], 2)
        words = (list(rec["source_words"]), list(rec["target_words"]), [int(r) for r in rec["target_rows"]])
        if not all(len(w) == len(sxy) for w in words) or len(txy) != len(sxy):
            raise ValueError("an anchor view whose positions and words differ in length")
        return cls(sxy, txy, words[0], words[1], {k: float(v) for k, v in rec["control"].items()}, words[2],
                   list(rec["extras"]), list(rec["highlight"]), list(rec["matches"]))


@dataclass(frozen=True, eq=False)
class BLIHits:
    """mapper -> one bool per plotted pair of an anchor view: is the mapped target word's nearest whole-word
    English token one of its translations (`anchor_search.anchor_bli_hits`, stored as `anchor_bli_hits`)."""

    hits: dict

    def to_json(self) -> dict:
        return {"hits": self.hits}

    @classmethod
    def from_json(cls, rec: dict) -> "BLIHits":
        return cls({m: [bool(h) for h in v] for m, v in rec["hits"].items()})


@dataclass(frozen=True, eq=False)
class Heatmap:
    """Relative representations of chosen target words (`anchor_words.relative_heatmap`, stored as `heatmap`).

    words: the requested words that have a vector (w of them); missing: those without; anchors: the column names
    ("target/english", c of them); matrix: (w, c) cosines, None when no word has a vector.
    """

    words: list
    missing: list
    anchors: list
    matrix: np.ndarray | None

    def to_json(self) -> dict:
        return {"words": list(self.words), "missing": list(self.missing), "anchors": list(self.anchors),
                "matrix": None if self.matrix is None else rounded(self.matrix)}

    @classmethod
    def from_json(cls, rec: dict) -> "Heatmap":
        matrix = None if rec["matrix"] is None else _array(rec["matrix"])
        return cls(list(rec["words"]), list(rec["missing"]), list(rec["anchors"]), matrix)


@dataclass(frozen=True, eq=False)
class WordCounts:
    """method -> {target word: test sentences (any seed) the method got wrong that contain it}
    (`anchor_search.run_misclassified_word_counts`, stored as `misclassified_words`)."""

    counts: dict

    def to_json(self) -> dict:
        return {"counts": self.counts}

    @classmethod
    def from_json(cls, rec: dict) -> "WordCounts":
        return cls({m: {str(w): int(c) for w, c in d.items()} for m, d in rec["counts"].items()})


@dataclass(frozen=True, eq=False)
class Neighbours:
    """A word's neighbours in each language's own space, glossed (`anchor_search.neighbour_tables`, `neighbours`).

    target_word, source_word: the word and its lexicon translation on the other side (None without one); target,
    source: rows {word, cosine, gloss} among the target vectors (E_t) and the English tokens (E_s), nearest first.
    """

    target_word: str | None
    source_word: str | None
    target: list
    source: list

    def to_json(self) -> dict:
        return {"target_word": self.target_word, "source_word": self.source_word, "target": list(self.target),
                "source": list(self.source)}

    @classmethod
    def from_json(cls, rec: dict) -> "Neighbours":
        return cls(rec["target_word"], rec["source_word"], [dict(r) for r in rec["target"]],
                   [dict(r) for r in rec["source"]])


@dataclass(frozen=True, eq=False)
class SharedNeighbours:
    """A word's nearest English tokens (F_s) and target words (F_t) in one mapper's shared space
    (`alignment.neighbours`, `shared_neighbours`): (word, cosine) pairs, nearest first; found is False (and both
    lists empty) when the word has no row on its own side."""

    found: bool
    source: list
    target: list

    def to_json(self) -> dict:
        return {"found": self.found, "source": [list(p) for p in self.source], "target": [list(p) for p in self.target]}

    @classmethod
    def from_json(cls, rec: dict) -> "SharedNeighbours":
        return cls(bool(rec["found"]), [(str(w), float(c)) for w, c in rec["source"]],
                   [(str(w), float(c)) for w, c in rec["target"]])
