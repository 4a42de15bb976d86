"""Real-data sweeps for docs/RESULTS.md: top-k and anchor count on SIB-200 English -> Chinese, and the unseen-script
control (`script_shift`, the share of the target alphabet renamed) in Chinese and French.

    .venv/bin/python scripts/sib200_sweeps.py                 # run the top-k and anchor-count sweeps, then render
    .venv/bin/python scripts/sib200_sweeps.py --params script_shift --lang fr --seeds 1,2,3   # one control
    .venv/bin/python scripts/sib200_sweeps.py --render-only   # print the tables from the stored sweep.csv files

Each sweep is one `python -m mosecrot_viz sweep ...` command (printed before it runs); its trials go to
the app's run store (so the Compare page draws them) and the CLI's sweep.csv is copied to
docs/results/sweeps/, from which `scripts/sib200_results.py` renders the tables into docs/RESULTS.md.
"""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from mosecrot_viz.defaults.registry import shared_data_dir  # noqa: E402

SHARED = shared_data_dir()  # $MOSECROT_SHARED_DATA, else ../shared/data
SWEEPS = {"top_k": "1,10,50,100,all", "n_anchors": "500,3000,all", "script_shift": "0,0.25,0.5,0.75,1"}
#: the methods a sweep runs unless --methods says otherwise: the unseen-script control needs the two PLM readers
SWEEP_METHODS = {"top_k": "rr-softmax,ls,lexcopy-procrustes", "n_anchors": "rr-softmax,ls,lexcopy-procrustes",
                 "script_shift": "rr-softmax,ls,mplm,source"}
STORE = ROOT / "docs" / "results" / "sweeps"
LANGS = {"zh": ("zho_Hans", "muse"), "fr": ("fra_Latn", "default:fr"), "de": ("deu_Latn", "muse"),
         "es": ("spa_Latn", "muse")}  # SIB-200 folder, lexicon (MUSE en-LANG.txt or an embedded default)


def sweep_command(param: str, values: str, lang: str, methods: str, seeds: str, epochs: int, model_cache: Path,
                  out: Path) -> list[str]:
    """The CLI command that runs one sweep on SIB-200 English -> `lang` (the default vectors, as in the results)."""
    sib, (folder, lexicon) = SHARED / "sib200", LANGS[lang]
    lexicon = str(SHARED / "lexicons" / "muse" / f"en-{lang}.txt") if lexicon == "muse" else lexicon
    return [sys.executable, "-m", "mosecrot_viz", "sweep", "--param", param, "--values", values,
            "--vectors", f"default:{lang}", "--lexicon", lexicon,
            "--train", str(sib / "eng_Latn" / "train.tsv"), "--dev", str(sib / "eng_Latn" / "dev.tsv"),
            "--test", str(sib / folder / "test.tsv"), "--lang", lang, "--methods", methods, "--seeds", seeds,
            "--epochs", str(epochs), "--model-cache", str(model_cache), "--out", str(out)]


def _portable(cmd: list[str]) -> str:
    """The command as one line, with this checkout's paths shown relative to it (../shared for the data)."""
    text = shlex.join(cmd).replace(sys.executable, ".venv/bin/python")
    return text.replace(str(SHARED), "../shared/data").replace(str(Path.home()), "~")


def render_sweeps(store: Path = STORE) -> list[str]:
    """Markdown tables (one per stored sweep.csv): macro-F1 per value and method, with the anchor count."""
    lines = []
    for csv in sorted(store.glob("*.csv")):
        frame = pd.read_csv(csv)
        if frame.empty:
            continue
        param = frame["param"].iloc[0]
        table = frame.pivot_table(index="value", columns="method", values="macro_f1", sort=False, aggfunc="first")
        anchors = frame.groupby("value", sort=False)["anchors"].first()
        methods = list(table.columns)
        seeds = ", ".join(str(frame["seeds"].iloc[0]).split(",")) if "seeds" in frame else "1"
        lines += [f"**{csv.stem}** (macro-F1 on the {csv.stem.split('-')[0]} test set, "
                  f"{'mean over seeds' if ',' in seeds else 'seed'} {seeds})", "",
                  f"| {param} | anchors | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
        for value, row in table.iterrows():
            lines.append(f"| {value} | {int(anchors[value]):,} | " +
                         " | ".join(f"{100 * row[m]:.1f}" for m in methods) + " |")
        if param == "script_shift":
            lines += ["", *_crossover_lines(frame)]
        if "command" in frame:
            lines += ["", "```", frame["command"].iloc[0], "```"]
        lines.append("")
    return lines


def _share_phrase(row: dict, shares: list[float]) -> str:
    """The crossing share in words: ahead from the start, never on the swept shares, or the interpolated share with
    the two swept shares that bracket it (a linear interpolation between them, not a measured point)."""
    x = row["crossover"]
    if x is None:
        return "not on the swept shares"
    if row["f1_first"] >= row["reference_first"]:  # `crossover` then gives the first share
        return f"ahead already at {row['first_share']:g}"
    lo = max((s for s in shares if s <= x), default=shares[0])
    hi = min((s for s in shares if s >= x), default=shares[-1])
    return f"{x:.2f}" if lo == hi else f"{x:.2f} (between {lo:g} and {hi:g}, interpolated)"


def _crossover_lines(frame: pd.DataFrame) -> list[str]:
    """Where each static-vector method reaches each PLM reader on the swept shares (analysis.script_shift)."""
    from mosecrot_viz.analysis.script_shift import crossover_rows, curves

    shares = list(curves(frame).index)  # the swept shares, ascending

    lines = ["| static method | reaches | at share | its F1 at share 0 → 1 | the reader's F1 at share 0 → 1 |",
             "|---|---|---|---|---|"]
    for r in crossover_rows(frame):
        at = _share_phrase(r, shares)
        lines.append(f"| {r['method']} | {r['reference']} | {at} | {100 * r['f1_first']:.1f} → {100 * r['f1_last']:.1f} "
                     f"| {100 * r['reference_first']:.1f} → {100 * r['reference_last']:.1f} |")
    return lines


def main() -> None:
    from mosecrot_viz.paths import model_cache_dir
    from mosecrot_viz.store.runs import runs_root

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="zh", choices=list(LANGS))
    p.add_argument("--methods", help="comma-separated; default: per sweep (SWEEP_METHODS)")
    p.add_argument("--seeds", default="1")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--params", default="top_k,n_anchors")
    p.add_argument("--model-cache", type=Path, default=model_cache_dir())
    p.add_argument("--render-only", action="store_true")
    args = p.parse_args()
    if not args.render_only:
        STORE.mkdir(parents=True, exist_ok=True)
        for param in args.params.split(","):
            out = runs_root()  # the app's run store: the Compare page lists these trials
            cmd = sweep_command(param, SWEEPS[param], args.lang, args.methods or SWEEP_METHODS[param], args.seeds, args.epochs,
                                args.model_cache, out)
            print("$ " + shlex.join(cmd), flush=True)
            subprocess.run(cmd, check=True, cwd=ROOT)
            frame = pd.read_csv(out / "sweep.csv")
            frame["seeds"] = args.seeds
            frame["command"] = _portable(cmd)
            frame.to_csv(STORE / f"{args.lang}-{param}.csv", index=False)
    print("\n".join(render_sweeps()))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
