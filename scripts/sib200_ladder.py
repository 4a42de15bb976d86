"""The gap ladder on SIB-200 English -> {zh, fr, de, es}: the ladder section of docs/RESULTS.md.

    .venv/bin/python scripts/sib200_ladder.py                       # run every language (zh first), render after each
    .venv/bin/python scripts/sib200_ladder.py --langs zh --seeds 1  # a quicker look
    .venv/bin/python scripts/sib200_ladder.py --render-only         # re-render from docs/results/ladder.json

Each language is one ordinary run (`run_experiment`, the paper's settings: k=50, each weighting's default
tau, lr 1e-4, 5 epochs, batch 32, best epoch on ENGLISH dev) of the paper's three RR weightings and LS, with
`source` (its E_s fine-tune is the ladder's first rung), `mplm` and `majority` as reference lines, and the
English SIB-200 test set for the English rungs. English-only fine-tunes are cached and shared across
languages (--model-cache). Run folders go to --work (git-ignored: they hold test sentences and MUSE-derived
anchors); only the ladder numbers are kept, in docs/results/ladder.json, and rendered into RESULTS.md
between the ladder markers.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from sib200_results import sib200_inputs  # noqa: E402  (the same inputs as the results table)

from mosecrot_viz.analysis.ladder import STEP_NAMES, ladder_of, reading, steps  # noqa: E402
from mosecrot_viz.core.ladder import REFERENCES, RUNGS  # noqa: E402
from mosecrot_viz.defaults.registry import cache_dir  # noqa: E402
from mosecrot_viz.experiment.config import SELF_TRAINING_SUFFIX, ExperimentConfig  # noqa: E402
from mosecrot_viz.experiment.pipeline import run_experiment  # noqa: E402
from mosecrot_viz.records import MethodResult, RunResults  # noqa: E402

LADDERED = ["rr-standard", "rr-softmax", "rr-sparsemax", "ls"]
METHODS = LADDERED + ["source", "mplm", "majority"]
SELF_TRAINED = [m + SELF_TRAINING_SUFFIX for m in LADDERED]  # kept where a run has them (their rung: analysis.ladder)
STORE = ROOT / "docs" / "results" / "ladder.json"
START, END = "<!-- ladder:start -->", "<!-- ladder:end -->"


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_language(lang: str, args) -> dict:
    cfg = ExperimentConfig(
        **sib200_inputs(lang), methods=METHODS, seeds=args.seeds, epochs=args.epochs, device=args.device, out=str(args.work / lang), model_cache=str(args.model_cache),
    )
    last = [0.0]

    def progress(msg, frac):
        if frac - last[0] >= 0.05 or frac >= 1.0:
            last[0] = frac
            print(f"  [{lang}] {frac:5.0%} {msg}", flush=True)

    t0 = time.perf_counter()
    res = run_experiment(cfg, progress=progress).record
    return ladder_record(res, args.seeds, args.epochs, round(time.perf_counter() - t0, 1))


def ladder_record(res: RunResults, seeds, epochs, wall_seconds: float) -> dict:
    """What ladder.json keeps of one language's results.json (the ladder numbers and their reference lines)."""
    keep = ("ladder", "ladder_reference", "macro_f1", "macro_f1_std", "per_seed", "english_macro_f1")
    return {
        "commit": _git_commit(), "seeds": seeds, "epochs": epochs, "device": res.device,
        "wall_seconds": wall_seconds, "ladder_seconds": res.ladder.seconds,
        "anchors": res.anchors.count, "test_unknown_word_rate": res.data.test_unknown_word_rate,
        "test_size": res.data.test,
        "methods": {m: {k: v for k, v in res.methods[m].to_json().items() if k in keep + (("per_class",) if m in SELF_TRAINED else ())}
                    for m in METHODS + SELF_TRAINED if m in METHODS or m in res.methods},
    }


def _pm(mean, std, n) -> str:
    return f"{100 * mean:.1f} ± {100 * std:.1f}" if n > 1 else f"{100 * mean:.1f}"


def render(store: dict) -> str:
    """The ladder section of RESULTS.md from the stored numbers (macro-F1 x 100; ± = sample std over seeds)."""
    lines = [START, "## The gap ladder: where the stitched model loses against its English ceiling", "",
             "Produced by `.venv/bin/python scripts/sib200_ladder.py` (numbers in `docs/results/ladder.json`; "
             "`--render-only` redraws this section). Each rung changes one link of the chain from the one above and "
             "is one more inference pass of a model the run fine-tuned anyway (`mosecrot_viz/core/ladder.py`): "
             "`english_original` (PLM with its own E_s, English test) → `english_method` (the method's own model, "
             "English test) → `oracle_translation` (target test; every word the lexicon translates read through "
             "its translation's exact row) → `oracle_vector_vocab` (as before, but words without a static vector "
             "follow the unknown-word policy) → `stitched` (the method's real result). `dictionary` is a reference: "
             "plain word-by-word translation, no static vectors. Macro-F1 × 100, mean ± sample std over seeds "
             "(n = test sentences per language; no interval over test examples yet). Costs are paired by seed and "
             "telescope: they sum to `english_original` − `stitched`.", ""]
    for lang, entry in store.items():
        n = len(entry["seeds"])
        fake = RunResults(methods={m: MethodResult.from_json(v, f"{lang}.{m}") for m, v in entry["methods"].items()})
        meth = fake.methods
        lines += [f"### en → {lang} (seeds {','.join(map(str, entry['seeds']))}; {entry['anchors']:,} anchors; "
                  f"test unknown-word rate {100 * entry['test_unknown_word_rate']:.1f} %; n = {entry['test_size']}; "
                  f"commit {entry['commit']})", ""]
        head = ["method"] + list(RUNGS) + [f"({r})" for r in REFERENCES]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for m in LADDERED:
            lad = ladder_of(fake, m)
            if lad is None:
                continue
            cells = [m] + [_pm(r.macro_f1, r.macro_f1_std, n) for r in lad.rungs]
            cells += [_pm(lad.reference[r].macro_f1, lad.reference[r].macro_f1_std, n) for r in REFERENCES]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "| method | " + " | ".join(f"cost: {STEP_NAMES[r]}" for r in RUNGS[1:]) + " |",
                  "|" + "---|" * len(RUNGS)]
        for m in LADDERED:
            lad = ladder_of(fake, m)
            if lad is not None:
                lines.append("| " + " | ".join([m] + [_pm(s.cost, s.cost_std, n) for s in steps(lad)]) + " |")
        lines += [""] + [f"- {reading(lad)}" for lad in (ladder_of(fake, m) for m in LADDERED) if lad is not None]
        lines += _self_training_lines(fake, n)
        base = ", ".join(f"`{b}` {_pm(meth[b].macro_f1, meth[b].macro_f1_std, n)}"
                         for b in ("mplm", "source", "majority") if b in meth)
        share = entry["ladder_seconds"] / entry["wall_seconds"]
        note = f" Note: {entry['note']}" if entry.get("note") else ""  # a hand-written remark kept in ladder.json
        lines += ["", f"Reference lines: {base}. The ladder's inference took {entry['ladder_seconds']:.0f} s of this "
                      f"run's {entry['wall_seconds']:.0f} s wall time ({100 * share:.1f} %; English-only fine-tunes "
                      f"cached by an earlier language are not retrained, which makes the share larger).{note}", ""]
    lines.append(END)
    return "\n".join(lines) + "\n"


def _self_training_lines(fake: RunResults, n: int) -> list[str]:
    """One line per self-trained method (beyond the paper): the change of its last rung, paired by seed."""
    out = []
    for m in SELF_TRAINED:
        lad = ladder_of(fake, m) if m in fake.methods else None
        if lad is None:
            continue
        last = steps(lad)[-1]
        out.append(f"- `{m}` (beyond the paper, label-free): {STEP_NAMES[lad.rungs[-1].key]} changes macro-F1 by "
                   f"{100 * -last.cost:+.1f}" + (f" ± {100 * last.cost_std:.1f}" if n > 1 else "") +
                   f" points (paired by seed), from {100 * lad.rungs[-2].macro_f1:.1f} "
                   f"to {100 * lad.rungs[-1].macro_f1:.1f}.")
    return out


def write_section(section: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--langs", default="zh,fr,de,es")
    ap.add_argument("--seeds", default="1,2,3", type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "ladder")
    ap.add_argument("--model-cache", type=Path, default=cache_dir() / "model-cache")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "RESULTS.md")
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument("--from-results", type=Path, metavar="DIR",
                    help="take each language's ladder from DIR/<lang>/results.json (e.g. docs/results, written by "
                         "scripts/sib200_results.py, whose runs measure the ladder too) instead of running again")
    args = ap.parse_args()
    store = json.loads(STORE.read_text()) if STORE.exists() else {}
    if args.from_results:
        for lang in args.langs.split(","):
            path = args.from_results / lang / "results.json"
            res = RunResults.from_json(json.loads(path.read_text()), path)  # an older run migrated
            if res.ladder is None:
                sys.exit(f"{args.from_results / lang / 'results.json'} holds no gap ladder (made with --no-ladder, or "
                         "before runs measured it): run scripts/sib200_results.py again, or this script without "
                         "--from-results")
            git = (res.environment or {}).get("git") or {}
            store[lang] = ladder_record(res, list(res.seeds), res.config["epochs"], res.wall_seconds)
            commit = git.get("commit")
            if commit:  # the commit that produced these results, not today's HEAD
                store[lang]["commit"] = commit[:7] + ("+dirty" if git.get("dirty") else "")
            store[lang]["from"] = str(args.from_results / lang / "results.json")
        STORE.write_text(json.dumps(store, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    elif not args.render_only:
        for lang in args.langs.split(","):
            print(f"[{lang}] running {','.join(METHODS)} over seeds {args.seeds}", flush=True)
            store[lang] = run_language(lang, args)
            STORE.parent.mkdir(parents=True, exist_ok=True)
            STORE.write_text(json.dumps(store, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
            write_section(render(store), args.out)
            print(f"[{lang}] done in {store[lang]['wall_seconds']:.0f} s; ladder {store[lang]['ladder_seconds']:.0f} s",
                  flush=True)
    write_section(render(store), args.out)
    print(f"wrote the ladder section of {args.out} from {STORE}")


if __name__ == "__main__":
    main()
