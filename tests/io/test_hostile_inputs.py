"""Every kind of hostile or broken input, in one table: each raises its own `InputError` subclass
and names the file (and the line, where there is one); nothing is ever unpickled.

Each case builds a tiny file under `tmp_path` and returns (call, shown): `call()` must raise, and
`shown` is what the message must start with (the file's path, or an upload's name). The limits
are lowered for the whole table so that bombs and long lines stay a few kilobytes.
"""
from __future__ import annotations

import gzip
import json
import os
import pickle

import pytest

from mosecrot_viz.core.anchors import extract_anchors, filter_anchors
from mosecrot_viz.errors import (
    FormatError,
    InputError,
    LabelError,
    LimitError,
    OverlapError,
    PathError,
    SchemaError,
    UnsafeFormatError,
)
from mosecrot_viz.io.lexicon import load_lexicon
from mosecrot_viz.io.models import load_classifier, load_tokenizer
from mosecrot_viz.io.structured import load_json, load_yaml
from mosecrot_viz.io.tasks import check_labels, load_task
from mosecrot_viz.io.vectors import load_vectors
from mosecrot_viz.store.grid import load_grid
from mosecrot_viz.ui.inputs import save_upload

MARKER = "pwned"  # a payload that would run creates this file beside the input
JUNK = bytes(range(256)) * 4
TINY_BERT = {"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 30, "hidden_size": 8,
             "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16}


class Payload:
    """Unpickling this creates the marker file: proof that something was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if callable(content):
        content = content(path.parent)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _word2vec_bin(rows: int, dim: int) -> bytes:
    """A well-formed word2vec binary file of `rows` x `dim` zeros."""
    row = b" " + bytes(4 * dim)
    return b"%d %d\n" % (rows, dim) + b"".join(b"w%d" % i + row for i in range(rows))


def _pickle(tmp):
    return pickle.dumps(Payload(tmp / MARKER))


def _pickle_gz(tmp):
    return _gzip(_pickle(tmp))


def _torch_zip(tmp):
    import io

    import torch

    buf = io.BytesIO()
    torch.save({"weight": Payload(tmp / MARKER)}, buf)
    return buf.getvalue()


def file_case(loader, name, content):
    """A case that writes `content` (bytes, text or a function of the folder) to `name` and loads it."""
    def make(tmp):
        p = _write(tmp / name, content)
        return (lambda: loader(p)), str(p)
    return make


def vec(name, content):
    return file_case(load_vectors, name, content)


def _with_max_vectors(n):
    """load_vectors under MOSECROT_MAX_VECTORS=n (the other cases keep the default, so a bomb still
    reaches its own limit before the row cap)."""
    def load(p):
        old = os.environ.get("MOSECROT_MAX_VECTORS")
        os.environ["MOSECROT_MAX_VECTORS"] = str(n)
        try:
            return load_vectors(p)
        finally:
            if old is None:
                del os.environ["MOSECROT_MAX_VECTORS"]
            else:
                os.environ["MOSECROT_MAX_VECTORS"] = old
    return load


def _with_env(loader, **env):
    """`loader` run with the environment variables `env` set (and put back after)."""
    def load(p):
        old = {k: os.environ.get(k) for k in env}
        os.environ.update({k: str(v) for k, v in env.items()})
        try:
            return loader(p)
        finally:
            for k, v in old.items():
                if v is None:
                    del os.environ[k]
                else:
                    os.environ[k] = v
    return load


def _nested(depth: int, kind: str = "json") -> str:
    return "[" * depth + "]" * depth if kind == "json" else "a: " + "[" * depth + "]" * depth + "\n"


def _alias_bomb() -> str:
    """The "billion laughs" in YAML: nine levels of nine aliases each, 10^9 strings from 340 bytes."""
    lines, prev = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'], "a"
    for c in "bcdefghi":
        lines.append(f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = c
    return "\n".join(lines) + "\n"


def _big_grid(axes: int = 10, values: int = 10) -> str:
    return "base: {}\naxes:\n" + "".join(f"  a{i}: [{', '.join(map(str, range(values)))}]\n" for i in range(axes))


def _word2vec_giant_word(n: int, gz: bool = False) -> bytes:
    """A word2vec binary whose first word never ends: `n` bytes without the space that closes a word."""
    data = b"2 4\n" + b"x" * n
    return _gzip(data) if gz else data


def lex(name, content):
    return file_case(load_lexicon, name, content)


def task(name, content):
    return file_case(load_task, name, content)


def folder(loader, name):
    def make(tmp):
        (tmp / name).mkdir()
        return (lambda: loader(tmp / name)), str(tmp / name)
    return make


def missing(loader, name):
    def make(tmp):
        return (lambda: loader(tmp / name)), str(tmp / name)
    return make


def model(files: dict, loader=lambda p: load_classifier(str(p), 2)):
    """A local model folder holding `files` (name -> content)."""
    def make(tmp):
        folder = tmp / "model"
        for name, content in files.items():
            _write(folder / name, content)
        return (lambda: loader(folder)), str(folder)
    return make


def unseen_labels(make_tmp):
    p = _write(make_tmp / "test.tsv", "text\tlabel\nhello\ta\nbye\tc\n")
    train = load_task(_write(make_tmp / "train.tsv", "text\tlabel\nhi\ta\nho\tb\n"))
    return (lambda: check_labels(train, load_task(p), name="test")), str(p)


def no_overlap(tmp):
    lexicon = load_lexicon(_write(tmp / "lex.txt", "cat\tchat\ndog\tchien\n"))
    kv = load_vectors(_write(tmp / "v.vec", "maison 1 2\narbre 3 4\n"))
    return (lambda: extract_anchors(lexicon, {"cat": 0, "dog": 1}, kv.key_to_index)), None


def nothing_left_after_filtering(tmp):
    anchors = extract_anchors([("the", "le")], {"the": 0}, {"le": 0})
    return (lambda: filter_anchors(anchors, drop_stopwords=True)), None


def _bert_weights(drop: str = "", wrong_shape: str = ""):
    """safetensors bytes for TINY_BERT, without the tensors whose names hold `drop`, one tensor mis-shaped."""
    def content(_folder):
        import torch
        from safetensors.torch import save
        from transformers import BertConfig, BertForSequenceClassification

        cfg = {k: v for k, v in TINY_BERT.items() if k not in ("model_type", "architectures")}
        state = BertForSequenceClassification(BertConfig(**cfg)).state_dict()
        state = {k: v.contiguous() for k, v in state.items() if not (drop and drop in k)}
        if wrong_shape:
            state[wrong_shape] = torch.zeros(state[wrong_shape].shape[0], 3)
        return save(state, metadata={"format": "pt"})
    return content


def untrainable(train_text):
    """Training data that cannot train a classifier once its dev split is held out."""
    def make(tmp):
        from mosecrot_viz.experiment.inputs import _split_dev
        from mosecrot_viz.io.tasks import check_trainable

        p = _write(tmp / "train.tsv", train_text)
        train, dev = _split_dev(load_task(p))
        return (lambda: check_trainable(train, dev)), str(p)
    return make


class FakeUpload:
    """What Streamlit's file_uploader hands the page: a browser-given name, a size and the bytes."""

    def __init__(self, name, size=4):
        self.name, self.size = name, size

    def getbuffer(self):
        return memoryview(b"a 1\n")


def upload(name, size=4, shown=None):
    """An upload case; the message names a bad name by its repr (control characters visible), a good one as given."""
    def make(tmp):
        return (lambda: save_upload(FakeUpload(name, size), "vectors", folder=tmp / "uploads")), shown or repr(name)
    return make


CASES = [
    # ---- static vectors: malformed content
    pytest.param(vec("v.vec", "2 3\na 1 2 3\nb 1 2\n"), FormatError, "2 numbers, expected 3", 3, id="vec-ragged-row"),
    pytest.param(vec("v.vec", "2 4\na 1 2 3\nb 1 2 3\n"), FormatError, "3 numbers, expected 4", 2,
                 id="vec-header-dimension-disagrees"),
    pytest.param(vec("v.vec", "1 0\n"), FormatError, "header gives dimension 0", 1, id="vec-header-dimension-0"),
    pytest.param(vec("v.vec", "a 1 2 3\nb 1 x 3\n"), FormatError, "not a number", 2, id="vec-bad-number"),
    pytest.param(vec("v.vec", "a 1 2 3\nb 1 nan 3\n"), FormatError, "NaN or inf", 2, id="vec-nan"),
    pytest.param(vec("v.vec", "a 1 2 3\nb 1 inf 3\n"), FormatError, "NaN or inf", 2, id="vec-inf"),
    pytest.param(vec("v.vec", "a 1 2 3\nb 1 -inf 3\n"), FormatError, "NaN or inf", 2, id="vec-minus-inf"),
    pytest.param(vec("v.vec", "a 1 2 3\nb 1 1e40 3\n"), FormatError, "NaN or inf", 2, id="vec-float32-overflow"),
    pytest.param(vec("v.vec", "a 1 2 3\nb\n"), FormatError, "no numbers", 2, id="vec-word-without-numbers"),
    pytest.param(vec("v.vec", b"a 1 2 3\n\xff\xfe 1 2 3\n"), FormatError, "not UTF-8", 2, id="vec-not-utf8"),
    pytest.param(vec("v.vec", b""), FormatError, "empty", None, id="vec-empty"),
    pytest.param(vec("v.vec", "2 3\n"), FormatError, "no vectors", None, id="vec-header-only"),
    pytest.param(vec("v.vec", JUNK), FormatError, "no numbers", 1, id="vec-binary-junk"),
    pytest.param(vec("v.bin", b"5 300\nabc \x00\x01\x02"), FormatError, "word2vec binary", None,
                 id="vec-corrupt-word2vec-bin"),
    pytest.param(vec("v.vec.gz", b"this is not gzip at all"), FormatError, "cannot read", None, id="vec-not-gzip"),
    pytest.param(vec("v.vec.gz", _gzip(b"".join(b"w%d %d.37 %d.91\n" % (i, i, i) for i in range(2000)))[:3000]),
                 FormatError, "cannot read", None, id="vec-truncated-gzip"),
    pytest.param(vec("v.txt", "cposix\nsystem\n(S'touch pwned'\ntR.\n"), FormatError, "no numbers", 1,
                 id="vec-text-pickle-protocol-0-is-just-bad-text"),
    # ---- static vectors: over a limit
    pytest.param(vec("bomb.vec.gz", _gzip(b"3 2\na 1 2\n" + b"0 0 0\n" * (2 * 2**20))), LimitError,
                 "decompresses to more than 1 MB", None, id="vec-gzip-bomb"),
    pytest.param(vec("bomb.bin.gz", _gzip(b"3 2\n" + b"\x00" * (8 * 2**20))), LimitError,
                 "decompresses to more than 1 MB", None, id="vec-gzip-bomb-binary"),
    pytest.param(file_case(_with_max_vectors(10), "many.vec", "".join(f"w{i} 0.1 0.2\n" for i in range(12))), LimitError,
                 "more than 10 vectors: keep the most frequent with --max-vocab", None, id="vec-too-many-rows"),
    pytest.param(vec("wide.vec", "a " + " ".join(["0.1"] * 70) + "\n"), LimitError, "70 dimensions, more than the limit 64",
                 None, id="vec-too-many-dimensions"),
    pytest.param(vec("long.vec", "a 1 2 3\nb " + "1 " * 3000 + "\n"), LimitError, "longer than 4 KB", 2,
                 id="vec-huge-line"),
    pytest.param(vec("long.vec", b"a" * 50_000), LimitError, "longer than 4 KB", 1, id="vec-no-line-breaks-at-all"),
    # ---- static vectors: code-executing formats in disguise
    pytest.param(vec("evil.vec", _pickle), UnsafeFormatError, "Python pickle.*export the vectors as", None,
                 id="vec-pickle-as-vec"),
    pytest.param(vec("evil.bin", _pickle), UnsafeFormatError, "Python pickle", None, id="vec-pickle-as-bin"),
    pytest.param(vec("evil.txt.gz", _pickle_gz), UnsafeFormatError, "Python pickle", None, id="vec-pickle-as-gz"),
    pytest.param(vec("evil.bin", _torch_zip), UnsafeFormatError, "torch.save archive", None, id="vec-torch-save-as-bin"),
    pytest.param(missing(load_vectors, "nope.vec"), PathError, "not found", None, id="vec-missing-file"),
    pytest.param(vec("v.vec", "a 0 0\nb 0 0\n"), FormatError, "every one of the 2 vectors is all zeros", None,
                 id="vec-all-zeros"),
    pytest.param(folder(load_vectors, "v.vec"), PathError, "is a folder, not a vector file", None, id="vec-a-folder"),
    pytest.param(vec("v.vec", "100000 64\na " + "0.5 " * 64 + "\n"), LimitError,
                 "100,000 x 64 would need 24 MB, more than the limit 1 MB.*MOSECROT_MAX_MATRIX_MB", None,
                 id="vec-header-over-matrix-budget"),
    pytest.param(vec("v.bin", _word2vec_bin(4200, 64)), LimitError, "4,200 x 64 would need.*MOSECROT_MAX_MATRIX_MB",
                 None, id="vec-word2vec-bin-over-matrix-budget"),
    pytest.param(vec("v.bin", b"4000000 4096\n" + b"w " + bytes(64)), FormatError,
                 "truncated: 79 bytes cannot hold 4,000,000 rows of dimension 4096", None,
                 id="vec-word2vec-bin-header-asks-for-61-gib"),
    pytest.param(vec("v.vec", "a " + "0 " * 40 + "\n" + "".join(f"w{i} " + "0.5 " * 40 + "\n" for i in range(7000))),
                 LimitError, "more than the limit 1 MB", None, id="vec-headerless-over-matrix-budget"),
    # ---- static vectors: one word's length bounded in every reader (issue 24)
    pytest.param(file_case(_with_env(load_vectors, MOSECROT_MAX_WORD_BYTES=16), "v.vec",
                           "chat 1 2\n" + "x" * 40 + " 3 4\n"), LimitError, "word of this row is longer than 16 bytes", 2,
                 id="vec-text-word-too-long"),
    pytest.param(file_case(_with_env(load_vectors, MOSECROT_MAX_WORD_BYTES=16), "v.bin", _word2vec_giant_word(200)),
                 LimitError, "word of row 1 is longer than 16 bytes.*MOSECROT_MAX_WORD_BYTES", None,
                 id="vec-word2vec-bin-word-too-long"),
    pytest.param(file_case(_with_env(load_vectors, MOSECROT_MAX_WORD_BYTES=16), "v.bin.gz",
                           _word2vec_giant_word(200, gz=True)), LimitError, "word of row 1 is longer than 16 bytes", None,
                 id="vec-word2vec-bin-gz-word-too-long"),
    pytest.param(vec("v.bin.gz", _gzip(_word2vec_bin(30, 4)[:-20])), FormatError,
                 "truncated: it ends inside row 30 of the 30", None, id="vec-word2vec-bin-gz-truncated"),
    # ---- lexicons
    pytest.param(lex("l.txt", "cat\tchat\ncat chat chaton\n"), FormatError, "2 fields", 2, id="lex-three-fields"),
    pytest.param(lex("l.txt", "cat\n"), FormatError, "2 fields", 1, id="lex-one-field"),
    pytest.param(lex("l.txt", b"cat chat\ndog \xff\n"), FormatError, "not UTF-8", 2, id="lex-not-utf8"),
    pytest.param(lex("l.txt", "\n  \n\n"), FormatError, "no pairs", None, id="lex-only-blank-lines"),
    pytest.param(lex("l.txt", b""), FormatError, "no pairs", None, id="lex-empty"),
    pytest.param(lex("l.txt", JUNK), FormatError, "2 fields", 1, id="lex-binary-junk"),
    pytest.param(lex("l.txt.gz", b"\x1f\x8b\x08\x00garbage"), FormatError, "cannot read", None,
                 id="lex-corrupt-gzip"),
    pytest.param(lex("l.txt.gz", _gzip(b"cat chat\n" * 400_000)), LimitError, "decompresses to more than 1 MB", None,
                 id="lex-gzip-bomb"),
    pytest.param(lex("l.txt", "cat chat\n" + "x" * 5000 + " y\n"), LimitError, "longer than 4 KB", 2, id="lex-huge-line"),
    pytest.param(lex("l.txt", _pickle), UnsafeFormatError, "Python pickle.*export the lexicon as text", None,
                 id="lex-pickle-as-txt"),
    pytest.param(missing(load_lexicon, "nope.txt"), PathError, "not found", None, id="lex-missing-file"),
    pytest.param(file_case(_with_env(load_lexicon, MOSECROT_MAX_PAIRS=50), "l.txt",
                           "".join(f"w{i}\tm{i}\n" for i in range(40)) * 3 + "".join(f"v{i}\tn{i}\n" for i in range(11))),
                 LimitError, "more than 50 distinct pairs.*MOSECROT_MAX_PAIRS", 131, id="lex-over-pair-limit"),
    pytest.param(folder(load_lexicon, "l.txt"), PathError, "is a folder, not a lexicon file", None, id="lex-a-folder"),
    # ---- task files
    pytest.param(task("t.tsv", ""), FormatError, "empty", None, id="task-empty"),
    pytest.param(task("t.tsv", "a,b\n1,2\n"), SchemaError, "label column", 1, id="task-missing-columns"),
    pytest.param(task("t.csv", "id,text\n1,hello\n"), SchemaError, "label column", 1, id="task-no-label-column"),
    pytest.param(task("t.tsv", "index_id\tcategory\ttext\n1\t\tx\n"), FormatError, "empty label", None,
                 id="task-empty-label"),
    pytest.param(task("t.tsv", "index_id\tcategory\ttext\n"), FormatError, "header but no rows", None,
                 id="task-header-only"),
    pytest.param(task("t.tsv", b"text\tlabel\nok\ta\n\xff\tb\n"), FormatError, "not UTF-8", 3, id="task-not-utf8"),
    pytest.param(task("t.tsv", "v1\tFaith\tBelieve\nv2\tHope\n"), FormatError, "expected 'id<TAB>label<TAB>text'", 2,
                 id="task-taxi1500-short-row"),
    pytest.param(task("t.csv", 'text,label\n"a,b,c\n'), FormatError, "malformed table", None, id="task-unclosed-quote"),
    # hostile sweep round 3: a header naming a column twice was read from the first without a word (h09); a NUL
    # byte (UTF-16 without its BOM, a binary file) was read as text (u10); blank lines cost a string each (GBs)
    pytest.param(task("t.tsv", "index_id\tcategory\ttext\ttext\n1\ta\thello\tbye\n"), SchemaError,
                 "names column text twice", 1, id="task-header-names-text-twice"),
    pytest.param(task("t.csv", "Label,text,label\na,hello,b\n"), SchemaError, "names column label twice", 1,
                 id="task-header-names-label-twice-in-two-cases"),
    pytest.param(task("t.tsv", "index_id\tcategory\ttext\n1\ta\thel\x00lo\n"), FormatError, "NUL byte", 2,
                 id="task-nul-byte-in-text"),
    pytest.param(task("t.tsv", "index_id\tcategory\ttext\n1\ta\thello\n".encode("utf-16-le")), FormatError,
                 "NUL byte", 1, id="task-utf16-without-bom"),
    pytest.param(task("t.tsv", JUNK), FormatError, "NUL byte", 1, id="task-binary-junk"),  # its first line holds one
    pytest.param(task("t.tsv", "text\tlabel\n" + "".join(f"s{i}\tl{i}\n" for i in range(7))), LimitError,
                 "7 distinct labels, more than the limit 5", None, id="task-too-many-labels"),
    pytest.param(task("t.tsv", "text\tlabel\nhello\ta\n" + "x" * 5000 + "\tb\n"), LimitError, "longer than 4 KB", 3,
                 id="task-huge-line"),
    pytest.param(task("t.tsv", _pickle), UnsafeFormatError, "Python pickle.*CSV/TSV", None, id="task-pickle-as-tsv"),
    pytest.param(missing(load_task, "nope.tsv"), PathError, "not found", None, id="task-missing-file"),
    pytest.param(folder(load_task, "t.tsv"), PathError, "is a folder, not a task file", None, id="task-a-folder"),
    pytest.param(task("t.tsv", "text\tlabel\n" + "a few words of text\tl1\n" * 6000), LimitError,
                 "larger than 0.1 MB.*MOSECROT_MAX_TASK_MB", 4560, id="task-over-size-limit"),
    pytest.param(task("t.tsv", "id\tclass_name\tsentence\n1\tsports\tHe ran\n"), SchemaError,
                 "first row looks like a header \\(id, class_name, sentence\\) but names no label column", 1,
                 id="task-header-like-row-without-a-label-column"),
    pytest.param(task("t.csv", "index,topic_label,body\n1,sports,He ran\n"), SchemaError,
                 "looks like a header .* names no label column", 1, id="task-csv-header-like-row-unrecognised"),
    pytest.param(task("t.tsv", "ID\tLabel\tnotes\n1\tsports\tHe ran\n"), SchemaError,
                 "looks like a header .* names no text column", 1, id="task-header-like-row-without-a-text-column"),
    pytest.param(untrainable("text\tlabel\n" + "hello\ta\n" * 5), LabelError, "only one label", None,
                 id="task-one-class"),
    pytest.param(untrainable("text\tlabel\nhi\ta\nho\tb\nhu\tc\n"), LabelError, "too few rows per label.*--dev",
                 None, id="task-one-row-per-class"),
    pytest.param(unseen_labels, LabelError, r"labels not in the training data: c$", None, id="task-unseen-labels"),
    # ---- anchors: inputs that do not meet (no single file to blame: the message says what was compared)
    pytest.param(no_overlap, OverlapError, "no lexicon pair has its English side", None, id="anchors-no-overlap"),
    pytest.param(nothing_left_after_filtering, OverlapError, "no anchors left", None, id="anchors-none-left"),
    # ---- local model folders
    pytest.param(model({"model.safetensors": b"x"}), SchemaError, "no config.json", None, id="model-no-config"),
    pytest.param(model({"config.json": json.dumps(TINY_BERT), "pytorch_model.bin": _pickle}), UnsafeFormatError,
                 "only pickle-based weights", None, id="model-only-pickle-bin"),
    pytest.param(model({"config.json": json.dumps(TINY_BERT), "pytorch_model.bin": _torch_zip}), UnsafeFormatError,
                 "safe_serialization=True", None, id="model-only-torch-save-bin"),
    pytest.param(model({"config.json": json.dumps(TINY_BERT)}), SchemaError, "no .safetensors weights", None,
                 id="model-no-weights"),
    pytest.param(model({"config.json": json.dumps(TINY_BERT), "model.safetensors": b"\x10" + b"\x00" * 7 + b"{junk"}),
                 FormatError, "cannot load this model folder", None, id="model-corrupt-safetensors"),
    pytest.param(model({"config.json": json.dumps(TINY_BERT), "model.safetensors": _bert_weights(drop="layer.0.attention")}),
                 SchemaError, "do not cover the model's encoder: 10 tensors missing", None, id="model-missing-tensors"),
    pytest.param(model({"config.json": json.dumps(TINY_BERT),
                        "model.safetensors": _bert_weights(wrong_shape="bert.embeddings.word_embeddings.weight")}),
                 SchemaError, "1 with the wrong shape \\(e.g. bert.embeddings.word_embeddings.weight\\)", None,
                 id="model-mis-shaped-tensors"),
    pytest.param(model({"config.json": "{not json", "model.safetensors": b"x"}), FormatError,
                 "cannot load this model folder", None, id="model-config-not-json"),
    pytest.param(model({"config.json": _nested(50_000), "model.safetensors": b"x"}), FormatError,
                 r"cannot load this model folder \(config.json: nested more than 100 levels", None,
                 id="model-config-deeply-nested"),
    pytest.param(model({"config.json": "[1, 2]", "model.safetensors": b"x"}), FormatError,
                 "config.json holds a list, not an object", None, id="model-config-not-an-object"),
    pytest.param(model({"vocab.txt": "[PAD]\n"}, loader=lambda p: load_tokenizer(str(p))), SchemaError,
                 "no config.json", None, id="model-tokenizer-folder-without-config"),
    # ---- structured records (run folders' JSON, grid YAML): size, nesting and aliases bounded (issue 24)
    pytest.param(file_case(load_json, "results.json", _nested(5000)), LimitError,
                 "nested more than 100 levels deep.*MOSECROT_MAX_NESTING", None, id="json-deeply-nested"),
    pytest.param(file_case(load_json, "results.json", '{"a": [1, 2,'), FormatError, "not valid JSON", 1,
                 id="json-truncated"),
    pytest.param(file_case(load_json, "results.json", b"\xff\xfe{}"), FormatError, "not UTF-8", None,
                 id="json-not-utf8"),
    pytest.param(file_case(_with_env(load_json, MOSECROT_MAX_JSON_MB=0.01), "results.json", "[" + "1," * 9000 + "1]"),
                 LimitError, "more than the limit 0.01 MB.*MOSECROT_MAX_JSON_MB", None, id="json-over-size-limit"),
    pytest.param(missing(load_json, "results.json"), PathError, "not found", None, id="json-missing-file"),
    pytest.param(file_case(load_yaml, "g.yaml", _alias_bomb()), LimitError,
                 "more than 100,000 values once its aliases.*MOSECROT_MAX_YAML_NODES", None, id="yaml-alias-bomb"),
    pytest.param(file_case(load_yaml, "g.yaml", "a: &a [1, *a]\n"), FormatError, "refers to the value that contains it",
                 None, id="yaml-recursive-alias"),
    pytest.param(file_case(load_yaml, "g.yaml", _nested(5000, "yaml")), LimitError, "nested more than 100 levels",
                 None, id="yaml-deeply-nested"),
    pytest.param(file_case(load_yaml, "g.yaml", "base: [1, 2\naxes: 3\n"), FormatError, "not valid YAML", 2,
                 id="yaml-malformed"),
    pytest.param(file_case(_with_env(load_yaml, MOSECROT_MAX_YAML_MB=0.01), "g.yaml", "a: " + "x" * 20000 + "\n"),
                 LimitError, "more than the limit 0.01 MB.*MOSECROT_MAX_YAML_MB", None, id="yaml-over-size-limit"),
    pytest.param(file_case(load_grid, "g.yaml", _alias_bomb()), LimitError, "alias bomb", None, id="grid-alias-bomb"),
    pytest.param(file_case(load_grid, "g.yaml", _big_grid()), LimitError,
                 r"10 a0 x 10 a1 x .* = 10,000,000,000 trials; the limit is 10,000", None, id="grid-10-axes-of-10"),
    pytest.param(file_case(load_grid, "g.yaml", _big_grid(3, 30)), LimitError, "= 27,000 trials", None,
                 id="grid-27000-trials"),
    # ---- upload names and sizes
    pytest.param(upload("evil\x00.vec"), PathError, "control characters", None, id="upload-nul-in-name"),
    pytest.param(upload("a\n.vec"), PathError, "control characters", None, id="upload-newline-in-name"),
    pytest.param(upload(".."), PathError, "not a file name", None, id="upload-dotdot"),
    pytest.param(upload("..."), PathError, "not a file name", None, id="upload-only-dots"),
    pytest.param(upload("a/.."), PathError, "not a file name", None, id="upload-dir-then-dotdot"),
    pytest.param(upload("/"), PathError, "not a file name", None, id="upload-root"),
    pytest.param(upload(""), PathError, "not a file name", None, id="upload-empty-name"),
    pytest.param(upload("big.vec", size=5 * 2**30, shown="big.vec"), LimitError, "the limit is", None, id="upload-too-large"),
]


@pytest.fixture
def low_limits(monkeypatch, tmp_path):
    """Limits small enough that each hostile file stays tiny, and a private parsed-vector cache."""
    monkeypatch.setenv("MOSECROT_MAX_DECOMPRESSED_MB", "1")
    monkeypatch.setenv("MOSECROT_MAX_LINE_KB", "4")
    monkeypatch.setenv("MOSECROT_MAX_DIM", "64")
    monkeypatch.setenv("MOSECROT_MAX_LABELS", "5")
    monkeypatch.setenv("MOSECROT_MAX_TASK_MB", "0.1")
    monkeypatch.setenv("MOSECROT_MAX_MATRIX_MB", "1")
    monkeypatch.setenv("MOSECROT_PARSED_VECTORS", str(tmp_path / "parsed"))


@pytest.mark.parametrize("make,error,match,line", CASES)
def test_hostile_input_raises_its_own_error_naming_file_and_line(tmp_path, low_limits, make, error, match, line):
    case = tmp_path / "case"
    case.mkdir()
    call, shown = make(case)
    with pytest.raises(error, match=match) as err:
        call()
    assert isinstance(err.value, InputError)  # one `except InputError` still catches every kind
    message = str(err.value)
    if shown is not None:
        assert message.startswith(f"{shown}:"), message
        assert err.value.path is not None
    if line is not None:
        assert message.startswith(f"{shown}:{line}: "), message
        assert err.value.line == line
    assert not (case / MARKER).exists(), "a payload ran: something was unpickled"


def test_the_table_covers_every_kind_and_area():
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)) >= 30
    kinds = {p.values[1] for p in CASES}
    assert kinds == {FormatError, LimitError, UnsafeFormatError, SchemaError, OverlapError, LabelError, PathError}
    assert {i.split("-")[0] for i in ids} == {"vec", "lex", "task", "anchors", "model", "upload", "json", "yaml", "grid"}


def test_a_task_file_of_blank_lines_is_refused_at_the_limit_not_split_into_strings(tmp_path):
    """Within the 512 MB task limit, newlines became one Python string each once split (20 MB of them: 10 s and
    376 MB; the limit's worth, gigabytes): past MAX_BLANK_LINES the file is refused naming the line."""
    from mosecrot_viz.io.tasks import MAX_BLANK_LINES

    p = _write(tmp_path / "t.tsv", "text\tlabel\nhi\ta\n" + "\n" * (MAX_BLANK_LINES + 1) + "ho\tb\n")
    with pytest.raises(FormatError, match=f"{p}:{MAX_BLANK_LINES + 3}: holds more than 1,000,000 blank lines"):
        load_task(p)
    ok = _write(tmp_path / "ok.tsv", "text\tlabel\nhi\ta\n" + "\n" * 1000 + "ho\tb\n")
    assert list(load_task(ok)["text"]) == ["hi", "ho"]  # a few blank lines are fine


def test_duplicate_words_keep_the_first_row_as_documented(tmp_path):
    """Not an error: vector files list words by frequency, so a later duplicate is dropped (first wins)."""
    p = _write(tmp_path / "dup.vec", "3 2\nchat 1 2\nnoir 3 4\nchat 5 6\n")
    kv = load_vectors(p)
    assert kv.index_to_key == ["chat", "noir"]
    assert kv["chat"].tolist() == [1.0, 2.0]


def test_a_line_just_under_the_limit_is_fine(tmp_path, low_limits):
    """The line limit stops runaway lines only: a 1000-d vector fits the default with room to spare."""
    p = _write(tmp_path / "ok.vec", "a " + " ".join(["0.1"] * 60) + "\nb " + " ".join(["0.2"] * 60) + "\n")
    assert load_vectors(p).vector_size == 60
    edge = _write(tmp_path / "edge.txt", "cat " + "x" * (4 * 1024 - 4) + "\r\n")
    assert load_lexicon(edge) == [("cat", "x" * (4 * 1024 - 4))]


@pytest.mark.parametrize("name,saved", [
    ("../../etc/passwd", "vectors-passwd"),
    ("/abs/path.vec", "vectors-path.vec"),
    ("a/b.vec", "vectors-b.vec"),
    ("..\\..\\windows\\evil.vec.gz", "vectors-evil.vec.gz"),
    (".hidden.vec", "vectors-hidden.vec"),
    ("../.vec", "vectors-vec"),
    ("naïve file (1).txt", "vectors-naïve_file__1_.txt"),
    ("x" * 300 + ".vec.gz", "vectors-" + "x" * 143 + ".vec.gz"),
])
def test_path_like_upload_names_are_sanitised_and_land_inside_the_upload_folder(tmp_path, name, saved):
    folder = tmp_path / "uploads"
    folder.mkdir()
    path = save_upload(FakeUpload(name), "vectors", folder=folder)
    assert path.name == saved
    assert path.parent == folder.resolve() and path.read_bytes() == b"a 1\n"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [saved]  # nothing written elsewhere


def test_a_new_upload_under_an_old_name_gets_a_new_path_and_a_rerun_does_not_rewrite(tmp_path):
    first, second = FakeUpload("v.vec"), FakeUpload("v.vec")
    first.file_id, second.file_id = "3f2a-0001", "3f2a-0002"
    a = save_upload(first, "vectors", folder=tmp_path)
    b = save_upload(second, "vectors", folder=tmp_path)
    assert a != b and a.name == "vectors-3f2a0001-v.vec"  # caches keyed by path never serve the old file
    before = a.stat().st_mtime_ns
    assert save_upload(first, "vectors", folder=tmp_path) == a and a.stat().st_mtime_ns == before


# ---- bounded in memory and time: each case in its own process under an address-space ceiling and a timeout,
# so that a reader that hangs (a FIFO, a truncated fastText model) or fills memory fails the test instead of the suite

CEILING = int(1.5 * 2**30)  # bytes of address space; importing the readers takes about 0.6 GB of it
DEADLINE = 30  # seconds
DRIVER = r"""
import resource, sys
from mosecrot_viz.errors import InputError
kind, path = sys.argv[1], sys.argv[2]
if kind == "vectors":
    import gensim.models  # noqa: F401  the result's type, imported lazily by the reader: not the reader's memory
    from mosecrot_viz.io.vectors import load_vectors as load
elif kind == "lexicon":
    from mosecrot_viz.io.lexicon import load_lexicon as load
elif kind == "json":
    from mosecrot_viz.io.structured import load_json as load
elif kind == "grid":
    from mosecrot_viz.store.grid import expand, load_grid
    load = lambda p: expand(load_grid(p))
else:
    from mosecrot_viz.io.tasks import load_task as load
print("base MB", int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS:")).split()[1]) // 1024)
try:
    out = load(path)
    print("loaded", len(out), "duplicates", getattr(out, "duplicates", getattr(out, "duplicate_words", None)),
          "matrix MB", getattr(getattr(out, "vectors", None), "nbytes", 0) / 2**20)
except InputError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
finally:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec, so a
    # child of a large pytest process would report the parent's size
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print("peak MB", int(hwm.split()[1]) // 1024)
"""


# The ceiling is set by the child itself, first thing: a `preexec_fn` would run Python in a child forked from this
# multi-threaded test process (torch's threads), which can deadlock on a lock another thread held at fork time;
# in the full suite every bounded case then hung until its deadline.
LIMITED = r"""
import resource, runpy, sys
ceiling = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
flag, target, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
if flag == "-m":
    sys.argv = [target] + rest
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    sys.argv = ["-c"] + rest
    exec(compile(target, "<driver>", "exec"), {"__name__": "__main__"})
"""


def run_bounded(argv, env=None, timeout=DEADLINE):
    """Run `python argv...` (argv starts with -m MODULE or -c CODE) under the memory ceiling;
    (exit status, stdout, stderr, seconds). A hang fails the test."""
    import subprocess
    import sys
    import time

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    full_env = dict(os.environ, PYTHONPATH=root, **(env or {}))
    t = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", LIMITED, str(CEILING), *argv], capture_output=True, text=True,
                              timeout=timeout, env=full_env, cwd=root, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout} s: {argv}")
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - t


def _fifo(tmp, name):
    p = tmp / name
    os.mkfifo(p)
    return p


def _truncated_fasttext(tmp, name):
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    sents = [["le", "chat", "noir", "dort"], ["la", "maison", "noire"]] * 5
    ft = FastText(vector_size=4, min_count=1, epochs=1, seed=0, workers=1, bucket=50)
    ft.build_vocab(sents)
    ft.train(sents, total_examples=len(sents), epochs=1)
    full = tmp / "full.bin"
    save_facebook_model(ft, str(full))
    p = tmp / name
    p.write_bytes(full.read_bytes()[:100])  # the vocabulary starts at byte 92: cut inside its first words
    return p


def _vec_bomb(tmp, name):
    """300 MB of text (under 2 MB gzipped): one word repeated, inside every default limit. Read whole, it held
    lines + split copy + joined copy + matrix at once (peak 1.0-1.3 GB); in batches it stays under 0.2 GB."""
    row = b"w " + b" ".join(b"0.125" for _ in range(300)) + b"\n"
    n = 300 * 2**20 // len(row)
    p = tmp / name
    with gzip.open(p, "wb", compresslevel=1) as fh:
        fh.write(b"%d 300\n" % n)
        for _ in range(n // 1000):
            fh.write(row * 1000)
    return p


BOUNDED = [
    pytest.param("task", _fifo, "t.tsv", 2, "is a FIFO (named pipe), not a regular task file", id="task-fifo"),
    pytest.param("lexicon", _fifo, "l.txt", 2, "is a FIFO (named pipe), not a regular lexicon file", id="lex-fifo"),
    pytest.param("vectors", _fifo, "v.vec", 2, "is a FIFO (named pipe), not a regular vector file", id="vec-fifo"),
    pytest.param("task", lambda tmp, name: "/dev/zero", None, 2, "is a device, not a regular task file",
                 id="task-dev-zero"),
    pytest.param("vectors", lambda tmp, name: "/dev/urandom", None, 2, "is a device, not a regular vector file",
                 id="vec-dev-urandom"),
    pytest.param("lexicon", lambda tmp, name: "/dev/zero", None, 2, "is a device, not a regular lexicon file",
                 id="lex-dev-zero"),
    pytest.param("vectors", _truncated_fasttext, "cut.bin", 2, "truncated: the file ends inside its vocabulary",
                 id="vec-fasttext-bin-truncated-in-vocabulary"),
    pytest.param("vectors", lambda tmp, name: _write(tmp / name, b"4000000 4096\n" + b"w " + bytes(4 * 4096)), "v.bin",
                 2, "truncated", id="vec-word2vec-header-asks-for-61-gib"),
    pytest.param("vectors", _vec_bomb, "bomb.vec.gz", 0, None, id="vec-300mb-text-in-bounded-memory"),
]


@pytest.mark.parametrize("kind,make,name,status,match", BOUNDED)
def test_readers_stay_bounded_and_name_the_file(tmp_path, kind, make, name, status, match):
    path = str(make(tmp_path, name))
    rc, out, err, seconds = run_bounded(["-c", DRIVER, kind, path],
                                        env={"MOSECROT_PARSED_VECTORS": str(tmp_path / "parsed")})
    assert rc == status, (rc, out, err)
    assert "peak MB" in out and "MemoryError" not in err
    peak_mb = int(out.split("peak MB")[1].split()[0])
    assert peak_mb < 400, f"peak {peak_mb} MB"  # importing the readers is about 180 MB of it
    if match:
        assert err.count("\n") == 1 and err.startswith(f"{path}: ") and match in err, err
    assert seconds < DEADLINE


def _lexicon_of_identical_pairs(tmp, name, n=10_000_000):
    """10 million copies of one pair (90 MB as text, gzipped here to keep the test's disk small): 2.5 GB before."""
    p = tmp / name
    with gzip.open(p, "wb", compresslevel=1) as fh:
        block = b"cat\tchat\n" * 100_000
        for _ in range(n // 100_000):
            fh.write(block)
    return p


def _sparse(tmp, name, size=390 * 2**20):
    """A file of `size` bytes that costs no disk (a hole): the issue's 390 MB results.json that took 1.6 GB."""
    p = tmp / name
    with open(p, "wb") as fh:
        fh.truncate(size)
    return p


def _declared_matrix(rows, dim, rows_written=None, digits=4):
    """A .vec whose header declares rows x dim, with `rows_written` real rows of values with `digits` decimals."""
    def make(tmp, name):
        import numpy as np

        tail = b" ".join(b"%.*f" % (digits, x) for x in np.random.default_rng(0).uniform(-1, 1, dim)) + b"\n"
        p = tmp / name
        with open(p, "wb") as fh:
            fh.write(b"%d %d\n" % (rows, dim))
            for i in range(rows if rows_written is None else rows_written):
                fh.write(b"w%d " % i + tail)
        return p
    return make


def _write_case(content):
    return lambda tmp, name: _write(tmp / name, content)


def _rows_then_newlines(newlines, gz):
    """Three good rows, then `newlines` blank lines (gzipped: 256 MB of them are 250 KB on disk). The batch was
    measured by its text alone, which is 0 bytes a blank line: 256 MB of newlines became one batch (24 GB, killed)."""
    def make(tmp, name):
        p = tmp / name
        with (gzip.open(p, "wb", compresslevel=9) if gz else open(p, "wb")) as fh:
            fh.write(b"3 2\na 0.5 0.25\nb 0.125 1\nc 1 2\n")
            for _ in range(newlines // 2**22):
                fh.write(b"\n" * 2**22)
        return p
    return make


# issue 24's memory cases, each under the same ceiling and deadline: (kind, make, name, env, exit status, message)
MEMORY = [
    pytest.param("grid", _write_case(_alias_bomb()), "bomb.yaml", {}, 2, "an alias bomb?", id="grid-yaml-alias-bomb"),
    pytest.param("grid", _write_case("name: g\nbase: {}\naxes:\n  top_k: [" + ",".join(["1"] * 120_000) + "]\n"),
                 "long-axis.yaml", {}, 2, "(no aliases): far more than any grid", id="grid-one-axis-of-120000-values"),
    pytest.param("grid", _write_case(_nested(50_000, "yaml")), "deep.yaml", {}, 2, "nested more than 100 levels",
                 id="grid-yaml-nested-50000-deep"),
    pytest.param("grid", _write_case(_big_grid()), "big.yaml", {}, 2, "= 10,000,000,000 trials; the limit is 10,000",
                 id="grid-10-axes-of-10-values"),
    pytest.param("json", _write_case(_nested(200_000)), "results.json", {}, 2, "nested more than 100 levels",
                 id="json-nested-200000-deep"),
    pytest.param("json", _sparse, "results.json", {}, 2, "JSON file is 390 MB, more than the limit 64 MB (set "
                 "MOSECROT_MAX_JSON_MB)", id="json-390-mb-results"),
    pytest.param("json", _write_case('{"methods": {}, "pad": [' + ",".join(["[]"] * (20 * 2**20 // 3)) + "]}"),
                 "results.json", {}, 2, "holds 6,990,509 lists and mappings, more than 1,000,000",
                 id="json-20-mb-of-empty-lists"),  # within the size limit: 2.5 GB once parsed before the count
    pytest.param("json", _write_case('{"pad": [' + ",".join(["{}"] * (20 * 2**20 // 3)) + "]}"),
                 "results.json", {}, 2, "more than 1,000,000", id="json-20-mb-of-empty-mappings"),
    pytest.param("lexicon", _lexicon_of_identical_pairs, "same.txt.gz", {}, 0, None, id="lex-10-million-identical-pairs"),
    pytest.param("lexicon", _write_case("".join(f"w{i}{'e' * 1000}\tx{i}{'t' * 1000}\n" for i in range(3000))),
                 "long.txt", {"MOSECROT_MAX_LEXICON_MB": "2"}, 2,
                 "its distinct pairs hold more than 2 MB of text: is it a lexicon?", id="lex-long-distinct-pairs"),
    pytest.param("vectors", _write_case(_word2vec_giant_word(50 * 2**20)), "giant.bin", {}, 2,
                 "word of row 1 is longer than 4,096 bytes", id="vec-word2vec-bin-50-mb-word"),
    pytest.param("vectors", _write_case(b"a" * 900_000 + b" 1 2\n"), "giant.vec", {}, 2,
                 "word of this row is longer than 4,096 bytes", id="vec-text-900-kb-word"),
    pytest.param("vectors", _rows_then_newlines(2**28, gz=True), "newlines.vec.gz", {}, 2,
                 "holds more than 1,000,000 blank lines", id="vec-gzip-of-256-mb-newlines"),
    pytest.param("vectors", _rows_then_newlines(2**22, gz=False), "newlines.vec", {}, 2,
                 "holds more than 1,000,000 blank lines", id="vec-text-4-million-blank-lines"),
    pytest.param("vectors", _declared_matrix(100_000, 4_000, rows_written=2), "huge.vec",
                 {"MOSECROT_MAX_MATRIX_MB": "4000"}, 2,
                 "ran out of memory reading this file (asked for 1,526 MB): keep fewer rows with --max-vocab N, or set "
                 "MOSECROT_MAX_MATRIX_MB (now 4,000 MB)", id="vec-memory-error-is-one-line"),
]


@pytest.mark.parametrize("kind,make,name,env,status,match", MEMORY)
def test_issue_24_memory_cases_stay_bounded_and_say_one_line(tmp_path, kind, make, name, env, status, match):
    path = str(make(tmp_path, name))
    rc, out, err, seconds = run_bounded(["-c", DRIVER, kind, path],
                                        env={"MOSECROT_PARSED_VECTORS": str(tmp_path / "parsed"), **env})
    assert rc == status, (rc, out, err)
    assert "Traceback" not in err and "MemoryError" not in err.replace("ran out of memory", "")
    peak_mb = int(out.split("peak MB")[1].split()[0])
    assert peak_mb < 400, f"peak {peak_mb} MB"
    if match:
        assert err.count("\n") == 1 and err.startswith(f"{path}:") and match in err, err
    if kind == "lexicon" and status == 0:
        assert "loaded 1 duplicates 9999999" in out, out  # one pair kept, every repeat counted for the run's warning
    assert seconds < DEADLINE


def test_a_header_declared_matrix_loads_at_about_its_own_size(tmp_path):
    """The issue's 190,000 x 4,000 text matrix peaked at 2.2x; here a 10,000 x 1,000 one (the same layout: a header,
    then one row per word; one-decimal values keep the file at 50 MB) under the same ceiling. Rows go straight
    into the header's matrix: beyond the matrix, memory is one batch of text in its copies (about 15 MB
    whatever the file's size), so a second copy of the matrix (the 2x this replaced) would fail the bound."""
    path = str(_declared_matrix(10_000, 1_000, digits=1)(tmp_path, "m.vec"))
    rc, out, err, seconds = run_bounded(["-c", DRIVER, "vectors", path],
                                        env={"MOSECROT_PARSED_VECTORS": str(tmp_path / "parsed")})
    assert rc == 0, (rc, out, err)
    base, peak = int(out.split("base MB")[1].split()[0]), int(out.split("peak MB")[1].split()[0])
    matrix = float(out.split("matrix MB")[1].split()[0])
    assert matrix > 38
    assert peak - base <= 1.1 * matrix + 20, (base, peak, matrix)  # a second copy would be 2x: 76 MB and more
    assert seconds < DEADLINE


def test_limit_variables_that_are_not_numbers_name_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_PARSED_VECTORS", str(tmp_path / "parsed"))
    for var, value in [("MOSECROT_MAX_DIM", "abc"), ("MOSECROT_MAX_VECTORS", "1.5"), ("MOSECROT_MAX_LINE_KB", "-1"),
                       ("MOSECROT_MAX_MATRIX_MB", "nan")]:
        p = _write(tmp_path / f"{var}.vec", "a 1 2\n")  # a fresh file each time: a parsed one is served from cache
        monkeypatch.setenv(var, value)
        with pytest.raises(InputError, match=f"environment variable {var}='{value}' must be"):
            load_vectors(p)
        monkeypatch.delenv(var)
    monkeypatch.setenv("MOSECROT_MAX_LABELS", "12_000")
    from mosecrot_viz.io.limits import max_labels
    assert max_labels() == 12_000


@pytest.mark.parametrize("header", [True, False])
def test_a_utf8_bom_is_dropped_from_vectors_lexicons_and_tasks(tmp_path, header):
    bom = b"\xef\xbb\xbf"
    text = ("2 2\n" if header else "") + "chat 1 2\nnoir 3 4\n"
    kv = load_vectors(_write(tmp_path / f"v{header}.vec", bom + text.encode()))
    assert kv.index_to_key == ["chat", "noir"] and kv.vector_size == 2
    assert load_lexicon(_write(tmp_path / "l.txt", bom + b"cat\tchat\n")) == [("cat", "chat")]
    assert list(load_task(_write(tmp_path / "t.tsv", bom + b"text\tlabel\nhi\ta\n"))["label"]) == ["a"]


def test_fast_and_careful_vector_parsers_agree_across_batches(tmp_path, monkeypatch):
    """The batched fast parser keeps the first of duplicate words across batch boundaries, like the careful one,
    and a ragged row that the batch's number count would hide is still reported with its line."""
    from mosecrot_viz.io import vectors

    monkeypatch.setattr(vectors, "_BATCH_BYTES", 64)
    rows = [f"w{i % 7} {i} {i + 0.5}" for i in range(40)]
    p = _write(tmp_path / "v.vec", "\n".join(rows) + "\n")
    fast, careful = vectors._load_text_fast(p, None), vectors._load_text_careful(p, None)
    assert fast.index_to_key == careful.index_to_key == [f"w{i}" for i in range(7)]
    assert fast.vectors.tolist() == careful.vectors.tolist()
    assert vectors._load_text_fast(p, 3).index_to_key == ["w0", "w1", "w2"]
    ragged = _write(tmp_path / "r.vec", "a 1 2 3\nb 1 2\nc 1 2 3 4\n")
    with pytest.raises(FormatError, match="2 numbers, expected 3") as err:
        vectors._load_text_fast(ragged, None)
    assert err.value.line == 2


def test_the_bounded_child_runs_under_the_ceiling():
    rc, out, _, _ = run_bounded(["-c", "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"])
    assert rc == 0 and int(out) == CEILING


def test_a_memory_error_on_a_small_file_under_a_ceiling_blames_the_ceiling(tmp_path, monkeypatch):
    """Under `ulimit -v` 1.5 GB (torch's libraries take most of it), a 26-row .vec 'ran out of memory (asked for
    0.0006 MB): keep fewer rows with --max-vocab' (hostile sweep a01): the file was blamed for the ceiling."""
    from mosecrot_viz.errors import LimitError
    from mosecrot_viz.io import limits

    small = _write(tmp_path / "small.vec", b"2 2\na 1 2\nb 3 4\n")
    monkeypatch.setattr(limits, "address_space_limit", lambda: 1536 * 2**20)
    for asked in (lambda: 640, lambda: None):  # the reader's own figure, or none (then the file's size bounds it)
        with pytest.raises(LimitError, match=r"needs only [0-9.e-]+ MB: the process may use at most 1,536 MB of "
                                             r"address space \(ulimit -v\)"):
            with limits.memory_error_as_limit(small, asked):
                raise MemoryError()
    with pytest.raises(LimitError, match=r"asked for 6,104 MB\): keep fewer rows"):  # a big ask is still the file's
        with limits.memory_error_as_limit(small, lambda: 6400 * 10**6):
            raise MemoryError()
    monkeypatch.setattr(limits, "address_space_limit", lambda: None)
    with pytest.raises(LimitError, match=r"ran out of memory reading this file: keep fewer rows"):  # no ceiling
        with limits.memory_error_as_limit(small, lambda: None):
            raise MemoryError()
