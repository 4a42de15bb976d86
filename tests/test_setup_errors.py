"""The Setup page shows a bad file's error (its own kind, file and line) beside that file's input, without a traceback."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def _setup_page(**paths):
    at = AppTest.from_file(str(ROOT / "pages" / "setup.py"), default_timeout=120)
    at.run()
    at.radio(key="setup_source").set_value("files").run()
    for kind, path in paths.items():
        at.text_input(key=f"setup_path_{kind}").set_value(str(path))
    return at


def _files(folder, **contents) -> list:
    """Write each name=text into `folder`; the paths, in the order given."""
    paths = []
    for name, text in contents.items():
        paths.append(folder / name.replace("_", "."))
        paths[-1].write_text(text)
    return paths


def test_each_bad_file_is_reported_beside_its_input(tmp_path):
    vec, lex, train, test = _files(tmp_path, v_vec="2 3\na 1 2 3\nb 1 2\n", l_txt="cat\tchat\ncat chat chaton\n",
                                   train_tsv="text\tlabel\nhello\ta\nbye\tb\n",
                                   test_tsv="text\tlabel\nsalut\ta\nciao\tc\n")
    at = _setup_page(vectors=vec, lexicon=lex, train=train, test=test).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(e.startswith(f"{vec}:3: row has 2 numbers, expected 3") for e in errors), errors
    assert any(e.startswith(f"{lex}:2: expected 'english<TAB>target'") for e in errors), errors
    assert any(e.startswith(f"{test}: test data has labels not in the training data: c") for e in errors), errors
    assert not any(str(train) in e for e in errors)  # the good file is not blamed
    assert any("Give at least vectors" in i.value for i in at.info)  # and no run can start


def test_no_overlap_names_the_lexicon_and_the_vectors(tmp_path, tiny_bert_dir):
    vec, lex, task = _files(tmp_path, v_vec="maison 1 2\narbre 3 4\n", l_txt="cat\tchat\n",
                            t_tsv="text\tlabel\nhello\ta\nbye\tb\n")
    at = _setup_page(vectors=vec, lexicon=lex, train=task, test=task)
    at.text_input(key="setup_src_model").set_value(str(tiny_bert_dir))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = [e.value for e in at.error]
    assert error.startswith(f"Cannot use these inputs: lexicon {lex} against vectors {vec} and the vocabulary of "
                            f"model {tiny_bert_dir}: no lexicon pair"), error


def test_vectors_that_are_all_one_vector_are_refused_on_setup_before_any_run(tmp_path):
    vec, lex, task = _files(tmp_path, v_vec="chat 1 2 3\nchien 1 2 3\nmaison 1 2 3\n", l_txt="cat\tchat\n",
                            t_tsv="text\tlabel\nhello\ta\nbye\tb\n")
    at = _setup_page(vectors=vec, lexicon=lex, train=task, test=task).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(e.startswith(f"{vec}: all 3 vectors are one and the same vector") for e in errors), errors
    assert not any(str(lex) in e or str(task) in e for e in errors)  # the good files are not blamed
