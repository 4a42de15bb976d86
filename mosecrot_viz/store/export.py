"""Take a run home: its mapped spaces for the Embedding Projector or as word2vec text, its stitched model as a
Hugging Face folder. Shared by `python -m mosecrot_viz export` and the app's download buttons (no Streamlit here).

- `projector`: `vectors.tsv` (one row per English token of the PLM, then one per target word: F_s and F_t of one
  mapping, which share the PLM's input space) and `metadata.tsv` with the header `word language anchor
  translation`, row i describing vector row i (projector.tensorflow.org: Load -> both files).
- `vectors`: the same two spaces as word2vec text, `source.vec` (F_s) and `target.vec` (F_t), e.g. for MUSE or VecMap
  evaluation scripts.
- `model`: `save_pretrained` weights (safetensors) and config (the run's labels as `id2label`/`label2id`) of the
  stitched model, and a word-level tokenizer built with the `tokenizers` library (WordLevel over [specials] + target
  words in the run's id order, [UNK] for the rest, [CLS] ... [SEP] added by a TemplateProcessing post-processor),
  so `AutoModelForSequenceClassification.from_pretrained(folder)` and `AutoTokenizer.from_pretrained(folder)` read
  target text as the run did. Its pre-tokenizer is the `words` rule (a Unicode word regex, punctuation dropped);
  the elision rules (fr, it, ca) and jieba (zh) cannot be written as a `tokenizers` pre-tokenizer, so for those the
  folder splits on whitespace and its README says to pre-segment text with `mosecrot_viz.io.text.segment`.
  The run looks a word up as written, then lower-cased: for an all-lower-case vocabulary the tokenizer lower-cases
  (exact); for a cased one, each form of the test set found only lower-cased gets its own id with a copy of the
  lower-case word's row, so the test set reads exactly as in the run. A model fine-tuned with
  a mean-pooling head (`io.heads`, the embedded e5) cannot be expressed by `AutoModelForSequenceClassification` and
  is refused, as are the unknown-word policies `drop` and `subwords`.
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mosecrot_viz.atomic import json_text
from mosecrot_viz.experiment.stitched import ExportError, check_method, load_stitched, read_run

WHATS = ("projector", "vectors", "model")
METADATA_HEADER = ("word", "language", "anchor", "translation")


@dataclass
class MappedSpace:
    """Rows of one mapping's shared space: English tokens (F_s, specials left out) then target words (F_t)."""

    vectors: np.ndarray
    words: list
    language: list
    anchor: list
    translation: list
    n_source: int
    method: str


def _clean(text) -> str:
    s = "" if text is None else str(text)
    return " ".join(s.replace("\t", " ").replace("\r", " ").replace("\n", " ").split()) or "<empty>"


def mapped_space(run_dir, method: str | None = None, *, results: dict | None = None, inputs=None, spaces=None,
                 max_words: int | None = None) -> MappedSpace:
    """F_s and F_t of `method` (the run's first stitched method by default) with one metadata row per vector row.

    inputs/spaces: the run's `load_inputs` and `map_spaces` results when the caller has them (the app caches
    them); otherwise they are rebuilt from the run's config (no fine-tuning). max_words: keep the first N target
    words (the most frequent) and the first N English tokens.
    """
    from mosecrot_viz.defaults.models import is_uncased
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.pipeline import load_inputs, map_spaces

    results = results or read_run(run_dir)
    method, _ = check_method(results, method, None)
    cfg = ExperimentConfig.from_dict(results["config"])
    inputs = inputs if inputs is not None else load_inputs(cfg)
    if spaces is None or method not in spaces.mapped:
        spaces = map_spaces(cfg, inputs, [method])
    tok, anchors = spaces.tokenizer, spaces.anchors
    f_s, f_t = spaces.mapped[method]
    specials = set(tok.all_special_ids)
    src_ids = [i for i in range(len(f_s)) if i not in specials][:max_words]
    src_words = tok.convert_ids_to_tokens(src_ids)
    tgt_words = list(inputs.vectors.index_to_key)[: len(f_t)][:max_words]
    lower = is_uncased(tok)
    en_to_t, t_to_en = {}, {}
    for en, t in inputs.pairs:
        en_to_t.setdefault(en.lower() if lower else en, t)
        t_to_en.setdefault(t, en)
    anchor_src = dict(zip((int(i) for i in anchors.source_ids), anchors.target_words))
    anchor_tgt = dict(zip(anchors.target_words, anchors.source_words))
    lang = cfg.lang or "target"
    words = [_clean(w) for w in src_words] + [_clean(w) for w in tgt_words]
    language = ["en"] * len(src_ids) + [lang] * len(tgt_words)
    anchor = [int(i) in anchor_src for i in src_ids] + [w in anchor_tgt for w in tgt_words]
    translation = [_clean(anchor_src.get(int(i), en_to_t.get(w, ""))) if (int(i) in anchor_src or w in en_to_t) else ""
                   for i, w in zip(src_ids, src_words)]
    translation += [_clean(anchor_tgt.get(w, t_to_en.get(w, ""))) if (w in anchor_tgt or w in t_to_en) else ""
                    for w in tgt_words]
    vectors = np.vstack([np.asarray(f_s)[src_ids], np.asarray(f_t)[: len(tgt_words)]]).astype(np.float32)
    return MappedSpace(vectors, words, language, anchor, translation, len(src_ids), method)


def write_projector(space: MappedSpace, out) -> list[Path]:
    """`vectors.tsv` (no header) and `metadata.tsv` (header + one row per vector) in `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    np.savetxt(out / "vectors.tsv", space.vectors, fmt="%.6g", delimiter="\t")
    with open(out / "metadata.tsv", "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(METADATA_HEADER) + "\n")
        for row in zip(space.words, space.language, space.anchor, space.translation):
            fh.write(f"{row[0]}\t{row[1]}\t{'yes' if row[2] else 'no'}\t{row[3]}\n")
    return [out / "vectors.tsv", out / "metadata.tsv"]


def _write_vec(path: Path, words, matrix) -> Path:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"{len(words)} {matrix.shape[1]}\n")
        for w, row in zip(words, matrix):
            fh.write(w.replace(" ", "_") + " " + " ".join(f"{x:.6g}" for x in row) + "\n")
    return path


def write_word2vec(space: MappedSpace, out) -> list[Path]:
    """`source.vec` (F_s, English tokens) and `target.vec` (F_t, target words), word2vec text with a header."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n = space.n_source
    return [_write_vec(out / "source.vec", space.words[:n], space.vectors[:n]),
            _write_vec(out / "target.vec", space.words[n:], space.vectors[n:])]


# ---- the stitched model as a Hugging Face folder ----

@dataclass
class ModelExport:
    folder: Path
    method: str
    seed: int
    origin: str  # "stored" (the run kept it) or "re-created" (fine-tuned again, seeded)
    notes: list = field(default_factory=list)


def hf_tokenizer(wtok, *, rule: str, max_length: int, texts=()):
    """A `PreTrainedTokenizerFast` giving the ids `wtok.encode` gives (for the `words` rule; see the module doc).

    The run looks a word up as written, then lower-cased. When every word of the vocabulary is lower-case that is
    a Lowercase normaliser; otherwise each form in `texts` found only lower-cased gets a new id after the words
    (an alias), whose embedding row must be a copy of its lower-case word's row. Returns (tokenizer, notes, alias
    rows: the ids whose rows to append, in order)."""
    from tokenizers import Regex, Tokenizer, normalizers, processors
    from tokenizers import models as tm
    from tokenizers import pre_tokenizers as tp
    from transformers import PreTrainedTokenizerFast

    from mosecrot_viz.io.text import _WORD

    notes, alias_rows = [], []
    if wtok.unk_policy != "unk":
        raise ExportError(f"unknown-word policy {wtok.unk_policy!r} cannot be written as a word-level tokenizer "
                          "(only 'unk': every word without a vector is [UNK])")
    vocab = {t: i for i, t in enumerate(wtok.specials)}
    vocab.update(wtok.vocab)
    lowercase = wtok.lowercase_fallback and all(w == w.lower() for w in wtok.vocab)
    if wtok.lowercase_fallback and not lowercase:  # a cased vocabulary: aliases for the test set's forms
        for text in texts:
            for w in wtok.split(text):
                if w not in vocab and w.lower() in wtok.vocab:
                    vocab[w] = len(wtok) + len(alias_rows)
                    alias_rows.append(wtok.vocab[w.lower()])
        notes.append(f"The run looked a word up lower-cased when its own form had no vector; {len(alias_rows)} such "
                     "forms of the test set have their own ids here (copies of the lower-case word's row), any other "
                     "such form reads as [UNK].")
    sp = wtok.special_tokens
    tk = Tokenizer(tm.WordLevel(vocab, unk_token=sp["unk_token"]))
    if lowercase:
        tk.normalizer = normalizers.Lowercase()
    if rule == "words":
        tk.pre_tokenizer = tp.Split(Regex(_WORD.pattern), behavior="removed", invert=True)
    else:
        tk.pre_tokenizer = tp.WhitespaceSplit()
        notes.append(f"The run split target text with the '{rule}' rule (mosecrot_viz.io.text), which the tokenizers "
                     "library cannot express: give this tokenizer text already split into words and joined by spaces, "
                     "e.g. ' '.join(mosecrot_viz.io.text.segment(text, lang)).")
    cls, sep = sp["cls_token"], sp["sep_token"]
    tk.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} $B:1 {sep}:1",
        special_tokens=[(cls, wtok.cls_token_id), (sep, wtok.sep_token_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, model_max_length=max_length,
                                   **{k: v for k, v in sp.items() if k in ("pad_token", "unk_token", "cls_token",
                                                                             "sep_token", "mask_token")})
    return fast, notes, alias_rows


def export_model(run_dir, out, method: str | None = None, seed: int | None = None, *, progress=None,
                 inputs=None) -> ModelExport:
    """Write the stitched model of `method`/`seed` as a Hugging Face folder `out` (see the module doc)."""
    from mosecrot_viz.experiment.pipeline import load_inputs
    from mosecrot_viz.io.text import resolve_rule

    results = read_run(run_dir)
    method, seed = check_method(results, method, seed)
    cfg = results["config"]
    if (results["methods"][method].get("head") or "cls") != "cls":
        raise ExportError(f"{method} was fine-tuned with a mean-pooling head (mosecrot_viz.io.heads), which "
                          "AutoModelForSequenceClassification cannot express; export --what projector or vectors "
                          "instead, or run with a model that keeps its own [CLS] head")
    if cfg.get("unk_policy", "unk") != "unk":
        raise ExportError(f"this run's unknown-word policy {cfg['unk_policy']!r} cannot be written as a word-level "
                          "tokenizer (only 'unk')")
    from mosecrot_viz.experiment.config import ExperimentConfig

    inputs = inputs if inputs is not None else load_inputs(ExperimentConfig.from_dict(cfg))
    sm = load_stitched(run_dir, method, seed, results=results, inputs=inputs, progress=progress)
    rule = resolve_rule(sm.config.segmentation, sm.config.lang)
    fast, notes, alias_rows = hf_tokenizer(sm.wtok, rule=rule, max_length=sm.config.max_length,
                                           texts=inputs.test["text"])
    if rule == "words":  # the tokenizer read against the run's own on the test set
        ours = sm.wtok.encode(inputs.test["text"], sm.config.max_length).input_ids
        theirs = fast(list(inputs.test["text"]), truncation=True)["input_ids"]
        differ = sum(a != b for a, b in zip(ours, theirs))
        if differ:
            notes.append(f"{differ} of {len(ours)} test sentences get other ids from this tokenizer than from the run "
                         "(Python's and the tokenizers library's \\w differ on some scripts' combining marks).")
    model = sm.model
    if alias_rows:
        from mosecrot_viz.core.stitching import input_embeddings, set_input_embeddings

        rows = input_embeddings(model)
        set_input_embeddings(model, np.vstack([rows, rows[alias_rows]]), pad_token_id=sm.wtok.pad_token_id)
    model.config.id2label = dict(enumerate(sm.labels))
    model.config.label2id = {lab: i for i, lab in enumerate(sm.labels)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    fast.save_pretrained(out)
    if sm.origin == "re-created":
        notes.append("The run did not keep this model (run with keep_models / --keep-models to keep it); it was "
                     "fine-tuned again with the run's config and seed, which reproduces the run's model on the same "
                     "device and library versions.")
    (out / "README.md").write_text(_card(results, method, seed, rule, notes), encoding="utf-8")
    return ModelExport(out, method, seed, sm.origin, notes)


def _card(results: dict, method: str, seed: int, rule: str, notes: list) -> str:
    cfg = results["config"]
    m = results["methods"][method]
    lines = [f"# Stitched model: {method}, seed {seed}", "",
             f"MoSECroT stitching (arXiv 2401.04821) of `{cfg['source_model']}` with target vectors `{cfg['vectors']}` "
             f"and lexicon `{cfg['lexicon']}` (language {cfg.get('lang') or 'not given'}), exported by mosecrot_viz.",
             "", f"Run macro-F1 on its target test set: {m['macro_f1']:.4f} (mean over seeds {cfg['seeds']}).",
             f"Labels: {', '.join(results['labels'])}. Segmentation rule: {rule}.", "", "```python",
             "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
             "model = AutoModelForSequenceClassification.from_pretrained(FOLDER)",
             "tok = AutoTokenizer.from_pretrained(FOLDER)",
             "logits = model(**tok(['a target-language sentence'], return_tensors='pt', truncation=True)).logits",
             "```", ""]
    return "\n".join(lines + [f"- {n}" for n in notes]) + "\n"


def export(run_dir, what: str, out, method: str | None = None, seed: int | None = None, *, max_words=None,
           progress=None, inputs=None, spaces=None) -> dict:
    """One export into the folder `out`; returns {"what", "method", "files", "notes", ...}."""
    if what not in WHATS:
        raise ExportError(f"--what must be one of {', '.join(WHATS)}, got {what!r}")
    if what == "model":
        done = export_model(run_dir, out, method, seed, progress=progress, inputs=inputs)
        return {"what": what, "method": done.method, "seed": done.seed, "origin": done.origin, "notes": done.notes,
                "files": sorted(str(p) for p in Path(out).iterdir())}
    space = mapped_space(run_dir, method, inputs=inputs, spaces=spaces, max_words=max_words)
    files = write_projector(space, out) if what == "projector" else write_word2vec(space, out)
    return {"what": what, "method": space.method, "files": [str(f) for f in files], "notes": [],
            "rows": len(space.words), "source_rows": space.n_source}


def zip_folder(folder) -> bytes:
    """Every file under `folder` in a zip (paths relative to it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
    return buf.getvalue()


def export_zip(run_dir, what: str, method: str | None = None, seed: int | None = None, **kw) -> bytes:
    """`export` into a temporary folder, returned as zip bytes (the app's download buttons)."""
    with tempfile.TemporaryDirectory(prefix="mosecrot-export-") as tmp:
        export(run_dir, what, tmp, method, seed, **kw)
        return zip_folder(tmp)


def summary_line(result: dict) -> str:
    return json_text({k: v for k, v in result.items() if k != "files"}, indent=None)  # strict JSON
