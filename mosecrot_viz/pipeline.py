"""One MoSECroT experiment: config in, results (and predictions) out, with progress callbacks.

Stages: load inputs -> anchors -> map (F_s, F_t per mapper) -> for each seed fine-tune on English
and evaluate zero-shot on the target test set -> aggregate. The pipeline never reads widgets or
argv; the CLI and the app both build an `ExperimentConfig` and call `run_experiment`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .atomic import commit_files, json_bytes
from .config import MAPPED_METHODS, ExperimentConfig
from .core import baselines, model_cache, stitching
from .core import ladder as gap_ladder
from .core.anchor_quality import choose_by_alignment, keep_agreeing, rr_agreement
from .core.anchors import AnchorSet, extract_anchors, filter_anchors
from .core.mappers import RR_MAPPERS, make_mapper
from .core.metrics import aggregate_seeds, classification_metrics
from .core.self_learning import self_learned_anchors
from .core.tokenizer import WordTokenizer
from .core.training import TrainConfig, fine_tune, pick_device, predict_logits, set_seed
from .core.vocab_extension import (
    SubwordWords,
    has_subword_vectors,
    lexicon_vocabulary,
    subword_words,
    with_subword_words,
)
from .errors import OverlapError
from .io import models
from .io.heads import head_of
from .io.lexicon import load_lexicon, to_simplified
from .io.resources import resolve_spec
from .io.tasks import check_labels, check_trainable, load_task
from .io.text import is_chinese
from .io.vectors import load_vectors
from .provenance import run_environment

ProgressFn = Callable[[str, float], None]  # (message, fraction done in [0, 1])
FINE_TUNING = "mapped; fine-tuning"  # the progress message that starts the fine-tunes (runs.py measures the pace from it)


@dataclass
class Inputs:
    """Everything read from disk for one run."""

    vectors: object
    pairs: list
    train: pd.DataFrame
    dev: pd.DataFrame
    test: pd.DataFrame
    target_train: pd.DataFrame | None = None
    source_test: pd.DataFrame | None = None
    subword_words: SubwordWords | None = None  # fastText .bin: test words given n-gram vectors, after the listed

    @property
    def n_listed(self) -> int:
        """Rows of `vectors` the vectors file lists (appended subword words come after them)."""
        return self.subword_words.n_listed if self.subword_words is not None else len(self.vectors.index_to_key)

    def listed_vocab(self) -> dict:
        """word -> row for the listed words only: anchors are drawn from these."""
        if self.subword_words is None:
            return self.vectors.key_to_index
        return {w: i for w, i in self.vectors.key_to_index.items() if i < self.n_listed}


@dataclass
class RunOutput:
    """What a run produced: the results.json dict, per-example predictions, the anchors and F matrices."""

    results: dict
    predictions: pd.DataFrame
    anchors: AnchorSet
    mapped: dict = field(default_factory=dict)  # method -> (F_s, F_t)
    ladder_predictions: pd.DataFrame | None = None  # every target rung's predictions (core.ladder)
    ladder_examples: dict | None = None  # method -> example sentences with occlusion (first seed)
    models: dict = field(default_factory=dict)  # (method, seed) -> the stitched model's state dict (keep_models)


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

        def report(message: str, done: int | None = None, total: int | None = None) -> None:
            if done is not None and done > last[0]:
                self.step(prefix + message, done - last[0])
                last[0] = done
            else:
                self.say(prefix + message)
        return report


def _split_dev(train: pd.DataFrame, share: float = 0.1, seed: int = 0):
    rng = np.random.default_rng(seed)
    dev_idx = []
    for _, grp in train.groupby("label"):
        n = max(1, int(round(len(grp) * share))) if len(grp) > 1 else 0
        dev_idx += list(rng.choice(grp.index.to_numpy(), size=n, replace=False))
    dev = train.loc[sorted(dev_idx)]
    return train.drop(index=dev.index).reset_index(drop=True), dev.reset_index(drop=True)


def load_pairs(cfg: ExperimentConfig, spec: str | None = None) -> list:
    """The lexicon (or another one, `spec`, such as the BLI test dictionary) as a run reads it (Chinese side
    converted to simplified script for `lang=zh`)."""
    pairs = load_lexicon(resolve_spec(spec or cfg.lexicon, "lexicon"))
    simplify = cfg.simplify_chinese if cfg.simplify_chinese is not None else is_chinese(cfg.lang)
    return to_simplified(pairs) if simplify else pairs


def load_inputs(cfg: ExperimentConfig) -> Inputs:
    """Read vectors, lexicon and task files named by `cfg` (raising `InputError` on bad input)."""
    kv = load_vectors(resolve_spec(cfg.vectors, "vectors"), max_vocab=cfg.max_vocab)
    pairs = load_pairs(cfg)
    train = load_task(cfg.train)
    if cfg.dev:
        dev = load_task(cfg.dev)
    else:
        train, dev = _split_dev(train)
    check_trainable(train, dev)
    test = load_task(cfg.test)
    check_labels(train, test, name="test")
    check_labels(train, dev, name="dev")
    target_train = load_task(cfg.target_train) if cfg.target_train else None
    source_test = load_task(cfg.source_test) if cfg.source_test else None
    if source_test is not None:
        check_labels(train, source_test, name="English test")
    sub = None
    if has_subword_vectors(kv):  # fastText .bin: unseen test words get their n-gram vectors, rows after the listed
        sub = subword_words(kv, test["text"], lang=cfg.lang, segmentation=cfg.segmentation)
        kv = with_subword_words(kv, sub)
    return Inputs(kv, pairs, train, dev, test, target_train, source_test, sub)


def _encode_hf(tokenizer, texts, max_length):
    return tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


@dataclass
class Spaces:
    """The source model's tokenizer and E_s, the anchors, and per mapper (F_s, F_t)."""

    tokenizer: object
    e_s: np.ndarray
    anchors: AnchorSet
    mapped: dict
    reinit: dict = field(default_factory=dict)  # method -> True when F_s is not E_s

    @property
    def lowercase_source(self) -> bool:
        """True for an uncased PLM: English words are looked up lower-cased (as anchor extraction does)."""
        return models.is_uncased(self.tokenizer)


def configured_mapper(cfg: ExperimentConfig, method: str, device="cpu"):
    """An unfitted mapper for `method` with the run's top-k and temperature (RR mappers only)."""
    params = {}
    if method in RR_MAPPERS:
        params = {"k": cfg.top_k, "device": str(device)}
        if cfg.temperature is not None:
            params["temperature"] = cfg.temperature
    return make_mapper(method, **params)


def select_anchors(cfg: ExperimentConfig, inputs: Inputs, tok, e_s) -> AnchorSet:
    """The run's anchors: lexicon pairs -> `extract_anchors` (case, accents, special tokens, policy), then the
    policy's re-choice and the configured filters. `e_s` is the source model's input matrix, or a callable
    returning it (loaded only when a policy or filter needs it)."""
    kv = inputs.vectors
    embeddings = e_s if callable(e_s) else (lambda: e_s)
    try:
        anchors = extract_anchors(
            inputs.pairs, tok.get_vocab(), inputs.listed_vocab(), lowercase_source=models.is_uncased(tok),
            special_tokens=tok.all_special_tokens, policy=cfg.anchor_policy,
        )
    except OverlapError as exc:  # no single file to blame: name the three inputs that were compared
        raise OverlapError(f"lexicon {cfg.lexicon} against vectors {cfg.vectors} and the vocabulary of model "
                           f"{cfg.source_model}: {exc}") from None
    if cfg.anchor_policy == "aligned":
        anchors = choose_by_alignment(anchors, inputs.pairs, tok.get_vocab(), embeddings(), kv.vectors,
                                      lowercase_source=models.is_uncased(tok), special_tokens=tok.all_special_tokens)
    if cfg.anchor_policy == "self-learned":
        anchors = self_learned_anchors(anchors, tok.get_vocab(), embeddings(), kv.index_to_key[: inputs.n_listed],
                                       kv.vectors[: inputs.n_listed],
                                       special_tokens=tok.all_special_tokens)
    if cfg.drop_stopword_anchors or cfg.n_anchors:
        anchors = filter_anchors(anchors, drop_stopwords=cfg.drop_stopword_anchors, n=cfg.n_anchors, seed=cfg.anchor_seed)
    if cfg.anchor_agreement_share:
        scores = rr_agreement(embeddings()[anchors.source_ids], kv.vectors[anchors.target_ids])
        anchors = keep_agreeing(anchors, scores, cfg.anchor_agreement_share)
    return anchors


def anchor_inputs(vectors, pairs) -> Inputs:
    """Inputs holding only what anchor selection reads (vectors and lexicon pairs), for previews."""
    empty = pd.DataFrame(columns=["id", "label", "text"])
    return Inputs(vectors, pairs, empty, empty, empty)


def count_anchors(cfg: ExperimentConfig, inputs: Inputs, tok=None) -> dict:
    """What a run of `cfg` on `inputs` will report as its anchors (results.json's `anchors`), without mapping or
    fine-tuning: the Setup page's preview, from the same `select_anchors` the run uses."""
    tok = tok if tok is not None else models.load_tokenizer(cfg.source_model)
    return select_anchors(cfg, inputs, tok, lambda: source_embeddings(cfg.source_model)).summary()


def source_embeddings(model_name: str) -> np.ndarray:
    """E_s: the source model's input embedding matrix."""
    return stitching.input_embeddings(models.load_classifier(model_name, 2))


def map_spaces(cfg: ExperimentConfig, inputs: Inputs, methods, device="cpu", on_anchors=None) -> Spaces:
    """Anchors and the mapped embedding matrices, without any fine-tuning (also used by the analysis pages)."""
    kv = inputs.vectors
    tok = models.load_tokenizer(cfg.source_model)
    e_s = source_embeddings(cfg.source_model)
    anchors = select_anchors(cfg, inputs, tok, e_s)
    if on_anchors:
        on_anchors(len(anchors))
    mapped, reinit = {}, {}
    for m in methods:
        mapper = configured_mapper(cfg, m, device)
        ids = {"target_ids": anchors.target_ids} if getattr(mapper, "uses_anchor_ids", False) else {}
        mapper.fit(e_s[anchors.source_ids], kv.vectors[anchors.target_ids], **ids)
        reinit[m] = mapper.reinitialises_source
        f_s = stitching.source_matrix(mapper.transform_source(e_s), e_s, tok.all_special_ids)
        mapped[m] = (f_s, mapper.transform_target(kv.vectors))
    return Spaces(tok, e_s, anchors, mapped, reinit)


def word_tokenizer(cfg: ExperimentConfig, inputs: Inputs, tok):
    """The run's target tokenizer (`WordTokenizer` over the vectors' words, then any lexicon words) and the
    lexicon vocabulary it was extended with (None unless `extend_vocab_from_lexicon`)."""
    kv = inputs.vectors
    lex_vocab = (lexicon_vocabulary(inputs.pairs, kv.key_to_index, tok, special_ids=tok.all_special_ids)
                 if cfg.extend_vocab_from_lexicon else None)
    wtok = WordTokenizer(list(kv.index_to_key) + list(lex_vocab.words if lex_vocab else ()), tok.special_tokens_map,
                         lang=cfg.lang, unk_policy=cfg.unk_policy, subword_tokenizer=tok, segmentation=cfg.segmentation)
    return wtok, lex_vocab


def model_file_name(method: str, seed: int) -> str:
    """The run folder's file holding a stitched model's weights (`keep_models`)."""
    return f"model-{method}-seed{int(seed)}.safetensors"


def _encode_english(tokenizer, inputs: Inputs, max_length):
    """(train, dev, English test or None) token ids for the source-language data."""
    test = inputs.source_test
    return (_encode_hf(tokenizer, inputs.train["text"], max_length), _encode_hf(tokenizer, inputs.dev["text"], max_length),
            _encode_hf(tokenizer, test["text"], max_length) if test is not None else None)


def run_experiment(cfg: ExperimentConfig, progress: ProgressFn | None = None, inputs: Inputs | None = None) -> RunOutput:
    """Run every method in `cfg.methods` over `cfg.seeds`; write results when `cfg.out` is set."""
    cfg.validate()
    t0 = time.perf_counter()
    device = pick_device(cfg.device)
    mapped_methods = [m for m in cfg.methods if m in MAPPED_METHODS]
    prog = _Progress(progress, 3 + len(cfg.seeds) * len(cfg.methods) * cfg.epochs)  # upper bound, corrected below
    prog.say("loading vectors, lexicon and task data")
    inputs = inputs or load_inputs(cfg)
    kv = inputs.vectors
    bli_test_pairs = load_pairs(cfg, cfg.bli_test_lexicon) if cfg.bli_test_lexicon and mapped_methods else None
    labels = sorted(inputs.train["label"].unique())
    lab2id = {lab: i for i, lab in enumerate(labels)}
    y_train = inputs.train["label"].map(lab2id).to_numpy()
    y_dev = inputs.dev["label"].map(lab2id).to_numpy()
    prog.step("loading the source model")

    spaces = map_spaces(cfg, inputs, methods=mapped_methods, device=device,
                        on_anchors=lambda n: prog.step(f"{n} anchors; mapping embeddings"))
    tok, e_s, anchors, mapped = spaces.tokenizer, spaces.e_s, spaces.anchors, spaces.mapped
    bli_test = _dictionary_bli(cfg, spaces, kv, bli_test_pairs, mapped_methods, device) if bli_test_pairs else None
    reinit = [m for m in mapped_methods if spaces.reinit[m]]  # each fine-tuned with its own F_s
    keep = [m for m in mapped_methods if not spaces.reinit[m]]  # share one fine-tune with the original E_s
    shared = keep + (["source"] if "source" in cfg.methods else [])
    n_tunes = len(reinit) + int(bool(shared)) + int("mplm" in cfg.methods)
    prog.total = 3 + len(cfg.seeds) * n_tunes * cfg.epochs
    prog.step(FINE_TUNING)

    wtok, lex_vocab = word_tokenizer(cfg, inputs, tok)
    tgt_enc = wtok.encode(inputs.test["text"], cfg.max_length)
    special_src = wtok.special_source_ids(tok)

    def swapped(m):
        """The target model's embedding matrix for method m: specials, F_t, then any beyond-paper blocks."""
        f_s, f_t = mapped[m]
        blocks = [f_t] + ([lex_vocab.rows(f_s)] if lex_vocab else []) + ([f_s] if cfg.unk_policy == "subwords" else [])
        return stitching.target_matrix(np.vstack(blocks), e_s, special_src)
    src_enc = _encode_english(tok, inputs, cfg.max_length)
    meter = (_ladder_meter(cfg, inputs, tok, wtok, kv, anchors, labels, device, len(e_s))
             if cfg.ladder and mapped_methods else None)
    tcfg = TrainConfig(epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size)
    y_test = inputs.test["label"].to_list()

    per_seed: dict[str, list] = {m: [] for m in cfg.methods}
    english: dict[str, list] = {}
    histories: dict[str, list] = {}
    heads: dict[str, str] = {}  # fine-tune label -> the classification head it used (io/heads.py)
    timings: dict[str, float] = {m: 0.0 for m in cfg.methods}
    preds = []
    kept: dict = {}  # (method, seed) -> stitched state dict, with keep_models

    def record(method, seed, pred_ids, unknown=None):
        pred = [labels[i] if not isinstance(i, str) else i for i in pred_ids]
        per_seed[method].append(classification_metrics(y_test, pred, labels))
        unk = unknown if unknown is not None else np.full(len(pred), np.nan)
        preds.append(pd.DataFrame({"method": method, "seed": seed, "id": inputs.test["id"], "gold": y_test,
                                   "pred": pred, "unknown_rate": unk}))

    def tune(model_name, emb, seed, label, pad_id, enc):
        """Fine-tune (or reuse from the model cache); returns (model, English metrics or None)."""
        en_train, en_dev, en_test = enc
        set_seed(seed)  # the new classification head is drawn from torch's RNG: make it the seed's, not the run order's
        model = models.load_classifier(model_name, len(labels))
        heads[label] = head_of(model)
        if emb is not None:
            stitching.set_input_embeddings(model, emb, freeze=cfg.freeze_embeddings, pad_token_id=pad_id)
        folder = None
        if cfg.model_cache:
            tag = "" if heads[label] == "cls" else f"#head={heads[label]}"  # a new head is a new job
            key = model_cache.tune_key(models.resolve_model(model_name) + tag, emb, cfg.freeze_embeddings, en_train, y_train,
                                       en_dev, y_dev, tcfg, seed)
            folder = Path(cfg.model_cache) / key
        notes = []  # a corrupt cache entry: said, recorded in the new history, and rebuilt
        hist = model_cache.load(model, folder, warn=lambda m: (notes.append(m), prog.say(m))) if folder else None
        if hist is not None:
            model.to(device)
            prog.step(f"seed {seed}, {label}: reused cached fine-tune", cfg.epochs)
        else:
            hist = fine_tune(model, en_train, y_train, en_dev, y_dev, pad_id=pad_id, device=device, cfg=tcfg, seed=seed,
                             progress=prog.epochs(f"seed {seed}, "), label=label)
            hist["warnings"] = notes + list(hist.get("warnings", []))
            if folder:
                model_cache.save(model, hist, folder)
        histories.setdefault(label, []).append(hist)
        en_metrics = None
        if en_test is not None:
            y_en = inputs.source_test["label"].to_list()
            p = predict_logits(model, en_test, pad_id, device).argmax(1)
            en_metrics = classification_metrics(y_en, [labels[i] for i in p], labels)
            english.setdefault(label, []).append(en_metrics)
        elif meter is not None:  # the ladder's English rungs then read the dev split (and say so)
            p = predict_logits(model, en_dev, pad_id, device).argmax(1)
            en_metrics = classification_metrics(inputs.dev["label"].to_list(), [labels[i] for i in p], labels)
        return model, en_metrics

    def evaluate_target(m, seed, model, model_rows):
        """Swap in the method's target matrix, record its result, then measure its ladder on the same model
        (`model_rows`: its input rows as fine-tuned, read before any swap)."""
        target = swapped(m)
        stitching.set_input_embeddings(model, target, pad_token_id=wtok.pad_token_id)
        logits = predict_logits(model, tgt_enc.input_ids, wtok.pad_token_id, device)
        record(m, seed, logits.argmax(1), tgt_enc.unknown_rate)
        if cfg.keep_models:  # before the ladder puts its combined matrix in
            kept[(m, seed)] = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
        if meter:
            prog.say(f"seed {seed}, {m}: measuring the gap ladder")
            meter.target(m, seed, model, model_rows, target, logits, per_seed[m][-1], detail=seed == cfg.seeds[0],
                         say=lambda msg: prog.say(f"seed {seed}, {m}: gap ladder, {msg}"))

    for seed in cfg.seeds:
        for m in reinit:
            t = time.perf_counter()
            model, en_metrics = tune(cfg.source_model, mapped[m][0], seed, m, tok.pad_token_id, src_enc)
            if meter and en_metrics:
                meter.english(m, "english_method", en_metrics)
            evaluate_target(m, seed, model, stitching.input_embeddings(model) if meter else None)
            timings[m] += time.perf_counter() - t
        if shared:
            t = time.perf_counter()
            emb = e_s if cfg.freeze_embeddings else None
            model, en_metrics = tune(cfg.source_model, emb, seed, "source-embeddings", tok.pad_token_id, src_enc)
            if meter and en_metrics:
                for m in mapped_methods:  # rung 1 for every method; a keep method's own model is this one
                    meter.english(m, "english_original", en_metrics)
                for m in keep:
                    meter.english(m, "english_method", en_metrics)
            if "source" in cfg.methods:  # before any swap: the English model reads target text as it is
                ids = _encode_hf(tok, inputs.test["text"], cfg.max_length)
                record("source", seed, predict_logits(model, ids, tok.pad_token_id, device).argmax(1))
            rows = stitching.input_embeddings(model) if meter and keep else None
            for m in keep:
                evaluate_target(m, seed, model, rows)
            for m in shared:
                timings[m] += (time.perf_counter() - t) / len(shared)
        if "mplm" in cfg.methods:
            t = time.perf_counter()
            mtok = models.load_tokenizer(cfg.multilingual_model)
            model, _ = tune(cfg.multilingual_model, None, seed, "mplm", mtok.pad_token_id,
                            _encode_english(mtok, inputs, cfg.max_length))
            ids = _encode_hf(mtok, inputs.test["text"], cfg.max_length)
            record("mplm", seed, predict_logits(model, ids, mtok.pad_token_id, device).argmax(1))
            timings["mplm"] += time.perf_counter() - t
        if "lr" in cfg.methods:
            t = time.perf_counter()
            tt = inputs.target_train
            record("lr", seed, baselines.logistic_regression(kv, tt["text"].to_list(), tt["label"].to_list(),
                                                              inputs.test["text"].to_list(), lang=cfg.lang, seed=seed,
                                                              segmentation=cfg.segmentation))
            timings["lr"] += time.perf_counter() - t
        if "majority" in cfg.methods:
            record("majority", seed, baselines.majority(inputs.train["label"], len(inputs.test)))

    methods_out = {}
    for m in cfg.methods:
        agg = aggregate_seeds(per_seed[m], y_true=y_test,  # + a bootstrap interval over test examples
                              preds_per_seed=[d["pred"].to_list() for d in preds if d["method"].iat[0] == m])
        agg["wall_seconds"] = round(timings[m], 2)
        group = "source-embeddings" if m in shared else m
        if group in english:
            agg["english_macro_f1"] = float(np.mean([e["macro_f1"] for e in english[group]]))
        if group in histories:
            agg["best_dev_macro_f1"] = [h["best_dev_macro_f1"] for h in histories[group]]
        if group in heads:
            agg["head"] = heads[group]  # "cls" (the architecture's own) or "mean" (mean pooling)
        if meter and m in mapped_methods:
            agg.update(meter.method_results(m))
        methods_out[m] = agg
    results = {
        "config": cfg.to_dict(),
        "device": str(device),
        "labels": labels,
        "data": {"train": len(inputs.train), "dev": len(inputs.dev), "test": len(inputs.test),
                 "target_vocab": inputs.n_listed, "target_dim": kv.vector_size, "source_dim": int(e_s.shape[1]),
                 "test_unknown_word_rate": float(np.mean(tgt_enc.unknown_rate)),
                 "lexicon_vocabulary": len(lex_vocab) if lex_vocab else 0,
                 "subword_vocabulary": len(inputs.subword_words or ()),  # fastText n-gram vectors, test words
                 "test_subword_word_rate": (inputs.subword_words.tokens / max(inputs.subword_words.n_tokens, 1)
                                            if inputs.subword_words else 0.0)},
        "anchors": anchors.summary(),
        "methods": methods_out,
        "histories": histories,
        "wall_seconds": round(time.perf_counter() - t0, 2),
        "environment": run_environment(cfg, device),  # versions, git commit, device, sha256 of every input
    }
    if bli_test:
        results["bli_test"] = bli_test
    if kept:
        results["stored_models"] = {f"{m}/{seed}": model_file_name(m, seed) for m, seed in kept}
    if meter:
        results["ladder"] = {"seconds": round(meter.seconds, 2), "english_data": "test" if inputs.source_test is not None
                             else "dev", "examples_seed": cfg.seeds[0]}
    out = RunOutput(results, pd.concat(preds, ignore_index=True), anchors, mapped,
                    meter.predictions() if meter else None, meter.examples if meter else None, kept)
    if cfg.out:
        write_results(out, cfg.out)
    prog.say("done")
    return out


def _dictionary_bli(cfg: ExperimentConfig, spaces: Spaces, kv, test_pairs, methods, device) -> dict:
    """results.json's `bli_test`: BLI on the separate test dictionary, every mapper refitted without its words."""
    from .analysis.holdout import dictionary_bli

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


def write_results(out: RunOutput, folder) -> Path:
    """Write results.json, predictions.csv, anchors.json (and the ladder's files) into `folder` in one commit.

    The files are staged in a fresh sibling folder and swapped in at once (`atomic.commit_files`):
    a reader sees the previous run or this one, never this run's predictions beside the previous
    results.json. A folder holding these is a run the app's run store can list and open.
    """
    a = out.anchors
    files = {"anchors.json": json_bytes({"source_words": list(a.source_words), "source_ids": a.source_ids.tolist(),
                                         "target_words": list(a.target_words), "target_ids": a.target_ids.tolist()}),
             "predictions.csv": out.predictions.to_csv(index=False).encode("utf-8")}
    if out.ladder_predictions is not None:
        files["ladder.csv"] = out.ladder_predictions.to_csv(index=False).encode("utf-8")
    if out.ladder_examples is not None:
        files["ladder_examples.json"] = json_bytes(out.ladder_examples)
    if out.models:
        from safetensors.torch import save

        for (method, seed), state in out.models.items():
            files[model_file_name(method, seed)] = save(state, metadata={"method": method, "seed": str(seed)})
    files["results.json"] = json_bytes(out.results)  # its presence marks a complete run
    stale = [p.name for p in Path(folder).glob("model-*-seed*.safetensors")] if Path(folder).is_dir() else []
    commit_files(folder, files, drop=("ladder.csv", "ladder_examples.json", *stale))
    return Path(folder) / "results.json"
