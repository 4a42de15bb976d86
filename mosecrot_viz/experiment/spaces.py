"""The shared space of a run: the anchors and, per mapper, (F_s, F_t), without any fine-tuning.

`map_spaces` is what a run does before it fine-tunes, and what the analysis pages call to rebuild a stored run's
spaces (they never store F matrices). `select_anchors` is the one anchor selection: the run's, Setup's preview
(`count_anchors`) and the analyses' all go through it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mosecrot_viz.core import stitching
from mosecrot_viz.core.anchor_quality import choose_by_alignment, keep_agreeing, rr_agreement
from mosecrot_viz.core.anchors import AnchorSet, extract_anchors, filter_anchors
from mosecrot_viz.core.checks import NumericsError, RunWarnings, check_mapped, check_vector_scale
from mosecrot_viz.core.mappers import RR_MAPPERS, make_mapper
from mosecrot_viz.core.self_learning import self_learned_anchors
from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.core.vocab_extension import lexicon_vocabulary
from mosecrot_viz.defaults import models
from mosecrot_viz.errors import OverlapError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.inputs import Inputs


@dataclass
class Spaces:
    """The source model's tokenizer and E_s, the anchors, and per mapper (F_s, F_t)."""

    tokenizer: object
    e_s: np.ndarray
    anchors: AnchorSet
    mapped: dict
    reinit: dict = field(default_factory=dict)  # method -> True when F_s is not E_s
    warnings: RunWarnings = field(default_factory=RunWarnings)  # degenerate but legal inputs and maps (core.checks)

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


def count_anchors(cfg: ExperimentConfig, inputs: Inputs, tok=None) -> dict:
    """What a run of `cfg` on `inputs` will report as its anchors (results.json's `anchors`), without mapping or
    fine-tuning: the Setup page's preview, from the same `select_anchors` the run uses."""
    tok = tok if tok is not None else models.load_tokenizer(cfg.source_model)
    return select_anchors(cfg, inputs, tok, lambda: source_embeddings(cfg.source_model)).summary()


def source_embeddings(model_name: str) -> np.ndarray:
    """E_s: the source model's input embedding matrix."""
    return stitching.input_embeddings(models.load_classifier(model_name, 2))


def map_spaces(cfg: ExperimentConfig, inputs: Inputs, methods, device="cpu", on_anchors=None) -> Spaces:
    """Anchors and the mapped embedding matrices, without any fine-tuning (also used by the analysis pages).

    The vectors' scale is checked before mapping (too small for float32 is refused, naming the file) and every
    mapper's F_s and F_t after it: finite and not collapsed (`core.checks`); what is legal but degenerate (one
    anchor, one-dimensional vectors, an unusual scale) is recorded in `Spaces.warnings`."""
    kv = inputs.vectors
    warnings = RunWarnings()
    if methods:
        check_vector_scale(kv.vectors, cfg.vectors, warnings)
    tok = models.load_tokenizer(cfg.source_model)
    e_s = source_embeddings(cfg.source_model)
    anchors = select_anchors(cfg, inputs, tok, e_s)
    if on_anchors:
        on_anchors(len(anchors))
    mapped, reinit = {}, {}
    for m in methods:
        mapper = configured_mapper(cfg, m, device)
        ids = {"target_ids": anchors.target_ids} if getattr(mapper, "uses_anchor_ids", False) else {}
        try:
            mapper.fit(e_s[anchors.source_ids], kv.vectors[anchors.target_ids], **ids)
            mapped_source = mapper.transform_source(e_s)
            f_t = mapper.transform_target(kv.vectors)
        except NumericsError as exc:  # a mapper's own check (e.g. LS's W): say which input it was fitted on
            raise NumericsError(f"{exc} (vectors {cfg.vectors}, {len(anchors)} anchors)") from None
        reinit[m] = mapper.reinitialises_source
        check_mapped(m, mapped_source, f_t, vectors=cfg.vectors, n_anchors=len(anchors), reinit=reinit[m],
                     warnings=warnings)
        mapped[m] = (stitching.source_matrix(mapped_source, e_s, tok.all_special_ids), f_t)
    return Spaces(tok, e_s, anchors, mapped, reinit, warnings)


def word_tokenizer(cfg: ExperimentConfig, inputs: Inputs, tok):
    """The run's target tokenizer (`WordTokenizer` over the vectors' words, then any lexicon words) and the
    lexicon vocabulary it was extended with (None unless `extend_vocab_from_lexicon`)."""
    kv = inputs.vectors
    lex_vocab = (lexicon_vocabulary(inputs.pairs, kv.key_to_index, tok, special_ids=tok.all_special_ids)
                 if cfg.extend_vocab_from_lexicon else None)
    wtok = WordTokenizer(list(kv.index_to_key) + list(lex_vocab.words if lex_vocab else ()), tok.special_tokens_map,
                         lang=cfg.lang, unk_policy=cfg.unk_policy, subword_tokenizer=tok, segmentation=cfg.segmentation)
    return wtok, lex_vocab
