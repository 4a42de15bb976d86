"""Numbers are checked, not trusted: each stage of a run checks what it produced.

- `check_vector_scale`: static vectors whose typical row lies in float32's subnormal range, or whose rows are all
  one vector, are refused (their digits, or their words' differences, are already lost); extreme but representable
  scales run (the maps are scale-safe) with a warning.
- `check_mapped`: every mapper's F_s and F_t finite and not collapsed (all rows one row); with a single anchor a
  collapse is what the method does, so it is a warning there, an error otherwise.
- `check_loss`: a fine-tune's training loss finite at every step.
- `check_predictions`: a method predicting one label for every test example while training had several is recorded.
- `degenerate_inputs`: legal inputs that make the numbers mean little (one anchor, one-dimensional vectors, a test
  set without some training labels) are recorded.

A failure raises `NumericsError` (an `InputError`, so the CLI prints one line and the app shows it) naming the
input and the likely cause. What is legal but degenerate goes into a `RunWarnings` list, which results.json keeps
as `warnings` (`[{"key": ..., "message": ...}]`), the CLI prints and the Run page shows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mosecrot_viz.core.numerics import BLOCK_ROWS, norm_range, row_max_abs
from mosecrot_viz.errors import FormatError, InputError

# A row whose largest |component| is below this keeps its smaller components in float32's subnormal range
# (below 1.2e-38, about 24 bits down), where they hold only a few significant digits.
TINY_ROW = 1e-30
# Norms outside [1e-15, 1e15] are legal and mapped scale-safely, but unusual enough to say so.
UNUSUAL_NORM_LOW, UNUSUAL_NORM_HIGH = 1e-15, 1e15
COLLAPSE_RTOL = 1e-4  # rows whose every column spreads less than this share of the matrix's largest value are one
# row: float32 arithmetic leaves ~1e-7; at 1e-6 a softmax with tau 1e6 (rows agreeing to 6e-7) passed as a real map
HIGH_TEMPERATURE = 10.0  # an RR tau above this (cosines are in [-1, 1]) flattens the weights: named as a collapse cause


class NumericsError(InputError):
    """A stage produced numbers that cannot be trusted (NaN, infinity, every row the same); the message names the
    input and the likely cause."""


@dataclass
class RunWarnings:
    """The warnings a run records: each a machine-readable `key` and a one-line `message`, in the order raised,
    each (key, message) once. results.json keeps them as `warnings`."""

    items: list = field(default_factory=list)

    def warn(self, key: str, message: str) -> None:
        """Record a warning (a repeat of the same key and message is kept once)."""
        entry = {"key": str(key), "message": str(message)}
        if entry not in self.items:
            self.items.append(entry)

    def extend(self, entries) -> None:
        """Add warnings given as {"key", "message"} dicts or (key, message) pairs (e.g. a reader's)."""
        for e in entries or ():
            key, message = (e["key"], e["message"]) if isinstance(e, dict) else e
            self.warn(key, message)

    def keys(self) -> list[str]:
        """The keys recorded so far, in order."""
        return [e["key"] for e in self.items]

    def to_json(self) -> list[dict]:
        """results.json's `warnings`: a list of {"key", "message"}."""
        return [dict(e) for e in self.items]

    def __len__(self) -> int:
        return len(self.items)


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def check_vector_scale(vectors, source, warnings: RunWarnings | None = None) -> None:
    """Refuse static vectors (n, d) too small for float32, warn about unusual scales.

    A typical (median) non-zero row whose largest |component| is below `TINY_ROW` (1e-30) is refused with a
    `FormatError` naming `source`: in float32 such numbers are subnormal or close to it and most of their digits
    are gone, so any map of them is noise. A minority of such rows, or norms outside [1e-15, 1e15], run with a
    warning: the maps compute norms and similarities scale-safely (`core.numerics`), so the scale itself does not
    change F_t. All-zero rows are recorded as a warning (`zero_vectors`): their words all map to one row. A file
    whose every row is one and the same vector (`is_collapsed`) is refused: no mapper can tell its words apart.
    """
    m = row_max_abs(vectors)
    nz = m[m > 0]
    if not len(nz):
        return
    zeros = len(m) - len(nz)
    if zeros and warnings is not None:
        warnings.warn("zero_vectors", f"{zeros} of {len(m)} vectors in {source} are all zeros: those words carry no "
                                      f"meaning, and every mapper gives them one and the same row")
    if float(np.median(nz)) < TINY_ROW:
        lo, hi = norm_range(vectors)
        raise FormatError(f"vectors have norms from {_fmt(lo)} to {_fmt(hi)}: numbers this small are in float32's "
                          f"subnormal range (below 1.2e-38) or close to it, where they keep only a few significant "
                          f"digits, so no map of them can be trusted; multiply every vector by one constant (e.g. "
                          f"1e30: the maps do not depend on the vectors' scale)", source)
    if len(m) > 1 and is_collapsed(vectors):
        raise FormatError(f"all {len(m):,} vectors are one and the same vector (every column agrees to "
                          f"{COLLAPSE_RTOL:g} of the largest value): no word can be told from another, so every "
                          f"mapper would give every word one row; is this the file you meant?", source)
    if warnings is None:
        return
    tiny = int((nz < TINY_ROW).sum())
    if tiny:
        warnings.warn("tiny_vectors", f"{tiny} of {len(m)} vectors in {source} have every component below "
                                      f"{_fmt(TINY_ROW)}: float32 keeps few digits of them, so their words map to "
                                      f"little better than noise")
    lo, hi = norm_range(vectors)
    if lo < UNUSUAL_NORM_LOW or hi > UNUSUAL_NORM_HIGH:
        warnings.warn("vector_scale", f"vectors in {source} have norms from {_fmt(lo)} to {_fmt(hi)}; the maps "
                                      f"compute norms and similarities scale-safely, but check that the file holds "
                                      f"the vectors you meant")


def nonfinite_rows(matrix) -> int:
    """How many rows of `matrix` (n, d) hold a NaN or an infinity (read in blocks of bounded memory)."""
    x = np.asarray(matrix)
    return int(sum((~np.isfinite(x[s : s + BLOCK_ROWS])).any(axis=1).sum() for s in range(0, len(x), BLOCK_ROWS)))


def is_collapsed(matrix) -> bool:
    """True when a matrix (n, d) of two or more rows is one row repeated: every column spreads (max - min) by at
    most `COLLAPSE_RTOL` of the largest |value| (an all-zero matrix is collapsed too)."""
    x = np.asarray(matrix)
    if len(x) < 2 or x.shape[1] == 0:
        return False
    lo = np.full(x.shape[1], np.inf)
    hi = np.full(x.shape[1], -np.inf)
    for s in range(0, len(x), BLOCK_ROWS):
        block = np.asarray(x[s : s + BLOCK_ROWS], dtype=np.float64)
        lo, hi = np.minimum(lo, block.min(axis=0)), np.maximum(hi, block.max(axis=0))
    scale = max(float(np.abs(lo).max()), float(np.abs(hi).max()))
    return float((hi - lo).max()) <= COLLAPSE_RTOL * scale


def check_finite(matrix, what: str, cause: str) -> None:
    """Raise `NumericsError` when `matrix` (n, d) holds NaN or infinity: '<what>: r of n rows ... (<cause>)'."""
    bad = nonfinite_rows(matrix)
    if bad:
        raise NumericsError(f"{what}: {bad} of {len(matrix)} rows hold NaN or infinity; likely cause: {cause}")


def check_mapped(method: str, f_s, f_t, *, vectors, n_anchors: int, reinit: bool,
                 warnings: RunWarnings | None = None, temperature: float | None = None) -> None:
    """Check one mapper's output: F_s (|V_s|, D, only when the mapper re-initialises E_s) and F_t (|V_t|, D)
    finite and not collapsed. `vectors` is the static vectors' file (named in the message); with one anchor a
    collapse is what RR does (every word is its one anchor's row) and is recorded as a warning instead.
    `temperature`: the RR weighting's tau, named as a cause when the rows collapse (a huge tau weighs every anchor
    alike, so every word gets the anchors' mean)."""
    parts = [("F_t", f_t, f"the target vectors ({vectors})")] + ([("F_s", f_s, "the source model's embeddings")]
                                                                 if reinit else [])
    collapsed = []
    for name, matrix, origin in parts:
        check_finite(matrix, f"{method}: {name}", f"{origin} hold extreme values the mapping could not represent, "
                                                  f"or the anchors' rows are degenerate ({n_anchors} anchors)")
        if not is_collapsed(matrix):
            continue
        if n_anchors <= 1 and warnings is not None:
            collapsed.append(name)
            continue
        lo, hi = norm_range(matrix)
        tau = (f"a temperature so high (--temperature {temperature:g}) that every anchor gets the same weight, "
               if temperature is not None and temperature > HIGH_TEMPERATURE else "")
        raise NumericsError(f"{method}: every one of the {len(matrix)} rows of {name} is the same row, so every word "
                            f"reads alike; likely cause: {tau}{origin} all point the same way (mapped norms "
                            f"{_fmt(lo)} to {_fmt(hi)}), or {n_anchors} anchors are too few")
    if collapsed:
        warnings.warn("collapsed_map", f"{method}: every row of {' and '.join(collapsed)} is the same row (one "
                                       f"anchor: each word is that anchor's row), so every word reads alike")


def check_loss(loss: float, label: str, epoch: int, lr: float) -> None:
    """Raise `NumericsError` when a fine-tune's training loss is not finite (it would train on NaN gradients and
    predict one label for everything)."""
    if not math.isfinite(loss):
        raise NumericsError(f"{label}: the training loss became {loss} in epoch {epoch}; likely cause: input "
                            f"embeddings with extreme or non-finite values (the mapped F_s), or a learning rate too "
                            f"high for them (lr {lr:g})")


def check_logits(logits, label: str, epoch: int, lr: float) -> None:
    """Raise `NumericsError` when a fine-tuned model's dev logits (n, classes) hold NaN or infinity: the last
    update can blow the weights up after a finite loss, and the run would otherwise train on and fail only when
    it writes the predictions' confidences."""
    bad = nonfinite_rows(np.asarray(logits).reshape(len(logits), -1)) if len(logits) else 0
    if bad:
        raise NumericsError(f"{label}: after epoch {epoch} the model's outputs are NaN or infinite for {bad} of "
                            f"{len(logits)} dev sentences; likely cause: a learning rate too high (lr {lr:g}), or "
                            f"input embeddings with extreme values (the mapped F_s)")


def check_predictions(method: str, seed: int, predictions, n_train_labels: int, warnings: RunWarnings) -> None:
    """Record a warning when `predictions` (n,) hold one label only while training had several."""
    values = set(predictions)
    if len(predictions) > 1 and len(values) == 1 and n_train_labels > 1:
        warnings.warn("constant_predictions", f"{method}, seed {seed}: every one of the {len(predictions)} test "
                                              f"predictions is {next(iter(values))!r} (training has {n_train_labels} "
                                              f"labels)")


def degenerate_inputs(*, n_anchors: int | None, dim: int, train_labels, test_labels, warnings: RunWarnings) -> None:
    """Record legal inputs that make the figures mean little: one anchor (`n_anchors`; None when nothing is
    mapped), one-dimensional vectors, a test set that lacks some training labels (macro-F1 then averages over the
    labels the test set has)."""
    if n_anchors == 1:
        warnings.warn("one_anchor", "only one anchor links the two spaces: every RR-mapped word becomes that "
                                    "anchor's row")
    if dim == 1:
        warnings.warn("one_dimensional_vectors", "the static vectors have one dimension: every cosine similarity "
                                                 "is -1, 0 or 1, so words are told apart by sign only")
    missing = sorted(set(train_labels) - set(test_labels), key=str)
    if missing and len(test_labels):
        warnings.warn("test_missing_labels", f"the test set has {len(set(test_labels))} of the "
                                             f"{len(set(train_labels))} training labels (none of "
                                             f"{', '.join(map(str, missing))}): macro-F1 averages over the labels "
                                             f"the test set has")
