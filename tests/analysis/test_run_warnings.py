"""The Run page's warnings: results.json's own, then each fine-tune's notes once; an older record has none."""
from mosecrot_viz.analysis.run_warnings import run_warnings


def test_run_warnings_known_answer():
    res = {"warnings": [{"key": "one_anchor", "message": "only one anchor"}],
           "histories": {"rr-softmax": [{"warnings": ["out of GPU memory at 32"]}, {"warnings": ["out of GPU memory at 32"]}],
                         "mplm": [{}]}}
    assert run_warnings(res) == [{"key": "one_anchor", "message": "only one anchor"},
                                 {"key": "fine_tune", "message": "out of GPU memory at 32"}]
    assert run_warnings({"methods": {}}) == []  # a record written before runs kept warnings
