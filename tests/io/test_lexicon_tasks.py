"""Lexicon and task loaders: layouts, round trips, clear errors."""
import pandas as pd
import pytest
from conftest import shared_data

from mosecrot_viz.errors import InputError
from mosecrot_viz.io.cedict import cedict_pairs, gloss_word
from mosecrot_viz.io.lexicon import load_lexicon, to_simplified, write_lexicon
from mosecrot_viz.io.tasks import check_labels, load_task, write_task


def test_lexicon_tab_and_space_and_round_trip(tmp_path):
    p = tmp_path / "l.txt"
    p.write_text("# comment\ncat\tchat\n\ndog chien\nHouse   maison\n", encoding="utf-8")
    pairs = load_lexicon(p)
    assert pairs == [("cat", "chat"), ("dog", "chien"), ("House", "maison")]
    write_lexicon(pairs, tmp_path / "out.txt")
    assert load_lexicon(tmp_path / "out.txt") == pairs


@pytest.mark.parametrize("content,match", [("cat chat chaton\n", "2 fields"), ("cat\n", "2 fields"),
                                           (b"cat \xff\n", "UTF-8"), ("\n# only comments\n", "no pairs")])
def test_bad_lexicons(tmp_path, content, match):
    p = tmp_path / "bad.txt"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError, match=match):
        load_lexicon(p)


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
    write_task(sib, tmp_path / "again.tsv")
    pd.testing.assert_frame_equal(load_task(tmp_path / "again.tsv"), sib)


@pytest.mark.parametrize("content,match", [("", "empty"), ("a,b\n1,2\n", "label column"),
                                           ("index_id\tcategory\ttext\n1\t\tx\n", "empty label"),
                                           (b"text\tlabel\n\xff\tb\n", "UTF-8")])
def test_bad_task_files(tmp_path, content, match):
    p = tmp_path / "t.tsv"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError, match=match):
        load_task(p)


def test_unseen_labels_are_refused():
    train = pd.DataFrame({"label": ["a", "b"]})
    with pytest.raises(InputError, match=r"not in the training data: \['c'\]"):
        check_labels(train, pd.DataFrame({"label": ["a", "c"]}))


def test_real_sib200_and_muse():
    df = load_task(shared_data("sib200", "zho_Hans", "test.tsv"))
    assert len(df) == 204 and df["label"].nunique() == 7
    pairs = load_lexicon(shared_data("lexicons", "muse", "en-zh.txt"))
    assert len(pairs) > 30000


def test_gzip_bomb_lexicon_is_stopped(tmp_path, monkeypatch):
    import gzip

    monkeypatch.setenv("MOSECROT_MAX_DECOMPRESSED_MB", "1")
    p = tmp_path / "lex.txt.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(b"cat chat\n" * (400_000))  # 3.6 MB of valid lines
    with pytest.raises(InputError, match="decompresses to more than 1 MB"):
        load_lexicon(p)


def test_model_folder_without_safetensors_is_refused_and_nothing_unpickled(tmp_path, tiny_bert_dir):
    import pickle
    import shutil

    from mosecrot_viz.io.models import load_classifier

    folder = tmp_path / "evil_model"
    shutil.copytree(tiny_bert_dir, folder)
    for f in folder.glob("*.safetensors"):
        f.unlink()
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(InputError, match="no .safetensors weights"):
        load_classifier(str(folder), 2)
    assert not marker.exists()
    with pytest.raises(InputError, match="no config.json"):
        load_classifier(str(tmp_path), 2)


def test_label_and_dimension_limits(tmp_path, monkeypatch):
    from mosecrot_viz.io.vectors import load_vectors

    monkeypatch.setenv("MOSECROT_MAX_LABELS", "3")
    p = tmp_path / "t.tsv"
    p.write_text("text\tlabel\n" + "".join(f"s{i}\tl{i}\n" for i in range(5)))
    with pytest.raises(InputError, match="5 distinct labels, more than the limit 3"):
        load_task(p)
    monkeypatch.setenv("MOSECROT_MAX_DIM", "4")
    v = tmp_path / "wide.vec"
    v.write_text("a " + " ".join(["0.1"] * 6) + "\n")
    with pytest.raises(InputError, match="6 dimensions, more than the limit 4"):
        load_vectors(v)
