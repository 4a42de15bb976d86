"""The analyses' result types: named fields, and from_json(to_json(x)) gives x back (rounded as stored)."""
import json
from dataclasses import fields

import numpy as np
import pytest

from mosecrot_viz.analysis import dtypes


def _names(cls) -> list[str]:
    return [f.name for f in fields(cls)]


def test_the_named_types_fields():
    assert _names(dtypes.AnchorView) == ["sxy", "txy", "source_words", "target_words", "control", "target_rows",
                                         "extras", "highlight", "matches"]  # once a 9-tuple unpacked by position
    assert _names(dtypes.BLIResult) == ["precision", "cosines", "n_test", "n_train"]  # once a 4-tuple
    assert _names(dtypes.Drift) == ["summary", "cosines"]
    assert _names(dtypes.Heatmap) == ["words", "missing", "anchors", "matrix"]
    assert _names(dtypes.BLIHits) == ["hits"] and _names(dtypes.WordCounts) == ["counts"]
    assert _names(dtypes.Neighbours) == ["target_word", "source_word", "target", "source"]
    assert _names(dtypes.SharedNeighbours) == ["found", "source", "target"]


def _roundtrip(value):
    return type(value).from_json(json.loads(json.dumps(value.to_json())))


def test_bli_result_round_trips_with_integer_ks_and_rounded_cosines():
    b = dtypes.BLIResult({"ls": {"nn": {1: 0.5, 5: 1.0}, "csls": {1: 0.25, 5: 0.75}}},
                         {"ls": np.array([0.123456789, -0.5])}, 2, 8)
    back = _roundtrip(b)
    assert back.precision == b.precision and back.p_at("ls") == 0.25 and back.p_at("ls", 5, "nn") == 1.0
    assert back.cosines["ls"].tolist() == [0.12346, -0.5] and (back.n_test, back.n_train) == (2, 8)


def test_anchor_view_round_trips_and_refuses_ragged_records():
    v = dtypes.AnchorView(np.array([[0.1234567, 1.0], [2.0, 3.0]]), np.zeros((2, 2)), ["cat", "dog"], ["xcat", "xdog"],
                          {"pairs": 1.0, "control": 2.0, "ratio": 0.5}, [3, 4],
                          [{"x": 1.0, "y": 2.0, "side": "target", "word": "xzebra", "partner": None}], [],
                          [{"side": "target", "word": "xzebra", "partner": None, "anchor": None, "source_id": None,
                            "target_row": 9}])
    back = _roundtrip(v)
    assert back.sxy.shape == (2, 2) and back.sxy[0, 0] == 0.12346 and back.target_rows == [3, 4]
    assert back.extras == v.extras and back.matches == v.matches and back.control == v.control
    empty = _roundtrip(dtypes.AnchorView(np.zeros((0, 2)), np.zeros((0, 2)), [], [], {"pairs": 0.0}, [], [], [], []))
    assert empty.sxy.shape == (0, 2)
    with pytest.raises(ValueError):
        dtypes.AnchorView.from_json({**v.to_json(), "target_words": ["xcat"]})
    with pytest.raises(ValueError):
        dtypes.AnchorView.from_json({**v.to_json(), "sxy": [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]})


def test_the_other_results_round_trip():
    d = _roundtrip(dtypes.Drift({"rr-softmax": {"n": 2, "mean": 0.5}}, {"rr-softmax": np.array([0.123456, 1.0])}))
    assert d.summary == {"rr-softmax": {"n": 2, "mean": 0.5}} and d.cosines["rr-softmax"].tolist() == [0.1235, 1.0]
    h = _roundtrip(dtypes.Heatmap(["xcat"], ["xnone"], ["xdog/dog"], np.array([[0.5]])))
    assert h.words == ["xcat"] and h.missing == ["xnone"] and h.matrix.tolist() == [[0.5]]
    assert _roundtrip(dtypes.Heatmap([], ["xnone"], [], None)).matrix is None
    assert _roundtrip(dtypes.BLIHits({"ls": [True, False]})).hits == {"ls": [True, False]}
    assert _roundtrip(dtypes.WordCounts({"ls": {"xcat": 2}})).counts == {"ls": {"xcat": 2}}
    n = _roundtrip(dtypes.Neighbours("xcat", "cat", [{"word": "xdog", "cosine": 0.5, "gloss": "dog"}], []))
    assert (n.target_word, n.source_word, n.target, n.source) == ("xcat", "cat", [{"word": "xdog", "cosine": 0.5,
                                                                                  "gloss": "dog"}], [])
    s = _roundtrip(dtypes.SharedNeighbours(True, [("cat", 0.25)], [("xcat", 1.0)]))
    assert s.found and s.source == [("cat", 0.25)] and s.target == [("xcat", 1.0)]
