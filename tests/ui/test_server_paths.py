"""Issue 26 item 7: Setup's server paths are off unless $MOSECROT_SERVER_ROOTS names folders, and a path outside
them is refused without being opened; item 6: messages name uploads by their own names, in plain words."""
import builtins
import io
import os

import pytest

from mosecrot_viz.errors import PathError
from mosecrot_viz.ui.inputs import (
    SERVER_ROOTS_ENV,
    model_choice,
    readable_message,
    readable_options,
    server_path,
    server_roots,
)


@pytest.fixture
def no_open(monkeypatch):
    """Every way Python opens a file fails loudly (and is recorded) while the test runs."""
    opened = []

    def refuse(*args, **kwargs):
        opened.append(args[0] if args else kwargs)
        raise AssertionError(f"opened {args[0] if args else kwargs}")

    for module, name in ((builtins, "open"), (io, "open"), (os, "open")):
        monkeypatch.setattr(module, name, refuse)
    return opened


def test_server_paths_are_off_by_default(monkeypatch, no_open):
    monkeypatch.delenv(SERVER_ROOTS_ENV, raising=False)
    assert server_roots() == []
    with pytest.raises(PathError, match="server paths are off on this app: upload the train file instead"):
        server_path("/etc/shadow", "train")
    assert not no_open


def test_a_path_outside_the_roots_is_refused_without_being_opened(tmp_path, monkeypatch, no_open):
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    allowed.mkdir()
    elsewhere.mkdir()
    os.mkfifo(elsewhere / "pipe.tsv")  # opening it for reading would block until a writer comes
    (allowed / "escape.tsv").symlink_to(elsewhere / "pipe.tsv")  # inside by name, outside in fact
    monkeypatch.setenv(SERVER_ROOTS_ENV, f"{allowed}{os.pathsep}{tmp_path / 'missing-root'}")
    for path in ["/etc/shadow", str(elsewhere / "pipe.tsv"), str(allowed / "escape.tsv"), str(allowed / ".." / "elsewhere"
                                                                                             / "pipe.tsv")]:
        with pytest.raises(PathError, match=f"outside the folders this app may read \\({SERVER_ROOTS_ENV}: "):
            server_path(path, "train")
    assert not no_open  # nothing was opened: the refusal came from the path alone


def test_a_path_inside_a_root_is_given_resolved(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.tsv").write_text("text\tlabel\nhello\ta\n")
    monkeypatch.setenv(SERVER_ROOTS_ENV, str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert server_path("data/./train.tsv", "train") == str((tmp_path / "data" / "train.tsv").resolve())


def test_a_model_folder_is_a_server_path_a_default_or_hub_id_is_not(tmp_path, monkeypatch, no_open):
    monkeypatch.setenv(SERVER_ROOTS_ENV, str(tmp_path))
    assert model_choice("default") == "default" and model_choice(" default-multilingual ") == "default-multilingual"
    assert model_choice("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"
    assert model_choice(str(tmp_path)) == str(tmp_path.resolve())
    for folder in ["/etc", "~/.ssh", "../.."]:
        with pytest.raises(PathError, match="outside the folders"):
            model_choice(folder)
    assert not no_open


def test_messages_name_uploads_and_read_as_words(tmp_path):
    root = tmp_path / "app-data" / "uploads"
    kept = root / "ab12cd" / "lexicon-0f3e9a1b2c3d-en_fr.txt"
    msg = (f"lexicon {kept} against vectors {root / 'ab12cd' / 'vectors-77aa-my_vectors.vec'} and the vocabulary of "
           "model default: no lexicon pair has its English side in the model vocabulary and its target side in the "
           "static vectors (3 pairs read; dropped: {'multiword': 2, 'no target vector': 1})")
    out = readable_message(msg, {str(kept): "en fr.txt"}, root)
    assert out == ("lexicon en fr.txt against vectors my_vectors.vec and the vocabulary of model default: no lexicon "
                   "pair has its English side in the model vocabulary and its target side in the static vectors "
                   "(3 pairs read; dropped: multiword: 2, no target vector: 1)")
    assert readable_message("test.tsv: test data has labels not in the training data: ['c', 'd']") == \
        "test.tsv: test data has labels not in the training data: c, d"
    assert readable_message("[UNK] and {x} stay as written") == "[UNK] and {x} stay as written"
    assert readable_options({"top_k": 50, "drop_stopword_anchors": True, "anchor_policy": "one-to-one"}) == \
        "top k: 50, drop stopword anchors: on, anchor policy: one-to-one"
