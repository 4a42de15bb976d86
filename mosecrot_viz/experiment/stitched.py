"""A stored run's stitched model, back in memory: for exporting it and for reading a new sentence with it.

A run keeps each stitched model (method, seed) in its folder when `keep_models` is set
(`model-<method>-seed<N>.safetensors`, the state dict right after the swap). Without that file the
model is re-created: the run's config is run again for that one method and seed (ladder off), which
reuses the run's model cache when it had one and otherwise fine-tunes once more. Fine-tuning is seeded
(`training.set_seed` before the head is drawn and before training), so on the same device and library
versions the re-created model gives the run's predictions; it costs one fine-tune (seconds on the tiny
fixtures, about a minute per epoch for MiniLM on SIB-200 on a CPU).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, NamedTuple

import numpy as np

from mosecrot_viz.errors import InputError, PathError
from mosecrot_viz.experiment.config import MAPPED_METHODS, ExperimentConfig
from mosecrot_viz.io.structured import load_json
from mosecrot_viz.records import RunResults, as_results


class ExportError(InputError):
    """A run, method or seed that cannot give a stitched model (one line for the CLI and the app)."""


def read_run(run_dir) -> RunResults:
    """The results.json of a finished run folder as its record (PathError when there is none; a malformed or
    newer-version file is one line naming it)."""
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise PathError(f"{path}: no results.json here (is {run_dir} a finished run folder?)")
    try:
        data = load_json(path, kind="results")  # bounded; its own errors name the file
    except OSError as exc:
        raise InputError(f"{path}: not a readable results file ({exc})") from None
    return RunResults.from_json(data, path, strict=True)


def stitched_methods(results: RunResults | dict) -> list[str]:
    """The run's methods that have a stitched model (mapped methods), in run order."""
    return [m for m in as_results(results).methods if m in MAPPED_METHODS]


class MethodSeed(NamedTuple):
    """A stitched method of a run and one of its seeds."""

    method: str
    seed: int


def check_method(results: RunResults | dict, method: str | None, seed: int | None) -> MethodSeed:
    """(method, seed) checked against the run; defaults: its first stitched method and first seed.

    A refusal names the flag it is about (--method, --seed): export's usage errors all do (issue 24, item 7).
    """
    results = as_results(results)
    have = stitched_methods(results)
    if method is None:
        if not have:
            raise ExportError(f"this run has no mapped method ({', '.join(MAPPED_METHODS)}): no stitched model")
        method = have[0]
    if method not in MAPPED_METHODS:
        raise ExportError(f"--method: unknown or unstitched method {method!r}: a stitched model comes from a mapped method "
                          f"({', '.join(MAPPED_METHODS)})")
    if method not in have:
        raise ExportError(f"--method: this run has no method {method!r}; it ran {', '.join(have) or 'no mapped method'}")
    seeds = [int(s) for s in results.seeds]
    seed = seeds[0] if seed is None else int(seed)
    if seed not in seeds:
        raise ExportError(f"--seed: this run has no seed {seed}; its seeds are {', '.join(map(str, seeds))}")
    return MethodSeed(method, seed)


def has_stored_model(run_dir, method: str, seed: int) -> bool:
    """True when the run kept this stitched model (`keep_models`), so loading it needs no fine-tuning."""
    from mosecrot_viz.experiment.pipeline import model_file_name

    return (Path(run_dir) / model_file_name(method, seed)).is_file()


def stitched_state(run_dir, results: RunResults, method: str, seed: int, *, inputs=None, progress=None):
    """(state dict, "stored" or "re-created"): the run's stored weights, or one seeded fine-tune again."""
    from mosecrot_viz.experiment.pipeline import model_file_name, run_experiment

    path = Path(run_dir) / model_file_name(method, seed)
    if path.is_file():
        from safetensors.torch import load_file

        return load_file(str(path)), "stored"
    cfg = ExperimentConfig.from_record(results.config, Path(run_dir) / "results.json", methods=[method],
                                       seeds=[seed], out=None, ladder=False, keep_models=True, sweep=None)
    out = run_experiment(cfg, progress=progress, inputs=inputs)
    return out.models[(method, seed)], "re-created"


@dataclass
class StitchedModel:
    """A stitched classifier with its target tokenizer and the reader that names each word's status."""

    method: str
    seed: int
    model: object
    wtok: object  # core.tokenizer.WordTokenizer (ids = rows of the swapped matrix)
    reader: object  # core.ladder.LadderReader with no model rows before T: its "stitched" ids are wtok's
    labels: list
    config: ExperimentConfig
    source_tokenizer: object
    origin: str  # "stored" or "re-created"
    head: str

    def predict_logits(self, seqs, pad_id=None):
        from mosecrot_viz.core.training import predict_logits

        return predict_logits(self.model, seqs, self.wtok.pad_token_id if pad_id is None else pad_id,
                              next(self.model.parameters()).device)


def load_stitched(run_dir, method: str | None = None, seed: int | None = None, *, results: RunResults | None = None,
                  inputs=None, progress: Callable | None = None) -> StitchedModel:
    """The stitched model of `method` and `seed` of a stored run (first stitched method and seed by default)."""
    import torch

    from mosecrot_viz.core import ladder as gap_ladder
    from mosecrot_viz.core.stitching import set_input_embeddings
    from mosecrot_viz.defaults import models
    from mosecrot_viz.experiment.pipeline import load_inputs, word_tokenizer

    results = as_results(results) if results is not None else read_run(run_dir)
    method, seed = check_method(results, method, seed)
    cfg = ExperimentConfig.from_record(results.config, Path(run_dir) / "results.json")
    inputs = inputs if inputs is not None else load_inputs(cfg)
    trained = sorted(inputs.train["label"].unique())  # the class order every fine-tune of the run used
    if list(results.labels) != trained:
        raise ExportError(f"results.json lists the labels {', '.join(map(str, results.labels))}, but the run trained "
                          f"on {', '.join(map(str, trained))} in that order: the record was changed (its model's "
                          "labels would be wrong)")
    state, origin = stitched_state(run_dir, results, method, seed, inputs=inputs, progress=progress)
    tok = models.load_tokenizer(cfg.source_model)
    wtok, _ = word_tokenizer(cfg, inputs, tok)
    labels = list(results.labels)
    model = models.load_classifier(cfg.source_model, len(labels))
    emb = model.get_input_embeddings().weight
    key = next(k for k, p in model.named_parameters() if p is emb)
    if key not in state:
        raise ExportError(f"the stored model of {method} seed {seed} does not fit {cfg.source_model} (no {key})")
    set_input_embeddings(model, np.zeros(tuple(state[key].shape), dtype=np.float32), pad_token_id=wtok.pad_token_id)
    model.load_state_dict(state)
    model.to(torch.device("cpu")).eval()
    stored = load_json(Path(run_dir) / "anchors.json", kind="anchors") \
        if (Path(run_dir) / "anchors.json").is_file() else {"target_words": [], "source_ids": []}
    anchors = SimpleNamespace(target_words=stored["target_words"], source_ids=stored["source_ids"])
    table = gap_ladder.translation_table(inputs.pairs, tok.get_vocab(), lowercase_source=models.is_uncased(tok),
                                         special_tokens=tok.all_special_tokens, anchors=anchors,
                                         prefer_anchors=cfg.anchor_policy == "aligned")
    reader = gap_ladder.LadderReader(wtok, table, gap_ladder.SourceIds.of(tok), n_model_rows=0,
                                     n_static=len(inputs.vectors.index_to_key), anchor_words=anchors.target_words)
    head = results.methods[method].head_or_cls
    return StitchedModel(method, seed, model, wtok, reader, labels, cfg, tok, origin, head)


def read_sentence(sm: StitchedModel, text: str) -> dict:
    """What the stitched model makes of one target-language sentence: prediction, class probabilities, and per
    word its status (anchor / vector only / lexicon only / no vector), its lexicon gloss and occlusion importance
    (the drop in the predicted class's probability when the word becomes [UNK])."""
    from mosecrot_viz.core.ladder import occlusion, softmax

    enc = sm.reader.encode([text], sm.config.max_length)
    ids, spans = enc.ids["stitched"][0], enc.spans["stitched"][0]
    pad, mask = enc.pad["stitched"], enc.mask["stitched"]
    probs = softmax(sm.predict_logits([ids], pad))[0]
    c, drops = occlusion(sm.predict_logits, ids, spans, mask, pad) if spans else (int(probs.argmax()), np.zeros(0))
    gloss = [sm.source_tokenizer.convert_ids_to_tokens(int(t)) if t is not None else None for t in enc.translation[0]]
    return {"method": sm.method, "seed": sm.seed, "pred": sm.labels[c],
            "probs": {lab: float(p) for lab, p in zip(sm.labels, probs)},
            "words": enc.words[0], "status": enc.status[0], "gloss": gloss,
            "occlusion": [None if np.isnan(d) else float(d) for d in drops]}


def compare_sentence(stitched: list[StitchedModel], text: str) -> list[dict]:
    """`read_sentence` for every model, in order (each method's prediction side by side)."""
    return [read_sentence(sm, text) for sm in stitched]
