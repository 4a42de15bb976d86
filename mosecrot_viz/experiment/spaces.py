"""The shared space of a run: the anchors and, per mapper, (F_s, F_t), without any fine-tuning.

`map_spaces` is what a run does before it fine-tunes, and what the analysis pages call to rebuild a stored run's
spaces (they never store F matrices). `select_anchors` is the one anchor selection: the run's, Setup's preview
(`count_anchors`) and the analyses' all go through it.

Normalisation (`ExperimentConfig.normalisation`, `normalise_rows`), a measured option: `none` uses the vectors as
shipped (the paper, and the default), `unit` scales every row to unit length, `center-unit` subtracts the mean row
(over the whole vocabulary) and then scales to unit length (VecMap's and MUSE's centring before normalising). Where it
applies, decided by what each matrix is for:
* the static vectors E_t, always: every mapper is fitted on and maps normalised target rows, and the anchor policies
  and filters that read vectors (`aligned`, `self-learned`, `--anchor-agreement`) read them normalised too; the `lr`
  baseline and the vector files themselves are untouched;
* the PLM's E_s, for the mappers that re-initialise it (the paper's RR): their similarities R_s and the rows F_s and
  F_t are built from are the normalised E_s, which is self-consistent because the model is fine-tuned with that F_s
  (special tokens keep their E_s rows, as they do in the swap);
* E_s is NOT normalised for the mappers that keep it (`ls`, `procrustes`, `*-keep`, `lexcopy-*`): their F_t must live
  in the space of the rows the shared fine-tune reads, E_s as it is; only their target side is normalised.
Unit length leaves cosines, hence RR's top-k and weights, unchanged; it changes the scale of the rows mapped from.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mosecrot_viz.core import stitching
from mosecrot_viz.core.anchor_quality import choose_by_alignment, keep_agreeing, rr_agreement
from mosecrot_viz.core.anchors import AnchorSet, extract_anchors, filter_anchors
from mosecrot_viz.core.checks import NumericsError, RunWarnings, check_mapped, check_vector_scale
from mosecrot_viz.core.mappers import RR_MAPPERS, make_mapper
from mosecrot_viz.core.numerics import unit_rows
from mosecrot_viz.core.script_shift import ShiftedWordTokenizer
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


def normalise_rows(x, mode: str) -> np.ndarray:
    """Rows of `x` (n, d) by `mode`: "none" returns `x` itself (no copy); "unit" divides each row by its L2 norm;
    "center-unit" subtracts the mean of all rows, then divides by the norm. Rows of norm 0 stay 0. Float32 out.

    >>> normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0]]), "unit").tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    >>> normalise_rows(np.array([[1.0, 2.0], [3.0, 2.0]]), "center-unit").tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    if mode == "none":
        return x
    if mode not in ("unit", "center-unit"):
        raise ValueError(f"unknown normalisation {mode!r}")
    out = np.array(x, dtype=np.float32, copy=True)
    if mode == "center-unit":
        out -= out.mean(axis=0, dtype=np.float64).astype(np.float32)
    return unit_rows(out)  # overflow-safe (core.numerics): rows at 1e20 or 1e-40 give the same unit rows


def configured_mapper(cfg: ExperimentConfig, method: str, device="cpu"):
    """An unfitted mapper for `method` with the run's top-k and temperature (the RR mappers: those whose registry
    entry takes them, `core.method_registry.takes_rr_options`)."""
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
    def embeddings():  # E_s for the policies and filters below, normalised as the run's mapping reads it
        return normalise_rows(e_s() if callable(e_s) else e_s, cfg.normalisation)

    vectors = normalise_rows(kv.vectors, cfg.normalisation) \
        if cfg.anchor_policy in ("aligned", "self-learned") or cfg.anchor_agreement_share else kv.vectors
    try:
        anchors = extract_anchors(
            inputs.pairs, tok.get_vocab(), inputs.listed_vocab(), lowercase_source=models.is_uncased(tok),
            special_tokens=tok.all_special_tokens, policy=cfg.anchor_policy,
        )
    except OverlapError as exc:  # no single file to blame: name the three inputs that were compared
        raise OverlapError(f"lexicon {cfg.lexicon} against vectors {cfg.vectors} and the vocabulary of model "
                           f"{cfg.source_model}: {exc}") from None
    if cfg.anchor_policy == "aligned":
        anchors = choose_by_alignment(anchors, inputs.pairs, tok.get_vocab(), embeddings(), vectors,
                                      lowercase_source=models.is_uncased(tok), special_tokens=tok.all_special_tokens)
    if cfg.anchor_policy == "self-learned":
        anchors = self_learned_anchors(anchors, tok.get_vocab(), embeddings(), kv.index_to_key[: inputs.n_listed],
                                       vectors[: inputs.n_listed],
                                       special_tokens=tok.all_special_tokens)
    if cfg.drop_stopword_anchors or cfg.n_anchors:
        anchors = filter_anchors(anchors, drop_stopwords=cfg.drop_stopword_anchors, n=cfg.n_anchors, seed=cfg.anchor_seed)
    if cfg.anchor_agreement_share:
        scores = rr_agreement(embeddings()[anchors.source_ids], vectors[anchors.target_ids])
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
    e_t = normalise_rows(kv.vectors, cfg.normalisation)  # see the module text: where normalisation applies
    e_s_reinit = None
    for m in methods:
        mapper = configured_mapper(cfg, m, device)
        if mapper.reinitialises_source and e_s_reinit is None:
            e_s_reinit = normalise_rows(e_s, cfg.normalisation)
        source = e_s_reinit if mapper.reinitialises_source else e_s
        try:
            mapper.fit(source[anchors.source_ids], e_t[anchors.target_ids], target_ids=anchors.target_ids)
            mapped_source = mapper.transform_source(source)
            f_t = mapper.transform_target(e_t)
        except NumericsError as exc:  # a mapper's own check (e.g. LS's W): say which input it was fitted on
            raise NumericsError(f"{exc} (vectors {cfg.vectors}, {len(anchors)} anchors)") from None
        reinit[m] = mapper.reinitialises_source
        check_mapped(m, mapped_source, f_t, vectors=cfg.vectors, n_anchors=len(anchors), reinit=reinit[m],
                     warnings=warnings, temperature=mapper.get_params().get("temperature"))
        mapped[m] = (stitching.source_matrix(mapped_source, e_s, tok.all_special_ids), f_t)
    return Spaces(tok, e_s, anchors, mapped, reinit, warnings)


def word_tokenizer(cfg: ExperimentConfig, inputs: Inputs, tok):
    """The run's target tokenizer (`WordTokenizer` over the vectors' words, then any lexicon words) and the
    lexicon vocabulary it was extended with (None unless `extend_vocab_from_lexicon`)."""
    kv = inputs.vectors
    lex_vocab = (lexicon_vocabulary(inputs.pairs, kv.key_to_index, tok, special_ids=tok.all_special_ids)
                 if cfg.extend_vocab_from_lexicon else None)
    words = list(kv.index_to_key) + list(lex_vocab.words if lex_vocab else ())
    opts = dict(lang=cfg.lang, unk_policy=cfg.unk_policy, subword_tokenizer=tok, segmentation=cfg.segmentation)
    wtok = (WordTokenizer(words, tok.special_tokens_map, **opts) if inputs.script_shift is None  # renamed words:
            else ShiftedWordTokenizer(inputs.script_shift, words, tok.special_tokens_map, **opts))  # segmented first
    return wtok, lex_vocab
