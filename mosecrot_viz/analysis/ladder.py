"""Read a run's gap ladder: costs per link, a one-sentence reading, per-class steps, the mapping's casualties.

The ladder itself is measured during the run (`core.ladder`) and stored in results.json as
`methods.<name>.ladder`; this module only reads it, so the Why page, `python -m mosecrot_viz explain`
and the results script say the same thing from the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mosecrot_viz.core.ladder import RUNGS, rung_base

# what the step *into* each rung changes (the cost is the previous rung minus this one)
STEP_NAMES = {
    "english_method": "re-initialised embeddings",
    "oracle_translation": "word-by-word transfer",
    "oracle_vector_vocab": "vector coverage",
    "stitched": "the mapping",
}
STEP_HINTS = {
    "english_method": "fine-tuning on F_s instead of the PLM's own E_s (English sentences both times)",
    "oracle_translation": "reading target sentences word by word, with every translatable word given exactly its "
                          "English translation's row (word order, ambiguity, segmentation)",
    "oracle_vector_vocab": "words the lexicon could translate but that have no static vector",
    "stitched": "mapped rows instead of the exact translation rows, on words that have a vector",
}
REFERENCE_METHODS = ("mplm", "source", "majority")


@dataclass(frozen=True)
class Step:
    """One link of the chain: the F1 it costs (previous rung minus this rung), mean and sample std over seeds."""

    rung: str
    name: str
    cost: float
    cost_std: float
    per_seed: tuple[float, ...]


@dataclass(frozen=True)
class Ladder:
    """One method's ladder as stored: rungs in order, the dictionary reference, and baseline lines."""

    method: str
    rungs: tuple[dict, ...]
    reference: dict
    baselines: dict  # name -> macro-F1 mean, for mplm/source/majority where the run has them
    seeds: int

    @property
    def names(self) -> list[str]:
        return [r["rung"] for r in self.rungs]

    def rung(self, base: str) -> dict | None:
        return next((r for r in self.rungs if rung_base(r["rung"]) == base), None)

    @property
    def english_on_dev(self) -> bool:
        return any(r["rung"] != rung_base(r["rung"]) for r in self.rungs)


def ladder_of(results: dict, method: str) -> Ladder | None:
    """The stored ladder of `method`, or None when the run did not measure one."""
    m = results.get("methods", {}).get(method) or {}
    if not m.get("ladder"):
        return None
    base = {b: results["methods"][b]["macro_f1"] for b in REFERENCE_METHODS if b in results.get("methods", {})}
    return Ladder(method, tuple(m["ladder"]), m.get("ladder_reference", {}), base, len(m["ladder"][-1]["per_seed"]))


def laddered_methods(results: dict) -> list[str]:
    """Methods with a stored ladder, best stitched macro-F1 first."""
    names = [m for m, v in results.get("methods", {}).items() if v.get("ladder")]
    return sorted(names, key=lambda m: -results["methods"][m]["macro_f1"])


def steps(ladder: Ladder) -> list[Step]:
    """The cost of each link: rung[i-1] minus rung[i], per seed (paired), then mean and sample std.

    The costs telescope: their sum is the first rung minus the last.
    """
    out = []
    for prev, cur in zip(ladder.rungs, ladder.rungs[1:]):
        d = np.array(prev["per_seed"]) - np.array(cur["per_seed"])
        base = rung_base(cur["rung"])
        out.append(Step(cur["rung"], STEP_NAMES.get(base, base), float(d.mean()),
                        float(d.std(ddof=1)) if len(d) > 1 else 0.0, tuple(float(x) for x in d)))
    return out


def reading(ladder: Ladder) -> str:
    """One sentence, generated from the numbers: the largest loss and what the model would reach without it."""
    st = steps(ladder)
    if not st:
        return f"{ladder.method}: only one rung was measured ({ladder.names[0]})."
    top = max(st, key=lambda s: s.cost)
    i = [s.rung for s in st].index(top.rung)
    before = ladder.rungs[i]["macro_f1"]
    if top.cost <= 0:
        return (f"{ladder.method}: no link loses macro-F1 on average; the stitched model reaches "
                f"{ladder.rungs[-1]['macro_f1']:.3f}.")
    noise = f" (± {top.cost_std:.3f} over {ladder.seeds} seeds)" if ladder.seeds > 1 else " (one seed: no spread)"
    text = (f"{ladder.method}: the largest loss is {top.name}, {top.cost:.3f} macro-F1{noise}: "
            f"without it the model would reach {before:.3f} instead of {ladder.rungs[i + 1]['macro_f1']:.3f}.")
    if ladder.seeds > 1 and top.cost <= top.cost_std:
        text += " It is no larger than its seed spread: read it as noise."
    gains = [s for s in st if s.cost < -0.0005]  # a gain that rounds to 0.000 is no gain
    if gains:
        g = min(gains, key=lambda s: s.cost)
        why = ("the real mapping reads those words better than their exact translation rows (a soft mapping can "
               "carry more than one gloss)" if rung_base(g.rung) == "stitched" else "this link helps instead of hurting")
        within = " (within its seed spread)" if ladder.seeds > 1 and -g.cost <= g.cost_std else ""
        text += f" {g.name.capitalize()} gains {-g.cost:.3f}{within}: {why}."
    if "mplm" in ladder.baselines:
        gap = ladder.baselines["mplm"] - ladder.rungs[-1]["macro_f1"]
        text += f" The multilingual model scores {ladder.baselines['mplm']:.3f} ({gap:+.3f} against stitched)."
    return text


def ladder_table(ladder: Ladder) -> pd.DataFrame:
    """Rows: each rung then the references; columns: macro-F1, its seed std (blank with one seed), cost from the rung above."""
    costs = {s.rung: s for s in steps(ladder)}
    rows = []
    for r in ladder.rungs:
        s = costs.get(r["rung"])
        rows.append({"rung": r["rung"], "macro_f1": r["macro_f1"],
                     "std": r["macro_f1_std"] if ladder.seeds > 1 else None,
                     "cost": s.cost if s else None, "cost_std": s.cost_std if s and ladder.seeds > 1 else None,
                     "link": s.name if s else "ceiling"})
    for name, r in ladder.reference.items():
        rows.append({"rung": f"({name})", "macro_f1": r["macro_f1"],
                     "std": r["macro_f1_std"] if ladder.seeds > 1 else None, "cost": None, "cost_std": None,
                     "link": "reference"})
    for name, f1 in ladder.baselines.items():
        rows.append({"rung": f"({name})", "macro_f1": f1, "std": None, "cost": None, "cost_std": None,
                     "link": "baseline"})
    return pd.DataFrame(rows)


def per_class_steps(ladder: Ladder) -> pd.DataFrame:
    """Class x rung macro-F1 (mean over seeds), with the mapping's cost per class last: which classes it breaks."""
    df = pd.DataFrame({r["rung"]: r["per_class"] for r in ladder.rungs})
    if "oracle_vector_vocab" in df and "stitched" in df:
        df["mapping cost"] = df["oracle_vector_vocab"] - df["stitched"]
    return df.sort_values("mapping cost", ascending=False) if "mapping cost" in df else df


def casualties(ladder_predictions: pd.DataFrame | None, method: str, texts: dict | None = None) -> pd.DataFrame:
    """Examples the oracle reads right and the stitched model gets wrong, most confident (wrong) first.

    ladder_predictions: a run's ladder.csv (method, seed, rung, id, gold, pred, confidence).
    One row per (seed, example); `texts` (id -> sentence) adds the text when given.
    """
    cols = ["seed", "id", "gold", "stitched", "confidence", "oracle"]
    if ladder_predictions is None or ladder_predictions.empty:
        return pd.DataFrame(columns=cols)
    d = ladder_predictions[ladder_predictions["method"] == method]
    s = d[d["rung"] == "stitched"].set_index(["seed", "id"])
    o = d[d["rung"] == "oracle_translation"].set_index(["seed", "id"])
    j = s.join(o[["pred"]], rsuffix="_oracle", how="inner")
    hit = j[(j["pred_oracle"] == j["gold"]) & (j["pred"] != j["gold"])].reset_index()
    out = hit.rename(columns={"pred": "stitched", "pred_oracle": "oracle"})[cols]
    out = out.sort_values(["confidence", "seed"], ascending=[False, True], kind="stable").reset_index(drop=True)
    if texts:
        out["text"] = out["id"].astype(str).map(texts)
    return out


def explain_rows(results: dict) -> list[dict]:
    """Every laddered method's rungs as flat rows (for `python -m mosecrot_viz explain`)."""
    rows = []
    for m in laddered_methods(results):
        lad = ladder_of(results, m)
        for rec in ladder_table(lad).to_dict("records"):
            rows.append({"method": m, **rec})
    return rows


def missing_rungs(ladder: Ladder) -> list[str]:
    """Canonical rungs the run could not measure (e.g. english_original without an E_s fine-tune)."""
    have = {rung_base(n) for n in ladder.names}
    return [r for r in RUNGS if r not in have]


# which link of the chain each older threshold suspect measures (analysis.suspects names)
SUSPECT_LINK = {
    "In-language drop": "english_method",
    "Embedding drift": "english_method",
    "Unknown target words": "oracle_vector_vocab",
    "Anchor coverage": "stitched",
    "Alignment (BLI P@1)": "stitched",
}


def order_suspects(ladder: Ladder, suspects) -> list[tuple[object, Step | None]]:
    """The threshold suspects as supporting measurements, ordered by the measured cost of the link each one
    is about (largest first), not by their own thresholds; the overall gap suspect is left out (the waterfall
    shows the gap)."""
    by_link = {rung_base(s.rung): s for s in steps(ladder)}
    pairs = [(s, by_link.get(SUSPECT_LINK[s.name])) for s in suspects if s.name in SUSPECT_LINK]
    return sorted(pairs, key=lambda p: -(p[1].cost if p[1] is not None else float("-inf")))


def test_texts(results: dict) -> dict[str, str]:
    """id -> sentence of the run's target test file ({} when it can no longer be read)."""
    from mosecrot_viz.analysis.errors import run_test_set
    from mosecrot_viz.errors import InputError

    try:
        test = run_test_set(results)
    except (InputError, OSError, KeyError):
        return {}
    return dict(zip(test["id"].astype(str), test["text"]))


def example_words(example: dict) -> pd.DataFrame:
    """One row per word of a stored example: status, lexicon translation, nearest English token under the
    mapping, and its occlusion importance for the stitched model and for oracle_translation."""
    return pd.DataFrame({"word": example["words"], "status": example["status"],
                         "lexicon translation": example["translation"],
                         "nearest English (mapped)": example["nearest_english"],
                         "importance, stitched": example["stitched"]["occlusion"],
                         "importance, oracle": example["oracle_translation"]["occlusion"]})
