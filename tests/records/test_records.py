"""The run's typed records: an older run folder is read (migrated), a newer or malformed one refused in one line
naming the folder and the version; machine keys in memory, the words on disk; the status enum."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mosecrot_viz.atomic import json_bytes
from mosecrot_viz.errors import FormatError, InputError, SchemaError
from mosecrot_viz.records import (
    DROP_REASONS,
    SCHEMA_VERSION,
    AnchorReport,
    LadderRung,
    MethodResult,
    RunResults,
    RunState,
    RunStatus,
)
from mosecrot_viz.store.runs import StoredRun, read_results

ROOT = Path(__file__).resolve().parents[2]
OLD_RUN = ROOT / "docs" / "results" / "de"  # written before records had a schema version (schema 1)


def _folder(tmp_path, data) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(data))
    return run


def test_an_older_run_folder_is_read_and_migrated(tmp_path):
    stored = json.loads((OLD_RUN / "results.json").read_text())
    assert "schema_version" not in stored and "warnings" not in stored  # a schema-1 record
    run = tmp_path / "de"
    shutil.copytree(OLD_RUN, run)
    res = read_results(run)
    assert res.schema_version == SCHEMA_VERSION and res.warnings == ()
    assert res.methods["rr-softmax"].macro_f1 == stored["methods"]["rr-softmax"]["macro_f1"]
    assert res.anchors.dropped["not_source_token"] == stored["anchors"]["dropped"]["English side not a whole PLM token"]
    # written back: every field it had, byte for byte, plus what the migration adds
    again = res.to_json()
    assert again.pop("schema_version") == SCHEMA_VERSION and again.pop("warnings") == []
    assert again["ladder"].pop("english_predictions") is None  # schema 1 ladders kept no English predictions
    assert json_bytes(again) == json_bytes(stored)
    assert StoredRun(run).record() == res


def test_per_seed_scores_stored_as_objects_are_migrated_to_numbers(tmp_path):
    old = {"config": {"seeds": [1, 2]}, "methods": {"ls": {"macro_f1": 0.5, "macro_f1_std": 0.1,
                                                          "per_seed": [{"macro_f1": 0.4}, {"macro_f1": 0.6}]}}}
    res = read_results(_folder(tmp_path, old))
    assert res.methods["ls"].per_seed == (0.4, 0.6) and res.methods["ls"].seeds == 2


@pytest.mark.parametrize("data, version", [
    ({"schema_version": SCHEMA_VERSION + 1, "config": {"seeds": [1]}, "methods": {}}, SCHEMA_VERSION + 1),
    ({"config": {"seeds": [1]}, "methods": {"ls": {"macro_f1": "high"}}}, 1),
    ({"schema_version": SCHEMA_VERSION, "config": {"seeds": ["one"]}, "methods": {}}, SCHEMA_VERSION),
    ({"schema_version": "2", "config": {"seeds": [1]}, "methods": {}}, "'2'"),
])
def test_a_newer_or_malformed_folder_is_refused_in_one_line_naming_it_and_the_version(tmp_path, data, version):
    run = _folder(tmp_path, data)
    with pytest.raises(SchemaError) as err:
        read_results(run)
    msg = str(err.value)
    assert "\n" not in msg and str(run / "results.json") in msg and f"schema version {version}" in msg
    assert StoredRun(run).record() is None  # a listing skips it instead of failing


def test_a_fresh_record_round_trips_byte_for_byte():
    rec = RunResults.from_json(json.loads((OLD_RUN / "results.json").read_text()))
    assert json_bytes(RunResults.from_json(rec.to_json()).to_json()) == json_bytes(rec.to_json())


def test_drop_reasons_and_rungs_are_machine_keys_in_memory_and_words_on_disk():
    summary = {"count": 3, "lexicon_pairs": 10, "dropped": {DROP_REASONS["duplicate"]: 2, "an older version's reason": 5}}
    report = AnchorReport.of(summary)
    assert report.dropped == {"duplicate": 2, "an older version's reason": 5}
    assert report.to_json()["dropped"] == summary["dropped"]
    rung = LadderRung.from_json({"rung": "english_original (dev)", "macro_f1": 0.9, "macro_f1_std": 0.0,
                                 "per_seed": [0.9], "per_class": {"a": 0.9}})
    assert (rung.key, rung.on_dev, rung.name) == ("english_original", True, "english_original (dev)")
    assert rung.to_json()["rung"] == "english_original (dev)"
    assert MethodResult.from_json({"macro_f1": 0.5, "ladder": [rung.to_json()]}).rung("english_original") == rung


def test_every_drop_reason_the_anchors_code_writes_has_a_key():
    from mosecrot_viz.core import anchors

    written = {getattr(anchors, n) for n in dir(anchors) if n.startswith("DROP_") and isinstance(getattr(anchors, n), str)}
    assert written <= set(DROP_REASONS.values())


def test_run_status_is_an_enum_and_reads_what_the_store_wrote():
    s = RunStatus.from_json({"state": "running", "fraction": 0.5, "message": "epoch 1", "pid": 7, "started": 1.0,
                             "elapsed": 2.0, "eta_seconds": None})
    assert s.state is RunState.RUNNING and s.state == "running" and s.state.active and not s.state.broken
    assert s.to_json()["eta_seconds"] is None  # a running run's unknown time left is said, not left out
    assert RunStatus.from_json({"state": "exploded"}).state is RunState.UNKNOWN
    assert RunStatus.from_json(None).state is RunState.UNKNOWN
    assert RunStatus.from_json({"state": "failed", "message": "x"}).state.broken


def test_the_stored_analyses_envelope_names_its_config_and_refuses_a_newer_version(tmp_path):
    from mosecrot_viz.records import ANALYSES_VERSION, StoredAnalyses

    rec = StoredAnalyses("abc", {"drift": {"rr-softmax": {"mean": 0.5}}}, seconds=1.5)
    back = StoredAnalyses.from_json(rec.to_json())
    assert back == rec and back.entries["drift"]["rr-softmax"]["mean"] == 0.5
    assert StoredAnalyses.from_json({"config_key": "abc"}).schema_version == ANALYSES_VERSION  # unversioned: 1
    where = tmp_path / "analysis.json"
    for bad, says in (({"config_key": "abc", "schema_version": ANALYSES_VERSION + 1}, "schema version"),
                      ({"drift": {}}, "config_key")):
        with pytest.raises(SchemaError) as err:
            StoredAnalyses.from_json(bad, where)
        assert str(where) in str(err.value) and says in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("literal, field", [
    ("NaN", "methods.ls.macro_f1"), ("1e400", "methods.ls.macro_f1"), ("-3", "methods.ls.macro_f1"),
    ("7.5", "methods.ls.macro_f1"), ("Infinity", "methods.ls.macro_f1_std"),
    ("-0.2", "methods.ls.per_seed"),
])
def test_an_impossible_score_is_refused_naming_the_field(tmp_path, literal, field):
    """The hostile sweep's tampered records: a NaN or 1e400 macro-F1 printed as nan/inf, -3 and 7.5 as they were."""
    good = {"macro_f1": "0.5", "macro_f1_std": "0.1", "per_seed": "[0.5]"}
    key = field.rsplit(".", 1)[1]
    value = f"[{literal}]" if key == "per_seed" else literal
    method = ", ".join(f'"{k}": {value if k == key else v}' for k, v in good.items())
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text('{"config": {"seeds": [1]}, "methods": {"ls": {' + method + "}}}")
    with pytest.raises(InputError) as err:
        read_results(run)
    message = str(err.value)
    assert "\n" not in message
    if literal in ("NaN", "1e400", "Infinity"):  # not JSON this program writes: the strict reader refuses the file
        assert isinstance(err.value, FormatError) and str(run / "results.json") in message and "not finite" in message
    else:  # a finite number outside [0, 1]: the record refuses the field
        assert isinstance(err.value, SchemaError) and field in message and "not a score between 0 and 1" in message


def test_a_method_with_no_per_seed_score_but_a_macro_f1_is_refused_naming_the_field(tmp_path):
    """The hostile sweep's r15: `per_seed: []` beside a macro-F1 ran with the spread left blank (a run writes one score
    per seed, so an empty list is a tampered record)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text('{"config": {"seeds": [1]}, "methods": {"ls": {"macro_f1": 0.5, '
                                      '"macro_f1_std": 0.0, "per_seed": []}}}')
    with pytest.raises(SchemaError) as err:
        read_results(run)
    assert "\n" not in str(err.value) and "methods.ls.per_seed" in str(err.value) and "empty" in str(err.value)
