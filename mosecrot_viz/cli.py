"""Headless entry point: `mosecrot-viz` or `python -m mosecrot_viz` with run|sweep|demo|explain|export|resources|bench.

Exit status: 0 done; 2 a usage error (an unknown flag, a bad or missing option value, an unusable --out),
found before any work; 1 a run that failed (bad input data, a failed trial), with one line on stderr (the
traceback only with --debug); 130 interrupted. `--help` answers without importing torch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mosecrot_viz import __version__
from mosecrot_viz.atomic import write_bytes
from mosecrot_viz.core.anchors import POLICIES as ANCHOR_POLICIES
from mosecrot_viz.core.devices import DEVICES
from mosecrot_viz.core.tokenizer import UNK_POLICIES
from mosecrot_viz.defaults.registry import DEMO_METHODS  # noqa: F401  (also imported from here by scripts and tests)
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.text import SEGMENTATIONS

if TYPE_CHECKING:  # the config module imports the mappers, hence torch: only when a command runs
    from mosecrot_viz.experiment.config import ExperimentConfig

#: config.ALL_METHODS, spelled out so that building the parser (and --help) imports no torch; a test keeps them equal
METHOD_NAMES = ("rr-standard", "rr-softmax", "rr-sparsemax", "ls", "procrustes", "rr-softmax-keep",
                "rr-procrustes-keep", "lexcopy-procrustes", "lexcopy-ls", "lexcopy-rr-keep", "lr", "mplm", "source",
                "majority")
EXIT_FAILED, EXIT_USAGE = 1, 2


class UsageError(InputError):
    """A bad option or option value, found before any work: exit status 2, as argparse's own usage errors."""


@contextmanager
def _options():
    """Inside: any InputError is a usage error (the options are being checked, nothing has run yet)."""
    try:
        yield
    except UsageError:
        raise
    except InputError as exc:
        raise UsageError(str(exc)) from None


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _methods(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help ("(default: ...)"); flags are off unless given, required options have
    none, and an unset default says what happens without the option (or "not set")."""

    def _get_help_string(self, action):
        text = action.help or ""
        if isinstance(action, argparse._StoreTrueAction) or action.required or action.default is argparse.SUPPRESS \
                or not action.option_strings:
            return text
        if action.default is None:
            return text if "(default" in text or "; default" in text else f"{text} (default: not set)"
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error on stderr (exit 2), like every other failure of the CLI."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _add_training_args(p: argparse.ArgumentParser, epochs: int, out_required: bool = True) -> None:
    p.add_argument("--seeds", type=_ints, default="1", help="comma-separated seeds; each is one fine-tune per method")
    p.add_argument("--epochs", type=int, default=epochs, help="fine-tuning epochs (the best English-dev epoch is kept)")
    p.add_argument("--patience", type=int, default=None,
                   help="stop a fine-tune after this many epochs without a better English dev F1 (default: off, as "
                   "in the paper: every epoch is trained and the best kept)")
    p.add_argument("--lr", type=float, default=1e-4, help="AdamW learning rate for fine-tuning")
    p.add_argument("--batch-size", type=int, default=32, help="sentences per training step")
    p.add_argument("--device", default="auto", choices=list(DEVICES),
                   help="auto = cuda when available, else mps, else cpu")
    p.add_argument("--out", required=out_required, help="folder for results.json and predictions.csv" if out_required
                   else "run store folder for the trials (default: the app's run store, so Compare shows them)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def _prog() -> str:
    return "mosecrot-viz" if os.path.basename(sys.argv[0] if sys.argv else "") == "mosecrot-viz" \
        else "python -m mosecrot_viz"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs). Imports nothing heavy."""
    parser = _Parser(prog=_prog(), description=__doc__, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, **kw):
        return sub.add_parser(name, formatter_class=_Formatter, **kw)

    run = add("run", help="run one experiment")
    _add_experiment_args(run)
    sweep = add("sweep", help="a grid file (--grid) or one parameter over several values; every trial "
                "is a stored run", description="Either --grid GRID.yaml (every other experiment flag is "
                "then taken from the file) or --param/--values with the experiment flags.")
    _add_experiment_args(sweep, required=False)
    sweep.add_argument("--grid", help="YAML grid: base fields and axes whose combinations are the trials (see docs)")
    sweep.add_argument("--engine", default="local", choices=["local", "ray"], help="with --grid: where trials run")
    sweep.add_argument("--address", help="with --engine ray: an existing cluster (e.g. ray://head:10001 or auto)")
    sweep.add_argument("--cpus-per-trial", type=float, default=1, help="with --engine ray: CPUs each trial reserves")
    sweep.add_argument("--param", choices=["top_k", "n_anchors", "temperature", "drop_stopword_anchors"],
                       help="the one parameter to vary (without --grid)")
    sweep.add_argument("--values", help="comma-separated, e.g. 1,10,50,100,all")

    demo = add("demo", help="the embedded default end to end (English -> Chinese Bible verses)")
    _add_training_args(demo, epochs=3)

    bench = add("bench", help="time the fast paths against their references (docs/PERFORMANCE.md)")
    bench.add_argument("--words", type=int, default=200_000, help="target words in the timed mapping")
    bench.add_argument("--anchors", type=int, default=10_000, help="anchors in the timed mapping")
    bench.add_argument("--k", type=int, default=50, help="top-k anchors per word in the timed mapping")
    bench.add_argument("--load-rows", type=int, default=200_000, help="rows of the .vec file the loaders read")
    bench.add_argument("--steps", type=int, default=15, help="training steps timed per padding mode")
    bench.add_argument("--skip-dense", action="store_true", help="skip the dense NumPy reference (it needs ~10 GB)")
    bench.add_argument("--quick", action="store_true",
                       help="skip the end-to-end runs (the demo, two app sessions, SIB-200): about 2 minutes, not 15")
    bench.add_argument("--sib200", default="fr", choices=["fr", "zh", "de", "es", "none"],
                       help="target language of the timed 3-seed SIB-200 run (needs the shared data; none: skip)")
    bench.add_argument("--out", help="also write the table to this Markdown file")
    bench.add_argument("--debug", action="store_true", help="show tracebacks")

    explain = add("explain", help="print a finished run's gap ladder: the loss, link by link",
                  description="Reads RUN_DIR/results.json (written by run, demo or the app) and prints "
                              "each method's ladder: rungs, their seed spread and the cost of each link.")
    explain.add_argument("run_dir", metavar="RUN_DIR", help="a run folder holding results.json")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.add_argument("--debug", action="store_true", help="show tracebacks")

    exp = add("export", help="take a finished run home: Projector files, word2vec text, or the stitched model",
              description="projector: vectors.tsv + metadata.tsv (word, language, anchor, translation) of one "
                          "mapping's shared space, for projector.tensorflow.org; vectors: the same as word2vec text "
                          "(source.vec, target.vec); model: the stitched model as a Hugging Face folder (safetensors, "
                          "id2label, a word-level tokenizer) that AutoModelForSequenceClassification and AutoTokenizer "
                          "load. A run made without --keep-models is fine-tuned again for that method and seed.")
    exp.add_argument("run_dir", metavar="RUN_DIR", help="a run folder holding results.json")
    exp.add_argument("--what", required=True, choices=["projector", "vectors", "model"], help="what to export")
    exp.add_argument("--method", help="a mapped method of the run (default: its first)")
    exp.add_argument("--seed", type=int, help="with --what model: one of the run's seeds (default: its first)")
    exp.add_argument("--max-words", type=int, help="projector/vectors: keep the N most frequent target words and the "
                     "first N English tokens (the Projector is slow beyond ~100k points; default: all)")
    exp.add_argument("--out", required=True, help="folder to write into")
    exp.add_argument("--debug", action="store_true", help="show tracebacks")

    res = add("resources", help="list the embedded defaults (and --fetch them)")
    res.add_argument("--fetch", action="store_true", help="download and build every default the demo needs")
    res.add_argument("--all", action="store_true", help="with --fetch: also French, Spanish and German defaults")
    res.add_argument("--json", action="store_true", help="machine-readable output")
    res.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _add_experiment_args(run: argparse.ArgumentParser, required: bool = True) -> None:
    run.add_argument("--vectors", required=required, help="static vectors file, or default:LANG")
    run.add_argument("--lexicon", required=required, help="bilingual lexicon (english target per line), or default:LANG")
    run.add_argument("--train", required=required, help="English training data")
    run.add_argument("--test", required=required, help="target-language test data")
    run.add_argument("--dev", help="English dev data for epoch selection (default: 10%% of --train)")
    run.add_argument("--source-test", help="English test data, to report in-language F1 beside each method")
    run.add_argument("--lang", help="target language code (chooses the segmentation rule: jieba for zh, elision "
                     "for fr/it/ca, ...)")
    run.add_argument("--segmentation", default="auto", choices=list(SEGMENTATIONS),
                     help="how target text is split into words, as the vectors were built (auto: the language's "
                          "rule; words = a Unicode word regex, elision = l' + autre, elision-clitics = also a -t -il)")
    run.add_argument("--target-train", help="target-language training data (needed by the lr baseline)")
    run.add_argument("--source-model", default="default", help="hub id, local folder, or 'default' (all-MiniLM-L6-v2)")
    run.add_argument("--multilingual-model", default="default-multilingual",
                     help="hub id, local folder, or 'default-multilingual' (multilingual-e5-small, 4-bit-derived)")
    run.add_argument("--methods", type=_methods, default=",".join(DEMO_METHODS),
                     help=f"comma-separated from {','.join(METHOD_NAMES)}")
    run.add_argument("--top-k", type=int, default=50, help="anchors per word (0 = all)")
    run.add_argument("--temperature", type=float, default=None, help="tau (default: each weighting's own, see README)")
    run.add_argument("--max-vocab", type=int, default=None, help="keep the N most frequent target words (default: all)")
    run.add_argument("--anchor-policy", default="first", choices=list(ANCHOR_POLICIES),
                     help="one English translation per target word: lexicon order, each English once, "
                          "re-chosen by a first Procrustes alignment, or a dictionary re-induced from the vectors")
    run.add_argument("--no-freeze", action="store_true", help="let input embeddings train during fine-tuning")
    run.add_argument("--no-ladder", action="store_true",
                     help="skip the gap ladder (inference passes that take the loss apart link by link; see explain)")
    run.add_argument("--model-cache", help="folder to reuse fine-tuned models across runs (safetensors; default: off)")
    run.add_argument("--bli-test-lexicon", metavar="PATH",
                     help="a separate BLI test dictionary (as MUSE's): results.json's bli_test gives P@1/5/10 by NN and "
                          "CSLS on it, each mapper refitted on the anchors minus every anchor whose target word it tests")
    run.add_argument("--keep-models", action="store_true",
                     help="keep each stitched model (method, seed) in --out as safetensors, for `export --what model` "
                          "and the app's sentence box without fine-tuning again (one model's size per method and seed)")
    run.add_argument("--n-anchors", type=int, default=None, help="keep a random subset of N anchors (default: all)")
    run.add_argument("--drop-stopword-anchors", action="store_true", help="remove anchors whose English side is a stop word")
    run.add_argument("--unk-policy", default="unk", choices=list(UNK_POLICIES),
                     help="target words without a vector: the PLM's [UNK], dropped, or (beyond the paper) its own word pieces")
    run.add_argument("--extend-vocab-from-lexicon", action="store_true",
                     help="beyond the paper: lexicon words without a vector join the vocabulary (translation's pieces)")
    run.add_argument("--anchor-agreement", type=float, default=None, metavar="SHARE",
                     help="keep this share of anchors whose relative representations agree best across languages "
                          "(default: all)")
    _add_training_args(run, epochs=5, out_required=required)


def _progress_bar():
    from tqdm import tqdm

    # off when stderr is not a terminal (a log, a pipe, a test): then a failure is the only line there
    bar = tqdm(total=1000, bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}", file=sys.stderr,
               disable=not sys.stderr.isatty())

    def update(message: str, fraction: float) -> None:
        bar.set_description_str(message[:70], refresh=False)
        bar.update(int(fraction * 1000) - bar.n)

    return bar, update


def _prepare_outputs(cfg: ExperimentConfig):
    """Every option checked, --out and --model-cache created and probed writable, and --out locked, before any
    work: a bad value costs a second, not a finished run. Returns the held lock."""
    from mosecrot_viz.atomic import out_lock, probe_writable

    with _options():
        cfg.validate()
        if cfg.out is None:
            raise InputError("--out is missing: give a folder for results.json")
        probe_writable(cfg.out, "--out")
        if cfg.model_cache:
            probe_writable(cfg.model_cache, "--model-cache")
    return out_lock(cfg.out)  # another run holding --out is a failure of this run, not a usage error


def _run(cfg: ExperimentConfig) -> dict:
    lock = _prepare_outputs(cfg)
    from mosecrot_viz.experiment.pipeline import run_experiment
    from mosecrot_viz.store.worker import compute_slot

    t0 = time.perf_counter()
    bar, update = _progress_bar()
    try:
        with compute_slot(on_wait=lambda msg: print(msg, file=sys.stderr, flush=True)):
            out = run_experiment(cfg, progress=update)
    finally:
        bar.close()
        lock.release()
    res = out.results
    print(f"anchors: {res['anchors']['count']}  device: {res['device']}  test n={res['data']['test']}")
    print(f"{'method':<14}{'macro-F1':>10}{'± std':>8}{'95% CI (test)':>16}{'accuracy':>10}")
    for name, m in res["methods"].items():
        lo, hi = m.get("macro_f1_ci95") or (float("nan"), float("nan"))
        ci = f"{lo:.3f}-{hi:.3f}"
        print(f"{name:<14}{m['macro_f1']:>10.3f}{m['macro_f1_std']:>8.3f}{ci:>16}{m['accuracy']:>10.3f}")
    print(f"wall time: {time.perf_counter() - t0:.1f} s; results in {cfg.out}/results.json")
    return res


def demo_config(args) -> ExperimentConfig:
    """The embedded default: English Bible verses -> Chinese, MiniLM, synonyms vectors, CC-CEDICT."""
    from mosecrot_viz.defaults.registry import demo_inputs
    from mosecrot_viz.experiment.config import ExperimentConfig

    return ExperimentConfig.from_dict(
        demo_inputs(), methods=list(DEMO_METHODS), seeds=args.seeds, epochs=args.epochs, lr=args.lr,
        batch_size=args.batch_size, device=args.device, out=args.out, patience=args.patience,
    )


def _resources(args) -> None:
    from mosecrot_viz.defaults import registry as resources

    if args.fetch:
        keys = list(resources.RESOURCES) if args.all else list(resources.SETUP_KEYS)
        for key in keys:
            t = time.perf_counter()
            path = resources.resolve(key)
            print(f"{key:<16} ready in {time.perf_counter() - t:6.1f} s  {path}", flush=True)
    rows = resources.describe()
    for row in rows:
        row["path"] = str(resources.cache_path_if_built(row["key"]) or "(not built yet)")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"cache: {resources.cache_dir()}  (set MOSECROT_CACHE to move it)")
    for row in rows:
        print(f"\n{row['key']}: {row['description']}\n  package: {row['package']}  licence: {row['licence']}"
              + (f"\n  rights: {row['rights']}" if row["rights"] else "") +
              f"\n  provenance: {row['provenance']}" + (f"\n  note: {row['note']}" if row["note"] else "") +
              f"\n  path: {row['path']}")


def _sweep_command(args) -> int:
    """`sweep`: a grid file, or one parameter over values; trials go to --out or the app's run store."""
    if not args.out:
        from mosecrot_viz.store.runs import runs_root

        args.out = str(runs_root())
    if args.grid:
        if args.param or args.values:
            raise UsageError("give either --grid or --param/--values, not both")
        return _grid_sweep(args)
    if not (args.param and args.values):
        raise UsageError("sweep needs --grid GRID.yaml, or --param and --values")
    _sweep(_experiment_config(args), args)
    return 0


def _experiment_config(args) -> ExperimentConfig:
    from mosecrot_viz.experiment.config import ExperimentConfig

    missing = [f"--{f}" for f in ("vectors", "lexicon", "train", "test") if not getattr(args, f)]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}")
    return ExperimentConfig(
        vectors=args.vectors, lexicon=args.lexicon, train=args.train, test=args.test, dev=args.dev,
        source_test=args.source_test, lang=args.lang, target_train=args.target_train,
        source_model=args.source_model, multilingual_model=args.multilingual_model, methods=args.methods,
        top_k=args.top_k or None, temperature=args.temperature, seeds=args.seeds, epochs=args.epochs,
        patience=args.patience, lr=args.lr, batch_size=args.batch_size, max_vocab=args.max_vocab, device=args.device,
        freeze_embeddings=not args.no_freeze, anchor_policy=args.anchor_policy, out=args.out,
        model_cache=args.model_cache, n_anchors=args.n_anchors, drop_stopword_anchors=args.drop_stopword_anchors,
        anchor_agreement_share=args.anchor_agreement, unk_policy=args.unk_policy,
        extend_vocab_from_lexicon=args.extend_vocab_from_lexicon, ladder=not args.no_ladder, segmentation=args.segmentation,
        keep_models=args.keep_models, bli_test_lexicon=args.bli_test_lexicon,
    )


def _sweep(cfg: ExperimentConfig, args) -> None:
    """Run a sweep into the run store under --out and print the table (also written as sweep.csv)."""
    from pathlib import Path

    from mosecrot_viz.paths import model_cache_dir
    from mosecrot_viz.store.sweeps import parse_values, run_sweep, sweep_configs

    root = Path(args.out)
    with _options():
        configs = sweep_configs(cfg, args.param, parse_values(args.param, args.values),
                                model_cache=str(model_cache_dir()))
    root.mkdir(parents=True, exist_ok=True)
    bar, update = _progress_bar()
    try:
        frame = run_sweep(configs, root=root, progress=update)
    finally:
        bar.close()
    write_bytes(root / "sweep.csv", frame.to_csv(index=False).encode("utf-8"))
    table = frame.pivot_table(index="value", columns="method", values="macro_f1", sort=False)
    print(table.round(3).to_string())
    print(f"trials stored under {root}; table in {root / 'sweep.csv'}")


def _grid_sweep(args) -> int:
    """Run a grid file into the run store under --out; exit 1 when any trial failed (after all ran)."""
    from mosecrot_viz.store.engines import run_trials, trial_path
    from mosecrot_viz.store.grid import expand, load_grid
    from mosecrot_viz.store.runs import StoredRun
    from mosecrot_viz.store.sweeps import FRAME_COLUMNS, sweep_frame

    t0 = time.perf_counter()
    with _options():  # the grid file is checked, every trial's options included, before any trial runs
        trials = expand(load_grid(args.grid))
    print(f"grid {args.grid}: {len(trials)} trials, engine {args.engine}", flush=True)
    bar, update = _progress_bar()
    try:
        summary = run_trials(trials, args.out, args.engine, address=args.address,
                             cpus_per_trial=args.cpus_per_trial, progress=update)
    finally:
        bar.close()
    frame = sweep_frame([StoredRun(trial_path(args.out, t)) for t in trials])
    if not frame.empty:
        write_bytes(os.path.join(args.out, "sweep.csv"), frame.to_csv(index=False).encode("utf-8"))
        rows = [c for c in frame.columns if c not in FRAME_COLUMNS] or ["value"]
        print(frame.pivot_table(index=rows, columns="method", values="macro_f1", sort=False).round(3).to_string())
    print(f"{len(summary.completed)} completed, {len(summary.skipped)} skipped (already complete), "
          f"{len(summary.failed)} failed; trials stored under {args.out}; wall time {time.perf_counter() - t0:.1f} s")
    for tid, message in summary.failed.items():
        print(f"FAILED {tid}: {message.splitlines()[0] if message else ''}", file=sys.stderr)
    return 1 if summary.failed else 0


def _bench(args) -> None:
    from pathlib import Path

    from mosecrot_viz.bench import report, run_bench
    from mosecrot_viz.defaults.registry import resolve, shared_data_dir

    shared = shared_data_dir() / "sib200" / "eng_Latn" / "train.tsv"
    train = shared if shared.exists() else resolve("task:bible-en") / "train.tsv"
    command = "python -m mosecrot_viz bench " + " ".join(sys.argv[2:] if argv_is_cli() else [])
    res = run_bench(words=args.words, anchors=args.anchors, k=args.k, load_rows=args.load_rows, steps=args.steps,
                    train_file=train, skip_dense=args.skip_dense, end_to_end=not args.quick,
                    sib200_lang=None if args.quick or args.sib200 == "none" else args.sib200)
    table = report(res, command.strip())
    print(table)
    if args.out:
        write_bytes(Path(args.out), ("# Performance\n\n" + table + f"\n\nTraining data: `{train.name}` from "
                                     f"`{train.parent.name}`.\n\nRaw figures:\n\n```json\n{json.dumps(res, indent=2)}"
                                     "\n```\n").encode("utf-8"))


def _explain(args) -> None:
    from pathlib import Path

    from mosecrot_viz.analysis.ladder import (
        CHANGE_NOTE,
        explain_rows,
        ladder_of,
        laddered_methods,
        missing_rungs,
        parts_table,
        reading,
        rung_label,
        versus_mplm,
        versus_reading,
        versus_table,
        versus_title,
    )
    from mosecrot_viz.errors import PathError
    from mosecrot_viz.store.runs import StoredRun

    path = Path(args.run_dir) / "results.json"
    if not path.is_file():
        raise PathError(f"{path}: no results.json here (is {args.run_dir} a finished run folder?)")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable results file ({exc})") from None
    methods = laddered_methods(results)
    if not methods:
        raise InputError(f"{path}: this run has no gap ladder (run it again without --no-ladder, with a mapped "
                         f"method such as rr-softmax)")
    readings = {m: reading(ladder_of(results, m)) for m in methods}
    rows = explain_rows(results)
    versus = {m: v for m in methods if (v := versus_mplm(results, m, StoredRun(Path(args.run_dir)).predictions()))}
    if args.json:
        print(json.dumps({"run": str(args.run_dir), "rows": rows, "readings": readings,
                          "versus_mplm": {m: {"title": versus_title(v), "reading": versus_reading(v),
                                              "parts": v.parts, "paired": v.paired} for m, v in versus.items()}},
                         indent=2))
        return

    def cell(x, fmt):
        return fmt.format(x) if x is not None and x == x else ""
    print(f"{'method':<20} {'rung':<44} {'macro-F1':>8} {'± std':>7} {'change':>7} {'± std':>7}  {'link':<26} key")
    for r in rows:
        print(f"{r['method']:<20} {r['rung']:<44} {r['macro_f1']:>8.3f} {cell(r['std'], '{:.3f}'):>7} "
              f"{cell(r['change'], '{:+.3f}'):>7} {cell(r['change_std'], '{:.3f}'):>7}  {r['link']:<26} {r['key']}")
    print(CHANGE_NOTE)
    for m, v in versus.items():
        print(f"\n{versus_title(v)} ({m})")
        print(versus_table(v).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        print(parts_table(v).to_string(index=False, float_format=lambda x: f"{x:+.3f}"))
        print(versus_reading(v))
    print()
    for m in methods:
        gone = missing_rungs(ladder_of(results, m))
        print(readings[m] + (f" Not measured: {', '.join(rung_label(g) for g in gone)}." if gone else ""))


def _export(args) -> None:
    from mosecrot_viz.atomic import probe_writable
    from mosecrot_viz.experiment.stitched import check_method, read_run
    from mosecrot_viz.store.export import export

    results = read_run(args.run_dir)
    with _options():  # the method, seed and --out checked before any work (a model export may fine-tune)
        check_method(results, args.method, args.seed)
        probe_writable(args.out, "--out")
    done = export(args.run_dir, args.what, args.out, args.method, args.seed, max_words=args.max_words)
    detail = f", seed {done['seed']} ({done['origin']})" if args.what == "model" else f", {done['rows']} rows"
    print(f"{args.what} of {done['method']}{detail} written to {args.out}")
    for note in done["notes"]:
        print(f"note: {note}")


def argv_is_cli() -> bool:
    """True when running as `python -m mosecrot_viz` (so sys.argv holds the user's command)."""
    return bool(sys.argv) and sys.argv[0].endswith(("__main__.py", "mosecrot_viz", "mosecrot-viz"))


def main(argv=None) -> int:
    """CLI entry (also the `mosecrot-viz` console script, whose wrapper exits with this status); returns the exit
    status: 0 done, 1 the run failed, 2 a usage error (argparse's own exit with 2 as SystemExit), 130 interrupted."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "resources":
            _resources(args)
        elif args.command == "demo":
            _run(demo_config(args))
        elif args.command == "bench":
            _bench(args)
        elif args.command == "explain":
            _explain(args)
        elif args.command == "export":
            _export(args)
        elif args.command == "sweep":
            return _sweep_command(args)
        else:
            _run(_experiment_config(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for users; --debug for developers
        if getattr(args, "debug", False):
            raise
        kind = "error" if isinstance(exc, (InputError, ValueError)) else f"error ({type(exc).__name__})"
        print(f"{kind}: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILED
    return 0
