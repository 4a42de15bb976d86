"""Issue 26 items 6 and 7 on the Setup page itself (AppTest): a refused server path, an upload named by its own
name, plain-word messages, and each file's error beside its own input."""
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mosecrot_viz.ui.inputs import SERVER_ROOTS_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_APP_DATA", str(tmp_path / "app-data"))
    return tmp_path / "app-data"


def _files_page():
    at = AppTest.from_file(str(ROOT / "pages" / "setup.py"), default_timeout=120)
    at.run()
    return at.radio(key="setup_source").set_value("files").run()


def _column_errors(at, column: int) -> list:
    return [e.value for e in at.columns[column].error]


def test_server_paths_off_by_default_refuse_without_reading(tmp_path, monkeypatch, app_data):
    monkeypatch.delenv(SERVER_ROOTS_ENV, raising=False)
    os.mkfifo(tmp_path / "pipe.tsv")  # were it opened, the page would hang and AppTest time out
    at = _files_page()
    assert any("Server paths are off on this app" in c.value for c in at.caption)
    at.text_input(key="setup_path_train").set_value(str(tmp_path / "pipe.tsv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.startswith(f"{tmp_path / 'pipe.tsv'}: server paths are off on this app: upload the train file")
               for e in _column_errors(at, 0)), [e.value for e in at.error]


def test_a_server_path_outside_the_roots_is_refused_beside_its_input(tmp_path, monkeypatch, app_data):
    (tmp_path / "allowed").mkdir()
    monkeypatch.setenv(SERVER_ROOTS_ENV, str(tmp_path / "allowed"))
    at = _files_page()
    at.text_input(key="setup_path_test").set_value("/etc/shadow").run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = _column_errors(at, 1)  # the test data's column
    assert error.startswith("/etc/shadow: outside the folders this app may read") and "no numbers" not in error


def test_an_upload_is_named_by_its_own_name_and_labels_are_checked_under_the_test_input(monkeypatch, app_data):
    at = _files_page()
    at.file_uploader(key="setup_up_vectors").upload("my vectors.vec", b"2 3\na 1 2 3\nb 1 2\n").run()
    at.file_uploader(key="setup_up_train").upload("train set.tsv", b"text\tlabel\nhello\ta\nbye\tb\n").run()
    at.file_uploader(key="setup_up_test").upload("test set.tsv", b"text\tlabel\nsalut\ta\nciao\tc\n").run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert not any(str(app_data) in e or "uploads" in e for e in errors), errors  # no internal path anywhere
    assert any(e.startswith("my vectors.vec:3: row has 2 numbers, expected 3") for e in _column_errors(at, 0)), errors
    assert "test set.tsv: test data has labels not in the training data: c" in _column_errors(at, 1), errors
    assert any("The training data's labels: a, b" in c.value for c in at.columns[1].caption)


def test_no_overlap_message_names_uploads_and_drop_reasons_in_words(monkeypatch, app_data, tiny_bert_dir):
    at = _files_page()
    at.file_uploader(key="setup_up_vectors").upload("vecs.vec", b"maison 1 2\narbre 3 4\n")
    at.file_uploader(key="setup_up_lexicon").upload("lex.txt", b"cat\tchat\nthe big\tle grand\n")
    at.file_uploader(key="setup_up_train").upload("train.tsv", b"text\tlabel\nhello\ta\nbye\tb\n")
    at.file_uploader(key="setup_up_test").upload("test.tsv", b"text\tlabel\nsalut\ta\nciao\tb\n")
    at.text_input(key="setup_src_model").set_value(str(tiny_bert_dir))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = [e.value for e in at.error]
    assert error.startswith("Cannot use these inputs: lexicon lex.txt against vectors vecs.vec and the vocabulary of "
                            f"model {tiny_bert_dir.resolve()}: no lexicon pair"), error
    assert "{" not in error and "'" not in error and "dropped: " in error, error


def test_a_training_file_with_an_unrecognised_header_is_refused_beside_the_training_input(tmp_path, app_data):
    from mosecrot_viz.errors import InputError
    from mosecrot_viz.io.tasks import load_task

    bad = tmp_path / "train.tsv"
    # a header (it names a known column, `id`) whose label and text columns are not recognised (French names)
    bad.write_text("id\tclasse\tphrase\n1\ta\thello there\n2\tb\tbye now\n")
    with pytest.raises(InputError, match="looks like a header"):
        load_task(bad)
    (tmp_path / "test.tsv").write_text("text\tlabel\nsalut\ta\nciao\tb\n")
    at = _files_page()
    at.text_input(key="setup_path_train").set_value(str(bad))
    at.text_input(key="setup_path_test").set_value(str(tmp_path / "test.tsv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.startswith(str(bad)) for e in _column_errors(at, 0)), [e.value for e in at.error]
    assert not _column_errors(at, 1), [e.value for e in at.error]  # the test data is not blamed


def test_a_model_folder_outside_the_roots_is_refused_before_it_is_read(tmp_path, monkeypatch, app_data,
                                                                       tiny_run_args):
    monkeypatch.setenv(SERVER_ROOTS_ENV, str(tmp_path))
    at = _files_page()
    for kind in ("vectors", "lexicon", "train", "test"):
        at.text_input(key=f"setup_path_{kind}").set_value(tiny_run_args[kind])
    at.text_input(key="setup_src_model").set_value("/etc").run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = [e.value for e in at.error]
    assert error.startswith("Cannot use these inputs: /etc: outside the folders this app may read"), error
    assert not at.success
