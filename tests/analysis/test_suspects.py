"""Suspect ranking: thresholds become severities, ordered; unmeasured quantities yield no suspect."""
import pytest

from mosecrot_viz.analysis.suspects import PAGES, THRESHOLDS, rank_suspects, severity

RESULTS = {"anchors": {"count": 1500, "lexicon_pairs": 10000,
                       "dropped": {"English side not a whole PLM token": 7000, "target side has no static vector": 1500}}}
FULL = dict(bli_p1=0.1, anchor_count=1500, lexicon_pairs=10000, test_unknown_rate=0.10, drift_mean=0.7,
            english_f1_rr=0.80, english_f1_orig=0.82, best_baseline="lr", gap=0.05)


def test_severity_ramp_in_both_directions():
    assert severity(0.30, *THRESHOLDS["anchor_share"]) == 0.0
    assert severity(0.20, *THRESHOLDS["anchor_share"]) == pytest.approx(0.5)
    assert severity(0.05, *THRESHOLDS["anchor_share"]) == 1.0  # beyond 'high' is clipped
    assert severity(0.00, *THRESHOLDS["test_unknown_rate"]) == 0.0
    assert severity(0.40, *THRESHOLDS["test_unknown_rate"]) == 1.0


def test_suspects_are_ordered_by_severity_with_hand_computed_values():
    got = rank_suspects(RESULTS, **FULL)
    assert [s.name for s in got] == ["Alignment (BLI P@1)", "Anchor coverage", "Embedding drift",
                                     "Gap to best baseline", "In-language drop", "Unknown target words"]
    sev = {s.name: s.severity for s in got}
    assert sev["Alignment (BLI P@1)"] == 1.0  # 0.1 < 0.2
    assert sev["Anchor coverage"] == pytest.approx(0.75)  # share 0.15 between 0.30 and 0.10
    assert sev["Embedding drift"] == pytest.approx(0.5) and sev["Gap to best baseline"] == pytest.approx(0.5)
    assert sev["In-language drop"] == pytest.approx(0.25)  # drop 0.02 between 0.01 and 0.05
    assert sev["Unknown target words"] == pytest.approx(0.2)  # 10 % between 5 % and 30 %
    assert [s.severity for s in got] == sorted((s.severity for s in got), reverse=True)
    assert all(s.page in PAGES and 0.0 <= s.severity <= 1.0 and s.explanation for s in got)


def test_values_come_from_the_arguments():
    by_name = {s.name: s for s in rank_suspects(RESULTS, **FULL)}
    assert by_name["Anchor coverage"].value == pytest.approx(0.15)
    assert "1,500 of 10,000" in by_name["Anchor coverage"].display
    assert "English side not a whole PLM token (7,000 pairs)" in by_name["Anchor coverage"].explanation
    assert by_name["In-language drop"].value == pytest.approx(0.02)
    assert by_name["Alignment (BLI P@1)"].value == 0.1 and "0.100" in by_name["Alignment (BLI P@1)"].display
    assert by_name["Gap to best baseline"].display.startswith("lr ahead by 0.050")
    assert by_name["Unknown target words"].page == "Errors" and by_name["Anchor coverage"].page == "Anchors"


def test_unmeasured_inputs_produce_no_suspect():
    args = dict(FULL, bli_p1=None, drift_mean=None, english_f1_rr=None, test_unknown_rate=float("nan"),
                lexicon_pairs=0, gap=None)
    assert rank_suspects({}, **args) == []
    only_orig = dict(FULL, english_f1_orig=None)
    assert "In-language drop" not in [s.name for s in rank_suspects({}, **only_orig)]


def test_rr_ahead_of_the_baseline_is_not_a_problem():
    got = {s.name: s for s in rank_suspects({}, **dict(FULL, gap=-0.03))}["Gap to best baseline"]
    assert got.severity == 0.0 and got.value == -0.03 and "ahead of lr by 0.030" in got.display
