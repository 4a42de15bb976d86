"""Real-data sweeps for docs/RESULTS.md: top-k and anchor count on SIB-200 English -> Chinese.

    .venv/bin/python scripts/sib200_sweeps.py                 # run both sweeps through the CLI, then render
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
SWEEPS = {"top_k": "1,10,50,100,all", "n_anchors": "500,3000,all"}
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
        lines += [f"**{csv.stem}** (macro-F1 on the {csv.stem.split('-')[0]} test set, seed {seeds})", "",
                  f"| {param} | anchors | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
        for value, row in table.iterrows():
            lines.append(f"| {value} | {int(anchors[value]):,} | " +
                         " | ".join(f"{100 * row[m]:.1f}" for m in methods) + " |")
        if "command" in frame:
            lines += ["", "```", frame["command"].iloc[0], "```"]
        lines.append("")
    return lines


def main() -> None:
    from mosecrot_viz.paths import model_cache_dir
    from mosecrot_viz.store.runs import runs_root

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="zh", choices=list(LANGS))
    p.add_argument("--methods", default="rr-softmax,ls,lexcopy-procrustes")
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
            cmd = sweep_command(param, SWEEPS[param], args.lang, args.methods, args.seeds, args.epochs,
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
