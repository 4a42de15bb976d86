"""experiment.preflight's model check: a layer's missing tensors are seen from the safetensors header names
alone (no torch, transformers or gensim imported), so the refusal takes milliseconds; other gaps go to the exact meta-device check."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mosecrot_viz.errors import FormatError, SchemaError
from mosecrot_viz.experiment import preflight

ROOT = Path(__file__).resolve().parents[2]
LAYER = ["attention.self.query.weight", "attention.self.key.weight", "output.dense.weight"]


def _names(layers: int, prefix: str = "bert.") -> set:
    return ({f"{prefix}embeddings.word_embeddings.weight"}
            | {f"{prefix}encoder.layer.{i}.{rest}" for i in range(layers) for rest in LAYER})


def test_a_complete_encoder_has_no_gaps():
    assert preflight._layer_gaps({"model_type": "bert", "num_hidden_layers": 3}, _names(3)) == ([], 10)


def test_a_tensor_missing_from_one_layer_is_named():
    names = _names(3) - {"bert.encoder.layer.1.attention.self.key.weight"}
    missing, total = preflight._layer_gaps({"model_type": "bert", "num_hidden_layers": 3}, names)
    assert missing == ["bert.encoder.layer.1.attention.self.key.weight"] and total == 10


def test_a_missing_layer_and_missing_embeddings_are_named():
    names = {n for n in _names(3, prefix="") if ".layer.2." not in n} - {"embeddings.word_embeddings.weight"}
    missing, _ = preflight._layer_gaps({"model_type": "roberta", "num_hidden_layers": 3}, names)
    assert missing == ["embeddings.word_embeddings.weight"] + [f"encoder.layer.2.{r}" for r in sorted(LAYER)]


def test_other_architectures_are_left_to_the_exact_check():
    # T5's first block alone holds a relative attention bias: names alone would call the others incomplete
    names = {"encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", "encoder.block.0.x.weight",
             "encoder.block.1.x.weight"}
    assert preflight._layer_gaps({"model_type": "t5", "num_layers": 2}, names) == ([], 0)


def test_header_shapes_read_without_torch_and_a_bad_header_is_a_format_error(tmp_path):
    good = tmp_path / "model.safetensors"
    header = json.dumps({"__metadata__": {"a": "b"}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})
    good.write_bytes(len(header).to_bytes(8, "little") + header.encode() + b"\0" * 4)
    assert preflight._header_shapes([good]) == {"w": [1]}
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((10**12).to_bytes(8, "little") + b"{}")
    with pytest.raises(FormatError, match="not a readable safetensors"):
        preflight._header_shapes([bad])


def test_a_model_folder_missing_layer_tensors_is_refused_without_importing_transformers(tiny_bert_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    broken.mkdir()
    for f in Path(tiny_bert_dir).iterdir():
        if f.is_file() and f.suffix != ".safetensors":
            (broken / f.name).write_bytes(f.read_bytes())
    for f in Path(tiny_bert_dir).glob("*.safetensors"):
        save_file({k: v for k, v in load_file(str(f)).items() if "layer.0.attention" not in k}, str(broken / f.name))
    code = ("import sys\nfrom mosecrot_viz.experiment.preflight import check_model\n"
            f"try:\n    check_model({str(broken)!r}, '--source-model')\nexcept Exception as e:\n"
            "    print(type(e).__name__, e)\n"
            "print('loaded:', sorted(m for m in ('torch', 'transformers', 'gensim') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         check=True).stdout
    assert "SchemaError" in out and "tensors" in out and "layer.0.attention" in out, out
    assert "'torch'" not in out and "'transformers'" not in out and "'gensim'" not in out, out
    with pytest.raises(SchemaError, match="tensors"):  # and in-process, as the CLI calls it
        preflight.check_model(str(broken), "--source-model")


def test_a_config_from_another_model_size_is_refused_from_the_header(tiny_bert_dir, tmp_path):
    """config.json's hidden_size 32 over weights of width 16: refused before the wait, naming both shapes."""
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for f in Path(tiny_bert_dir).iterdir():
        if f.is_file():
            (wrong / f.name).write_bytes(f.read_bytes())
    config = json.loads((wrong / "config.json").read_text())
    config["hidden_size"] = config["hidden_size"] * 2
    (wrong / "config.json").write_text(json.dumps(config))
    with pytest.raises(SchemaError, match=rf"x {config['hidden_size'] // 2}, but config.json says vocab_size "
                                          rf"{config['vocab_size']} x width {config['hidden_size']}"):
        preflight.check_model(str(wrong), "--source-model")
    preflight.check_model(str(tiny_bert_dir), "--source-model")  # the untouched folder passes


def test_a_model_folder_without_tokenizer_files_is_refused_naming_them(tiny_bert_dir, tmp_path):
    """Weights and config.json but no tokenizer: it waited for the compute slot and failed in AutoTokenizer
    (hostile sweep w06); now refused by the checks."""
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in Path(tiny_bert_dir).iterdir():
        if f.is_file() and f.name in ("config.json", "model.safetensors"):
            (bare / f.name).write_bytes(f.read_bytes())
    with pytest.raises(SchemaError, match=r"--source-model: model folder has no tokenizer \(none of tokenizer.json"):
        preflight.check_model(str(bare), "--source-model")
    (bare / "vocab.txt").write_bytes((Path(tiny_bert_dir) / "vocab.txt").read_bytes())
    preflight.check_model(str(bare), "--source-model")  # a WordPiece vocabulary is a tokenizer


@pytest.mark.parametrize("spec", ["/no/such/model", "./models/bert", "../bert", "~/nowhere/bert", "a/b/c"])
def test_a_missing_folder_written_as_a_path_is_refused_and_a_hub_id_is_left_to_the_loader(spec):
    from mosecrot_viz.errors import PathError

    with pytest.raises(PathError, match="--multilingual-model: no such model folder"):
        preflight.check_model(spec, "--multilingual-model")
    for hub_id in ("bert-base-uncased", "sentence-transformers/all-MiniLM-L6-v2"):
        preflight.check_model(hub_id, "--multilingual-model")  # not on disk: a hub id, the loader's to fetch
