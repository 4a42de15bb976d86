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
  RAW target text as the run did. Its pre-tokenizer is the run's segmentation rule written with the library's own
  regex `Split`s (`segmentation_pre_tokenizer`: the word regex, then the elision cut, then the French clitic chain,
  each a translation of `io.text`'s pattern). jieba (zh) is no regex: the closest expressible is a Unigram model
  over the vocabulary scored by jieba's dictionary frequencies (its maximum-probability route, without its HMM and
  its words outside the vocabulary), and the subfolder `presegmented/` holds the exact word-level tokenizer for
  text segmented with jieba and joined by spaces.
  The run looks a word up as written, then lower-cased: for an all-lower-case vocabulary the tokenizer lower-cases
  (exact); for a cased one, the title- and upper-case forms of every lower-case word and each other form of the
  test set found only lower-cased get their own ids with a copy of the lower-case word's row. A model fine-tuned with
  a mean-pooling head (`io.heads`, the embedded e5) cannot be expressed by `AutoModelForSequenceClassification` and
  is refused, as are the unknown-word policies `drop` and `subwords`.
"""
from __future__ import annotations

import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mosecrot_viz.atomic import json_text
from mosecrot_viz.experiment.stitched import ExportError, check_method, load_stitched, read_run
from mosecrot_viz.records import as_results

WHATS = ("projector", "vectors", "model")
METADATA_HEADER = ("word", "language", "anchor", "translation")
PROJECTOR_FORMAT = "%.4g"
_UNUSED_PIECE = re.compile(r"^\[unused\d+\]$|^<unused\d+>$")  # BERT's / Gemma-style placeholder rows: never trained


def check_max_words(max_words) -> int | None:
    """`max_words` as the exports take it: None (everything) or a whole number > 0, else `ExportError` (one line)."""
    if max_words is None:
        return None
    if isinstance(max_words, bool) or not isinstance(max_words, (int, np.integer)) or max_words < 1:
        raise ExportError(f"--max-words must be a whole number above 0 (or left out for every word), got {max_words!r}")
    return int(max_words)


def source_rows(tok) -> list[int]:
    """The PLM token ids worth a row in the mapped space: every token but the special ones ([CLS], [PAD], ...) and
    the never-trained placeholders ([unused0] ... [unused993] in BERT vocabularies), in id order."""
    specials = set(tok.all_special_ids)
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    return [i for t, i in vocab if i not in specials and not _UNUSED_PIECE.match(t)]


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


def mapped_space(run_dir, method: str | None = None, *, results=None, inputs=None, spaces=None,
                 max_words: int | None = None) -> MappedSpace:
    """F_s and F_t of `method` (the run's first stitched method by default) with one metadata row per vector row.

    inputs/spaces: the run's `load_inputs` and `map_spaces` results when the caller has them (the app caches
    them); otherwise they are rebuilt from the run's config (no fine-tuning). max_words: keep the first N target
    words (the most frequent) and the first N English tokens (a whole number > 0; None: all). Special tokens and
    never-trained placeholders ([unused*]) are left out (`source_rows`).
    """
    from mosecrot_viz.defaults.models import is_uncased
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.pipeline import load_inputs, map_spaces

    max_words = check_max_words(max_words)
    results = as_results(results) if results is not None else read_run(run_dir)
    method, _ = check_method(results, method, None)
    cfg = ExperimentConfig.from_record(results.config, Path(run_dir) / "results.json")
    inputs = inputs if inputs is not None else load_inputs(cfg)
    if spaces is None or method not in spaces.mapped:
        spaces = map_spaces(cfg, inputs, [method])
    tok, anchors = spaces.tokenizer, spaces.anchors
    f_s, f_t = spaces.mapped[method]
    src_ids = [i for i in source_rows(tok) if i < len(f_s)][:max_words]
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
    """`vectors.tsv` (no header) and `metadata.tsv` (header + one row per vector) in `out`.

    Four significant digits (`PROJECTOR_FORMAT`): the Projector only draws PCA, t-SNE and UMAP of the rows, for which
    a relative error below 5e-4 is invisible, and the file is about half the size of six digits' (the word2vec export
    keeps six)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    np.savetxt(out / "vectors.tsv", space.vectors, fmt=PROJECTOR_FORMAT, delimiter="\t")
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


# Python's `re` classes spelled out for Oniguruma, the tokenizers library's regex engine, whose \w also takes
# combining marks (Python's does not): the run's patterns are translated, never retyped.
_ONIG_WORD_CHAR = r"[\p{L}\p{N}_]"  # Python's \w: str.isalnum() or "_"
_ONIG_LETTER = r"[\p{L}\p{Nl}\p{No}]"  # Python's [^\W\d_]: \w without decimal digits and "_"
CASE_FORMS = ("title", "upper")  # the forms of each lower-case word a cased vocabulary gets an alias for


def _onig(pattern: str) -> str:
    from mosecrot_viz.io import text

    return pattern.replace(text._LETTER, _ONIG_LETTER).replace(r"\w", _ONIG_WORD_CHAR)


def _keep_alternative(keep) -> str:
    """`\A(?i:word|...)\z` for the whole words a rule keeps (any apostrophe), or '' when it keeps none."""
    import re

    if not keep:
        return ""
    words = "|".join(re.escape(w).replace("'", "['’]") for w in sorted(keep))
    return rf"\A(?i:{words})\z|"


def segmentation_pre_tokenizer(rule: str, single_chars=None):
    """The run's segmentation rule (`io.text.segment`) as a `tokenizers` pre-tokenizer, step for step.

    words: the run's word regex keeps its matches, punctuation removed. elision: each word is then cut after an
    elided letter + apostrophe before a letter (`l'` `autre`), unless the rule keeps the whole word. elision-clitics:
    then the trailing hyphenated pronouns are cut off (`a` `-t` `-il`; `rendez-vous` kept). jieba (not a regex):
    runs of word characters, each character without a one-character word in `single_chars` isolated (so it reads as
    one [UNK], as jieba's own single characters do); the model (a Unigram over the vocabulary) cuts the runs.
    """
    from tokenizers import Regex
    from tokenizers import pre_tokenizers as tp

    from mosecrot_viz.io import text

    if rule == "jieba":
        chars = "".join("\\" + c if c in "\\]^-[" else c for c in sorted(single_chars or ()))
        steps = [tp.Split(Regex(rf"{_ONIG_WORD_CHAR}+"), behavior="removed", invert=True)]
        if chars:
            steps.append(tp.Split(Regex(f"[^{chars}]"), behavior="isolated"))
        return tp.Sequence(steps)
    steps = [tp.Split(Regex(_onig(text._WORD.pattern)), behavior="removed", invert=True)]
    if rule in ("elision", "elision-clitics"):
        keep = text._FR_KEEP if rule == "elision-clitics" else ()
        # each piece: as few characters as reach a cut point (the run's `_ELISION` split) or the word's end
        steps.append(tp.Split(Regex(_keep_alternative(keep) + rf".+?(?:{_onig(text._ELISION.pattern)}|\z)"),
                              behavior="removed", invert=True))
    if rule == "elision-clitics":
        clitic = rf"(?i:[{text.FR_DASHES}](?:{'|'.join(text.FR_CLITICS)}))"
        # the run strips clitics off the end while one follows a letter: a piece is a kept word, a clitic of the
        # word's trailing chain, or the stem before the chain (every clitic ends in a letter, so one test suffices)
        steps.append(tp.Split(Regex(_keep_alternative(text._FR_KEEP) + rf"{clitic}(?={clitic}*\z)|"
                                    rf".+?(?=(?<={_ONIG_LETTER}){clitic}+\z|\z)"), behavior="removed", invert=True))
    elif rule not in ("words", "elision"):
        raise ExportError(f"segmentation rule {rule!r} has no tokenizers pipeline")
    return steps[0] if len(steps) == 1 else tp.Sequence(steps)


def _case_forms(word: str) -> list:
    """The title-case and upper-case forms of a lower-case word that lower-case back to it."""
    forms = {word[:1].upper() + word[1:], word.upper()}
    return [f for f in sorted(forms) if f != word and f.lower() == word]


def hf_tokenizer(wtok, *, rule: str, max_length: int, texts=(), jieba_scores=None):
    """A `PreTrainedTokenizerFast` giving the ids `wtok.encode` gives on raw text (see the module doc).

    The run looks a word up as written, then lower-cased. When every word of the vocabulary is lower-case that is
    a Lowercase normaliser; otherwise the title- and upper-case form of every lower-case word, and each other form
    in `texts` found only lower-cased, get new ids after the words (aliases), whose embedding rows must be copies
    of the lower-case word's row. jieba (zh) is not expressible: the closest is a Unigram over the vocabulary
    scored by `jieba_scores` (word -> log probability, jieba's own dictionary; see `jieba_log_probs`), and
    `presegmented` is the exact word-level tokenizer for text already segmented with jieba and joined by spaces.
    Returns (tokenizer, notes, alias rows: the ids whose rows to append, in order, presegmented or None)."""
    from tokenizers import Tokenizer, normalizers, processors
    from tokenizers import models as tm
    from tokenizers import pre_tokenizers as tp
    from transformers import PreTrainedTokenizerFast

    notes, alias_rows = [], []
    if wtok.unk_policy != "unk":
        raise ExportError(f"unknown-word policy {wtok.unk_policy!r} cannot be written as a word-level tokenizer "
                          "(only 'unk': every word without a vector is [UNK])")
    vocab = {t: i for i, t in enumerate(wtok.specials)}
    vocab.update(wtok.vocab)
    lowercase = wtok.lowercase_fallback and all(w == w.lower() for w in wtok.vocab)

    def alias(form: str, word: str) -> None:
        if form not in vocab:
            vocab[form] = len(wtok) + len(alias_rows)
            alias_rows.append(wtok.vocab[word])

    if wtok.lowercase_fallback and not lowercase:  # a cased vocabulary: aliases for the forms the run lower-cases
        for w in wtok.words:
            if w == w.lower():
                for form in _case_forms(w):
                    alias(form, w)
        n_forms = len(alias_rows)
        for text in texts:
            for w in wtok.split(text):
                if w not in vocab and w.lower() in wtok.vocab:
                    alias(w, w.lower())
        notes.append(f"The run looked a word up lower-cased when its own form had no vector: the title- and "
                     f"upper-case forms of its lower-case words ({n_forms}) and {len(alias_rows) - n_forms} other "
                     "forms of the test set have their own ids here (copies of the lower-case word's row); any other "
                     "such form reads as [UNK].")
    sp = wtok.special_tokens
    cls, sep = sp["cls_token"], sp["sep_token"]

    def finish(tk):
        if lowercase:
            tk.normalizer = normalizers.Lowercase()
        tk.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} $B:1 {sep}:1",
            special_tokens=[(cls, wtok.cls_token_id), (sep, wtok.sep_token_id)])
        return PreTrainedTokenizerFast(tokenizer_object=tk, model_max_length=max_length,
                                       **{k: v for k, v in sp.items() if k in ("pad_token", "unk_token", "cls_token",
                                                                                 "sep_token", "mask_token")})

    presegmented = None
    if rule == "jieba":
        by_id = sorted(vocab.items(), key=lambda kv: kv[1])
        scores = jieba_scores or {}
        floor = min(scores.values(), default=-20.0)
        pieces = [(t, scores.get(t, scores.get(t.lower(), floor)) if i >= len(wtok.specials) else floor)
                  for t, i in by_id]
        tk = Tokenizer(tm.Unigram(pieces, unk_id=wtok.unk_token_id, byte_fallback=False))
        tk.pre_tokenizer = segmentation_pre_tokenizer("jieba", {t for t in wtok.vocab if len(t) == 1})
        pre = Tokenizer(tm.WordLevel(dict(vocab), unk_token=sp["unk_token"]))
        pre.pre_tokenizer = tp.WhitespaceSplit()
        presegmented = finish(pre)
        notes.append("The run segmented Chinese with jieba, which the tokenizers library cannot express: this "
                     "tokenizer cuts raw text with a Unigram over the vocabulary scored by jieba's own word "
                     "frequencies (jieba's maximum-probability route without its dictionary words outside the "
                     "vocabulary and without its HMM for new words), so it only approximates the run. For the run's "
                     "exact ids segment with jieba and load the subfolder: AutoTokenizer.from_pretrained(FOLDER, "
                     "subfolder='presegmented')(' '.join(mosecrot_viz.io.text.segment(text, 'zh'))).")
    else:
        tk = Tokenizer(tm.WordLevel(vocab, unk_token=sp["unk_token"]))
        tk.pre_tokenizer = segmentation_pre_tokenizer(rule)
    return finish(tk), notes, alias_rows, presegmented


def jieba_log_probs(words) -> dict:
    """log(frequency / total) of each of `words` in jieba's dictionary (its route's scores), words it lacks left out."""
    import logging
    import math

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    freq, log_total = jieba.dt.FREQ, math.log(jieba.dt.total)
    return {w: math.log(freq[w]) - log_total for w in words if freq.get(w)}


def export_model(run_dir, out, method: str | None = None, seed: int | None = None, *, progress=None,
                 inputs=None) -> ModelExport:
    """Write the stitched model of `method`/`seed` as a Hugging Face folder `out` (see the module doc)."""
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.pipeline import load_inputs
    from mosecrot_viz.io.text import resolve_rule

    results = read_run(run_dir)
    method, seed = check_method(results, method, seed)
    cfg = ExperimentConfig.from_record(results.config, Path(run_dir) / "results.json")
    if results.methods[method].head_or_cls != "cls":
        raise ExportError(f"{method} was fine-tuned with a mean-pooling head (mosecrot_viz.io.heads), which "
                          "AutoModelForSequenceClassification cannot express; export --what projector or vectors "
                          "instead, or run with a model that keeps its own [CLS] head")
    if cfg.unk_policy != "unk":
        raise ExportError(f"this run's unknown-word policy {cfg.unk_policy!r} cannot be written as a word-level "
                          "tokenizer (only 'unk')")
    inputs = inputs if inputs is not None else load_inputs(cfg)
    sm = load_stitched(run_dir, method, seed, results=results, inputs=inputs, progress=progress)
    rule = resolve_rule(sm.config.segmentation, sm.config.lang)
    scores = jieba_log_probs(sm.wtok.words) if rule == "jieba" else None
    fast, notes, alias_rows, presegmented = hf_tokenizer(sm.wtok, rule=rule, max_length=sm.config.max_length,
                                                         texts=inputs.test["text"], jieba_scores=scores)
    texts = list(inputs.test["text"])  # the tokenizer read against the run's own on the test set, raw text
    ours = sm.wtok.encode(texts, sm.config.max_length).input_ids
    n_run = len(sm.wtok)  # an alias id reads a copy of its word's row: compare the rows each side reads

    def rows(ids):
        return [i if i < n_run else alias_rows[i - n_run] for i in ids]

    differ = sum(a != rows(b) for a, b in zip(ours, fast(texts, truncation=True)["input_ids"]))
    if differ:
        notes.append(f"{differ} of {len(ours)} test sentences get other ids from this tokenizer on raw text than "
                     "from the run" + (" (see the jieba note)." if rule == "jieba" else
                                       " (Python's and the tokenizers library's character classes differ on a few "
                                       "characters)."))
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
    if presegmented is not None:
        presegmented.save_pretrained(out / "presegmented")
    if sm.origin == "re-created":
        notes.append("The run did not keep this model (run with keep_models / --keep-models to keep it); it was "
                     "fine-tuned again with the run's config and seed, which reproduces the run's model on the same "
                     "device and library versions.")
    (out / "README.md").write_text(_card(results, method, seed, rule, notes), encoding="utf-8")
    return ModelExport(out, method, seed, sm.origin, notes)


def _card(results, method: str, seed: int, rule: str, notes: list) -> str:
    """The exported folder's README: what was stitched from what, the run's score, and how to load it."""
    from mosecrot_viz.experiment.config import ExperimentConfig

    cfg = ExperimentConfig.from_dict(results.config)
    m = results.methods[method]
    lines = [f"# Stitched model: {method}, seed {seed}", "",
             f"MoSECroT stitching (arXiv 2401.04821) of `{cfg.source_model}` with target vectors `{cfg.vectors}` "
             f"and lexicon `{cfg.lexicon}` (language {cfg.lang or 'not given'}), exported by mosecrot_viz.",
             "", f"Run macro-F1 on its target test set: {m.macro_f1:.4f} (mean over seeds {list(results.seeds)}).",
             f"Labels: {', '.join(results.labels)}. Segmentation rule: {rule}.", "", "```python",
             "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
             "model = AutoModelForSequenceClassification.from_pretrained(FOLDER)",
             "tok = AutoTokenizer.from_pretrained(FOLDER)",
             "logits = model(**tok(['a raw target-language sentence'], return_tensors='pt', truncation=True)).logits",
             "```", "", "The tokenizer reads raw text as the run did (its segmentation rule as tokenizers regex splits); "
             "keep `truncation=True`: the run read at most the tokenizer's model_max_length tokens.", ""]
    return "\n".join(lines + [f"- {n}" for n in notes]) + "\n"


def export(run_dir, what: str, out, method: str | None = None, seed: int | None = None, *, max_words=None,
           progress=None, inputs=None, spaces=None) -> dict:
    """One export into the folder `out`; returns {"what", "method", "files", "notes", ...}."""
    if what not in WHATS:
        raise ExportError(f"--what must be one of {', '.join(WHATS)}, got {what!r}")
    max_words = check_max_words(max_words)
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
