"""`python -m mosecrot_viz bench`: each fast path beside its reference, in one run, as ratios.

Every measurement runs in its own subprocess so its peak memory (max RSS) is its own. Figures:
- mapping: chunked torch top-k map vs a dense NumPy evaluation of the same formula (full
  |V|x|A| similarity matrix), and vs the GEMM floor 2*|V|*|A|*D_t flops at the float32 matmul rate
  measured in the same run; the two outputs are compared (same top-k sets, weights within 1e-5);
- loading: the top N rows of a synthetic 300-d `.vec` with our loader vs gensim's
  `load_word2vec_format`, vectors compared for identity;
- training: examples per second with dynamic padding + length buckets vs fixed max-length padding.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data(n, a, dt, ds, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, dt), dtype=np.float32), rng.standard_normal((a, dt), dtype=np.float32),
            rng.standard_normal((a, ds), dtype=np.float32))


def dense_reference(vectors, anchors, basis, k, tau, block=8192):
    """The formula written plainly in NumPy: full similarity matrix, then top-k, softmax, weighted mean."""
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    a = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
    sims = v @ a.T  # (|V|, |A|): the dense matrix the chunked path avoids
    out = np.empty((len(v), basis.shape[1]), dtype=np.float32)
    idx_all = np.empty((len(v), k), dtype=np.int64)
    w_all = np.empty((len(v), k), dtype=np.float32)
    for s in range(0, len(v), block):  # row blocks only so the k-gather fits in memory
        blk = sims[s : s + block]
        idx = np.argpartition(-blk, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(blk, idx, axis=1) / tau
        w = np.exp(vals - vals.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        out[s : s + block] = np.einsum("nk,nkd->nd", w, basis[idx])
        idx_all[s : s + block], w_all[s : s + block] = idx, w
    return out, idx_all, w_all


def _child(task: str, args: dict) -> dict:
    """Runs inside the subprocess: one measurement, reported as JSON."""
    if task == "matmul":
        n = args["n"]
        x = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
        x @ x
        t = time.perf_counter()
        reps = 3
        for _ in range(reps):
            x @ x
        return {"gflops": 2 * n**3 * reps / (time.perf_counter() - t) / 1e9}
    if task in ("map-ours", "map-dense"):
        v, a, b = _data(args["n"], args["a"], args["dt"], args["ds"])
        t = time.perf_counter()
        if task == "map-ours":
            from .core.relative import relative_map, topk_anchors

            out = relative_map(v, a, b, k=args["k"], weighting="softmax", temperature=0.05)
            sec = time.perf_counter() - t
            sims, idx = topk_anchors(v[: args["check"]], a, args["k"])
            from .core.relative import anchor_weights

            w = anchor_weights(sims, "softmax", 0.05).numpy()
            idx = idx.numpy()
        else:
            out, idx, w = dense_reference(v, a, b, args["k"], 0.05)
            sec = time.perf_counter() - t
            idx, w = idx[: args["check"]], w[: args["check"]]
        np.save(args["dump"], out[: args["check"]])
        order = np.argsort(idx, axis=1)
        np.save(args["dump"] + ".idx.npy", np.take_along_axis(idx, order, 1))
        np.save(args["dump"] + ".w.npy", np.take_along_axis(w, order, 1))
        return {"seconds": sec, "peak_mb": _peak_mb()}
    if task in ("load-ours", "load-gensim"):
        t = time.perf_counter()
        if task == "load-ours":
            from .io.vectors import _load_text

            kv = _load_text(Path(args["path"]), args["n"])
        else:
            from gensim.models import KeyedVectors

            kv = KeyedVectors.load_word2vec_format(args["path"], binary=False, limit=args["n"])
        sec = time.perf_counter() - t
        np.save(args["dump"], kv.vectors)
        import hashlib

        digest = hashlib.sha1("\n".join(kv.index_to_key).encode()).hexdigest()
        return {"seconds": sec, "peak_mb": _peak_mb(), "words_sha": digest}
    if task == "train":
        return _train(args)
    raise ValueError(task)


def _train(args) -> dict:
    import torch

    from .core.training import bucket_batches, collate, pick_device
    from .io import models
    from .io.tasks import load_task

    device = pick_device("auto")
    tok = models.load_tokenizer("default")
    model = models.load_classifier("default", 7).to(device)
    texts = load_task(args["train"])["text"].tolist()
    ids = tok(texts, truncation=True, max_length=128)["input_ids"]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    if args["dynamic"]:
        batches = bucket_batches([len(s) for s in ids], 32, shuffle=True, rng=np.random.default_rng(0))
    else:
        perm = np.random.default_rng(0).permutation(len(ids))
        batches = [perm[i : i + 32] for i in range(0, len(perm), 32)]
    batches = batches[: args["steps"] + 2]
    n_done, t = 0, None
    for i, b in enumerate(batches):
        if i == 2:
            t, n_done = time.perf_counter(), 0  # two warm-up steps
        seqs = [ids[j] for j in b]
        if not args["dynamic"]:
            seqs = [s + [tok.pad_token_id] * (128 - len(s)) for s in seqs]
        inputs = collate(seqs, tok.pad_token_id, device)
        if not args["dynamic"]:
            inputs["attention_mask"] = (inputs["input_ids"] != tok.pad_token_id).long()
        loss = model(**inputs).logits.logsumexp(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        n_done += len(b)
    return {"examples_per_s": n_done / (time.perf_counter() - t), "device": str(device)}


def _run_child(task: str, args: dict) -> dict:
    cmd = [sys.executable, "-m", "mosecrot_viz.bench", "--child", task, json.dumps(args)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"benchmark step {task} failed: {res.stderr.strip()[-800:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def synthetic_vec(path: Path, n: int, dim: int) -> Path:
    """A fastText-style text file with n random words x dim (written once, reused)."""
    if path.exists():
        return path
    rng = np.random.default_rng(1)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"{n} {dim}\n")
        for s in range(0, n, 10000):
            block = rng.standard_normal((min(10000, n - s), dim)).astype(np.float32)
            rows = np.char.mod("%.5f", block)
            fh.write("".join(f"w{s + i} " + " ".join(r) + " \n" for i, r in enumerate(rows)))
    os.replace(tmp, path)
    return path


def run_bench(*, words=200_000, anchors=10_000, tgt_dim=300, src_dim=384, k=50, load_rows=200_000, steps=15,
              train_file=None, workdir=Path("/tmp/mosecrot-bench"), skip_dense=False) -> dict:
    """Measure everything and return figures plus ratios (see module docstring)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "sizes": {
        "words": words, "anchors": anchors, "tgt_dim": tgt_dim, "src_dim": src_dim, "k": k, "load_rows": load_rows}}
    out["matmul_gflops"] = _run_child("matmul", {"n": 2048})["gflops"]
    margs = {"n": words, "a": anchors, "dt": tgt_dim, "ds": src_dim, "k": k, "check": 2000}
    ours = _run_child("map-ours", dict(margs, dump=str(workdir / "ours.npy")))
    out["map_ours"] = ours
    out["gemm_floor_s"] = 2 * words * anchors * tgt_dim / (out["matmul_gflops"] * 1e9)
    if not skip_dense:
        dense = _run_child("map-dense", dict(margs, dump=str(workdir / "dense.npy")))
        out["map_dense"] = dense
        same_sets = np.array_equal(np.load(workdir / "ours.npy.idx.npy"), np.load(workdir / "dense.npy.idx.npy"))
        w_diff = float(np.abs(np.load(workdir / "ours.npy.w.npy") - np.load(workdir / "dense.npy.w.npy")).max())
        out_diff = float(np.abs(np.load(workdir / "ours.npy") - np.load(workdir / "dense.npy")).max())
        out["map_check"] = {"same_topk_sets": same_sets, "max_weight_diff": w_diff, "max_output_diff": out_diff}
    vec = synthetic_vec(workdir / f"synthetic-{load_rows}x{tgt_dim}.vec", load_rows, tgt_dim)
    lo = _run_child("load-ours", {"path": str(vec), "n": load_rows, "dump": str(workdir / "lo.npy")})
    lg = _run_child("load-gensim", {"path": str(vec), "n": load_rows, "dump": str(workdir / "lg.npy")})
    out["load_ours"], out["load_gensim"] = lo, lg
    out["load_identical"] = bool(np.array_equal(np.load(workdir / "lo.npy"), np.load(workdir / "lg.npy"))
                                 and lo["words_sha"] == lg["words_sha"])
    if train_file:
        out["train_dynamic"] = _run_child("train", {"train": str(train_file), "steps": steps, "dynamic": True})
        out["train_fixed"] = _run_child("train", {"train": str(train_file), "steps": steps, "dynamic": False})
    return out


def report(r: dict, command: str) -> str:
    """Markdown table of figures beside references, with ratios and targets."""
    lines = [f"Measured by `{command}` on {r['machine']}.", "",
             f"Sizes: {r['sizes']}. float32 matmul rate measured in the same run: {r['matmul_gflops']:.0f} GFLOP/s.", "",
             "| measurement | ours | reference | ratio | target |", "|---|---|---|---|---|"]
    o = r["map_ours"]
    if "map_dense" in r:
        d = r["map_dense"]
        lines.append(f"| mapping time | {o['seconds']:.1f} s | dense NumPy {d['seconds']:.1f} s | "
                     f"{d['seconds'] / o['seconds']:.1f}x faster | ≥ 5x |")
        lines.append(f"| mapping peak memory (process RSS) | {o['peak_mb'] / 1024:.2f} GB | {d['peak_mb'] / 1024:.2f} GB | "
                     f"{o['peak_mb'] / d['peak_mb']:.2f} of it | ≤ 0.25 |")
        c = r["map_check"]
        lines.append(f"| mapping equality (first 2,000 rows) | same top-k sets: {c['same_topk_sets']} | max weight diff "
                     f"{c['max_weight_diff']:.1e}; max output diff {c['max_output_diff']:.1e} | | weights within 1e-5 |")
    lines.append(f"| mapping vs GEMM floor | {o['seconds']:.1f} s | {r['gemm_floor_s']:.1f} s | "
                 f"{o['seconds'] / r['gemm_floor_s']:.1f}x the floor | ≤ 2x |")
    lo, lg = r["load_ours"], r["load_gensim"]
    lines.append(f"| loading top {r['sizes']['load_rows']:,} rows of a {r['sizes']['tgt_dim']}-d .vec | {lo['seconds']:.1f} s | gensim "
                 f"{lg['seconds']:.1f} s | {lg['seconds'] / lo['seconds']:.1f}x faster; identical: {r['load_identical']} | ≥ 3x |")
    if "train_dynamic" in r:
        td, tf = r["train_dynamic"], r["train_fixed"]
        lines.append(f"| training examples/s ({td['device']}) | dynamic padding {td['examples_per_s']:.1f} | fixed 128 "
                     f"{tf['examples_per_s']:.1f} | {td['examples_per_s'] / tf['examples_per_s']:.2f}x | ≥ 1.5x |")
    return "\n".join(lines)


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "--child":
    print(json.dumps(_child(sys.argv[2], json.loads(sys.argv[3]))))
