"""`python -m mosecrot_viz bench`: each fast path beside its reference, in one run, as ratios.

Every measurement runs in its own subprocess so its peak memory (max RSS) is its own. Figures:
- the machine's float32 matmul rate (`core.flops.matmul_gflops`: the faster of NumPy's BLAS and torch on
  a 2048 x 2048 product), measured once; every floor and MFU below is at this rate;
- mapping: the chunked top-k map vs the GEMM floor 2*|V|*|A|*D_t flops (goal: at most 1.0x, which only a
  screen faster than float32 can meet), its top-k sets on the first rows vs the exact ones (`exact_topk_sets`),
  and, as a reference line, a dense NumPy evaluation of the same formula (full |V|x|A| similarity matrix):
  its time, its memory, and the weights of the rows where both chose the same anchors (within 1e-5);
- loading: the top N rows of a synthetic 300-d `.vec` with our loader vs gensim's
  `load_word2vec_format`, time and peak memory, vectors compared for identity;
- training: real fine-tuning steps of the default model at batch 32 with frozen input embeddings (as
  in a run): examples/s, achieved GFLOP/s and MFU, with a profile of where the step's time goes; and
  dynamic padding + length buckets vs fixed max-length padding;
- full size (`--full-size`, `run_full_size`): synthetic fastText-size files (200,000 to 2,000,000 words, text,
  gzip and `.bin`) through a CLI run, each stage's seconds and peak RSS, and issue 28's goals met or missed;
- end to end: the teaching demo as a user starts it (`python -m mosecrot_viz demo`), two app sessions'
  runs started at once (`store.runs.start_run`) against the same runs one after the other, and a
  3-seed SIB-200 run through the CLI when the shared data is present.

On a GPU (`scripts/gpu_check.sh`, docs/PERFORMANCE-GPU.md) the same mapping runs with `device="cuda"`
against the floor at the matmul rate measured on that GPU (`map_on_device`), its first rows checked
against the CPU, and `finetune_throughput` times real fine-tuning steps (`core.training`, bf16
autocast on CUDA) as examples/s and as a share of the matmul rate in the step's precision.
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

from mosecrot_viz.atomic import atomic_path


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data(n, a, dt, ds, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, dt), dtype=np.float32), rng.standard_normal((a, dt), dtype=np.float32),
            rng.standard_normal((a, ds), dtype=np.float32))


def dense_reference(vectors, anchors, basis, k, tau, block=8192, timings=None):
    """The formula written plainly in NumPy: full similarity matrix, then top-k, softmax, weighted mean.
    `timings` collects the seconds of the similarity matrix and of the rest."""
    t = time.perf_counter()
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    a = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
    sims = v @ a.T  # (|V|, |A|): the dense matrix the chunked path avoids
    if timings is not None:
        timings["similarities (GEMM)"] = time.perf_counter() - t
        t = time.perf_counter()
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
    if timings is not None:
        timings["top-k, weights, weighted sum"] = time.perf_counter() - t
    return out, idx_all, w_all


def exact_topk_sets(vectors, anchors, k, block=256) -> np.ndarray:
    """The exact top-k anchor ids per row, sorted ascending: (n, k). Cosines of the float32 unit rows (normalised
    as the map does) computed in float64, ties to the lower anchor id; the reference every path must meet."""
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    a = anchors / np.maximum(np.linalg.norm(anchors, axis=1, keepdims=True), 1e-12)
    a64 = a.astype(np.float32).astype(np.float64)
    out = np.empty((len(v), k), dtype=np.int64)
    for s in range(0, len(v), block):
        sims = v[s : s + block].astype(np.float32).astype(np.float64) @ a64.T
        out[s : s + block] = np.sort(np.argsort(-sims, axis=1, kind="stable")[:, :k], axis=1)
    return out


def _child(task: str, args: dict) -> dict:
    """Runs inside the subprocess: one measurement, reported as JSON."""
    if task == "matmul":
        n, device, dtype = args["n"], args.get("device", "cpu"), args.get("dtype", "float32")
        from mosecrot_viz.core.flops import matmul_gflops

        return {"gflops": matmul_gflops(device, dtype, n)}  # on the CPU in float32: the faster of NumPy and torch
    if task in ("map-ours", "map-dense"):
        v, a, b = _data(args["n"], args["a"], args["dt"], args["ds"])
        device = args.get("device", "cpu")
        if task == "map-ours" and device != "cpu":
            _warm_up(device, a, b, args["k"])
        t = time.perf_counter()
        if task == "map-ours":
            from mosecrot_viz.core.relative import relative_map, topk_anchors

            phases = {} if device == "cpu" else None
            stats: dict = {}
            out = relative_map(v, a, b, k=args["k"], weighting="softmax", temperature=0.05, device=device,
                               timings=phases, precision=args.get("precision", "auto"), stats=stats)
            sec = time.perf_counter() - t  # relative_map returns host memory, so the GPU work is finished
            sims, idx = topk_anchors(v[: args["check"]], a, args["k"], device=device)
            from mosecrot_viz.core.relative import anchor_weights

            w = anchor_weights(sims, "softmax", 0.05).cpu().numpy()
            idx = idx.cpu().numpy()
            if args.get("cpu_dump"):  # the same first rows on the CPU, in this process, for the cross-device check
                rows = args["check"]
                _dump(args["cpu_dump"], relative_map(v[:rows], a, b, k=args["k"], weighting="softmax", temperature=0.05),
                      *topk_anchors(v[:rows], a, args["k"]))
        else:
            phases = {}
            out, idx, w = dense_reference(v, a, b, args["k"], 0.05, timings=phases)
            sec = time.perf_counter() - t
            idx, w = idx[: args["check"]], w[: args["check"]]
        np.save(args["dump"], out[: args["check"]])
        order = np.argsort(idx, axis=1)
        np.save(args["dump"] + ".idx.npy", np.take_along_axis(idx, order, 1))
        np.save(args["dump"] + ".w.npy", np.take_along_axis(w, order, 1))
        res = {"seconds": sec, "peak_mb": _peak_mb(), "phases": phases}
        if task == "map-ours":
            from mosecrot_viz.core.relative import bf16_gemm_speedup

            res["stats"] = stats
            res["bf16_gemm_speedup"] = bf16_gemm_speedup(str(device))
        if args.get("exact_dump"):  # the exact top-k sets of the checked rows, once, for both paths to meet
            np.save(args["exact_dump"], exact_topk_sets(v[: args["check"]], a, args["k"]))
        return res
    if task in ("load-ours", "load-gensim"):
        t = time.perf_counter()
        if task == "load-ours":
            from mosecrot_viz.io.vectors import _load_text

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
    if task == "train-step":
        return _train_step_throughput(args)
    if task == "sessions":
        return _two_sessions(args)
    raise ValueError(task)


def _dump(path: str, out, sims, idx) -> None:
    """Mapped rows, their top-k anchor ids (sorted per row) and weights, as the checks read them."""
    from mosecrot_viz.core.relative import anchor_weights

    w, idx = anchor_weights(sims, "softmax", 0.05).cpu().numpy(), idx.cpu().numpy()
    order = np.argsort(idx, axis=1)
    np.save(path, out)
    np.save(path + ".idx.npy", np.take_along_axis(idx, order, 1))
    np.save(path + ".w.npy", np.take_along_axis(w, order, 1))


def _sync(device: str) -> None:
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _warm_up(device: str, anchors, basis, k: int) -> None:
    """One small map first, so CUDA context creation and kernel loading are not timed."""
    from mosecrot_viz.core.relative import relative_map

    relative_map(anchors[:256], anchors, basis, k=min(k, len(anchors)), device=device)
    _sync(device)


def _train_step_throughput(args) -> dict:
    """Time real fine-tuning steps (`core.training._train_step`: dynamic padding, bf16 autocast on CUDA).

    FLOPs per step are counted, not guessed from a profile (`core.flops.step_flops`, the count fine_tune's
    history uses).
    """
    import torch

    from mosecrot_viz.core.devices import configure_threads
    from mosecrot_viz.core.flops import model_shape, step_flops
    from mosecrot_viz.core.training import TrainConfig, _train_step, bucket_batches, pick_device, set_seed
    from mosecrot_viz.defaults import models
    from mosecrot_viz.io.tasks import load_task

    configure_threads()
    device = pick_device(args.get("device", "auto"))
    set_seed(0)
    frame = load_task(args["train"])
    labels = sorted(frame["label"].unique())
    tok = models.load_tokenizer(args.get("model", "default"))
    model = models.load_classifier(args.get("model", "default"), len(labels)).to(device)
    if args.get("freeze"):  # as in a run: the input embeddings are frozen (freeze_embeddings, the default)
        model.get_input_embeddings().weight.requires_grad_(False)
    model.train()
    seqs = tok(frame["text"].tolist(), truncation=True, max_length=128)["input_ids"]
    y = torch.as_tensor(frame["label"].map({lab: i for i, lab in enumerate(labels)}).to_numpy(), dtype=torch.long)
    cfg = TrainConfig(batch_size=args.get("batch_size", 32))
    params = [p for p in model.parameters() if p.requires_grad]
    from mosecrot_viz.core.training import _optimizer

    opt = _optimizer(params, cfg, device)  # the run's optimiser (fused AdamW where available)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    rng = np.random.default_rng(0)
    warm, steps = args.get("warmup", 3), args["steps"]
    batches = []
    while len(batches) < warm + steps:
        batches += bucket_batches([len(s) for s in seqs], cfg.batch_size, shuffle=True, rng=rng)
    batches = batches[: warm + steps]
    lin, layers, hidden = model_shape(model)
    examples = tokens = 0
    flops = 0.0
    for i, b in enumerate(batches):
        if i == warm:
            _sync(str(device))
            t = time.perf_counter()
            examples = tokens = 0
            flops = 0.0
        _train_step(model, opt, sched, params, seqs, y, b, cfg.batch_size, tok.pad_token_id, device)
        width = max(len(seqs[j]) for j in b)
        examples += len(b)
        tokens += len(b) * width
        flops += step_flops(lin, layers, hidden, rows=len(b), width=width)
    _sync(str(device))
    sec = time.perf_counter() - t
    dtype = "bfloat16" if device.type == "cuda" else "float32"  # what the step computes in (training._autocast)
    out = {"device": str(device), "dtype": dtype, "steps": steps, "batch_size": cfg.batch_size, "seconds": sec,
           "examples_per_s": examples / sec, "tokens_per_s": tokens / sec, "achieved_gflops": flops / sec / 1e9,
           "linear_weights": lin, "layers": layers, "hidden": hidden, "frozen_embeddings": bool(args.get("freeze")),
           "mean_width": tokens / examples}
    if args.get("profile"):
        out["profile"] = _step_profile(model, opt, params, seqs, y, batches[warm:], tok.pad_token_id, device,
                                       round(tokens / examples))
    return out


def _step_profile(model, opt, params, seqs, y, batches, pad_id, device, width) -> dict:
    """Where a training step's time goes (seconds summed over `batches`): padding and copying the batch, the
    forward pass, the backward pass, gradient clipping, the optimiser; and torch's float32 rate on the step's
    own largest GEMM shape ((batch x width) x hidden x 4 hidden, the feed-forward layer) beside the square rate."""
    import torch

    from mosecrot_viz.core.flops import rate_gflops
    from mosecrot_viz.core.training import collate

    parts = dict.fromkeys(("collate", "forward", "backward", "clip", "optimiser"), 0.0)

    def timed(name, fn):
        _sync(str(device))
        t = time.perf_counter()
        r = fn()
        _sync(str(device))
        parts[name] += time.perf_counter() - t
        return r

    for b in batches:
        opt.zero_grad(set_to_none=True)
        inputs = timed("collate", lambda: collate([seqs[i] for i in b], pad_id, device))
        loss = timed("forward", lambda: torch.nn.functional.cross_entropy(model(**inputs).logits.float(),
                                                                           y[b].to(device)))
        timed("backward", loss.backward)
        timed("clip", lambda: torch.nn.utils.clip_grad_norm_(params, 1.0))
        timed("optimiser", opt.step)
    rows, hidden = len(batches[0]) * width, model.config.hidden_size
    a = torch.randn(rows, hidden, device=device)
    w = torch.randn(4 * hidden, hidden, device=device)
    ffn = rate_gflops(lambda: torch.nn.functional.linear(a, w), 2 * rows * hidden * 4 * hidden, device, reps=20,
                      warmups=3)
    return {"seconds": parts, "ffn_gemm_shape": [rows, hidden, 4 * hidden], "ffn_gemm_gflops_torch": ffn}


def _two_sessions(args) -> dict:
    """Two runs as two app sessions start them (`store.runs.start_run`, the call behind the Run page and the
    demo button), both asked for at once, against the same two runs one after the other (`execute_run`, with
    the analyses the app precomputes). Each pair gets fresh run folders and no model cache, so no run reuses
    another's fine-tune."""
    from mosecrot_viz.defaults.registry import demo_inputs
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.store import worker
    from mosecrot_viz.store.runs import execute_run, list_runs, prepare_run, start_run

    root = Path(args["root"])

    def cfg(seed):
        return ExperimentConfig.from_dict(demo_inputs(), methods=list(args["methods"]), epochs=args["epochs"],
                                          seeds=[seed], model_cache=None)

    t = time.perf_counter()
    for seed, name in ((1, "a"), (2, "b")):
        c = cfg(seed)
        execute_run(c, prepare_run(c, f"sequential-{name}", root / "sequential"), analyse=True)
    sequential = time.perf_counter() - t
    t = time.perf_counter()
    runs = [start_run(cfg(seed), name=f"together-{name}", root=root / "together") for seed, name in ((1, "a"), (2, "b"))]
    worker.wait_idle()
    together = time.perf_counter() - t
    states = [r.status().state.value for r in runs + list_runs(root / "sequential")]
    return {"sequential_s": sequential, "together_s": together, "states": states,
            "methods": list(args["methods"]), "epochs": args["epochs"]}


def _train(args) -> dict:
    import torch

    from mosecrot_viz.core.training import bucket_batches, collate, pick_device
    from mosecrot_viz.defaults import models
    from mosecrot_viz.io.tasks import load_task

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


def _last_line(stderr: str) -> str:
    """A failed child's last stderr line (its exception, or the CLI's one-line error), not a traceback fragment."""
    lines = [ln.strip() for ln in (stderr or "").splitlines() if ln.strip()]
    return lines[-1][:500] if lines else "no message (it exited without one)"


def _run_child(task: str, args: dict) -> dict:
    cmd = [sys.executable, "-m", "mosecrot_viz.bench", "--child", task, json.dumps(args, allow_nan=False)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"benchmark step {task} failed: {_last_line(res.stderr)}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def synthetic_vec(path: Path, n: int, dim: int) -> Path:
    """A fastText-style text file with n random words x dim (written once, reused)."""
    if path.exists():
        return path
    rng = np.random.default_rng(1)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"{n} {dim}\n")
        for s in range(0, n, 10000):
            block = rng.standard_normal((min(10000, n - s), dim)).astype(np.float32)
            rows = np.char.mod("%.5f", block)
            fh.write("".join(f"w{s + i} " + " ".join(r) + " \n" for i, r in enumerate(rows)))
    return path


def _timed_cli(argv: list[str], label: str) -> dict:
    """Run `python -m mosecrot_viz ARGV` in a fresh process and time it end to end (imports and set-up
    included, as a user waits for it); the CLI's own `wall time` line is kept beside it."""
    import re

    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "mosecrot_viz", *argv], capture_output=True, text=True)
    sec = time.perf_counter() - t
    if res.returncode != 0:
        raise RuntimeError(f"benchmark step {label} failed: {_last_line(res.stderr)}")
    m = re.search(r"wall time: ([0-9.]+) s", res.stdout)
    return {"process_s": sec, "wall_s": float(m.group(1)) if m else None, "command": "python -m mosecrot_viz " +
            " ".join(argv), "table": [ln for ln in res.stdout.splitlines() if ln.strip()][-12:]}


def sib200_argv(lang: str, out: Path) -> list[str] | None:
    """The CLI run of SIB-200 English -> `lang` with the default methods and 3 seeds (5 epochs, k=50), or None
    when the shared data is absent."""
    from mosecrot_viz.defaults.registry import SIB_FOLDERS
    from mosecrot_viz.paths import shared_data_dir

    sib = shared_data_dir() / "sib200"
    en, tgt = sib / "eng_Latn", sib / SIB_FOLDERS[lang]
    lexicon = "default:fr" if lang == "fr" else str(shared_data_dir() / "lexicons" / "muse" / f"en-{lang}.txt")
    if not (en / "train.tsv").exists() or not (tgt / "test.tsv").exists() or not (lexicon.startswith("default:")
                                                                                 or Path(lexicon).exists()):
        return None
    return ["run", "--vectors", f"default:{lang}", "--lexicon", lexicon, "--lang", lang,
            "--train", str(en / "train.tsv"), "--dev", str(en / "dev.tsv"), "--source-test", str(en / "test.tsv"),
            "--test", str(tgt / "test.tsv"), "--target-train", str(tgt / "train.tsv"), "--seeds", "1,2,3",
            "--out", str(out)]


def run_bench(*, words=200_000, anchors=10_000, tgt_dim=300, src_dim=384, k=50, load_rows=200_000, steps=15,
              train_file=None, workdir=Path("/tmp/mosecrot-bench"), skip_dense=False, end_to_end=True,
              sib200_lang: str | None = "fr", session_epochs=1) -> dict:
    """Measure everything and return figures plus ratios (see module docstring). `end_to_end` adds the demo's
    wall time and two app sessions' runs (about 6 minutes on 2 cores); `sib200_lang` a 3-seed SIB-200 run."""
    import shutil

    from mosecrot_viz.core.devices import available_cores

    workdir.mkdir(parents=True, exist_ok=True)
    out = {"machine": f"{platform.machine()}, {os.cpu_count()} cores ({available_cores()} available)", "sizes": {
        "words": words, "anchors": anchors, "tgt_dim": tgt_dim, "src_dim": src_dim, "k": k, "load_rows": load_rows}}
    out["matmul_gflops"] = _run_child("matmul", {"n": 2048})["gflops"]
    margs = {"n": words, "a": anchors, "dt": tgt_dim, "ds": src_dim, "k": k, "check": 2000}
    ours = _run_child("map-ours", dict(margs, dump=str(workdir / "ours.npy"), exact_dump=str(workdir / "exact.npy")))
    out["map_ours"] = ours
    out["gemm_floor_s"] = 2 * words * anchors * tgt_dim / (out["matmul_gflops"] * 1e9)
    exact = np.load(workdir / "exact.npy")
    out["map_exact_check"] = {"rows": int(len(exact)), "same_topk_sets": bool(np.array_equal(
        np.load(workdir / "ours.npy.idx.npy"), exact))}
    if not skip_dense:
        dense = _run_child("map-dense", dict(margs, dump=str(workdir / "dense.npy")))
        out["map_dense"] = dense
        ours_idx, dense_idx = np.load(workdir / "ours.npy.idx.npy"), np.load(workdir / "dense.npy.idx.npy")
        same_rows = (ours_idx == dense_idx).all(axis=1)  # weights compare only where both chose the same anchors
        w_diff = float(np.abs(np.load(workdir / "ours.npy.w.npy") - np.load(workdir / "dense.npy.w.npy"))[same_rows].max())
        out_diff = float(np.abs(np.load(workdir / "ours.npy") - np.load(workdir / "dense.npy"))[same_rows].max())
        out["map_check"] = {"same_topk_sets": bool(same_rows.all()), "max_weight_diff": w_diff,
                            "max_output_diff": out_diff, "rows_compared": int(same_rows.sum()),
                            "dense_rows_off_exact": int((dense_idx != exact).any(axis=1).sum())}
    vec = synthetic_vec(workdir / f"synthetic-{load_rows}x{tgt_dim}.vec", load_rows, tgt_dim)
    lo = _run_child("load-ours", {"path": str(vec), "n": load_rows, "dump": str(workdir / "lo.npy")})
    lg = _run_child("load-gensim", {"path": str(vec), "n": load_rows, "dump": str(workdir / "lg.npy")})
    out["load_ours"], out["load_gensim"] = lo, lg
    out["load_identical"] = bool(np.array_equal(np.load(workdir / "lo.npy"), np.load(workdir / "lg.npy"))
                                 and lo["words_sha"] == lg["words_sha"])
    if train_file:
        step = _run_child("train-step", {"train": str(train_file), "device": "cpu", "steps": steps, "warmup": 3,
                                         "batch_size": 32, "freeze": True, "profile": True})
        step["mfu"] = step["achieved_gflops"] / out["matmul_gflops"]
        out["train_step"] = step
        out["train_dynamic"] = _run_child("train", {"train": str(train_file), "steps": steps, "dynamic": True})
        out["train_fixed"] = _run_child("train", {"train": str(train_file), "steps": steps, "dynamic": False})
    if end_to_end:
        demo_out = workdir / "demo-run"
        shutil.rmtree(demo_out, ignore_errors=True)
        out["demo"] = _timed_cli(["demo", "--out", str(demo_out)], "demo")
        sessions = workdir / "sessions"
        shutil.rmtree(sessions, ignore_errors=True)
        out["two_sessions"] = _run_child("sessions", {"root": str(sessions), "epochs": session_epochs,
                                                      "methods": ["rr-softmax", "ls", "source", "majority"]})
    if sib200_lang:
        sib_out = workdir / f"sib200-{sib200_lang}"
        shutil.rmtree(sib_out, ignore_errors=True)
        argv = sib200_argv(sib200_lang, sib_out)
        out["sib200"] = (_timed_cli(argv, "sib200") | {"lang": sib200_lang} if argv
                         else {"skipped": "the shared SIB-200 data is not here"})
    return out


def map_on_device(*, words=200_000, anchors=10_000, tgt_dim=300, src_dim=384, k=50, device="cuda",
                  workdir=Path("/tmp/mosecrot-bench"), check=2000, matmul_n=None) -> dict:
    """The chunked map on `device` against the GEMM floor at the float32 matmul rate measured there.

    The first `check` rows are mapped again on the CPU (from the same random draw) and compared:
    same top-k anchor sets, largest weight and output differences.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    n = matmul_n or (8192 if device != "cpu" else 2048)
    out = {"device": device, "sizes": {"words": words, "anchors": anchors, "tgt_dim": tgt_dim, "src_dim": src_dim, "k": k}}
    out["matmul_gflops"] = _run_child("matmul", {"n": n, "device": device, "dtype": "float32"})["gflops"]
    margs = {"n": words, "a": anchors, "dt": tgt_dim, "ds": src_dim, "k": k, "check": min(check, words)}
    dev = _run_child("map-ours", dict(margs, device=device, dump=str(workdir / "dev.npy"),
                                      cpu_dump=str(workdir / "cpu.npy")))
    out["map"] = dev
    out["gemm_floor_s"] = 2 * words * anchors * tgt_dim / (out["matmul_gflops"] * 1e9)
    out["ratio_to_floor"] = dev["seconds"] / out["gemm_floor_s"]
    ld = lambda name: np.load(workdir / name)  # noqa: E731
    out["check"] = {"rows": margs["check"],
                    "same_topk_sets": bool(np.array_equal(ld("dev.npy.idx.npy"), ld("cpu.npy.idx.npy"))),
                    "max_weight_diff": float(np.abs(ld("dev.npy.w.npy") - ld("cpu.npy.w.npy")).max()),
                    "max_output_diff": float(np.abs(ld("dev.npy") - ld("cpu.npy")).max())}
    return out


def finetune_throughput(*, train_file, model="default", device="cuda", steps=30, warmup=3, batch_size=32,
                        matmul_n=None) -> dict:
    """Examples/s of real fine-tuning steps, and their FLOP rate as a share of the matmul rate in the
    precision the step computes in (bf16 on CUDA, float32 on CPU), measured in the same run."""
    r = _run_child("train-step", {"train": str(train_file), "model": str(model), "device": device, "steps": steps,
                                  "warmup": warmup, "batch_size": batch_size})
    n = matmul_n or (8192 if r["device"].startswith("cuda") else 1024)
    r["matmul_gflops"] = _run_child("matmul", {"n": n, "device": device, "dtype": r["dtype"]})["gflops"]
    r["share_of_matmul"] = r["achieved_gflops"] / r["matmul_gflops"]
    return r


def _own_wall(seconds, unit: float, name: str) -> str:
    """"(its own wall time N unit)" from the CLI's printed line, or nothing when it printed none."""
    if seconds is None:
        return ""
    value = seconds / unit
    return f"(its own wall time {value:.0f} {name})" if unit == 1 else f"(its own wall time {value:.1f} {name})"


def _meets(value: float, goal: float, higher_is_better: bool = True) -> str:
    return "met" if (value >= goal if higher_is_better else value <= goal) else "**missed**"


def report(r: dict, command: str) -> str:
    """Markdown table of every figure beside its reference, the ratio, the goal and whether it was met."""
    lines = [f"Measured by `{command}` on {r['machine']}.", "",
             f"Sizes: {r['sizes']}. Float32 matmul rate measured in the same run (the faster of NumPy's BLAS and "
             f"torch, 2048 x 2048): **{r['matmul_gflops']:.0f} GFLOP/s**; every floor below is at this rate.", "",
             "| measurement | ours | reference | ratio | goal | |", "|---|---|---|---|---|---|"]
    o = r["map_ours"]
    floor_ratio = o["seconds"] / r["gemm_floor_s"]
    if "map_exact_check" in r:
        e = r["map_exact_check"]
        dense_off = (f"dense float32 NumPy: {r['map_check']['dense_rows_off_exact']} rows off the exact sets (its "
                     "own rounding at near-ties)" if "map_check" in r else "")
        lines.append(f"| mapping top-k sets (first {e['rows']:,} rows) | exact: {e['same_topk_sets']} | {dense_off} | | "
                     f"the exact sets | {_meets(float(e['same_topk_sets']), 1)} |")
    if "map_dense" in r:
        d = r["map_dense"]
        lines.append(f"| mapping time | {o['seconds']:.1f} s | dense NumPy {d['seconds']:.1f} s | "
                     f"{d['seconds'] / o['seconds']:.1f}x faster | reference only (it depends on how the dense "
                     "matrix page-faults) | |")
        lines.append(f"| mapping peak memory (process RSS) | {o['peak_mb'] / 1024:.2f} GB | {d['peak_mb'] / 1024:.2f} GB | "
                     f"{o['peak_mb'] / d['peak_mb']:.2f} of it | ≤ 0.25 | {_meets(o['peak_mb'] / d['peak_mb'], 0.25, False)} |")
        c = r["map_check"]
        lines.append(f"| mapping weights vs dense ({c.get('rows_compared', 0):,} rows with the same sets) | max weight "
                     f"diff {c['max_weight_diff']:.1e} | max output diff {c['max_output_diff']:.1e} | | weights within "
                     f"1e-5 | {_meets(float(c['max_weight_diff'] <= 1e-5), 1)} |")
    screen = o.get("stats", {}).get("precision", "fp32")
    lines.append(f"| mapping vs GEMM floor (2·V·A·d flops; {screen} screen) | {o['seconds']:.1f} s | "
                 f"{r['gemm_floor_s']:.1f} s | {floor_ratio:.2f}x the floor | ≤ 1.0x | {_meets(floor_ratio, 1.0, False)} |")
    lo, lg = r["load_ours"], r["load_gensim"]
    speed, mem = lg["seconds"] / lo["seconds"], lo["peak_mb"] / lg["peak_mb"]
    rows = f"{r['sizes']['load_rows']:,} rows of a {r['sizes']['tgt_dim']}-d .vec"
    lines.append(f"| loading {rows} | {lo['seconds']:.1f} s | gensim {lg['seconds']:.1f} s | {speed:.1f}x faster; "
                 f"identical: {r['load_identical']} | ≥ 4x | {_meets(speed, 4)} |")
    lines.append(f"| loading peak memory (process RSS) | {lo['peak_mb']:.0f} MB | gensim {lg['peak_mb']:.0f} MB | "
                 f"{mem:.2f}x | ≤ 1.5x | {_meets(mem, 1.5, False)} |")
    if "train_step" in r:
        t = r["train_step"]
        lines.append(f"| training step, default model, batch {t['batch_size']} ({t['device']}, embeddings frozen) | "
                     f"{t['examples_per_s']:.1f} examples/s, {t['achieved_gflops']:.0f} GFLOP/s | matmul rate "
                     f"{r['matmul_gflops']:.0f} GFLOP/s | MFU {t['mfu']:.0%} | ≥ 60% | {_meets(t['mfu'], 0.6)} |")
    if "train_dynamic" in r:
        td, tf = r["train_dynamic"], r["train_fixed"]
        lines.append(f"| training examples/s ({td['device']}) | dynamic padding {td['examples_per_s']:.1f} | fixed 128 "
                     f"{tf['examples_per_s']:.1f} | {td['examples_per_s'] / tf['examples_per_s']:.2f}x | ≥ 1.5x | "
                     f"{_meets(td['examples_per_s'] / tf['examples_per_s'], 1.5)} |")
    if "demo" in r:
        dm = r["demo"]
        lines.append(f"| teaching demo end to end (`python -m mosecrot_viz demo`) | {dm['process_s']:.0f} s "
                     f"{_own_wall(dm['wall_s'], 1, 's')} | | | reported | |")
    if "two_sessions" in r:
        ts = r["two_sessions"]
        ratio = ts["together_s"] / ts["sequential_s"]
        lines.append(f"| two app sessions starting runs at once ({ts['epochs']} epoch, {', '.join(ts['methods'])}) | "
                     f"{ts['together_s']:.0f} s | the same two runs one after the other {ts['sequential_s']:.0f} s | "
                     f"{ratio:.2f}x | 0.85x to 1.15x | {_meets(float(0.85 <= ratio <= 1.15), 1)} |")
    if "sib200" in r:
        sb = r["sib200"]
        if "skipped" in sb:
            lines.append(f"| SIB-200 3-seed run | skipped: {sb['skipped']} | | | | |")
        else:
            lines.append(f"| SIB-200 English → {sb['lang']}, default methods, 3 seeds, 5 epochs | {sb['process_s'] / 60:.1f} "
                         f"min {_own_wall(sb['wall_s'], 60, 'min')} | | | reported | |")
    if r["map_ours"].get("phases"):
        lines += ["", _map_profile_text(r)]
    if "train_step" in r and "profile" in r["train_step"]:
        lines += ["", _profile_text(r)]
    return "\n".join(lines)


def _map_profile_text(r: dict) -> str:
    """Where the mapping's time goes, ours and the dense reference's, and what the 5x goal would need."""
    o = r["map_ours"]
    fmt = lambda phases: ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())  # noqa: E731
    text = f"Mapping profile: ours {fmt(o['phases'])} (GEMM floor {r['gemm_floor_s']:.1f} s)"
    if "map_dense" in r and r["map_dense"].get("phases"):
        text += f"; dense reference {fmt(r['map_dense']['phases'])}"
    text += "."
    if "bf16_gemm_speedup" in o:
        st = {k: v for k, v in o.get("stats", {}).items() if k != "precision"}
        text += (f" Screen: {o.get('stats', {}).get('precision', 'fp32')}; this machine's bf16 GEMM ran at "
                 f"{o['bf16_gemm_speedup']:.2f}x its float32 rate (the bf16 screen is used where that is at least "
                 f"1.6x); {', '.join(f'{k}: {v:,}' for k, v in st.items()) or 'no row needed an exact re-score'}.")
    return text


def _profile_text(r: dict) -> str:
    """Where a training step's time goes, from the measured profile."""
    t = r["train_step"]
    p = t["profile"]
    total = sum(p["seconds"].values())
    parts = ", ".join(f"{k} {v / total:.0%}" for k, v in p["seconds"].items())
    rows, h, f = p["ffn_gemm_shape"]
    return (f"Training step profile ({t['steps']} steps, mean padded width {t['mean_width']:.0f} tokens): {parts}. "
            f"torch's float32 GEMM on the step's own feed-forward shape ({rows} x {h} x {f}) ran at "
            f"{p['ffn_gemm_gflops_torch']:.0f} GFLOP/s against the machine's {r['matmul_gflops']:.0f}: "
            f"{p['ffn_gemm_gflops_torch'] / r['matmul_gflops']:.0%} of it before any framework overhead.")


# --- full-size benchmark (`bench --full-size`): a fastText-size file through a CLI run, stage by stage ---------

FULL_SIZES = (200_000, 1_000_000, 2_000_000)
FULL_FORMS = ("text", "gzip", "bin")
FULL_METHODS = ("rr-softmax", "ls")
# Goals of issue 28, item 2, on the 2-core 24 GB machine
FULL_RSS_GOAL = 2.5  # peak RSS at most this many times the vector matrix (N x 300 float32)
FULL_SECONDS_GOAL = 300.0  # every stage together
FULL_LINEAR_SLACK = 1.25  # "at most linear": seconds (and RSS) per word may grow by at most this factor


def anchor_words() -> list[str]:
    """The target words of the embedded French lexicon (`default:fr`, from the cache), each once, in lexicon order:
    the synthetic file lists them first so the run's anchors are real lexicon pairs."""
    from mosecrot_viz.defaults.registry import resolve
    from mosecrot_viz.io.lexicon import load_lexicon

    seen: dict[str, None] = {}
    for _, target in load_lexicon(resolve("lexicon:fr")):
        if target and not any(ch.isspace() for ch in target):
            seen.setdefault(target, None)
    return list(seen)


def _synthetic_rows(n: int, dim: int, words: list[str], seed: int = 2):
    """Yield (words, float32 matrix) blocks of a synthetic vocabulary: `words` first, then w0, w1, ... up to n,
    vectors N(0, 0.3^2) rounded to 3 decimals (what the text form prints, so the text and gzip forms hold the same
    numbers; a `.bin`'s word vector is, as fastText defines it, the mean of this row and its n-gram rows)."""
    rng = np.random.default_rng(seed)
    head = words[:n]
    for s in range(0, n, 20000):
        m = min(20000, n - s)
        names = [head[i] if i < len(head) else f"w{i}" for i in range(s, s + m)]
        block = np.clip(np.round(rng.normal(0, 0.3, size=(m, dim)), 3), -0.999, 0.999).astype(np.float32)
        yield names, block


def write_full_size(path: Path, n: int, dim: int, words: list[str], form: str) -> Path:
    """A synthetic fastText-size vector file of n words x dim in `form`: "text" (`.vec`, word2vec header),
    "gzip" (the same text gzipped) or "bin" (a fastText `.bin` model: whole words plus n // 10 hashed 5-gram
    buckets as in cc.*.bin files, which keep 2,000,000; the output matrix is 0 x dim, as the loader never reads
    it). Written once and reused."""
    import gzip
    import struct

    if path.exists():
        return path
    table = [f"{i / 1000:.3f}".encode() for i in range(-999, 1000)]
    with atomic_path(path) as tmp:
        if form in ("text", "gzip"):
            fh = gzip.open(tmp, "wb", compresslevel=1) if form == "gzip" else open(tmp, "wb")
            with fh:
                fh.write(f"{n} {dim}\n".encode())
                for names, block in _synthetic_rows(n, dim, words):
                    codes = (np.rint(block * 1000).astype(np.int64) + 999).tolist()
                    fh.write(b"".join(name.encode() + b" " + b" ".join([table[c] for c in row]) + b"\n"
                                      for name, row in zip(names, codes)))
        elif form == "bin":
            buckets = max(1000, n // 10)
            with open(tmp, "wb") as fh:
                # magic, version; dim, ws, epoch, min_count, neg, word_ngrams, loss (ns), model (cbow), bucket, minn,
                # maxn, lr_update_rate; t
                fh.write(struct.pack("@2i", 793712314, 12))
                fh.write(struct.pack("@12i", dim, 5, 5, 5, 5, 1, 2, 1, buckets, 5, 5, 100))
                fh.write(struct.pack("@d", 1e-4))
                fh.write(struct.pack("@3i", n, n, 0) + struct.pack("@2q", 10 * n, -1))  # no padding between
                for names, _ in _synthetic_rows(n, 1, words):
                    fh.write(b"".join(w.encode() + b"\0" + struct.pack("@qb", n - i, 0) for i, w in enumerate(names)))
                fh.write(struct.pack("@?", False) + struct.pack("@2q", n + buckets, dim))
                for _, block in _synthetic_rows(n, dim, words):
                    fh.write(block.tobytes())
                rng = np.random.default_rng(3)
                for s in range(0, buckets, 20000):
                    fh.write(rng.normal(0, 0.01, size=(min(20000, buckets - s), dim)).astype(np.float32).tobytes())
                fh.write(struct.pack("@?", False) + struct.pack("@2q", 0, dim))
        else:
            raise ValueError(f"unknown form {form!r}; choose from {FULL_FORMS}")
    return path


def _status_mb(pid: int | str, field: str) -> float:
    """A `VmRSS` / `VmHWM` line of /proc/PID/status in MB (0 where it cannot be read)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def stage_name(message: str) -> str:
    """A progress message as a stage name: without its figures (anchor count, dev F1, ladder sentence)."""
    import re

    msg = re.sub(r", dev F1 .*$", "", message)
    msg = re.sub(r"^\d+ anchors; ", "anchors; ", msg)
    return re.sub(r"(gap ladder).*$", r"\1", msg)  # its per-sentence notes are one stage


def stages_from(events, samples, start: float, end: float) -> list[dict]:
    """Seconds and peak RSS per stage of a run, from its progress messages and its memory samples.

    events: [(time, message)] in order; samples: [(time, VmRSS MB, VmHWM MB)] of the process. A stage runs from
    one message to the next; it is named after the message that opened it, except a fine-tune's epoch, named after
    the epoch message that closes it (from its start message, or in older logs from the message before it). Peak RSS per stage: the
    high-water mark (VmHWM) where it rose during the stage, else the largest RSS sampled in it."""
    import re

    from mosecrot_viz.analysis.eta import START_RE

    cuts: list[tuple[float, str]] = []
    label, opened = "start-up (imports, checks)", ""
    for t, message in events:
        msg = stage_name(message)
        if msg in (label, opened):
            continue
        if START_RE.match(msg):  # a fine-tune's start: the stage before it ends here (its first epoch follows)
            if label != "mapped; fine-tuning":
                cuts.append((t, label))
            label = opened = msg
            continue
        if re.match(r"^seed \d+, .*epoch \d+/\d+", msg):
            quiet = label.startswith("after fine-tune") or label == "mapped; fine-tuning" or bool(START_RE.match(label))
            cuts.append((t, f"fine-tune {msg}" if quiet else f"{label}, then fine-tune {msg}"))
            label = f"after fine-tune {msg.split(':')[0]} (evaluation)"
        else:
            cuts.append((t, label))
            label = msg
        opened = msg
    cuts.append((end, label))
    stages, t0, hwm0 = [], start, 0.0
    for t1, name in cuts:
        inside = [s for s in samples if t0 <= s[0] <= t1]
        hwm1 = max((s[2] for s in samples if s[0] <= t1), default=0.0)
        peak = hwm1 if hwm1 > hwm0 else max((s[1] for s in inside), default=0.0)
        stages.append({"stage": name, "seconds": t1 - t0, "peak_rss_mb": peak, "hwm_mb": hwm1})
        t0, hwm0 = t1, hwm1
    return stages


def cli_run_stages(argv: list[str], log: Path, interval: float = 0.02) -> dict:
    """`python -m mosecrot_viz ARGV` in a fresh process, its memory sampled every `interval` s from
    /proc/PID/status, its progress messages written with their times (`$MOSECROT_PROGRESS_LOG`). Returns the
    stages (`stages_from`), the whole run's seconds and its peak RSS."""
    log.unlink(missing_ok=True)
    env = dict(os.environ, MOSECROT_PROGRESS_LOG=str(log))
    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        start = time.time()
        proc = subprocess.Popen([sys.executable, "-m", "mosecrot_viz", *argv], stdout=out, stderr=err, env=env)
        samples = []
        while proc.poll() is None:
            rss, hwm = _status_mb(proc.pid, "VmRSS"), _status_mb(proc.pid, "VmHWM")
            if hwm:
                samples.append((time.time(), rss, hwm))
            time.sleep(interval)
        end = time.time()
    if proc.returncode != 0:
        raise RuntimeError(f"the CLI run failed: {log.with_suffix('.err').read_text(errors='replace').strip()[-800:]}")
    events = [tuple(json.loads(line)) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {"seconds": end - start, "peak_rss_mb": max((s[2] for s in samples), default=0.0),
            "stages": stages_from(events, samples, start, end)}


def run_full_size(*, sizes=FULL_SIZES, forms=FULL_FORMS, dim=300, sentences=300, epochs=1,
                  workdir=Path("/tmp/mosecrot-bench/full-size"), methods=FULL_METHODS, ladder=True) -> dict:
    """For each vocabulary size and input form: a synthetic fastText-size file (the embedded French lexicon's
    target words first, the rest generated; see `write_full_size`) through a CLI run of `methods` with `epochs`
    epoch(s) on the first `sentences` English Bible verses, tested on the French ones (with the gap ladder unless
    `ladder` is false); each stage's seconds and peak RSS (`cli_run_stages`), then the goals (`full_size_goals`).
    Files are written under `workdir` once."""
    import shutil

    from mosecrot_viz.defaults.registry import resolve
    from mosecrot_viz.errors import InputError

    bad = [f for f in forms if f not in FULL_FORMS]
    if bad or not forms:
        raise InputError(f"--forms: unknown input form(s) {bad}; choose from {','.join(FULL_FORMS)}")
    if not sizes or any(int(n) < 1 for n in sizes):
        raise InputError(f"--sizes: vocabulary sizes must be whole numbers >= 1, got {list(sizes)}")
    workdir.mkdir(parents=True, exist_ok=True)
    en, fr = resolve("task:bible-en"), resolve("task:bible-fr")
    train = workdir / f"train-{sentences}.tsv"
    if not train.exists():
        lines = (en / "train.tsv").read_text(encoding="utf-8").splitlines()
        with atomic_path(train) as tmp:
            Path(tmp).write_text("\n".join(lines[: sentences + 1]) + "\n", encoding="utf-8")
    words = anchor_words()
    suffix = {"text": ".vec", "gzip": ".vec.gz", "bin": ".bin"}
    out = {"dim": dim, "sentences": sentences, "epochs": epochs, "methods": list(methods), "ladder": ladder,
           "runs": []}
    for n in sizes:
        for form in forms:
            t = time.perf_counter()
            path = write_full_size(workdir / f"synthetic-{n}x{dim}{suffix[form]}", n, dim, words, form)
            written = time.perf_counter() - t
            run_out = workdir / f"run-{n}-{form}"
            shutil.rmtree(run_out, ignore_errors=True)
            argv = ["run", "--vectors", str(path), "--lexicon", "default:fr", "--lang", "fr", "--train", str(train),
                    "--dev", str(en / "dev.tsv"), "--test", str(fr / "test.tsv"), "--methods", ",".join(methods),
                    "--epochs", str(epochs), "--seeds", "1", "--out", str(run_out)] + ([] if ladder else ["--no-ladder"])
            res = cli_run_stages(argv, workdir / f"progress-{n}-{form}.jsonl")
            res.update(words=n, form=form, file_mb=path.stat().st_size / 2**20, matrix_mb=n * dim * 4 / 2**20,
                       file_written_s=written)
            out["runs"].append(res)
    out["goals"] = full_size_goals(out["runs"])
    return out


def full_size_goals(runs: list[dict]) -> list[dict]:
    """Issue 28's item-2 goals, each met or missed with the measured reason: peak RSS <= 2.5x the matrix and all
    stages <= 5 minutes per run; every stage but fine-tuning at most linear in the vocabulary (its seconds and
    peak RSS per word at the largest size within FULL_LINEAR_SLACK of the smallest size's, per form)."""
    goals = []
    for r in runs:
        ratio = r["peak_rss_mb"] / r["matrix_mb"]
        top = max(r["stages"], key=lambda s: s["peak_rss_mb"])
        goals.append({"goal": f"peak RSS <= {FULL_RSS_GOAL}x the matrix ({r['words']:,} words, {r['form']})",
                      "met": ratio <= FULL_RSS_GOAL,
                      "reason": f"{r['peak_rss_mb'] / 1024:.2f} GB = {ratio:.1f}x the {r['matrix_mb'] / 1024:.2f} GB "
                                f"matrix; highest in '{top['stage']}' ({top['peak_rss_mb'] / 1024:.2f} GB)"})
        slow = max(r["stages"], key=lambda s: s["seconds"])
        goals.append({"goal": f"all stages <= {FULL_SECONDS_GOAL / 60:.0f} min ({r['words']:,} words, {r['form']})",
                      "met": r["seconds"] <= FULL_SECONDS_GOAL,
                      "reason": f"{r['seconds']:.0f} s; longest '{slow['stage']}' {slow['seconds']:.0f} s"})
    for form in dict.fromkeys(r["form"] for r in runs):
        mine = sorted((r for r in runs if r["form"] == form), key=lambda r: r["words"])
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        grow = large["words"] / small["words"]
        for s_small in small["stages"]:
            if s_small["stage"].startswith("fine-tune"):
                continue
            s_large = next((s for s in large["stages"] if s["stage"] == s_small["stage"]), None)
            if s_large is None:
                continue
            t_ratio = s_large["seconds"] / max(s_small["seconds"], 1e-3)
            goals.append({"goal": f"'{s_small['stage']}' at most linear in the vocabulary ({form})",
                          "met": t_ratio <= FULL_LINEAR_SLACK * grow,
                          "reason": f"{s_small['seconds']:.1f} s at {small['words']:,} words, {s_large['seconds']:.1f} s "
                                    f"at {large['words']:,} ({t_ratio:.1f}x the time for {grow:.0f}x the words)"})
    return goals


def full_size_report(r: dict) -> str:
    """Markdown: per vocabulary size and input form, each stage's seconds and peak RSS; then the goals."""
    lines = [f"Full-size runs: synthetic {r['dim']}-d vectors (the embedded French lexicon's target words first, "
             f"the rest generated) through `python -m mosecrot_viz run` with {', '.join(r['methods'])}, "
             f"{r['epochs']} epoch on {r['sentences']} English sentences, one seed.", ""]
    for run in r["runs"]:
        lines += [f"**{run['words']:,} words, {run['form']}** ({run['file_mb']:,.0f} MB file, "
                  f"{run['matrix_mb']:,.0f} MB matrix): {run['seconds']:.1f} s, peak RSS "
                  f"{run['peak_rss_mb']:,.0f} MB ({run['peak_rss_mb'] / run['matrix_mb']:.1f}x the matrix)", "",
                  "| stage | seconds | peak RSS (MB) |", "|---|---|---|"]
        lines += [f"| {s['stage']} | {s['seconds']:.1f} | {s['peak_rss_mb']:,.0f} |" for s in run["stages"]]
        lines.append("")
    lines += ["| goal | | measured |", "|---|---|---|"]
    lines += [f"| {g['goal']} | {'met' if g['met'] else '**missed**'} | {g['reason']} |" for g in r["goals"]]
    return "\n".join(lines)


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "--child":
    print(json.dumps(_child(sys.argv[2], json.loads(sys.argv[3])), allow_nan=False))
