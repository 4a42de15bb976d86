"""Property-based fuzzing of every text parser: any bytes give a result or an InputError, never a crash."""
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mosecrot_viz.errors import FormatError, InputError
from mosecrot_viz.io.lexicon import load_lexicon
from mosecrot_viz.io.tasks import load_task
from mosecrot_viz.io.vectors import load_vectors

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
tokens = st.sampled_from(["a", "chat", "1", "-0.5", "nan", "inf", "1e40", "x", "\t", " ", "\n", "é", "#", '"', "\x00"])
texty = st.lists(tokens, max_size=60).map("".join).map(str.encode)
raw = st.binary(max_size=400)


def _write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


@FUZZ
@given(data=st.one_of(texty, raw))
def test_vector_parser_never_crashes(tmp_path, data):
    try:
        kv = load_vectors(_write(tmp_path, "f.vec", data))
    except InputError:
        return
    assert len(kv.index_to_key) > 0 and np.isfinite(kv.vectors).all()
    assert len(set(kv.index_to_key)) == len(kv.index_to_key)


@FUZZ
@given(rows=st.lists(st.tuples(st.text(alphabet=string.ascii_letters + "éü", min_size=1, max_size=6),
                               st.lists(st.floats(-1e3, 1e3, width=32), min_size=3, max_size=3)),
                     min_size=1, max_size=20, unique_by=lambda r: r[0]))
def test_vector_parser_round_trips_valid_files(tmp_path, rows):
    text = f"{len(rows)} 3\n" + "".join(f"{w} " + " ".join(repr(float(x)) for x in v) + "\n" for w, v in rows)
    if not any(x != 0 for _, v in rows for x in v):  # refused on purpose: nothing to map (a placeholder file)
        with pytest.raises(FormatError, match="all zeros"):
            load_vectors(_write(tmp_path, "zeros.vec", text.encode()))
        assume(False)
    kv = load_vectors(_write(tmp_path, "ok.vec", text.encode()))
    assert kv.index_to_key == [w for w, _ in rows]
    np.testing.assert_allclose(kv.vectors, np.array([v for _, v in rows], dtype=np.float32), rtol=1e-6)


@FUZZ
@given(data=st.one_of(texty, raw))
def test_lexicon_parser_never_crashes(tmp_path, data):
    try:
        pairs = load_lexicon(_write(tmp_path, "l.txt", data))
    except InputError:
        return
    assert pairs and all(len(p) == 2 and p[0] and p[1] for p in pairs)


@FUZZ
@given(data=st.one_of(texty, raw), name=st.sampled_from(["t.tsv", "t.csv", "t.txt"]))
def test_task_parser_never_crashes(tmp_path, data, name):
    try:
        df = load_task(_write(tmp_path, name, data))
    except InputError:
        return
    assert list(df.columns) == ["id", "label", "text"] and len(df) > 0
    assert (df["label"] != "").all() and (df["text"] != "").all()


@FUZZ
@given(rows=st.lists(st.lists(st.floats(-1e3, 1e3, width=32), min_size=2, max_size=2), min_size=2, max_size=8),
       gaps=st.lists(st.integers(0, 3000), min_size=8, max_size=8))
def test_blank_lines_between_rows_change_nothing_and_a_flood_of_them_is_refused(tmp_path, rows, gaps, monkeypatch):
    """Blank lines anywhere give the rows without them, in batches whatever their count (a blank line costs its
    bookkeeping, not 0 bytes); past MAX_BLANK_LINES the file is refused naming the line, not skipped for minutes."""
    import mosecrot_viz.io.vectors as vectors

    assume(any(x != 0 for v in rows for x in v))
    monkeypatch.setattr(vectors, "_BATCH_BYTES", 4096)  # many batches, some of blank lines only
    monkeypatch.setattr(vectors, "MAX_BLANK_LINES", 1_000_000)  # the default again (examples share the fixture)
    body = "".join(f"w{i} {v[0]!r} {v[1]!r}\n" + "\n" * g for i, (v, g) in enumerate(zip(rows, gaps)))
    kv = load_vectors(_write(tmp_path, "gaps.vec", body.encode()))
    assert kv.index_to_key == [f"w{i}" for i in range(len(rows))]
    np.testing.assert_allclose(kv.vectors, np.array(rows, dtype=np.float32), rtol=1e-6)
    monkeypatch.setattr(vectors, "MAX_BLANK_LINES", sum(gaps[: len(rows)]) - 1)
    if vectors.MAX_BLANK_LINES >= 0:
        with pytest.raises(FormatError, match="blank lines"):
            load_vectors(_write(tmp_path, "flood.vec", body.encode()))


@FUZZ
@given(value=st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(["1e999", "-1e400", "NaN", "Infinity"]))
def test_json_reader_returns_exactly_the_finite_numbers(tmp_path, value):
    """A finite float reads back as itself; NaN, infinity and an overflowing literal are a FormatError naming the file
    (the readers of results.json, analysis.json and model configs share this reader)."""
    import json
    import math

    from mosecrot_viz.io.structured import load_json

    text = value if isinstance(value, str) else json.dumps(value)  # json.dumps writes NaN / Infinity for those
    p = _write(tmp_path, "r.json", f'{{"a": [1, {{"b": {text}}}]}}'.encode())
    if isinstance(value, float) and math.isfinite(value):
        assert load_json(p) == {"a": [1, {"b": value}]}
    else:
        with pytest.raises(FormatError, match="not finite") as err:
            load_json(p)
        assert str(p) in str(err.value)


@FUZZ
@given(labels=st.lists(st.sampled_from(["NA", "nan", "null", "None", "", "1.0", "a,b", 'say "hi"', "é", " x "]) |
                       st.text(max_size=8), min_size=1, max_size=12))
def test_run_tables_read_back_every_label_as_written(tmp_path, labels):
    """predictions.csv written by pandas reads back with its text columns exactly as written (pandas' default reader
    turned a label 'NA' or 'nan' into a missing value) and its numbers as numbers."""
    import pandas as pd

    from mosecrot_viz.io.structured import load_run_table

    assume(all("\r" not in x and "\n" not in x for x in labels))
    df = pd.DataFrame({"method": "ls", "seed": 1, "id": [str(i) for i in range(len(labels))], "gold": labels,
                       "pred": labels[::-1], "unknown_rate": 0.25})
    p = tmp_path / "predictions.csv"
    p.write_text(df.to_csv(index=False), encoding="utf-8")
    back = load_run_table(p, ("method", "seed", "id", "gold", "pred"), ("method", "id", "gold", "pred"))
    assert list(back["gold"]) == labels and list(back["pred"]) == labels[::-1]
    assert list(back["seed"]) == [1] * len(labels) and list(back["unknown_rate"]) == [0.25] * len(labels)
