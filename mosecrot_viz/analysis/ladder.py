"""Read a run's gap ladder: costs per link, a one-sentence reading, per-class steps, the mapping's casualties.

The ladder itself is measured during the run (`core.ladder`) and stored in results.json as
`methods.<name>.ladder`; this module only reads it, so the Why page, `python -m mosecrot_viz explain`
and the results script say the same thing from the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mosecrot_viz.core.ladder import RUNGS, SELF_TRAINED, rung_base
from mosecrot_viz.experiment.config import SELF_TRAINING_SUFFIX
from mosecrot_viz.records import LINK_TEXT, RUNG_TEXT, LadderRung, RunResults, as_results, rung_text, split_rung

# what the step *into* each rung changes (the cost is the previous rung minus this one): `records.keys` holds the text
STEP_NAMES = LINK_TEXT
STEP_HINTS = {
    "english_method": "fine-tuning on F_s instead of the PLM's own E_s (English sentences both times)",
    "oracle_translation": "reading target sentences word by word, with every translatable word given exactly its "
                          "English translation's row (word order, ambiguity, segmentation)",
    "oracle_vector_vocab": "words the lexicon could translate but that have no static vector",
    "stitched": "mapped rows instead of the exact translation rows, on words that have a vector",
    SELF_TRAINED: "the stitched model fine-tuned on its own most confident labels for unlabelled target sentences "
                  "(their gold labels never read): beyond the paper",
}
REFERENCE_METHODS = ("mplm", "source", "majority")
# every rung, reference and baseline in words: the chart, the table, the glossary and `explain` use these
RUNG_LABELS = RUNG_TEXT
CHANGE_NOTE = ("Changes are this rung's macro-F1 minus the rung before it: negative is a loss, positive a gain "
               "(one convention on the chart, in the table, the reading and `explain`).")


def rung_label(name: str) -> str:
    """A stored rung name in words (`'english_original (dev)'` -> `'English model, English sentences (dev)'`)."""
    return rung_text(*split_rung(name))


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
    rungs: tuple[LadderRung, ...]
    reference: dict  # name -> LadderRung (the `dictionary` reference)
    baselines: dict  # name -> macro-F1 mean, for mplm/source/majority where the run has them
    seeds: int

    @property
    def names(self) -> list[str]:
        """The rungs' stored names (`english_original (dev)` when read on the dev split)."""
        return [r.name for r in self.rungs]

    def rung(self, base: str) -> LadderRung | None:
        return next((r for r in self.rungs if r.key == base), None)

    @property
    def english_on_dev(self) -> bool:
        return any(r.on_dev for r in self.rungs)


def ladder_of(results: RunResults | dict, method: str) -> Ladder | None:
    """The stored ladder of `method`, or None when the run did not measure one.

    A self-trained method (`rr-softmax+st`) has no ladder of its own: its chain is its base method's, then one more
    rung, `self_trained`, its own result (per seed and per class), so the last link is what self-training changed."""
    res = as_results(results)
    m = res.methods.get(method)
    base = {b: res.methods[b].macro_f1 for b in REFERENCE_METHODS if b in res.methods}
    mapper = res.methods.get(method.removesuffix(SELF_TRAINING_SUFFIX)) if method.endswith(SELF_TRAINING_SUFFIX) else None
    if m is not None and not m.ladder and mapper is not None and mapper.ladder and m.per_seed:
        own = LadderRung(SELF_TRAINED, m.macro_f1, m.macro_f1_std or 0.0, tuple(m.per_seed),
                         {c: v["f1"] for c, v in (m.per_class or {}).items() if isinstance(v, dict) and "f1" in v})
        return Ladder(method, (*mapper.ladder, own), dict(mapper.ladder_reference or {}), base, len(own.per_seed))
    if m is None or not m.ladder:
        return None
    return Ladder(method, m.ladder, dict(m.ladder_reference or {}), base, len(m.ladder[-1].per_seed))


def laddered_methods(results: RunResults | dict) -> list[str]:
    """Methods with a ladder (stored, or derived for a self-trained method: `ladder_of`), best macro-F1 first."""
    res = as_results(results)
    names = [m for m in res.methods if ladder_of(res, m) is not None]
    return sorted(names, key=lambda m: -res.methods[m].macro_f1)


def steps(ladder: Ladder) -> list[Step]:
    """The cost of each link: rung[i-1] minus rung[i], per seed (paired), then mean and sample std.

    The costs telescope: their sum is the first rung minus the last.
    """
    out = []
    for prev, cur in zip(ladder.rungs, ladder.rungs[1:]):
        d = np.array(prev.per_seed) - np.array(cur.per_seed)
        out.append(Step(cur.name, STEP_NAMES.get(cur.key, cur.key), float(d.mean()),
                        float(d.std(ddof=1)) if len(d) > 1 else 0.0, tuple(float(x) for x in d)))
    return out


def reading(ladder: Ladder) -> str:
    """One sentence, generated from the numbers: the largest loss (a signed change: negative is a loss) and what the
    model would reach without it; gains; the multilingual model's line."""
    st = steps(ladder)
    if not st:
        return f"{ladder.method}: only one rung was measured ({rung_label(ladder.names[0])})."
    top = max(st, key=lambda s: s.cost)
    i = [s.rung for s in st].index(top.rung)
    before = ladder.rungs[i].macro_f1
    if top.cost <= 0:
        return (f"{ladder.method}: no link loses macro-F1 on average; the stitched model reaches "
                f"{ladder.rungs[-1].macro_f1:.3f}.")
    noise = f" (± {top.cost_std:.3f} over {ladder.seeds} seeds)" if ladder.seeds > 1 else " (one seed: no spread)"
    text = (f"{ladder.method}: the largest loss is {top.name}, {-top.cost:+.3f} macro-F1{noise}: "
            f"without it the model would reach {before:.3f} instead of {ladder.rungs[i + 1].macro_f1:.3f}.")
    if ladder.seeds > 1 and top.cost <= top.cost_std:
        text += " It is no larger than its seed spread: read it as noise."
    gains = [s for s in st if s.cost < -0.0005]  # a gain that rounds to 0.000 is no gain
    if gains:
        g = min(gains, key=lambda s: s.cost)
        why = {"stitched": "the real mapping reads those words better than their exact translation rows (a soft "
                           "mapping can carry more than one gloss)",
               SELF_TRAINED: "the model's own confident labels on unlabelled target sentences recover part of what "
                             "word-by-word transfer and the mapping lost"}.get(rung_base(g.rung),
                                                                               "this link helps instead of hurting")
        within = " (within its seed spread)" if ladder.seeds > 1 and -g.cost <= g.cost_std else ""
        text += f" {g.name.capitalize()} gains {-g.cost:+.3f}{within}: {why}."
    if "mplm" in ladder.baselines:
        gap = ladder.rungs[-1].macro_f1 - ladder.baselines["mplm"]
        text += f" The multilingual model scores {ladder.baselines['mplm']:.3f} (stitched {gap:+.3f} against it)."
    return text


def ladder_table(ladder: Ladder) -> pd.DataFrame:
    """Rows: each rung then the references and baselines, named in words (`rung`; the stored name in `key`); columns:
    macro-F1, its seed std (blank with one seed), the change from the rung above (negative: a loss) and its std."""
    costs = {s.rung: s for s in steps(ladder)}
    rows = []
    for r in ladder.rungs:
        s = costs.get(r.name)
        rows.append({"rung": rung_label(r.name), "macro_f1": r.macro_f1,
                     "std": r.macro_f1_std if ladder.seeds > 1 else None,
                     "change": -s.cost if s else None, "change_std": s.cost_std if s and ladder.seeds > 1 else None,
                     "link": s.name if s else "ceiling", "key": r.name})
    for name, r in ladder.reference.items():
        rows.append({"rung": f"({rung_label(name)})", "macro_f1": r.macro_f1,
                     "std": r.macro_f1_std if ladder.seeds > 1 else None, "change": None, "change_std": None,
                     "link": "reference", "key": name})
    for name, f1 in ladder.baselines.items():
        rows.append({"rung": f"({rung_label(name)}: {name})", "macro_f1": f1, "std": None, "change": None,
                     "change_std": None, "link": "baseline", "key": name})
    return pd.DataFrame(rows)


MAPPING_CHANGE = "change at the mapping"


def per_class_steps(ladder: Ladder) -> pd.DataFrame:
    """Class x rung F1 (mean over seeds; rungs in words), with the mapping's change per class last (stitched minus
    exact translations where a vector exists; negative: the mapping breaks that class), most broken first."""
    df = pd.DataFrame({r.name: dict(r.per_class) for r in ladder.rungs})
    if "oracle_vector_vocab" in df and "stitched" in df:
        df[MAPPING_CHANGE] = df["stitched"] - df["oracle_vector_vocab"]
        df = df.sort_values(MAPPING_CHANGE, ascending=True)
    return df.rename(columns=rung_label)


def rescues(ladder_predictions: pd.DataFrame | None, method: str, texts: dict | None = None) -> pd.DataFrame:
    """The other side of `casualties`: examples the stitched model gets right and the exact-translation reading
    (oracle) gets wrong, most confident first: what the mapping rescues."""
    return casualties(ladder_predictions, method, texts, rescued=True)


def casualties(ladder_predictions: pd.DataFrame | None, method: str, texts: dict | None = None, *,
               rescued: bool = False) -> pd.DataFrame:
    """Examples the oracle reads right and the stitched model gets wrong, most confident (wrong) first
    (with `rescued`: the stitched model right and the oracle wrong, see `rescues`).

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
    oracle_ok, stitched_ok = j["pred_oracle"] == j["gold"], j["pred"] == j["gold"]
    hit = j[(stitched_ok & ~oracle_ok) if rescued else (oracle_ok & ~stitched_ok)].reset_index()
    out = hit.rename(columns={"pred": "stitched", "pred_oracle": "oracle"})[cols]
    out = out.sort_values(["confidence", "seed"], ascending=[False, True], kind="stable").reset_index(drop=True)
    if texts:
        out["text"] = out["id"].astype(str).map(texts)
    return out


def explain_rows(results: RunResults | dict) -> list[dict]:
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


# which link of the chain each older threshold suspect measures (by the suspect's machine key, analysis.suspects)
SUSPECT_LINK = {
    "in_language_drop": "english_method",
    "drift_mean": "english_method",
    "test_unknown_rate": "oracle_vector_vocab",
    "anchor_share": "stitched",
    "bli_p1": "stitched",
}


def order_suspects(ladder: Ladder, suspects) -> list[tuple[object, Step | None]]:
    """The threshold suspects as supporting measurements, ordered by the measured cost of the link each one
    is about (largest first), not by their own thresholds; the overall gap suspect is left out (the waterfall
    shows the gap)."""
    by_link = {rung_base(s.rung): s for s in steps(ladder)}
    pairs = [(s, by_link.get(SUSPECT_LINK[s.key])) for s in suspects if s.key in SUSPECT_LINK]
    return sorted(pairs, key=lambda p: -(p[1].cost if p[1] is not None else float("-inf")))


def test_texts(results: RunResults | dict) -> dict[str, str]:
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


# ---- the strong baseline: the multilingual model's own chain beside the stitched one (issue 26) ----

SHARED_LABEL = "source-embeddings"  # the fine-tune label of the English model with its own E_s (experiment.run)
PART_NAMES = {"gap": "gap: stitched − multilingual, target test",
              "classifier": "English classifier difference: English model − multilingual",
              "transfer": "transfer-loss difference: multilingual's loss − stitched loss"}


@dataclass(frozen=True)
class Versus:
    """The stitched chain and the multilingual model's, each from its English in-language score to its target score,
    and the gap split into its parts (`core.ladder.gap_parts_bootstrap`: stitched minus multilingual, negative: the
    stitched side loses; gap = classifier + transfer). parts[name] = (value, low, high); low/high are None when the
    run stored no per-sentence English predictions (runs made before issue 26)."""

    method: str
    english_split: str  # "test" (the English test set), "dev", or "" when unknown
    stitched_english: float | None
    stitched_target: float
    mplm_english: float | None
    mplm_target: float
    parts: dict
    paired: bool  # the English and target test sets are the same sentences (one draw indexes both)
    seeds: int
    n_boot: int


def _target_preds(predictions: pd.DataFrame, method: str, ids: list[str]) -> list[list[str]]:
    d = predictions[predictions["method"] == method]
    return [g.set_index("id").loc[ids, "pred"].astype(str).tolist() for _, g in d.groupby("seed", sort=True)]


def versus_mplm(results: RunResults | dict, method: str, predictions: pd.DataFrame | None, *,
                n_boot: int = 1000) -> Versus | None:
    """The two chains and the gap's parts for stitched `method` against `mplm`; None when the run has no mplm."""
    from mosecrot_viz.core.ladder import gap_parts_bootstrap

    results = as_results(results)
    ms = results.methods
    if "mplm" not in ms or method not in ms:
        return None
    lad = ladder_of(results, method)
    first = lad.rung("english_original") if lad else None
    s_en = first.macro_f1 if first else None
    eng = (results.ladder.english_predictions if results.ladder else None) or {}
    by_model = eng.get("by_model") or {}
    split = eng.get("split") or ("test" if ms["mplm"].english_macro_f1 is not None else "")
    m_en = ms["mplm"].english_macro_f1
    s_t, m_t = ms[method].macro_f1, ms["mplm"].macro_f1
    parts = {"gap": (s_t - m_t, None, None)}
    if s_en is not None and m_en is not None:
        parts["classifier"] = (s_en - m_en, None, None)
        parts["transfer"] = (parts["gap"][0] - parts["classifier"][0], None, None)
    paired = False
    if SHARED_LABEL in by_model and "mplm" in by_model and predictions is not None and s_en is not None:
        tgt = predictions[predictions["method"] == method]
        tgt_ids = tgt[tgt["seed"] == tgt["seed"].min()]["id"].astype(str).tolist()
        gold_of = dict(zip(tgt["id"].astype(str), tgt["gold"].astype(str)))
        en_ids = eng["ids"]
        paired = en_ids == tgt_ids or sorted(en_ids) == sorted(tgt_ids)
        order = en_ids if paired else tgt_ids  # paired: the target sentences in the English order
        labels = list(results.labels) or sorted(set(eng["gold"]) | set(gold_of.values()))
        raw = gap_parts_bootstrap(labels, eng["gold"], by_model[SHARED_LABEL], by_model["mplm"],
                                  [gold_of[i] for i in order], _target_preds(predictions, method, order),
                                  _target_preds(predictions, "mplm", order), paired=paired, n_boot=n_boot)
        parts = {k: tuple(float(x) for x in v) for k, v in raw.items()}
        m_en = float(np.mean([_f1(eng["gold"], p, labels) for p in by_model["mplm"]]))
    return Versus(method, split, s_en, s_t, m_en, m_t, parts, paired, ms[method].seeds or 1, n_boot)


def _f1(gold, pred, labels) -> float:
    from mosecrot_viz.core.metrics import classification_metrics

    return classification_metrics(gold, pred, labels)["macro_f1"]


def within_noise(part: tuple) -> bool | None:
    """True when the part's 95% interval contains 0 (the test set does not tell its sign), None without an interval."""
    _, lo, hi = part
    return None if lo is None else lo <= 0.0 <= hi


def _part_text(part: tuple) -> str:
    v, lo, hi = part
    return f"{v:+.3f}" + (f" (95% CI {lo:+.3f} to {hi:+.3f})" if lo is not None else " (no interval: this run stored "
                          "no per-sentence English predictions)")


def versus_title(v: Versus | None) -> str:
    """The Why page's title, following the gap's sign."""
    if v is None:
        return "Why does transfer lose macro-F1?"
    if within_noise(v.parts["gap"]):
        return "Stitched or multilingual: a gap within noise, taken apart"
    if v.parts["gap"][0] < 0:
        return "Why does the stitched model trail the multilingual model?"
    return "Why does the stitched model beat the multilingual model?"


def versus_reading(v: Versus) -> str:
    """Plain sentences from the numbers: who wins, whether the gap is within noise, and which part carries it."""
    gap = v.parts["gap"]
    who = "trails" if gap[0] < 0 else "beats"
    text = f"{v.method} {who} the multilingual model by {abs(gap[0]):.3f} macro-F1 on the target test set: {_part_text(gap)}."
    noise = within_noise(gap)
    if noise:
        text += " The interval contains 0: on this test set the gap is within noise, and neither side can be called better."
    elif noise is False:
        text += " The interval excludes 0: the test set supports the gap's sign."
    if "classifier" not in v.parts:
        return text + (" The English model's own score (english_original) was not measured, so the gap cannot be split: "
                       "add `source` to the run.")
    c, t = v.parts["classifier"], v.parts["transfer"]
    on = "English test" if v.english_split == "test" else "English dev (it chose the epoch: flattering)"
    text += (f" It splits into the English classifier difference, {_part_text(c)}: on the {on} sentences the English "
             f"model scores {v.stitched_english:.3f} and the multilingual model {v.mplm_english:.3f}"
             + (" (the English model is the weaker classifier)" if c[0] < 0 else " (the English model is the stronger classifier)")
             + f"; and the transfer-loss difference, {_part_text(t)}: the multilingual model loses "
               f"{v.mplm_english - v.mplm_target:.3f} from English to target, the stitched chain "
               f"{v.stitched_english - v.stitched_target:.3f}"
             + (" (stitching transfers with less loss)." if t[0] > 0 else " (stitching loses more in transfer).")
             )
    for name, part in (("classifier", c), ("transfer", t)):
        if within_noise(part):
            text += f" The {PART_NAMES[name].split(':')[0]} is within noise."
    text += (f" Intervals: {v.n_boot} bootstrap draws over test sentences, every seed scored on the same draw"
             + ("; the English and target sets are the same sentences, so one draw indexes both." if v.paired else
                "; the English and target sets are different sentences, drawn separately.") if c[1] is not None else "")
    return text


def versus_table(v: Versus) -> pd.DataFrame:
    """The two chains side by side: English in-language score, target score, transfer change (target − English)."""
    rows = [{"chain": f"stitched: {v.method}", "English in-language": v.stitched_english, "target": v.stitched_target},
            {"chain": "multilingual model (mplm)", "English in-language": v.mplm_english, "target": v.mplm_target}]
    df = pd.DataFrame(rows)
    df["transfer change"] = df["target"] - df["English in-language"]
    return df


def parts_table(v: Versus) -> pd.DataFrame:
    """The gap's parts with their intervals and whether each is within noise."""
    return pd.DataFrame([{"part": PART_NAMES[k], "value": p[0], "95% CI low": p[1], "95% CI high": p[2],
                          "within noise": {True: "yes", False: "no", None: "n/a"}[within_noise(p)]}
                         for k, p in v.parts.items()])
