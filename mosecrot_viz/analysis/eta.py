"""Time left in a run from a per-stage cost model, not one pace for the whole run.

A run's fine-tunes go in a known order (per seed: each re-initialising mapper on the English model, the shared
English-model fine-tune, the multilingual model), and models differ by an order of magnitude in speed (on the
demo's 2-core machine MiniLM trains about 72 examples/s, the multilingual e5 about 7.5), so extrapolating the
first model's pace onto the others says "29 s left" with four minutes to go. Here each fine-tune's epoch costs
the seconds its own model takes, taken from, in order of preference:

1. this run: the seconds between two reports of the same fine-tune (`Observed` collects them), the first epoch
   timed from the message each fine-tune sends before its first step (`core.training.start_message`), so one
   finished epoch is already a measurement;
2. earlier runs on this machine: their fine-tune histories (each epoch's wall seconds, dev evaluation included;
   for runs that stored only their training throughput, that), scaled to this run's training-set size (not by how
   this run compares on another model: on the demo MiniLM ran 33% slower in a second run while the multilingual
   model ran 5% faster, so that scaling put the estimate 30-60% high);
3. the set-up measurement (`experiment.calibration`, taken by `resources --fetch`): two short epochs of each default
   model on this machine, scaled to this run's sizes only (its 3-step epochs overstate MiniLM's per-example time
   twice as much as e5's, so scaling e5 by how MiniLM compares would carry MiniLM's error over);
4. an estimate: matmul FLOPs per training example (`core.flops.step_flops` on the model's config) at this
   machine's measured matmul rate (`core.flops.matmul_gflops`) and an assumed 50% utilisation, scaled like 3.

After its epochs each fine-tune has a tail of forward passes: the English test, each method's target test and,
with the ladder on, its rungs (3 readings of the test set) and, for the first seed, the occlusion of
`OCCLUSION_SENTENCES` sentences (2 readings, one variant per word). The tail costs those forward passes at the
model's own forward cost (its epoch cost over 3 x training + 1 x dev examples: a training step is about three
forward passes; for a model this run has not trained yet, a trained one's forward cost times the ratio of their
matmul FLOPs, since a large trained embedding slows training, not reading), times the ratio of measured to predicted tails of this run's finished fine-tunes (1 before the
first has finished; a tail is measured from its fine-tune's last epoch report to the next one's start): on the demo the tails are a third of the run, so leaving them out said "29 s" with minutes
to go.

The stage after the results (the analysis pages' precomputation) costs what it took on the newest earlier run
with the same vectors; without one, `ANALYSIS_PER_MAPPING` times this run's own mapping stage (the analyses refit
the mappers on held-out anchors and search every target word: the same kind of work).
`scripts/eta_accuracy.py` measures the estimate against the real time left on the demo.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mosecrot_viz.experiment import calibration
from mosecrot_viz.records import RunResults

EPOCH_RE = re.compile(r"seed (\d+), (.+?): epoch (\d+)/(\d+)")
START_RE = re.compile(r"seed (\d+), (.+?): fine-tuning, (\d+) epochs?$")  # core.training.start_message (a test ties them)
MAPPING_RE = re.compile(r"^\d+ anchors; mapping embeddings$")  # experiment.run's on_anchors step: the mapping begins
MAPPED_MESSAGE = "mapped; fine-tuning"  # experiment.run.FINE_TUNING: the mapping is over (a test ties the two)
OCCLUSION_SENTENCES, OCCLUSION_WORDS = 16, 30  # core.ladder.LadderMeter's n_examples; words per sentence, assumed
LADDER_READINGS = 3  # the target rungs the ladder reads the test set with (oracle x2, dictionary)
# analysis stage / mapping stage on the demo's first run (scripts/eta_accuracy.py on the idle 2-core machine, the
# analyses reusing the run's mapped spaces: 8.5 s / 17.9 s and 9.3 s / 24.0 s)
ANALYSIS_PER_MAPPING = 0.45
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


@dataclass(frozen=True)
class RunSizes:
    """The example counts the cost model reads: English train and dev, target test, English test (0: none)."""

    n_train: int
    n_dev: int = 0
    n_test: int = 0
    n_source_test: int = 0

    @classmethod
    def of(cls, config: dict, rows) -> "RunSizes":
        """From a run's config; `rows(path)` counts a task file's examples (the app passes its cached reader). Without
        --dev the run splits 10% of the training file off (`experiment.inputs`)."""
        n = rows(config["train"])
        dev = rows(config["dev"]) if config.get("dev") else None
        train = n if dev is not None else n - max(1, n // 10)
        test = rows(config["test"]) if config.get("test") else 0
        source_test = rows(config["source_test"]) if config.get("source_test") else 0
        return cls(train, dev if dev is not None else n - train, test, source_test)


@dataclass
class Observed:
    """What one run's progress reports have shown so far: (elapsed, seed, label, epoch) of each epoch report (epoch
    0: the fine-tune's start message), and (elapsed, message) of each change of message (`stages`)."""

    reports: list = field(default_factory=list)
    stages: list = field(default_factory=list)
    last_tune: tuple = ()  # (elapsed, message) of the newest report naming a fine-tune (an epoch, or reused)

    def add(self, elapsed: float, message: str) -> None:
        if not self.stages or self.stages[-1][1] != message:
            self.stages.append((float(elapsed), message or ""))
        if position_match(message):
            if not self.last_tune or self.last_tune[1] != message:
                self.last_tune = (float(elapsed), message)
        m, start = EPOCH_RE.search(message or ""), START_RE.search(message or "")
        key = (int(m[1]), m[2], int(m[3])) if m else (int(start[1]), start[2], 0) if start else None
        if key and not any(r[1:] == key for r in self.reports):
            self.reports.append((float(elapsed), *key))

    def mapping_seconds(self) -> float | None:
        """Seconds from the mapping's start to the next message seen (the fine-tuning's: `MAPPED_MESSAGE`, or the
        first fine-tune's start when the app's 2 s reads missed it), when both were seen."""
        i = next((i for i, (_, msg) in enumerate(self.stages) if MAPPING_RE.match(msg)), None)
        if i is None or i + 1 >= len(self.stages):
            return None
        return self.stages[i + 1][0] - self.stages[i][0]

    def tails(self, plan: list[Tune], epoch_cost: dict) -> dict[int, float]:
        """Per finished fine-tune (its index in `plan`), the seconds from its last epoch report to the next
        fine-tune's start (its start message; from a run without one, its first epoch report less that epoch's
        cost, `epoch_cost`: per model): its evaluation, its ladder and the next model's loading."""
        index = {(t.seed, t.label): i for i, t in enumerate(plan)}
        last, first = {}, {}
        for elapsed, seed, label, epoch in self.reports:
            i = index.get((seed, label))
            if i is not None:
                last[i] = elapsed
                first.setdefault(i, (elapsed, epoch))
        out = {}
        for i, t_last in last.items():
            nxt = first.get(i + 1)
            if nxt is not None and nxt[1] == 0:
                out[i] = max(0.0, nxt[0] - t_last)
            elif nxt is not None and plan[i + 1].model in epoch_cost:
                out[i] = max(0.0, nxt[0] - t_last - epoch_cost[plan[i + 1].model])
        return out

    def epoch_seconds(self, plan: list[Tune]) -> dict[str, list[float]]:
        """Per model, the seconds between consecutive reports of one fine-tune (each a whole epoch with its dev
        evaluation; the first from the fine-tune's start message)."""
        model_of = {(t.seed, t.label): t.model for t in plan}
        out: dict[str, list[float]] = {}
        for a, b in zip(self.reports, self.reports[1:]):
            if a[1:3] == b[1:3] and b[3] == a[3] + 1 and (a[1], a[2]) in model_of:
                out.setdefault(model_of[(a[1], a[2])], []).append(b[0] - a[0])
        return out


def position_match(message: str):
    """(regex match, epochs done) of a message naming a fine-tune's progress: an epoch report, its start (0 done)
    or a reused fine-tune (all done); None for any other message."""
    for rx, done in ((EPOCH_RE, None), (START_RE, 0), (REUSED_RE, 10**6)):
        m = rx.search(message or "")
        if m:
            return m, (int(m[3]) if done is None else done)
    return None


def position(plan: list[Tune], message: str) -> tuple[int, int] | None:
    """(index of the fine-tune in progress, its epochs done) from a progress message; None when it names none."""
    found = position_match(message)
    if found:
        m, done = found
        for i, t in enumerate(plan):
            if (t.seed, t.label) == (int(m[1]), m[2]):
                return i, done
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
                    walls = [e["epoch_seconds"] for e in eps if e.get("epoch_seconds")]
                    if len(walls) == len(eps):  # the whole epoch (dev evaluation too), scaled to this run's size
                        out[model] = sum(walls) / len(walls) * n_train / their_n
                    else:  # a run before epoch_seconds was stored: its training throughput (no dev evaluation)
                        out[model] = n_train / (sum(e["examples_per_s"] for e in eps) / len(eps))
    return tuple(out.items())


@lru_cache(maxsize=32)
def _flops_per_example(model: str) -> float | None:
    """Matmul FLOPs of one training example of `model` (`core.flops.step_flops`, from its config only)."""
    from mosecrot_viz.core.flops import step_flops

    try:
        from transformers import AutoConfig

        from mosecrot_viz.defaults.models import resolve_model

        c = AutoConfig.from_pretrained(resolve_model(model), local_files_only=True)  # an estimate never waits on a hub
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


def tail_forwards(config: dict, plan: list[Tune], i: int, sizes: RunSizes) -> int:
    """Forward passes (examples read) after fine-tune `plan[i]`'s epochs: the English test (or, for the ladder,
    dev), and per method read on this model its target test, with the ladder on (mapped methods) its rungs and,
    for the first seed, the occlusion sentences (`experiment.run`'s order)."""
    from mosecrot_viz.core.mappers import MAPPERS, make_mapper

    t, methods = plan[i], list(config.get("methods") or [])
    ladder = config.get("ladder", True) is not False
    mapped = [m for m in methods if m in MAPPERS]
    if t.label == "mplm":
        reads, on_model = [], ["mplm"]
    elif t.label == SHARED_LABEL:
        reads = [m for m in mapped if not make_mapper(m).reinitialises_source]
        on_model = reads + (["source"] if "source" in methods else [])
    else:
        reads = on_model = [t.label]
    n = sizes.n_source_test or (sizes.n_dev if ladder and mapped and t.label != "mplm" else 0)
    n += sizes.n_test * len(on_model)
    if ladder:
        first_seed = int((config.get("seeds") or [1])[0]) == t.seed
        occlusion = 2 * min(OCCLUSION_SENTENCES, sizes.n_test) * (OCCLUSION_WORDS + 1) if first_seed else 0
        n += len(reads) * (LADDER_READINGS * sizes.n_test + occlusion)
    return n


def _forward_costs(cost: dict, here: dict, steps_per_epoch: float) -> dict:
    """Per model, the seconds of one forward pass (one example read). The first model this run trained: its epoch
    cost over 3 forward passes per training example and 1 per dev one (`steps_per_epoch`: training + dev / 3); any
    other model: that one's times the ratio of their matmul FLOPs (its own epoch cost where either has no FLOPs
    figure). Training costs more than its matmuls where a large embedding trains (e5's 96M values: its epoch took
    4.5 times MiniLM's, its forward passes 2 times), so its own epoch put its tail at five times the truth."""
    ref = next((m for m in here if m in cost), None)
    out = {}
    for m, c in cost.items():
        out[m] = c / (3 * steps_per_epoch)
        if ref is not None and m != ref and _flops_per_example(ref) and _flops_per_example(m):
            out[m] = cost[ref] / (3 * steps_per_epoch) * _flops_per_example(m) / _flops_per_example(ref)
    return out


def _resolved(model: str) -> str:
    """The key the set-up measurement stores a model under (`experiment.calibration.key`): never builds it."""
    return calibration.key(model)


def _calibrated_epoch(c: dict, sizes: RunSizes) -> float:
    """An epoch (training and dev evaluation) of this run's sizes at a set-up measurement's per-example seconds."""
    return sizes.n_train * float(c["train_s_per_example"]) + sizes.n_dev * float(c["eval_s_per_example"])


@dataclass(frozen=True)
class Estimate:
    """Seconds left: fine-tuning (and evaluation) and the analysis stage (None: no earlier run to take it from);
    `sources`: per model, where its epoch cost came from ("this run", "earlier runs", "set-up measurement", "FLOPs estimate")."""

    tuning: float | None
    analysis: float | None
    sources: dict


def estimate(config: dict, message: str, observed: Observed, *, n_train: int, runs_root: Path,
             rate_gflops=None, in_analysis: bool = False, sizes: RunSizes | None = None) -> Estimate:
    """Seconds left for the run whose last progress report was `message` (see the module docstring). `sizes`:
    the run's example counts (without them the fine-tunes' tails are not counted: `n_train` only)."""
    sizes = sizes or RunSizes(n_train)
    n_train = sizes.n_train
    analysis = analysis_prior(runs_root, config)
    if analysis is None and observed.mapping_seconds() is not None:
        analysis = ANALYSIS_PER_MAPPING * observed.mapping_seconds()
    if in_analysis:
        return Estimate(0.0, analysis, {})
    plan = tune_plan(config)
    epochs = int(config.get("epochs") or 1)
    here = observed.epoch_seconds(plan)
    past = _history_epoch_seconds(runs_root, n_train)
    calibrated = calibration.load() if any(t.model not in here and t.model not in past for t in plan) else {}
    cost, sources = {}, {}
    for model in dict.fromkeys(t.model for t in plan):
        if model in here:
            later = here[model][1:] or here[model]  # a fine-tune's first epoch pays its allocations (e5: 72 s, then 60)
            cost[model], sources[model] = sum(later) / len(later), "this run"
        elif model in past:
            cost[model], sources[model] = past[model], "earlier runs"
        elif _resolved(model) in calibrated:  # measured at set-up on this machine: as it is, like earlier runs
            cost[model] = _calibrated_epoch(calibrated[_resolved(model)], sizes)
            sources[model] = "set-up measurement"
        else:
            f = _flops_epoch_seconds(model, n_train, rate_gflops)
            if f is not None:
                ref = [here[m][-1] / _flops_epoch_seconds(m, n_train, rate_gflops) for m in here
                       if _flops_epoch_seconds(m, n_train, rate_gflops)]
                cost[model], sources[model] = f * (sum(ref) / len(ref) if ref else 1.0), "FLOPs estimate"
    if any(t.model not in cost for t in plan):
        return Estimate(None, analysis, sources)
    pos = position(plan, message)
    if pos is None and observed.last_tune:  # a tail's message (the ladder, an evaluation): the newest fine-tune's
        pos = position(plan, observed.last_tune[1])
    start, done = pos if pos else (0, 0)
    left = max(0, epochs - done) * cost[plan[start].model] if pos else 0.0
    left += sum(epochs * cost[t.model] for t in plan[start + (1 if pos else 0):])
    # each fine-tune's tail at its model's forward cost, scaled by what this run's finished tails took
    forward = _forward_costs(cost, here, n_train + sizes.n_dev / 3)
    predicted = [forward[plan[i].model] * tail_forwards(config, plan, i, sizes) for i in range(len(plan))]
    seen = observed.tails(plan, cost)
    ratio = sum(seen.values()) / sum(predicted[i] for i in seen) if seen and sum(predicted[i] for i in seen) else 1.0
    in_tail = pos is not None and done >= epochs  # past this fine-tune's last epoch: its tail is under way
    left += ratio * sum(predicted[i] for i in range(start if pos else 0, len(plan)) if i not in seen)
    if in_tail and start not in seen and observed.stages and observed.last_tune:
        spent = max(0.0, observed.stages[-1][0] - observed.last_tune[0])  # to the newest report
        left -= min(spent, ratio * predicted[start])  # the part of the tail already spent
    return Estimate(max(0.0, left), analysis, sources)


@dataclass(frozen=True)
class TimeLeft:
    """What the Run page says of a running run: seconds to the results (`tuning`, None before there is an estimate)
    and of the analysis stage (`analysis`, None without an earlier run to time it), and their sum (`total`, None
    when either is unknown), each counted down from the run's last progress report to `now`."""

    tuning: float | None
    analysis: float | None

    @property
    def total(self) -> float | None:
        return None if self.tuning is None or self.analysis is None else self.tuning + self.analysis


def time_left(config: dict, status, observed: Observed, *, sizes: RunSizes, runs_root: Path, now: float,
              rate_gflops=None) -> TimeLeft:
    """Seconds left of a run whose `RunStatus` is `status`, at wall-clock time `now` (`time.time()`): `estimate`
    from its last progress report, less the seconds since that report (the app reads status.json every 2 s and a
    report comes once per epoch). In the analysis stage the fine-tuning is over and the analysis's prior is
    counted down from the stage's start. `observed` is updated with the status's report first."""
    from mosecrot_viz.records import RunState

    if status.elapsed is not None:
        observed.add(status.elapsed, status.message)
    analysing = status.state is RunState.ANALYSING
    est = estimate(config, status.message, observed, n_train=sizes.n_train, runs_root=runs_root,
                   rate_gflops=rate_gflops, in_analysis=analysing, sizes=sizes)
    since = max(0.0, now - ((status.started or 0) + status.elapsed)) if status.elapsed is not None else 0.0
    if est.tuning is None:
        return TimeLeft(None, est.analysis)
    tuning = max(0.0, est.tuning - since)
    analysis = None if est.analysis is None else max(0.0, est.analysis - (since if analysing else 0.0))
    return TimeLeft(tuning, analysis)
