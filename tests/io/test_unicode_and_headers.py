"""Issue 24, item 3: text normalised once (Unicode NFC) in every reader, and task headers known by their names.

A word written with combining accents (NFD) and the same word precomposed (NFC) must be one key in the
vectors, the lexicon and the task text; a task file's first row that is a header is never read as data.
Property tests (hypothesis) check the round trips and that random bytes give a result or an InputError.
"""
from __future__ import annotations

import gzip
import struct
import unicodedata

import numpy as np
import pytest
from conftest import shared_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mosecrot_viz.errors import InputError, SchemaError
from mosecrot_viz.io.lexicon import load_lexicon
from mosecrot_viz.io.structured import load_json, load_yaml
from mosecrot_viz.io.tasks import LABEL_COLUMNS, TEXT_COLUMNS, load_task
from mosecrot_viz.io.text import nfc, segment
from mosecrot_viz.io.vectors import load_vectors

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ACCENTED = "éèêëàâäîïôöûüùçñÅÉ"  # letters with a one-mark NFD form (e + U+0301, ...)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


def _vec_text(words, rows, header=True) -> bytes:
    body = "".join(f"{w} " + " ".join(repr(float(x)) for x in r) + "\n" for w, r in zip(words, rows))
    return ((f"{len(words)} {len(rows[0])}\n" if header else "") + body).encode("utf-8")


def _word2vec_bin(words, rows) -> bytes:
    out = [b"%d %d\n" % (len(words), len(rows[0]))]
    for w, r in zip(words, rows):
        out.append(w.encode("utf-8") + b" " + struct.pack(f"<{len(r)}f", *r) + b"\n")
    return b"".join(out)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_PARSED_VECTORS", str(tmp_path / "parsed"))


def test_nfc_is_the_one_normalisation():
    assert nfc(nfd("café")) == "café" and len(nfd("café")) == 5 and len(nfc(nfd("café"))) == 4
    assert nfc("plain ascii") == "plain ascii"
    # the segmenter's word regex does not count a combining mark as part of a word: NFD text was split apart
    assert segment(nfd("un café noir"), "fr") == ["un", "café", "noir"]


@pytest.mark.parametrize("raw, expected", [
    ("xc\u200dat", "xcat"),  # ZWJ inside a Latin word (the hostile sweep's test text: every word unknown)
    ("ca\u00adt", "cat"),  # soft hyphen
    ("cat\u200b", "cat"),  # trailing zero-width space (half a lexicon's lines lost their anchor)
    ("ca\u2060t\ufeff", "cat"),  # word joiner, BOM inside text
    ("\u0e41\u0e21\u0e27\u200b\u0e2b\u0e21\u0e32", "\u0e41\u0e21\u0e27 \u0e2b\u0e21\u0e32"),  # Thai words
    ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
    ("\U0001F469\u200d\U0001F4BB", "\U0001F469\u200d\U0001F4BB"),  # an emoji sequence keeps its ZWJ
    ("\u200b", "\u200b"),  # a word made only of them is kept
])
def test_invisible_format_characters_are_dropped_where_they_never_carry_meaning(raw, expected):
    assert nfc(raw) == expected and nfc(expected) == expected


@given(st.text(alphabet="ab\u00e9\u0301\u0645\u0e41 \u00ad\u200b\u200c\u200d\u2060\ufeff", max_size=12))
def test_nfc_is_idempotent(text):
    assert nfc(nfc(text)) == nfc(text)


def test_lexicon_and_test_text_with_invisible_characters_find_the_same_words(tmp_path):
    from mosecrot_viz.io.lexicon import load_lexicon

    (tmp_path / "lex.txt").write_text("cat\tchat\u200b\ndog\tchi\u00aden\n", encoding="utf-8")
    assert [tuple(p) for p in load_lexicon(tmp_path / "lex.txt")] == [("cat", "chat"), ("dog", "chien")]
    (tmp_path / "t.tsv").write_text("index_id\tcategory\ttext\n1\tpets\tle ch\u200dat\n", encoding="utf-8")
    assert load_task(tmp_path / "t.tsv")["text"].tolist() == ["le chat"]


@pytest.mark.parametrize("name,make", [
    ("v.vec", lambda w, r: _vec_text(w, r)),
    ("v.txt", lambda w, r: _vec_text(w, r, header=False)),
    ("v.vec.gz", lambda w, r: gzip.compress(_vec_text(w, r), mtime=0)),
    ("v.bin", _word2vec_bin),
    ("v.bin.gz", lambda w, r: gzip.compress(_word2vec_bin(w, r), mtime=0)),
])
def test_vector_words_are_nfc_in_every_format_and_a_repeat_keeps_the_first_row(tmp_path, name, make):
    words = [nfd("café"), "noir", "café", nfd("élève")]  # the third is the first one again, once normalised
    rows = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
    p = tmp_path / name
    p.write_bytes(make(words, rows))
    kv = load_vectors(p)
    assert kv.index_to_key == ["café", "noir", "élève"]
    assert kv["café"].tolist() == [1.0, 2.0] and kv.duplicate_words == 1
    assert kv.key_to_index[nfc(nfd("élève"))] == 2


def test_a_fasttext_bin_model_lists_its_words_in_nfc(tmp_path):
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    sents = [[nfd("été"), "chat", nfd("noël")], ["chat", nfd("été")]] * 5
    ft = FastText(vector_size=4, min_count=1, epochs=1, seed=0, workers=1, bucket=50)
    ft.build_vocab(sents)
    ft.train(sents, total_examples=len(sents), epochs=1)
    save_facebook_model(ft, str(tmp_path / "m.bin"))
    kv = load_vectors(tmp_path / "m.bin")
    assert set(kv.index_to_key) == {"été", "chat", "noël"} and kv.duplicate_words == 0
    assert kv.key_to_index["été"] == kv.index_to_key.index("été")


def test_lexicon_words_are_nfc_and_exact_repeats_are_dropped_and_counted(tmp_path):
    p = tmp_path / "l.txt"
    p.write_text(f"coffee\t{nfd('café')}\ncoffee\tcafé\nstudent\télève\ncoffee\tcafé\nstudent\t{nfd('élève')}\n",
                 encoding="utf-8")
    pairs = load_lexicon(p)
    assert pairs == [("coffee", "café"), ("student", "élève")]
    assert pairs.duplicates == 3 and pairs.path == str(p)


def test_task_labels_and_text_are_nfc(tmp_path):
    (tmp_path / "a.tsv").write_text(f"text\tlabel\n{nfd('un café')}\t{nfd('société')}\nle thé\tsanté\n",
                                    encoding="utf-8")
    (tmp_path / "b.tsv").write_text("text\tlabel\nun café\tsociété\nle thé\tsanté\n", encoding="utf-8")
    a, b = load_task(tmp_path / "a.tsv"), load_task(tmp_path / "b.tsv")
    assert a["text"].tolist() == b["text"].tolist() and a["label"].tolist() == b["label"].tolist()


def test_real_sib200_french_in_nfd_finds_the_same_words_as_in_nfc(tmp_path):
    """The issue's case, real-shaped: SIB-200's French test set, vectors and a lexicon over its own words; written
    in NFD, the text used to lose its accented words (each split at its combining mark, then not found)."""
    test = shared_data("sib200", "fra_Latn", "test.tsv").read_text(encoding="utf-8")
    words = sorted({w for line in test.splitlines()[1:] for w in segment(line.split("\t")[-1], "fr")})
    accented = [w for w in words if not w.isascii()]
    assert len(accented) > 100
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(len(words), 4)).round(3).tolist()
    (tmp_path / "v.vec").write_bytes(_vec_text(words, rows))  # the vectors in NFC, as fastText publishes them
    results = {}
    for form in ("NFC", "NFD"):
        f = (lambda s: s) if form == "NFC" else nfd
        (tmp_path / f"{form}.tsv").write_text(f(test), encoding="utf-8")
        (tmp_path / f"{form}.lex").write_text("".join(f"w{i}\t{f(w)}\n" for i, w in enumerate(accented)),
                                              encoding="utf-8")
        kv, pairs = load_vectors(tmp_path / "v.vec"), load_lexicon(tmp_path / f"{form}.lex")
        tokens = [w for s in load_task(tmp_path / f"{form}.tsv")["text"] for w in segment(s, "fr")]
        unknown = sum(w not in kv.key_to_index for w in tokens) / len(tokens)
        results[form] = (sum(t in kv.key_to_index for _, t in pairs), unknown, len(tokens))
    assert results["NFC"] == results["NFD"]
    assert results["NFC"][0] == len(accented) and results["NFC"][1] == 0.0


# ---- task headers: recognised by their column names, never read as data

@pytest.mark.parametrize("content,name", [
    ("id\tclass\ttext\n1\tsports\tHe ran\n2\tscience\tAtoms\n", "t.tsv"),
    ("index,category,sentence\n1,sports,He ran\n2,science,Atoms\n", "t.csv"),
    ("Index ID\tTopic\tSentence\n1\tsports\tHe ran\n2\tscience\tAtoms\n", "t.tsv"),
    ("guid\tlabel\tcontent\n1\tsports\tHe ran\n2\tscience\tAtoms\n", "t.txt"),
])
def test_a_header_row_is_a_header_never_a_label(tmp_path, content, name):
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    df = load_task(p)
    assert df["label"].tolist() == ["sports", "science"] and df["text"].tolist() == ["He ran", "Atoms"]
    assert df["id"].tolist() == ["1", "2"]


def test_headerless_taxi1500_rows_are_still_data(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("v1\tRecommendation\tDo this\nv2\tFaith\tBelieve\n", encoding="utf-8")
    assert load_task(p)["label"].tolist() == ["Recommendation", "Faith"]


def test_a_header_shaped_row_naming_no_label_column_is_refused_in_one_line(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("id\tgenre\ttext\n1\tsports\tHe ran\n", encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_task(p)
    message = str(err.value)
    assert message.startswith(f"{p}:1: the first row looks like a header (id, genre, text)") and "\n" not in message


@FUZZ
@given(label=st.sampled_from(LABEL_COLUMNS), text=st.sampled_from(TEXT_COLUMNS),
       id_col=st.sampled_from(["id", "index", "index_id", None]), sep=st.sampled_from(["\t", ","]),
       upper=st.booleans(), order=st.permutations([0, 1, 2]))
def test_any_known_header_is_read_as_a_header(tmp_path, label, text, id_col, sep, upper, order):
    cols = [id_col or "extra", label, text]
    cols = [c.upper() if upper else c for c in cols]
    rows = [["7", "sports", "He ran"], ["8", "science", "Atoms split"]]
    perm = list(order)
    lines = [sep.join(cols[i] for i in perm)] + [sep.join(r[i] for i in perm) for r in rows]
    p = tmp_path / ("t.tsv" if sep == "\t" else "t.csv")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    df = load_task(p)
    assert df["label"].tolist() == ["sports", "science"] and df["text"].tolist() == ["He ran", "Atoms split"]
    assert df["id"].tolist() == (["7", "8"] if id_col else ["0", "1"])


# ---- property tests: NFC/NFD round trips, and garbage never raises anything but InputError

word = st.text(alphabet="abcdefghij" + ACCENTED, min_size=1, max_size=8)


@FUZZ
@given(words=st.lists(word, min_size=1, max_size=12), forms=st.lists(st.sampled_from(["NFC", "NFD"]), min_size=12,
                                                                         max_size=12),
       binary=st.booleans())
def test_vectors_round_trip_words_in_either_form_to_nfc(tmp_path, words, forms, binary):
    written = [unicodedata.normalize(f, w) for w, f in zip(words, forms)]
    rows = [[float(i + 1), 0.5] for i in range(len(words))]
    p = tmp_path / ("v.bin" if binary else "v.vec")
    p.write_bytes(_word2vec_bin(written, rows) if binary else _vec_text(written, rows))
    kv = load_vectors(p)
    expected = list(dict.fromkeys(nfc(w) for w in words))
    assert kv.index_to_key == expected and kv.duplicate_words == len(words) - len(expected)
    first = {}
    for w, r in zip(words, rows):
        first.setdefault(nfc(w), r)
    assert all(kv[w].tolist() == first[w] for w in expected)


@FUZZ
@given(pairs=st.lists(st.tuples(word, word), min_size=1, max_size=12),
       forms=st.lists(st.sampled_from(["NFC", "NFD"]), min_size=12, max_size=12))
def test_lexicon_round_trips_pairs_in_either_form_to_nfc(tmp_path, pairs, forms):
    p = tmp_path / "l.txt"
    p.write_text("".join(f"{unicodedata.normalize(f, a)}\t{unicodedata.normalize(f, b)}\n"
                         for (a, b), f in zip(pairs, forms)), encoding="utf-8")
    got = load_lexicon(p)
    expected = list(dict.fromkeys((nfc(a), nfc(b)) for a, b in pairs))
    assert got == expected and got.duplicates == len(pairs) - len(expected)


raw = st.binary(max_size=600)


@FUZZ
@given(data=raw, gz=st.booleans(), header=st.booleans())
def test_word2vec_binary_reader_never_raises_anything_but_input_error(tmp_path, data, gz, header):
    blob = (b"3 2\n" + data) if header else data
    p = tmp_path / ("f.bin.gz" if gz else "f.bin")
    p.write_bytes(gzip.compress(blob, mtime=0) if gz else blob)
    try:
        kv = load_vectors(p)
    except InputError:
        return
    assert len(kv) > 0 and np.isfinite(kv.vectors).all() and len(set(kv.index_to_key)) == len(kv.index_to_key)
    assert all(w == nfc(w) for w in kv.index_to_key)


@FUZZ
@given(data=st.one_of(raw, st.text(alphabet="[]{}:,&*- \n\"'!ab1", max_size=300).map(str.encode)))
def test_json_and_yaml_readers_never_raise_anything_but_input_error(tmp_path, data):
    for name, load in (("f.json", load_json), ("f.yaml", load_yaml)):
        p = tmp_path / name
        p.write_bytes(data)
        try:
            load(p)
        except InputError:
            pass


@FUZZ
@given(data=st.one_of(raw, st.text(alphabet="id\tlabeltx,\n\"é" + nfd("é"), max_size=200).map(str.encode)),
       name=st.sampled_from(["t.tsv", "t.csv"]))
def test_task_reader_gives_nfc_frames_or_input_error(tmp_path, data, name):
    p = tmp_path / name
    p.write_bytes(data)
    try:
        df = load_task(p)
    except InputError:
        return
    assert all(v == nfc(v) for v in df["label"]) and all(v == nfc(v) for v in df["text"])


@pytest.fixture(scope="module")
def fasttext_model(tmp_path_factory):
    """The bytes of a small real fastText `.bin` model (gensim's writer, fastText's own layout)."""
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    sents = [["le", "chat", "noir", "dort"], ["la", "maison", "noire"]] * 5
    ft = FastText(vector_size=4, min_count=1, epochs=1, seed=0, workers=1, bucket=50)
    ft.build_vocab(sents)
    ft.train(sents, total_examples=len(sents), epochs=1)
    path = tmp_path_factory.mktemp("ft") / "m.bin"
    save_facebook_model(ft, str(path))
    return path.read_bytes()


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(4, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.integers(8, 10**6)))
def test_a_damaged_fasttext_model_gives_only_input_error(tmp_path, fasttext_model, edits, cut):
    """Bytes of a real model changed or cut short (gensim's reader raised OverflowError on some before)."""
    data = bytearray(fasttext_model)
    for at, value in edits:
        data[at % len(data)] = value
    if cut is not None:
        data = data[: max(8, cut % len(data))]
    p = tmp_path / "m.bin"
    p.write_bytes(bytes(data))
    try:
        kv = load_vectors(p)
    except InputError:
        return
    assert len(kv) > 0 and all(w == nfc(w) for w in kv.index_to_key)


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_header_with_every_cell_quoted_is_a_header(tmp_path, quote):
    """The hostile sweep's training file `"index_id"<TAB>"category"<TAB>"text"`: read as data, it trained on a label
    `"category"` (exit 0)."""
    q = quote
    (tmp_path / "t.tsv").write_text(f"{q}index_id{q}\t{q}category{q}\t{q}text{q}\n1\tpets\tle chat\n2\tfood\tdu pain\n",
                                    encoding="utf-8")
    df = load_task(tmp_path / "t.tsv")
    assert df["label"].tolist() == ["pets", "food"] and df["text"].tolist() == ["le chat", "du pain"]


@pytest.mark.parametrize("declared", [5, 100_000])
def test_a_vectors_header_that_disagrees_with_its_rows_is_kept_for_a_warning(tmp_path, declared):
    """The hostile sweep's headers `5 6` and `100000 6` over 26 rows ran without a word; the reader keeps the
    declared count (the fast and the careful parser, and through the parsed cache) for the run's warning."""
    from mosecrot_viz.io import vectors

    words = [f"w{i}" for i in range(26)]
    body = "".join(f"{w} {' '.join(['0.5'] * 6)}\n" for w in words)
    path = tmp_path / "v.vec"
    path.write_text(f"{declared} 6\n" + body, encoding="utf-8")
    for _ in range(2):  # parsed, then from the parsed cache
        kv = vectors.load_vectors(path)
        assert len(kv) == 26 and kv.header_rows == declared
    assert vectors._load_text_careful(path, None).header_rows == declared
    assert vectors._load_text_careful(path, 3).header_rows is None  # not read to its end: nothing to compare
    path.write_text("26 6\n" + body, encoding="utf-8")
    assert vectors.load_vectors(path).header_rows is None and vectors._load_text_careful(path, None).header_rows is None
    assert vectors.load_vectors(path, max_vocab=3).header_rows is None


def test_the_run_records_a_vectors_header_that_disagrees(tmp_path, tiny_run_args):
    from pathlib import Path

    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.inputs import load_inputs

    text = Path(tiny_run_args["vectors"]).read_text(encoding="utf-8").splitlines()
    n = int(text[0].split()[0])
    Path(tiny_run_args["vectors"]).write_text(f"{n + 40} {text[0].split()[1]}\n" + "\n".join(text[1:]) + "\n",
                                             encoding="utf-8")
    inputs = load_inputs(ExperimentConfig(**{**tiny_run_args, "methods": ["majority"]}))
    keys = dict(inputs.warnings)
    assert f"header declares {n + 40:,} rows, but it holds {n:,}" in keys["vector_header_rows"]
