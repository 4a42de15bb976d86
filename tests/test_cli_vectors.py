"""`mosecrot-viz vectors`: a text file in, a fastText .bin (or word2vec) out; usage errors exit 2 in one line."""
import argparse

import pytest

from mosecrot_viz.cli import build_parser, main
from mosecrot_viz.core.vocab_extension import has_subword_vectors
from mosecrot_viz.io.vectors import detect_format, load_vectors

TEXT = "Und Gott sprach: Es werde Licht!\nUnd es ward Licht.\nGott sah das Licht, daß es gut war.\n" * 4
SMALL = ["--lang", "de", "--dim", "8", "--epochs", "1", "--min-count", "2"]


@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / "corpus.txt"
    p.write_text(TEXT, encoding="utf-8")
    return p


def test_corpus_in_fasttext_bin_out(tmp_path, corpus, capsys):
    out = tmp_path / "out" / "de.bin"
    assert main(["vectors", "--corpus", str(corpus), "--out", str(out), "--bucket", "300", *SMALL]) == 0
    kv = load_vectors(out)
    assert detect_format(out) == "fasttext-bin" and has_subword_vectors(kv) and kv.vector_size == 8
    assert {"licht", "gott", "und", "es"} <= set(kv.index_to_key)
    assert f"fasttext: {len(kv.index_to_key)} words x 8" in capsys.readouterr().out
    assert main(["vectors", "--corpus", str(corpus), "--out", str(tmp_path / "w.bin"), "--kind", "word2vec",
                 *SMALL]) == 0
    assert detect_format(tmp_path / "w.bin") == "word2vec-bin"


@pytest.mark.parametrize("extra, message", [
    (["--corpus", "{missing}"], "corpus file not found"),
    (["--corpus", "{corpus}", "--dim", "0"], "--dim must be a whole number >= 1"),
    (["--corpus", "{corpus}", "--kind", "word2vec", "--bucket", "10"], "--bucket is for --kind fasttext"),
    (["--bible", "xx"], "--bible 'xx'"),
    (["--corpus", "{corpus}", "--out", "{folder}"], "is a folder"),
])
def test_usage_errors_exit_2_in_one_line_before_any_work(tmp_path, corpus, capsys, extra, message):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    fill = {"missing": tmp_path / "missing.txt", "corpus": corpus, "folder": folder}
    argv = ["vectors", *[x.format(**fill) for x in extra]]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "v.bin")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert not (tmp_path / "v.bin").exists()


def test_neither_or_both_sources_is_argparse_usage_error(tmp_path, corpus, capsys):
    for argv in (["vectors", "--out", "x.bin"], ["vectors", "--corpus", str(corpus), "--bible", "de", "--out", "x"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ")


def test_every_option_has_help_with_its_default():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["vectors"]
    for action in sub._actions:
        if not action.option_strings or "--help" in action.option_strings:
            continue
        assert action.help, action.option_strings
        if isinstance(action, argparse._StoreTrueAction) or action.required:
            continue
        shown = sub._get_formatter()._get_help_string(action)
        assert "(default" in shown or "; default" in shown, (action.option_strings, shown)
