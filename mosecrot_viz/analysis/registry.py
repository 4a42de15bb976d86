"""One interface for the analyses of a stored run (LIT's `Interpreter` is the model): each is a named unit with
declared inputs, parameters with defaults, and a typed JSON-able result (`analysis.dtypes`).

    analysis_result(run, "holdout_bli", n_test=500)   # -> BLIResult

returns the result stored beside the run (`analysis.json`, `analysis.stored`) or computes it, stores it and
returns it: the choice between reading and computing is made here and nowhere else. A run started from the app
computes every analysis's defaults once it has finished (`precompute`, called by `store.runs`), so the pages'
default views need no rebuild of the mapped spaces. What an analysis reads comes from a `RunSources`, loaded on
first use; the app passes one whose inputs and spaces are its shared cached copies (`ui.cached`).

The contract is `analysis.interface.Analysis`; the registered analyses are `analysis.catalogue.ANALYSES` (a new
analysis is one line there, its compute function, its result type in `analysis.dtypes`, and its test).
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Callable

from mosecrot_viz.analysis import stored
from mosecrot_viz.analysis.catalogue import (  # noqa: F401 (the defaults: re-exported for the pages)
    ANALYSES,
    DEFAULT_ANCHOR_VIEW,
    DEFAULT_HEATMAP_COLUMNS,
    DEFAULT_HELD_OUT,
)
from mosecrot_viz.analysis.interface import NEEDS, Analysis, Declared  # noqa: F401 (NEEDS: re-exported)


class RunSources:
    """What the analyses of the run in `folder` read, each loaded on first use and then kept.

    inputs: () -> the run's `Inputs`; spaces: (methods) -> its `Spaces` for those mappers. Without them the
    inputs are read once and the spaces mapped once for all of the run's mappers (what `precompute` does right
    after the run). device: where mappers are refitted (None: the run's own device).
    """

    def __init__(self, folder, *, inputs: Callable | None = None, spaces: Callable | None = None,
                 device: str | None = None):
        self.folder = Path(folder)
        self._inputs, self._spaces, self._device = inputs, spaces, device
        self._loaded: dict = {}
        self._results: dict = {}  # (name, params key) -> result, for analyses that read another one

    @cached_property
    def results(self) -> dict:
        """results.json (the registry only computes for a run whose results are readable)."""
        return stored.run_results(self.folder) or {}

    @cached_property
    def config(self):
        """The run's `ExperimentConfig` (results.json's `config`)."""
        from mosecrot_viz.experiment.config import ExperimentConfig

        return ExperimentConfig.from_dict(stored.run_config(self.folder) or {})

    @cached_property
    def mappers(self) -> tuple:
        """The run's mapping methods (the ones with F_s and F_t), in the config's order."""
        from mosecrot_viz.experiment.config import MAPPED_METHODS

        return tuple(m for m in self.config.methods if m in MAPPED_METHODS)

    @cached_property
    def device(self) -> str:
        if self._device is not None:
            return self._device
        from mosecrot_viz.core.devices import pick_device

        return pick_device(self.config.device)

    def predictions(self):
        """predictions.csv (method, seed, id, gold, pred), or None."""
        from mosecrot_viz.io.structured import load_run_table

        return load_run_table(self.folder / "predictions.csv", ("method", "seed", "id", "gold", "pred"),
                              ("method", "id", "gold", "pred"), kind="predictions")

    def inputs(self):
        if "inputs" not in self._loaded:
            from mosecrot_viz.experiment import pipeline

            self._loaded["inputs"] = self._inputs() if self._inputs else pipeline.load_inputs(self.config)
        return self._loaded["inputs"]

    def spaces(self, methods=()):
        """The mapped spaces holding at least `methods` (anchors, E_s and the tokenizer whatever `methods`)."""
        if self._spaces:
            return self._spaces(tuple(methods))
        if "spaces" not in self._loaded:
            from mosecrot_viz.experiment import pipeline

            self._loaded["spaces"] = pipeline.map_spaces(self.config, self.inputs(), list(self.mappers),
                                                         device=self.device)
        return self._loaded["spaces"]

    def result(self, name: str, **params):
        """Another analysis's result for this run: one these sources computed already, else stored, else computed
        now with these same sources."""
        key = (name, stored.params_key(ANALYSES[name].bind(params)))
        if key not in self._results:
            self._results[key] = analysis_result(self.folder, name, sources=self, **params)
        return self._results[key]

    def remember(self, name: str, params: dict, result) -> None:
        """Keep `result` of `name` with `params` for `result` (what `precompute` computed and has not stored yet)."""
        self._results[(name, stored.params_key(ANALYSES[name].bind(params)))] = result


def _stored(analysis: Analysis, folder, params: dict):
    """(result, entry) stored for `params`, or (None, None) when absent, of another version, or unreadable."""
    found = stored.entry(folder, analysis.name, params)
    if not found or found.get("version") != analysis.version:
        return None, None
    try:
        return analysis.result.from_json(found["result"]), found
    except (KeyError, TypeError, ValueError, AttributeError):  # a corrupt entry: computed again
        return None, None


def _computed(analysis: Analysis, sources, params: dict):
    """The result as `from_json(to_json(...))` gives it: the values a later read of the stored entry gives."""
    out = analysis.compute(Declared(sources, analysis.name, analysis.needs), **params)
    return analysis.result.from_json(out.to_json())


def analysis_result(run, name: str, *, sources: RunSources | None = None, **params):
    """The result of analysis `name` with `params` for `run` (a run folder or anything with `.path`): stored with
    the run, else computed now and stored (when its `keep` says so) for the next reader."""
    analysis = ANALYSES[name]
    folder = Path(getattr(run, "path", run))
    params = analysis.bind(params)
    found, _ = _stored(analysis, folder, params)
    if found is not None:
        return found
    result = _computed(analysis, sources or RunSources(folder), params)
    if analysis.keep(params):
        stored.put(folder, name, params, analysis.version, result.to_json())
    return result


def stored_result(run, name: str, **params):
    """The stored result of analysis `name` with `params`, or None (never computes)."""
    analysis = ANALYSES[name]
    return _stored(analysis, Path(getattr(run, "path", run)), analysis.bind(params))[0]


def computed_with_run(run, name: str, **params) -> bool:
    """Whether this result was computed by the run itself once it had finished (the pages say so)."""
    analysis = ANALYSES[name]
    entry = _stored(analysis, Path(getattr(run, "path", run)), analysis.bind(params))[1]
    return bool(entry and entry.get("with_run"))


def precompute(cfg, folder, *, inputs=None, spaces=None) -> dict:
    """Compute and store the defaults of every analysis that applies to the finished run in `folder` (`cfg`: its
    config, as the run used it), mapping the spaces once for all of them. `inputs` and `spaces`: the run's own
    `Inputs` and `Spaces` (`RunOutput.inputs`/`.spaces`), when the run has just made them in this process: then
    nothing is read or mapped again (on the demo that was two thirds of this stage). Returns the entries stored;
    the file's `seconds` says how long this took (the Home page quotes it beside the run's own wall time)."""
    import time

    t0 = time.perf_counter()
    sources = RunSources(folder, inputs=(lambda: inputs) if inputs is not None else None,
                         spaces=(lambda methods: spaces) if spaces is not None else None)
    sources.config = cfg  # the config the run used (results.json holds the same, as a dict)
    entries: dict = {}
    for analysis in ANALYSES.values():
        if analysis.defaults is None or not analysis.applies(sources):
            continue
        for params in analysis.defaults(sources):
            params = analysis.bind(params)
            result = _computed(analysis, sources, params)
            sources.remember(analysis.name, params, result)  # a later analysis may read it (`sources.result`)
            entries.setdefault(analysis.name, {})[stored.params_key(params)] = {
                "version": analysis.version, "with_run": True, "params": params, "result": result.to_json()}
    stored.write_run_entries(folder, entries, round(time.perf_counter() - t0, 1))
    return entries
