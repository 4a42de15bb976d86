"""Lexicon and task loaders: layouts, round trips, clear errors."""
import pandas as pd
from conftest import shared_data

from mosecrot_viz.defaults.cedict import cedict_pairs, gloss_word
from mosecrot_viz.io.lexicon import load_lexicon, to_simplified, write_lexicon
from mosecrot_viz.io.tasks import load_task


def test_lexicon_tab_and_space_and_round_trip(tmp_path):
    p = tmp_path / "l.txt"
    p.write_text("cat\tchat\n\ndog chien\nHouse   maison\n", encoding="utf-8")
    pairs = load_lexicon(p)
    assert pairs == [("cat", "chat"), ("dog", "chien"), ("House", "maison")]
    write_lexicon(pairs, tmp_path / "out.txt")
    assert load_lexicon(tmp_path / "out.txt") == pairs


def test_a_hash_initial_pair_is_kept_there_is_no_comment_syntax(tmp_path):
    """MUSE lexicons hold pairs such as `#the #der` (49 in en-de): they are pairs, not comments."""
    p = tmp_path / "l.txt"
    p.write_text("#the\t#der\ncat chat\n# x\n", encoding="utf-8")
    assert load_lexicon(p) == [("#the", "#der"), ("cat", "chat"), ("#", "x")]


def test_traditional_to_simplified():
    assert to_simplified([("tradition", "傳統")]) == [("tradition", "传统")]


def test_cedict_glosses(tmp_path):
    assert gloss_word("to steal") == "steal"
    assert gloss_word("(ACG) Japan") == "japan"
    assert gloss_word("variant of 偷") is None and gloss_word("big house") is None
    p = tmp_path / "c.txt"
    p.write_text("# header\n傳統 传统 [chuan2 tong3] /tradition/traditional/\n北京 北京 [Bei3 jing1] /Beijing/\n",
                 encoding="utf-8")
    assert cedict_pairs(p) == [("tradition", "传统"), ("traditional", "传统")]


def test_sib200_taxi1500_and_csv_layouts(tmp_path):
    (tmp_path / "sib.tsv").write_text('index_id\tcategory\ttext\n7\tsports\tHe said "go" now\n')
    (tmp_path / "taxi.tsv").write_text("v1\tRecommendation\tDo this\tand that\nv2\tFaith\tBelieve\n")
    (tmp_path / "gen.csv").write_text('text,label,extra\n"Hello, world",greeting,1\n')
    sib = load_task(tmp_path / "sib.tsv")
    assert sib.to_dict("records") == [{"id": "7", "label": "sports", "text": 'He said "go" now'}]
    taxi = load_task(tmp_path / "taxi.tsv")
    assert taxi["label"].tolist() == ["Recommendation", "Faith"] and taxi["text"][0] == "Do this\tand that"
    gen = load_task(tmp_path / "gen.csv")
    assert gen.loc[0, "text"] == "Hello, world" and gen.loc[0, "id"] == "0"
    from mosecrot_viz.defaults.bible import write_task  # the one task writer (the embedded Bible tasks use it)

    write_task({s: sib.rename(columns={"id": "index_id", "label": "category"}) for s in ("train", "dev", "test")},
               tmp_path / "again")
    pd.testing.assert_frame_equal(load_task(tmp_path / "again" / "test.tsv"), sib)


def test_real_sib200_and_muse():
    df = load_task(shared_data("sib200", "zho_Hans", "test.tsv"))
    assert len(df) == 204 and df["label"].nunique() == 7
    pairs = load_lexicon(shared_data("lexicons", "muse", "en-zh.txt"))
    assert len(pairs) > 30000


# Every bad, oversized or disguised lexicon, task file and model folder is a case in
# tests/io/test_hostile_inputs.py.
