"""Rank the usual suspects for weak transfer from what a run measured.

Each suspect turns one measured quantity into a severity in [0, 1] with a simple ramp between an
'ok' value (severity 0) and a 'high' value (severity 1), linear in between. The thresholds live in
`THRESHOLDS` so a page can show them next to the ranking. Nothing is estimated here: every value
comes from the arguments, and a quantity that was not measured (None or NaN) yields no suspect.

Thresholds (ok -> high):
- anchor share of lexicon pairs: >= 30 % -> < 10 %  (few usable anchors: a coarse map)
- BLI P@1 on held-out pairs:     >= 0.5 -> < 0.2   (translations do not land near each other)
- test unknown-word rate:        <= 5 % -> > 30 %  (the model reads mostly [UNK])
- in-language drop (English F1 with original embeddings minus with F_s): <= 0.01 -> > 0.05
- drift, mean cos(E_s, F_s):     >= 0.9 -> < 0.5   (fine-tuned on embeddings far from pre-training)
- gap to the best baseline (baseline F1 minus RR F1): <= 0 -> > 0.10
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from mosecrot_viz.records import as_results

PAGES = ("Anchors", "Alignment", "Errors")

# name -> (ok, high): severity 0 at `ok`, 1 at `high` or beyond, linear in between.
THRESHOLDS = {
    "anchor_share": (0.30, 0.10),
    "bli_p1": (0.5, 0.2),
    "test_unknown_rate": (0.05, 0.30),
    "in_language_drop": (0.01, 0.05),
    "drift_mean": (0.9, 0.5),
    "gap": (0.0, 0.10),
}


@dataclass(frozen=True)
class Suspect:
    """One candidate cause: the measured value, how it reads, how bad it is (0..1), why, and where to look."""

    name: str
    value: float
    display: str
    severity: float
    explanation: str
    page: str
    key: str = ""  # machine key (a `THRESHOLDS` key): what `analysis.ladder.SUSPECT_LINK` maps to a ladder link


def severity(value: float, ok: float, high: float) -> float:
    """Linear ramp: 0 at `ok`, 1 at `high` (either direction), clipped to [0, 1]."""
    return float(min(1.0, max(0.0, (value - ok) / (high - ok))))


def _missing(x) -> bool:
    return x is None or math.isnan(float(x))


def _largest_drop(results) -> str:
    dropped = as_results(results).anchors.dropped_text()
    if not dropped:
        return ""
    reason, count = max(dropped.items(), key=lambda kv: kv[1])
    return f" Largest drop reason: {reason} ({count:,} pairs)."


UNKNOWN_LABEL = "test words without a vector"


class UnknownShare(NamedTuple):
    """The test set's unknown-word figure (None: not measured) and the words that say what it counts."""

    value: float | None
    label: str


def test_unknown_share(results) -> UnknownShare:
    """(figure, label) for the test set's unknown words: the share of all test words without a vector
    (`data.test_unknown_word_share`, the figure Setup shows), or, for a run made before it was stored, the mean
    per-sentence share, labelled as such. Shown with one decimal everywhere (`unknown_text`)."""
    data = as_results(results).data
    if data.test_unknown_word_share is not None or data.test_unknown_word_rate is None:
        share = data.test_unknown_word_share
        return UnknownShare(None if share is None else float(share), UNKNOWN_LABEL)
    return UnknownShare(float(data.test_unknown_word_rate), "mean share of a test sentence's words without a vector")


def unknown_text(value: float | None, label: str = UNKNOWN_LABEL) -> str:
    """'58.1% of test words without a vector' (one rounding, one label on every page)."""
    if value is None:
        return "unknown-word share not measured"
    return f"{value:.1%} of {label}" if label == UNKNOWN_LABEL else f"{value:.1%} ({label})"


def rank_suspects(results, *, bli_p1: float | None, anchor_count: int, lexicon_pairs: int,
                  test_unknown_rate: float | None, drift_mean: float | None, english_f1_rr: float | None,
                  english_f1_orig: float | None, best_baseline: str, gap: float | None) -> list[Suspect]:
    """Suspects for weak zero-shot transfer, most severe first (ties keep the order listed in the module doc).

    results : the run's `RunResults` (or its results.json dict; only its anchor drop counts are quoted).
    gap : best baseline macro-F1 minus the RR method's macro-F1 (positive: RR trails `best_baseline`).
    english_f1_orig / english_f1_rr : English test macro-F1 fine-tuned with E_s and with F_s.
    Arguments that are None or NaN produce no suspect.
    """
    out = []

    def add(key, name, value, display, explanation, page):
        out.append(Suspect(name, float(value), display, severity(value, *THRESHOLDS[key]), explanation, page, key))

    if not _missing(anchor_count) and not _missing(lexicon_pairs) and lexicon_pairs > 0:
        share = anchor_count / lexicon_pairs
        add("anchor_share", "Anchor coverage", share, f"{anchor_count:,} of {lexicon_pairs:,} pairs ({share:.1%})",
            "Only lexicon pairs with a whole-token English side and a target vector become anchors; with few "
            "anchors every word is placed through a handful of distant, noisy coordinates (high below 10 %)."
            + _largest_drop(results), "Anchors")
    if not _missing(bli_p1):
        add("bli_p1", "Alignment (BLI P@1)", bli_p1, f"csls P@1 = {bli_p1:.3f}",
            "Share of held-out target words whose nearest source token under CSLS retrieval is a translation (the "
            "Alignment page's `csls P@1`; its `nn P@1` is plain nearest neighbour). Low values mean the "
            "mapped target words do not sit where their English counterparts were during fine-tuning "
            "(high below 0.2).", "Alignment")
    if not _missing(test_unknown_rate):
        add("test_unknown_rate", "Unknown target words", test_unknown_rate,
            unknown_text(test_unknown_rate, test_unknown_share(results)[1]),
            "Test words without a static vector reach the model as [UNK] (or vanish), so the classifier reads "
            "only part of each text (high above 30 %).", "Errors")
    if not _missing(english_f1_orig) and not _missing(english_f1_rr):
        drop = english_f1_orig - english_f1_rr
        add("in_language_drop", "In-language drop", drop,
            f"English F1 {english_f1_orig:.3f} -> {english_f1_rr:.3f} ({-drop:+.3f})",
            "Fine-tuning with the re-initialised embeddings F_s already costs accuracy on English, before any "
            "language is swapped: the loss is in the re-initialisation, not the transfer (high above 0.05).",
            "Alignment")
    if not _missing(drift_mean):
        add("drift_mean", "Embedding drift", drift_mean, f"mean cos(E_s, F_s) = {drift_mean:.3f}",
            "How far re-initialisation moves each PLM token from the embedding it was pre-trained with; the "
            "frozen body then reads inputs unlike those it learned on (high below 0.5).", "Alignment")
    if not _missing(gap):
        if gap > 0:
            display, why = f"{best_baseline} ahead by {gap:.3f} macro-F1", (
                f"The best baseline ({best_baseline}) beats the stitched model; read with the suspects above to "
                "see which part of the chain loses the signal (high above 0.10).")
        else:
            display, why = f"stitched model ahead of {best_baseline} by {-gap:.3f} macro-F1", (
                f"The stitched model matches or beats the best baseline ({best_baseline}).")
        add("gap", "Gap to best baseline", gap, display, why, "Errors")
    return sorted(out, key=lambda s: -s.severity)
