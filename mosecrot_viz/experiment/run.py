"""One MoSECroT run: config in, results (and predictions) out, with progress callbacks.

Stages: load inputs -> anchors -> map (F_s, F_t per mapper) -> for each seed fine-tune on English and evaluate
zero-shot on the target test set -> aggregate. The run never reads widgets or argv; the CLI and the app both build
an `ExperimentConfig` and call `run_experiment`.

`Run` holds what one run shares between its steps (the encoded test set, the meter, what has been recorded so far);
each step is a method: `tune` (fine-tune or reuse a cached fine-tune), `swapped` (a method's target matrix),
`evaluate_target` (swap, predict, record, measure the ladder), `record`, and one method per group of methods that
share a fine-tune (`run_reinit`, `run_shared`, `run_mplm`, `run_baselines`).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from mosecrot_viz.core import baselines, model_cache, stitching
from mosecrot_viz.core import ladder as gap_ladder
from mosecrot_viz.core.checks import check_predictions, degenerate_inputs
from mosecrot_viz.core.devices import configure_threads
from mosecrot_viz.core.metrics import aggregate_seeds, classification_metrics
from mosecrot_viz.core.training import TrainConfig, fine_tune, pick_device, predict_logits, set_seed
from mosecrot_viz.defaults import models
from mosecrot_viz.experiment.config import MAPPED_METHODS, SELF_TRAINING_SUFFIX, ExperimentConfig
from mosecrot_viz.experiment.inputs import Inputs, encode_english, encode_hf, load_inputs, load_pairs, shift_summary
from mosecrot_viz.experiment.provenance import run_environment
from mosecrot_viz.experiment.results import RunOutput, model_file_name, write_results
from mosecrot_viz.experiment.spaces import Spaces, configured_mapper, map_spaces, word_tokenizer
from mosecrot_viz.io.heads import head_of
from mosecrot_viz.records import AnchorReport, DataReport, LadderRun, MethodResult, RunResults

ProgressFn = Callable[[str, float], None]  # (message, fraction done in [0, 1])
FINE_TUNING = "mapped; fine-tuning"  # the progress message that starts the fine-tunes (store.runs measures the pace)
SHARED = "source-embeddings"  # the fine-tune label of the PLM with its own E_s, shared by the keep family and source


class _Progress:
    def __init__(self, fn: ProgressFn | None, total: int):
        self.fn, self.total, self.done = fn, max(total, 1), 0

    def step(self, message: str, n: int = 1) -> None:
        self.done += n
        if self.fn:
            self.fn(message, min(self.done / self.total, 1.0))

    def say(self, message: str) -> None:
        if self.fn:
            self.fn(message, min(self.done / self.total, 1.0))

    def epochs(self, prefix: str):
        """A fine-tuning callback (message, epochs done, total): a step per finished epoch, and
        notices in between (e.g. a GPU out-of-memory retry) shown without moving the bar."""
        last = [0]
        expected: list = []  # the epochs this fine-tune was first announced with

        def report(message: str, done: int | None = None, total: int | None = None) -> None:
            if total is not None:
                if not expected:
                    expected.append(total)
                elif total < expected[0]:  # stopped early: the epochs it will not train leave the run's work
                    self.total = max(self.total - (expected[0] - total), self.done + 1)
                    expected[0] = total
            if done is not None and done > last[0]:
                self.step(prefix + message, done - last[0])
                last[0] = done
            else:
                self.say(prefix + message)
        return report


class Run:
    """The state one run shares between its steps (see the module text). Built by `run_experiment`."""

    def __init__(self, cfg: ExperimentConfig, inputs: Inputs, spaces: Spaces, device, prog: _Progress):
        self.cfg, self.inputs, self.spaces, self.device, self.prog = cfg, inputs, spaces, device, prog
        self.mapped_methods = [m for m in cfg.methods if m in MAPPED_METHODS]
        self.reinit = [m for m in self.mapped_methods if spaces.reinit[m]]  # each fine-tuned with its own F_s
        self.keep = [m for m in self.mapped_methods if not spaces.reinit[m]]  # share one fine-tune with E_s
        self.shared = self.keep + (["source"] if "source" in cfg.methods else [])
        self.labels = sorted(inputs.train["label"].unique())
        lab2id = {lab: i for i, lab in enumerate(self.labels)}
        self.y_train = inputs.train["label"].map(lab2id).to_numpy()
        self.y_dev = inputs.dev["label"].map(lab2id).to_numpy()
        self.y_test = inputs.test["label"].to_list()
        tok = spaces.tokenizer
        self.wtok, self.lex_vocab = word_tokenizer(cfg, inputs, tok)
        self.tgt_enc = self.wtok.encode(inputs.test["text"], cfg.max_length)
        self.special_src = self.wtok.special_source_ids(tok)
        beyond_paper = bool(self.lex_vocab) or cfg.unk_policy == "subwords"  # blocks after F_t (`_blocks`)
        self._swapped = {} if beyond_paper else self._swapped_in_place()
        self.src_enc = encode_english(tok, inputs, cfg.max_length)
        self.meter = (_ladder_meter(cfg, inputs, tok, self.wtok, inputs.vectors, spaces.anchors, self.labels, device,
                                    len(spaces.e_s)) if cfg.ladder and self.mapped_methods else None)
        self.tcfg = TrainConfig(epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, patience=cfg.patience)
        self.per_seed: dict[str, list] = {m: [] for m in cfg.methods}
        self.english: dict[str, list] = {}
        self.histories: dict[str, list] = {}
        self.heads: dict[str, str] = {}  # fine-tune label -> the classification head it used (io/heads.py)
        self.timings: dict[str, float] = {m: 0.0 for m in cfg.methods}
        self.preds: list[pd.DataFrame] = []
        self.kept: dict = {}  # (method, seed) -> stitched state dict, with keep_models
        self.warnings = spaces.warnings  # results.json's `warnings` (core.checks.RunWarnings); add with `warn`
        self.warnings.extend(getattr(inputs, "warnings", None))  # the readers' own, when they give any
        degenerate_inputs(n_anchors=len(spaces.anchors) if self.mapped_methods else None,
                          dim=inputs.vectors.vector_size, train_labels=self.labels, test_labels=self.y_test,
                          warnings=self.warnings)

    def warn(self, key: str, message: str) -> None:
        """Record a warning in the run's results (`warnings`: machine key + one-line message); the CLI prints it
        and the Run page shows it."""
        self.warnings.warn(key, message)

    @property
    def n_tunes(self) -> int:
        """Fine-tunes per seed: one per re-initialising mapper, one shared with E_s, one for mplm."""
        return len(self.reinit) + int(bool(self.shared)) + int("mplm" in self.cfg.methods)

    def _blocks(self, m: str) -> list[np.ndarray]:
        """The row blocks of method m's swapped matrix after the specials: F_t, then any beyond-paper blocks
        (lexicon vocabulary, PLM subwords)."""
        f_s, f_t = self.spaces.mapped[m]
        return ([f_t] + ([self.lex_vocab.rows(f_s)] if self.lex_vocab else [])
                + ([f_s] if self.cfg.unk_policy == "subwords" else []))

    def _swapped_in_place(self) -> dict[str, np.ndarray]:
        """Per mapped method, its swapped matrix [specials; F_t] built once, before any fine-tune, with the method's
        F_t in `spaces.mapped` replaced by a view of its rows: each evaluation then swaps the same matrix in (frozen
        rows are not copied by `set_input_embeddings`) instead of stacking a new copy of F_t, which at 2M words x
        384 is 3 GB per method at the run's peak."""
        out = {}
        for m, (f_s, f_t) in list(self.spaces.mapped.items()):
            if np.asarray(f_t).dtype != np.float32:  # a view must hold the same numbers the analyses read
                continue
            out[m] = stitching.target_matrix_from_blocks([f_t], self.spaces.e_s, self.special_src)
            self.spaces.mapped[m] = (f_s, out[m][len(self.special_src):])  # the old F_t is freed here
        return out

    def swapped(self, m: str) -> np.ndarray:
        """The target model's embedding matrix for method m: specials, F_t, then any beyond-paper blocks
        (specials and F_t alone: the matrix built once by `_swapped_in_place`, not a copy)."""
        if m in self._swapped:
            return self._swapped[m]
        return stitching.target_matrix_from_blocks(self._blocks(m), self.spaces.e_s, self.special_src)

    def record(self, method: str, seed: int, pred_ids, unknown=None) -> None:
        """Score one method's predictions on the target test set for one seed and keep them per example."""
        pred = [self.labels[i] if not isinstance(i, str) else i for i in pred_ids]
        self.per_seed[method].append(classification_metrics(self.y_test, pred, self.labels))
        if method != "majority":  # one label for everything is the majority floor's definition, anyone else's alarm
            check_predictions(method, seed, pred, len(self.labels), self.warnings)
        unk = unknown if unknown is not None else np.full(len(pred), np.nan)
        self.preds.append(pd.DataFrame({"method": method, "seed": seed, "id": self.inputs.test["id"],
                                        "gold": self.y_test, "pred": pred, "unknown_rate": unk}))

    def tune(self, model_name: str, emb, seed: int, label: str, pad_id: int, enc):
        """Fine-tune (or reuse from the model cache); returns (model, English metrics or None)."""
        cfg, inputs = self.cfg, self.inputs
        en_train, en_dev, en_test = enc
        set_seed(seed)  # the new classification head is drawn from torch's RNG: make it the seed's, not the run order's
        model = models.load_classifier(model_name, len(self.labels))
        self.heads[label] = head_of(model)
        if emb is not None:
            stitching.set_input_embeddings(model, emb, freeze=cfg.freeze_embeddings, pad_token_id=pad_id)
        folder = None
        if cfg.model_cache:
            tag = "" if self.heads[label] == "cls" else f"#head={self.heads[label]}"  # a new head is a new job
            key = model_cache.tune_key(models.resolve_model(model_name) + tag, emb, cfg.freeze_embeddings, en_train,
                                       self.y_train, en_dev, self.y_dev, self.tcfg, seed)
            folder = Path(cfg.model_cache) / key
        notes = []  # a corrupt cache entry: said, recorded in the new history, and rebuilt
        hist = model_cache.load(model, folder, warn=lambda m: (notes.append(m), self.prog.say(m))) if folder else None
        if hist is not None:
            hist = dict(hist, reused_from_cache=True)  # its seconds and MFU are the original fine-tune's, not this run's
            model.to(self.device)
            self.prog.step(f"seed {seed}, {label}: reused cached fine-tune", cfg.epochs)
        else:
            hist = fine_tune(model, en_train, self.y_train, en_dev, self.y_dev, pad_id=pad_id, device=self.device,
                             cfg=self.tcfg, seed=seed, progress=self.prog.epochs(f"seed {seed}, "), label=label)
            hist["warnings"] = notes + list(hist.get("warnings", []))
            if folder:
                model_cache.save(model, hist, folder)
        self.histories.setdefault(label, []).append(hist)
        en_metrics = None
        if en_test is not None:
            y_en = inputs.source_test["label"].to_list()
            p = predict_logits(model, en_test, pad_id, self.device).argmax(1)
            en_metrics = classification_metrics(y_en, [self.labels[i] for i in p], self.labels)
            self.english.setdefault(label, []).append(en_metrics)
            if self.meter is not None:  # per sentence, for the gap to the strong baseline (core.ladder)
                self.meter.english_predictions(label, "test", inputs.source_test["id"], y_en, [self.labels[i] for i in p])
        elif self.meter is not None:  # the ladder's English rungs then read the dev split (and say so)
            p = predict_logits(model, en_dev, pad_id, self.device).argmax(1)
            en_metrics = classification_metrics(inputs.dev["label"].to_list(), [self.labels[i] for i in p], self.labels)
            self.meter.english_predictions(label, "dev", inputs.dev["id"],
                                           inputs.dev["label"].to_list(), [self.labels[i] for i in p])
        return model, en_metrics

    def evaluate_target(self, m: str, seed: int, model, model_rows) -> None:
        """Swap in the method's target matrix, record its result, then measure its ladder on the same model
        (`model_rows`: its input rows as fine-tuned, read before any swap)."""
        target = self.swapped(m)
        stitching.set_input_embeddings(model, target, pad_token_id=self.wtok.pad_token_id)
        logits = predict_logits(model, self.tgt_enc.input_ids, self.wtok.pad_token_id, self.device)
        self.record(m, seed, logits.argmax(1), self.tgt_enc.unknown_rate)
        if self.cfg.keep_models:  # before the ladder puts its combined matrix in
            self.kept[(m, seed)] = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
        if m + SELF_TRAINING_SUFFIX in self.cfg.methods:  # beyond the paper: label-free self-training on target text
            self.self_train(m, seed, model, target)
        if self.meter:
            say = self.prog.say
            say(f"seed {seed}, {m}: measuring the gap ladder")
            self.meter.target(m, seed, model, model_rows, target, logits, self.per_seed[m][-1],
                              detail=seed == self.cfg.seeds[0], say=lambda msg: say(f"seed {seed}, {m}: gap ladder, {msg}"))

    def self_train(self, m: str, seed: int, model, target) -> None:
        """`<m>+st`: a copy of m's stitched model self-trained on the unlabelled target train text (its labels never
        read, test sentences left out), then read on the target test (`core.self_training`)."""
        from mosecrot_viz.core.self_training import self_train

        t = time.perf_counter()
        name = m + SELF_TRAINING_SUFFIX
        test = set(self.inputs.test["text"])
        pool = [x for x in self.inputs.target_train["text"] if x not in test]
        ids = self.wtok.encode(pool, self.cfg.max_length).input_ids
        student, hist = self_train(model, target, ids, pad_id=self.wtok.pad_token_id, device=self.device,
                                   train_cfg=self.tcfg, seed=seed, say=lambda msg: self.prog.say(f"seed {seed}, {m}: {msg}"))
        self.histories.setdefault(name, []).append(hist)
        logits = predict_logits(student, self.tgt_enc.input_ids, self.wtok.pad_token_id, self.device)
        self.record(name, seed, logits.argmax(1), self.tgt_enc.unknown_rate)
        self.timings[name] += time.perf_counter() - t

    def run_reinit(self, seed: int) -> None:
        """Each re-initialising mapper (the paper's RR): a fine-tune on its own F_s, then its target evaluation."""
        tok = self.spaces.tokenizer
        for m in self.reinit:
            t = time.perf_counter()
            model, en_metrics = self.tune(self.cfg.source_model, self.spaces.mapped[m][0], seed, m, tok.pad_token_id,
                                          self.src_enc)
            if self.meter and en_metrics:
                self.meter.english(m, "english_method", en_metrics)
            self.evaluate_target(m, seed, model, stitching.input_embeddings(model) if self.meter else None)
            self.timings[m] += time.perf_counter() - t

    def run_shared(self, seed: int) -> None:
        """One fine-tune with the PLM's own E_s: the `source` floor and every mapper that keeps E_s."""
        if not self.shared:
            return
        cfg, tok = self.cfg, self.spaces.tokenizer
        t = time.perf_counter()
        emb = self.spaces.e_s if cfg.freeze_embeddings else None
        model, en_metrics = self.tune(cfg.source_model, emb, seed, SHARED, tok.pad_token_id, self.src_enc)
        if self.meter and en_metrics:
            for m in self.mapped_methods:  # rung 1 for every method; a keep method's own model is this one
                self.meter.english(m, "english_original", en_metrics)
            for m in self.keep:
                self.meter.english(m, "english_method", en_metrics)
        if "source" in cfg.methods:  # before any swap: the English model reads target text as it is
            ids = encode_hf(tok, self.inputs.test["text"], cfg.max_length)
            self.record("source", seed, predict_logits(model, ids, tok.pad_token_id, self.device).argmax(1))
        rows = stitching.input_embeddings(model) if self.meter and self.keep else None
        for m in self.keep:
            self.evaluate_target(m, seed, model, rows)
        for m in self.shared:
            self.timings[m] += (time.perf_counter() - t) / len(self.shared)

    def run_mplm(self, seed: int) -> None:
        """The multilingual baseline: fine-tuned on English with its own tokenizer, read on the target test."""
        if "mplm" not in self.cfg.methods:
            return
        cfg = self.cfg
        t = time.perf_counter()
        mtok = models.load_tokenizer(cfg.multilingual_model)
        model, _ = self.tune(cfg.multilingual_model, None, seed, "mplm", mtok.pad_token_id,
                             encode_english(mtok, self.inputs, cfg.max_length))
        ids = encode_hf(mtok, self.inputs.test["text"], cfg.max_length)
        self.record("mplm", seed, predict_logits(model, ids, mtok.pad_token_id, self.device).argmax(1))
        self.timings["mplm"] += time.perf_counter() - t

    def run_baselines(self, seed: int) -> None:
        """LR on mean static vectors (trained on target data: not zero-shot) and the majority class."""
        cfg, inputs = self.cfg, self.inputs
        if "lr" in cfg.methods:
            t = time.perf_counter()
            kv, tt_texts, test_texts = inputs.static_baseline_view()  # the original script under a script shift
            self.record("lr", seed, baselines.logistic_regression(
                kv, tt_texts, inputs.target_train["label"].to_list(), test_texts,
                lang=cfg.lang, seed=seed, segmentation=cfg.segmentation))
            self.timings["lr"] += time.perf_counter() - t
        if "majority" in cfg.methods:
            self.record("majority", seed, baselines.majority(inputs.train["label"], len(inputs.test)))

    def method_results(self) -> dict:
        """method -> aggregated metrics over seeds, with English F1, dev F1s, head and the ladder's costs."""
        out = {}
        for m in self.cfg.methods:
            agg = aggregate_seeds(self.per_seed[m], y_true=self.y_test,  # + a bootstrap interval over test examples
                                  preds_per_seed=[d["pred"].to_list() for d in self.preds if d["method"].iat[0] == m])
            agg["wall_seconds"] = round(self.timings[m], 2)
            group = SHARED if m in self.shared else m
            if group in self.english:
                agg["english_macro_f1"] = float(np.mean([e["macro_f1"] for e in self.english[group]]))
            if group in self.histories:
                agg["best_dev_macro_f1"] = [h["best_dev_macro_f1"] for h in self.histories[group]]
            if group in self.heads:
                agg["head"] = self.heads[group]  # "cls" (the architecture's own) or "mean" (mean pooling)
            if self.meter and m in self.mapped_methods:
                agg.update(self.meter.method_results(m))
            out[m] = agg
        return out

    def data_summary(self) -> dict:
        """results.json's `data`: split sizes, vocabulary, dimensions and unknown-word rates."""
        inputs, kv, lex_vocab = self.inputs, self.inputs.vectors, self.lex_vocab
        sub = inputs.subword_words
        return {"train": len(inputs.train), "dev": len(inputs.dev), "test": len(inputs.test),
                "target_vocab": inputs.n_listed, "target_dim": kv.vector_size,
                "source_dim": int(self.spaces.e_s.shape[1]),
                "test_unknown_word_rate": float(np.mean(self.tgt_enc.unknown_rate)),
                "test_unknown_word_share": gap_ladder.unknown_word_share(self.tgt_enc.unknown_rate, self.tgt_enc.n_words),
                "lexicon_vocabulary": len(lex_vocab) if lex_vocab else 0,
                "subword_vocabulary": len(sub or ()),  # fastText n-gram vectors, test words
                "test_subword_word_rate": (sub.tokens / max(sub.n_tokens, 1) if sub else 0.0),
                "script_shift": shift_summary(self.cfg, inputs, self.spaces.tokenizer)}  # None unless simulated


def run_experiment(cfg: ExperimentConfig, progress: ProgressFn | None = None, inputs: Inputs | None = None) -> RunOutput:
    """Run every method in `cfg.methods` over `cfg.seeds`; write results when `cfg.out` is set."""
    cfg.validate()
    t0 = time.perf_counter()
    device = pick_device(cfg.device)
    configure_threads()  # torch's threads = the cores this process may use (affinity, cgroup quota)
    mapped_methods = [m for m in cfg.methods if m in MAPPED_METHODS]
    prog = _Progress(progress, 3 + len(cfg.seeds) * len(cfg.methods) * cfg.epochs)  # upper bound, corrected below
    prog.say("loading vectors, lexicon and task data")
    inputs = inputs or load_inputs(cfg)
    bli_test_pairs = load_pairs(cfg, cfg.bli_test_lexicon) if cfg.bli_test_lexicon and mapped_methods else None
    prog.step("loading the source model")
    spaces = map_spaces(cfg, inputs, methods=mapped_methods, device=device,
                        on_anchors=lambda n: prog.step(f"{n} anchors; mapping embeddings"))
    bli_test = (_dictionary_bli(cfg, spaces, inputs.vectors, bli_test_pairs, mapped_methods, device)
                if bli_test_pairs else None)
    run = Run(cfg, inputs, spaces, device, prog)
    prog.total = 3 + len(cfg.seeds) * run.n_tunes * cfg.epochs
    prog.step(FINE_TUNING)
    for seed in cfg.seeds:
        run.run_reinit(seed)
        run.run_shared(seed)
        run.run_mplm(seed)
        run.run_baselines(seed)

    meter = run.meter
    results = RunResults(
        config=cfg.to_dict(), device=str(device), labels=tuple(run.labels), data=DataReport.from_json(run.data_summary()),
        anchors=AnchorReport.of(spaces.anchors.summary()),
        methods={m: MethodResult.from_json(v, f"methods.{m}") for m, v in run.method_results().items()},
        histories=run.histories, wall_seconds=round(time.perf_counter() - t0, 2), warnings=tuple(run.warnings.to_json()),
        environment=run_environment(cfg, device),  # versions, git commit, device, sha256 of every input
        bli_test=bli_test or None,
        stored_models={f"{m}/{seed}": model_file_name(m, seed) for m, seed in run.kept} or None,
        ladder=(LadderRun(seconds=round(meter.seconds, 2), english_data="test" if inputs.source_test is not None
                          else "dev", examples_seed=cfg.seeds[0], english_predictions=meter.english_record())
                if meter else None),
    )
    out = RunOutput(results.to_json(), pd.concat(run.preds, ignore_index=True), spaces.anchors, spaces.mapped,
                    meter.predictions() if meter else None, meter.examples if meter else None, run.kept, inputs=inputs, spaces=spaces)
    if cfg.out:
        write_results(out, cfg.out)
    prog.say("done")
    return out


def _dictionary_bli(cfg: ExperimentConfig, spaces: Spaces, kv, test_pairs, methods, device) -> dict:
    """results.json's `bli_test`: BLI on the separate test dictionary, every mapper refitted without its words."""
    from mosecrot_viz.core.bli import dictionary_bli

    res = dictionary_bli(spaces, kv, test_pairs, methods, lambda m: configured_mapper(cfg, m, device))
    return {"lexicon": cfg.bli_test_lexicon, "queries": res.n_test, "anchors_used": res.n_train,
            "anchors_excluded": res.n_excluded,
            "precision": {m: {r: {str(k): v for k, v in p.items()} for r, p in d.items()} for m, d in res.precision.items()},
            "mean_cosine": {m: float(np.mean(c)) if len(c) else None for m, c in res.cosines.items()}}


def _ladder_meter(cfg: ExperimentConfig, inputs: Inputs, tok, wtok, kv, anchors, labels, device, n_model_rows: int):
    """The gap ladder's meter for this run: the lexicon's translation of every target word, and the test set."""
    table = gap_ladder.translation_table(inputs.pairs, tok.get_vocab(), lowercase_source=models.is_uncased(tok),
                                         special_tokens=tok.all_special_tokens, anchors=anchors,
                                         prefer_anchors=cfg.anchor_policy == "aligned")
    reader = gap_ladder.LadderReader(wtok, table, gap_ladder.SourceIds.of(tok), n_model_rows=n_model_rows,
                                     n_static=len(kv.index_to_key), anchor_words=anchors.target_words)
    return gap_ladder.LadderMeter(reader, inputs.test["text"], inputs.test["label"], inputs.test["id"], labels, device,
                                  max_length=cfg.max_length,
                                  english_suffix="" if inputs.source_test is not None else gap_ladder.DEV_SUFFIX,
                                  id_to_token=tok.convert_ids_to_tokens, exclude_ids=tok.all_special_ids)
