"""Time left in a run from a per-stage cost model, not one pace for the whole run.

A run's fine-tunes go in a known order (per seed: each re-initialising mapper on the English model, the shared
English-model fine-tune, the multilingual model), and models differ by an order of magnitude in speed (on the
demo's 2-core machine MiniLM trains about 72 examples/s, the multilingual e5 about 7.5), so extrapolating the
first model's pace onto the others says "29 s left" with four minutes to go. Here each fine-tune's epoch costs
the seconds its own model takes, taken from, in order of preference:

1. this run: the seconds between two epoch reports of the same model (`observe` collects them);
2. earlier runs on this machine: their fine-tune histories (training seconds per epoch, scaled to this run's
   training-set size), multiplied by how much slower or faster this run is going on a model measured in both;
3. an estimate: matmul FLOPs per training example (`core.flops.step_flops` on the model's config) at this
   machine's measured matmul rate (`core.flops.matmul_gflops`) and an assumed 50% utilisation, scaled like 2.

The stage after the results (the analysis pages' precomputation) costs what it took on the newest earlier run
with the same vectors, when there is one.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mosecrot_viz.records import RunResults

EPOCH_RE = re.compile(r"seed (\d+), (.+?): epoch (\d+)/(\d+)")
REUSED_RE = re.compile(r"seed (\d+), (.+?): reused cached fine-tune")
SHARED_LABEL = "source-embeddings"
ASSUMED_MFU = 0.5
ASSUMED_TOKENS = 64  # tokens per training example when no run has measured it (Bible verses: 40-70 word pieces)


@dataclass(frozen=True)
class Tune:
    """One fine-tune of the run: its seed, label (as progress messages name it) and model."""

    seed: int
    label: str
    model: str


def tune_plan(config: dict) -> list[Tune]:
    """The run's fine-tunes in the order `experiment.run.run_experiment` trains them."""
    from mosecrot_viz.core.mappers import MAPPERS, make_mapper

    methods = list(config.get("methods") or [])
    mapped = [m for m in methods if m in MAPPERS]
    reinit = [m for m in mapped if make_mapper(m).reinitialises_source]
    shared = [m for m in mapped if m not in reinit] + (["source"] if "source" in methods else [])
    src, multi = config.get("source_model"), config.get("multilingual_model")
    plan = []
    for seed in config.get("seeds") or [1]:
        plan += [Tune(int(seed), m, src) for m in reinit]
        if shared:
            plan.append(Tune(int(seed), SHARED_LABEL, src))
        if "mplm" in methods:
            plan.append(Tune(int(seed), "mplm", multi))
    return plan


@dataclass
class Observed:
    """What one run's progress reports have shown so far: (elapsed, seed, label, epoch) of each epoch report."""

    reports: list = field(default_factory=list)

    def add(self, elapsed: float, message: str) -> None:
        m = EPOCH_RE.search(message or "")
        if m and not any(r[1:] == (int(m[1]), m[2], int(m[3])) for r in self.reports):
            self.reports.append((float(elapsed), int(m[1]), m[2], int(m[3])))

    def epoch_seconds(self, plan: list[Tune]) -> dict[str, list[float]]:
        """Per model, the seconds between consecutive epoch reports of one fine-tune (each a whole epoch with its
        dev evaluation)."""
        model_of = {(t.seed, t.label): t.model for t in plan}
        out: dict[str, list[float]] = {}
        for a, b in zip(self.reports, self.reports[1:]):
            if a[1:3] == b[1:3] and b[3] == a[3] + 1 and (a[1], a[2]) in model_of:
                out.setdefault(model_of[(a[1], a[2])], []).append(b[0] - a[0])
        return out


def position(plan: list[Tune], message: str) -> tuple[int, int] | None:
    """(index of the fine-tune in progress, its epochs done) from a progress message; None when it names none."""
    for rx, done in ((EPOCH_RE, None), (REUSED_RE, "all")):
        m = rx.search(message or "")
        if m:
            key = (int(m[1]), m[2])
            for i, t in enumerate(plan):
                if (t.seed, t.label) == key:
                    return i, (int(m[3]) if done is None else 10**6)
    return None


def _history_epoch_seconds(runs_root: Path, n_train: int) -> dict[str, float]:
    """Per model, the newest earlier run's training seconds per epoch for it, scaled to `n_train` examples (parsed
    once per set of finished runs: the app asks every 2 s)."""
    folders = sorted((p for p in runs_root.iterdir() if (p / "results.json").exists()),
                     key=lambda p: p.stat().st_mtime, reverse=True)[:50] if runs_root.is_dir() else []
    return dict(_rates(tuple((str(f), (f / "results.json").stat().st_mtime_ns) for f in folders), n_train))


@lru_cache(maxsize=16)
def _rates(folders: tuple, n_train: int) -> tuple:
    out: dict[str, float] = {}
    for folder, _ in folders:
        try:
            res = RunResults.from_json(json.loads((Path(folder) / "results.json").read_text()), folder)
        except (OSError, ValueError):  # unreadable JSON, or a record this version refuses (SchemaError)
            continue
        cfg, their_n = res.config, res.data.train
        for label, hists in res.histories.items():
            model = cfg.get("multilingual_model") if label == "mplm" else cfg.get("source_model")
            for h in hists:
                eps = [e for e in h.get("epochs") or [] if e.get("examples_per_s")] if not h.get("reused_from_cache") else []
                if model and model not in out and eps and their_n:
                    out[model] = n_train / (sum(e["examples_per_s"] for e in eps) / len(eps))
    return tuple(out.items())


def _flops_per_example(model: str) -> float | None:
    """Matmul FLOPs of one training example of `model` (`core.flops.step_flops`, from its config only)."""
    from mosecrot_viz.core.flops import step_flops

    try:
        from transformers import AutoConfig

        from mosecrot_viz.defaults.models import resolve_model

        c = AutoConfig.from_pretrained(resolve_model(model))
    except Exception:  # an estimate only: without a readable config there is none
        return None
    h, layers = int(getattr(c, "hidden_size", 0) or 0), int(getattr(c, "num_hidden_layers", 0) or 0)
    inter = int(getattr(c, "intermediate_size", 4 * h) or 4 * h)
    if not h or not layers:
        return None
    return step_flops(linear=layers * (4 * h * h + 2 * h * inter), layers=layers, hidden=h, rows=1, width=ASSUMED_TOKENS)


def _flops_epoch_seconds(model: str, n_train: int, rate_gflops) -> float | None:
    """`rate_gflops`: the machine's matmul GFLOP/s, or a function measuring it (called only when needed)."""
    flops = _flops_per_example(model)
    rate = rate_gflops() if callable(rate_gflops) else rate_gflops
    if flops is None or not rate:
        return None
    return n_train * flops / (rate * 1e9 * ASSUMED_MFU)


def analysis_prior(runs_root: Path, config: dict) -> float | None:
    """Seconds the analysis stage took on the newest earlier run with the same vectors, or None."""
    from mosecrot_viz.analysis.stored import analysis_seconds

    if not runs_root.is_dir():
        return None
    for folder in sorted(runs_root.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)[:50]:
        try:
            cfg = json.loads((folder / "config.json").read_text())
        except (OSError, json.JSONDecodeError):
            continue
        secs = analysis_seconds(folder)
        if secs is not None and cfg.get("vectors") == config.get("vectors"):
            return float(secs)
    return None


@dataclass(frozen=True)
class Estimate:
    """Seconds left: fine-tuning (and evaluation) and the analysis stage (None: no earlier run to take it from);
    `sources`: per model, where its epoch cost came from ("this run", "earlier runs", "FLOPs estimate")."""

    tuning: float | None
    analysis: float | None
    sources: dict


def estimate(config: dict, message: str, observed: Observed, *, n_train: int, runs_root: Path,
             rate_gflops=None, in_analysis: bool = False) -> Estimate:
    """Seconds left for the run whose last progress report was `message` (see the module docstring)."""
    analysis = analysis_prior(runs_root, config)
    if in_analysis:
        return Estimate(0.0, analysis, {})
    plan = tune_plan(config)
    epochs = int(config.get("epochs") or 1)
    here = observed.epoch_seconds(plan)
    past = _history_epoch_seconds(runs_root, n_train)
    scale = [sum(v) / len(v) / past[m] for m, v in here.items() if m in past and past[m] > 0]
    speed = sum(scale) / len(scale) if scale else 1.0  # this run against earlier ones, on a model both measured
    cost, sources = {}, {}
    for model in dict.fromkeys(t.model for t in plan):
        if model in here:
            cost[model], sources[model] = sum(here[model]) / len(here[model]), "this run"
        elif model in past:
            cost[model], sources[model] = past[model] * speed, "earlier runs"
        else:
            f = _flops_epoch_seconds(model, n_train, rate_gflops)
            if f is not None:
                ref = [here[m][-1] / _flops_epoch_seconds(m, n_train, rate_gflops) for m in here
                       if _flops_epoch_seconds(m, n_train, rate_gflops)]
                cost[model], sources[model] = f * (sum(ref) / len(ref) if ref else 1.0), "FLOPs estimate"
    if any(t.model not in cost for t in plan):
        return Estimate(None, analysis, sources)
    pos = position(plan, message)
    start, done = pos if pos else (0, 0)
    left = max(0, epochs - done) * cost[plan[start].model] if pos else 0.0
    left += sum(epochs * cost[t.model] for t in plan[start + (1 if pos else 0):])
    return Estimate(left, analysis, sources)
