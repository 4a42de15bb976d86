"""The gap ladder: the stitched model's loss taken apart by interventions, one link of the chain at a time.

Every target rung reads the same target test sentences through one combined input matrix

    C = [M ; T]    M: the fine-tuned model's own input rows, (|V_s|, D): F_s for the paper's RR, E_s for keep methods
                   T: the run's swapped target matrix, (S + |V_t| + extra, D): [E_s specials; F_t; beyond-paper blocks]

(a run stacks only the rows of T its test sentences read: `compact_target_rows`),
so each word can be given either its lexicon translation's row of M (the exact row the model saw in
fine-tuning; id = the PLM token id) or its mapped row of T (id = |V_s| + its `WordTokenizer` id).
Nothing is trained: every rung is one more inference pass of a model the run fine-tuned anyway.

Rungs, in order; each changes one link of the chain from the one before:

- ``english_original``: the model fine-tuned with the PLM's own E_s, on English sentences.
- ``english_method``: the method's own fine-tuned model, same sentences (1->2: re-initialising the embeddings).
- ``oracle_translation``: target sentences; a word the lexicon translates gets its translation's row of M,
  other vector words their mapped row, the rest the run's unknown-word policy (2->3: word-by-word transfer).
- ``oracle_vector_vocab``: as above, but a word without a static vector follows the unknown-word policy
  even when the lexicon translates it (3->4: the static vocabulary's coverage).
- ``stitched``: every vector word through its mapped row: the method's own result (4->5: the mapping's
  error on translated words; it can be negative when a soft mapping carries more than one gloss).

English rungs read the English test set; without one, the English dev split (which chose the epoch, so it
flatters), and the rung's name says so: ``english_original (dev)``. Reference, not a rung: ``dictionary``
(every translated word its translation's row, every other word [UNK]: word-by-word translation with no
static vectors at all).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mosecrot_viz.core.anchors import extract_anchors
from mosecrot_viz.errors import OverlapError

ENGLISH_RUNGS = ("english_original", "english_method")
TARGET_RUNGS = ("oracle_translation", "oracle_vector_vocab", "stitched")
RUNGS = ENGLISH_RUNGS + TARGET_RUNGS
REFERENCES = ("dictionary",)
#: beyond the paper: `<m>+st`'s last rung, its self-trained result after m's chain (not measured by the meter: derived
#: when a stored ladder is read, `analysis.ladder.ladder_of`)
SELF_TRAINED = "self_trained"
DEV_SUFFIX = " (dev)"  # appended to an English rung's name when it was read on the English dev split

# a target word's status, as the per-example view colours it
ANCHOR, VECTOR, LEXICON, NONE = "anchor", "vector only", "lexicon only", "no vector"
STATUSES = (ANCHOR, VECTOR, LEXICON, NONE)


def unknown_word_share(unknown_rate, n_words) -> float:
    """Share of all test words (after segmentation) without a static vector: each sentence's unknown rate weighted by
    its word count. The one figure Setup, Home, Why and results.json (`data.test_unknown_word_share`) show."""
    n = np.asarray(n_words, dtype=float)
    return float((np.asarray(unknown_rate, dtype=float) * n).sum() / max(n.sum(), 1.0))


def rung_base(name: str) -> str:
    """The canonical rung of a stored name (`'english_original (dev)'` -> `'english_original'`)."""
    return name[: -len(DEV_SUFFIX)] if name.endswith(DEV_SUFFIX) else name


def translation_table(pairs, source_vocab: dict[str, int], *, lowercase_source: bool = True, special_tokens=(),
                      anchors=None, prefer_anchors: bool = False) -> dict[str, int]:
    """Target word -> PLM token id of its lexicon translation, for every lexicon target word.

    The translation is chosen as the anchors are (`extract_anchors`, policy "first": the first listed
    translation that is one whole PLM token), but over all lexicon target words, not only those with a
    static vector. With `prefer_anchors` (anchor policy "aligned") an anchor word keeps the translation
    its anchor pair re-chose. Returns {} when no English side is a whole token.
    """
    pairs = list(pairs)
    targets = {t: i for i, t in enumerate(dict.fromkeys(t for _, t in pairs))}
    try:
        found = extract_anchors(pairs, source_vocab, targets, lowercase_source=lowercase_source,
                                special_tokens=special_tokens, policy="first")
        table = dict(zip(found.target_words, (int(i) for i in found.source_ids)))
    except OverlapError:
        table = {}
    if prefer_anchors and anchors is not None:
        table.update(zip(anchors.target_words, (int(i) for i in anchors.source_ids)))
    return table


@dataclass(frozen=True)
class SourceIds:
    """The PLM's own special ids (rows of M)."""

    cls: int
    sep: int
    pad: int
    unk: int

    @classmethod
    def of(cls, tokenizer) -> "SourceIds":
        return cls(tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id, tokenizer.unk_token_id)


@dataclass
class RungEncoding:
    """Target texts encoded for every target rung (and the dictionary reference) over C = [M ; T].

    ids[rung][i]: id list of text i; spans[rung][i][j]: (start, end) positions of word j in it
    (end == start when the word was dropped or truncated); pad[rung]: the padding id to use.
    """

    ids: dict[str, list[list[int]]]
    spans: dict[str, list[list[tuple[int, int]]]]
    pad: dict[str, int]
    mask: dict[str, int]  # the id that replaces a word for occlusion ([UNK] of that rung's reading)
    words: list[list[str]]
    status: list[list[str]]
    translation: list[list[int | None]]  # PLM id of each word's lexicon translation, or None
    mapped: list[list[int | None]]  # row of T for each vector word, or None


class LadderReader:
    """Turns target text into the id sequences of each target rung.

    wtok: the run's `WordTokenizer` (ids into T); table: `translation_table`; source: the PLM's
    special ids; n_model_rows: |V_s| (rows of M, the offset of T in C); n_static: how many of the
    tokenizer's words have a static vector (beyond-paper extensions come after them).
    """

    def __init__(self, wtok, table: dict[str, int], source: SourceIds, *, n_model_rows: int, n_static: int,
                 anchor_words=()):
        self.wtok, self.table, self.source = wtok, table, source
        self.offset, self.n_static = int(n_model_rows), int(n_static)
        self.n_special = len(wtok.specials)
        self.anchor_words = set(anchor_words)

    def _vector_key(self, word: str) -> str | None:
        i = self.wtok.lookup(word)
        if i is None or not self.n_special <= i < self.n_special + self.n_static:
            return None
        return self.wtok.words[i - self.n_special]

    def translate(self, word: str) -> int | None:
        """PLM id of the lexicon translation of `word` (as the vectors spell it, else as written, else lower-cased)."""
        key = self._vector_key(word)
        for form in (key, word, word.lower()):
            if form is not None and form in self.table:
                return self.table[form]
        return None

    def status(self, word: str) -> str:
        key = self._vector_key(word)
        if key is not None:
            return ANCHOR if key in self.anchor_words else VECTOR
        return LEXICON if self.translate(word) is not None else NONE

    def word_ids(self, word: str) -> dict[str, list[int]]:
        """The ids each target rung gives one word."""
        own = [self.offset + i for i in self.wtok.word_ids(word)]  # the run's own reading, shifted into T
        tr = self.translate(word)
        has_vector = self._vector_key(word) is not None
        return {
            "oracle_translation": [tr] if tr is not None else own,
            "oracle_vector_vocab": [tr] if tr is not None and has_vector else own,
            "stitched": own,
            "dictionary": [tr] if tr is not None else [self.source.unk],
        }

    def encode(self, texts, max_length: int = 128) -> RungEncoding:
        """Every text for every target rung, truncated like `WordTokenizer.encode`."""
        names = TARGET_RUNGS + REFERENCES
        ids = {r: [] for r in names}
        spans = {r: [] for r in names}
        words_all, status_all, trans_all, mapped_all = [], [], [], []
        w = self.wtok
        cls_sep = {r: (self.source.cls, self.source.sep) for r in names}
        cls_sep["stitched"] = (self.offset + w.cls_token_id, self.offset + w.sep_token_id)  # exactly the run's ids
        for text in texts:
            words = w.split(text)
            per_word = [self.word_ids(x) for x in words]
            for r in names:
                seq, sp, pos = [], [], 1
                for wid in per_word:
                    piece = wid[r][: max(0, max_length - 2 - len(seq))]
                    sp.append((pos, pos + len(piece)))
                    seq += piece
                    pos += len(piece)
                ids[r].append([cls_sep[r][0]] + seq + [cls_sep[r][1]])
                spans[r].append(sp)
            words_all.append(words)
            status_all.append([self.status(x) for x in words])
            trans_all.append([self.translate(x) for x in words])
            mapped_all.append([(self.offset + self.wtok.lookup(x)) if self._vector_key(x) is not None else None
                               for x in words])
        pad = {r: self.source.pad for r in names}
        pad["stitched"] = self.offset + w.pad_token_id
        mask = {r: self.source.unk for r in names}
        mask["stitched"] = self.offset + w.unk_token_id
        return RungEncoding(ids, spans, pad, mask, words_all, status_all, trans_all, mapped_all)


def combined_matrix(model_rows, target_matrix, rows=None) -> np.ndarray:
    """C = [M ; T], float32, shape (|V_s| + |T|, D); with `rows` (indices into T, shape (r,)) C' = [M ; T[rows]],
    shape (|V_s| + r, D), for an encoding renumbered by `compact_target_rows`."""
    t = np.asarray(target_matrix)
    return np.vstack([np.asarray(model_rows, dtype=np.float32),
                      np.asarray(t if rows is None else t[rows], dtype=np.float32)])


def compact_target_rows(enc: RungEncoding, offset: int) -> tuple[np.ndarray, RungEncoding]:
    """The rows of T that the encoded texts read, and the encoding with its ids renumbered onto C' = [M ; T[rows]].

    Why: C = [M ; T] copies the whole target matrix once per method and seed (2M x 384 float32, 3 GB, for a full
    fastText file) though the ladder's test sentences read a few thousand of its rows. rows: sorted indices into
    T, shape (r,); an id >= `offset` (a row of T) becomes offset + its position in rows, ids of M are unchanged,
    and `mapped` keeps T's own rows (the examples look those up in T itself). Every rung then reads the same
    vectors as over the full C, so its predictions are the same (tests/core/test_ladder_compact.py)."""
    from dataclasses import replace

    used = {i for seqs in enc.ids.values() for seq in seqs for i in seq if i >= offset}
    used |= {v for ids in (enc.pad, enc.mask) for v in ids.values() if v >= offset}
    rows = np.array(sorted(used), dtype=np.int64) - offset
    renumber = {int(r) + offset: offset + j for j, r in enumerate(rows)}
    ids = {rung: [[renumber.get(i, i) for i in seq] for seq in seqs] for rung, seqs in enc.ids.items()}
    return rows, replace(enc, ids=ids, pad={r: renumber.get(v, v) for r, v in enc.pad.items()},
                         mask={r: renumber.get(v, v) for r, v in enc.mask.items()})


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, C) logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def occlusion(predict, ids: list[int], spans: list[tuple[int, int]], mask_id: int, pad_id: int) -> tuple[int, np.ndarray]:
    """Per word, the drop in the predicted class's probability when the word's ids become `mask_id`.

    predict(seqs, pad_id) -> (n, C) logits. Returns (predicted class, drops of shape (n_words,));
    a word that was dropped or truncated (empty span) gets NaN.
    """
    variants = [ids]
    for start, end in spans:
        if end > start:
            variants.append(ids[:start] + [mask_id] * (end - start) + ids[end:])
    probs = softmax(predict(variants, pad_id))
    c = int(probs[0].argmax())
    drops, k = np.full(len(spans), np.nan), 1
    for j, (start, end) in enumerate(spans):
        if end > start:
            drops[j] = probs[0, c] - probs[k, c]
            k += 1
    return c, drops


def nearest_source_tokens(rows: np.ndarray, model_rows: np.ndarray, exclude_ids=()) -> np.ndarray:
    """For each row (n, D), the id of the most cosine-similar row of M (|V_s|, D), never one of `exclude_ids`."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    m = model_rows / np.maximum(np.linalg.norm(model_rows, axis=1, keepdims=True), 1e-12)
    r = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    sims = r @ m.T
    sims[:, list(exclude_ids)] = -np.inf
    return sims.argmax(axis=1)


@dataclass
class RungScores:
    """Per rung, the metrics dicts of each seed (from `classification_metrics`), in seed order."""

    per_seed: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, rung: str, metrics: dict) -> None:
        self.per_seed.setdefault(rung, []).append(metrics)


def summarise_rung(name: str, per_seed: list[dict]) -> dict:
    """{"rung", "macro_f1" (mean), "macro_f1_std" (ddof=1; 0.0 for one seed), "per_seed", "per_class" (mean F1)}."""
    f1 = np.array([m["macro_f1"] for m in per_seed], dtype=float)
    labels = per_seed[0]["labels"]
    return {
        "rung": name,
        "macro_f1": float(f1.mean()),
        "macro_f1_std": float(f1.std(ddof=1)) if len(f1) > 1 else 0.0,
        "per_seed": [float(x) for x in f1],
        "per_class": {lab: float(np.mean([m["per_class"][lab]["f1"] for m in per_seed])) for lab in labels},
    }


def ordered_ladder(scores: RungScores, english_suffix: str = "") -> list[dict]:
    """The stored ladder: the rungs that were measured, in order (English ones named with `english_suffix`)."""
    out = []
    for rung in RUNGS:
        if rung in scores.per_seed:
            out.append(summarise_rung(rung + (english_suffix if rung in ENGLISH_RUNGS else ""), scores.per_seed[rung]))
    return out



class LadderMeter:
    """Measures every rung for each stitched method and seed during a run, and assembles what is stored.

    reader: a `LadderReader`; texts/gold/ids: the target test set; labels: class names in model order;
    id_to_token: the PLM tokenizer's `convert_ids_to_tokens`; exclude_ids: the PLM's special ids (never
    a nearest English token); n_examples: how many sentences (first seed only) get occlusion detail.
    """

    def __init__(self, reader: LadderReader, texts, gold, ids, labels, device, *, max_length: int,
                 english_suffix: str = "", id_to_token=None, exclude_ids=(), n_examples: int = 16):
        self.reader, self.labels, self.device = reader, list(labels), device
        self.texts, self.gold, self.ids = list(texts), list(gold), [str(i) for i in ids]
        self.t_rows, self.enc = compact_target_rows(reader.encode(self.texts, max_length), reader.offset)
        self.english_suffix, self.id_to_token = english_suffix, id_to_token
        self.exclude_ids, self.n_examples = list(exclude_ids), n_examples
        self.scores: dict[str, RungScores] = {}
        self.reference: dict[str, RungScores] = {}
        self.rows: list = []
        self.examples: dict[str, dict] = {}
        self.seconds = 0.0
        self.english_preds: dict[str, list[list[str]]] = {}  # fine-tune label -> per seed, English predictions
        self.english_split: dict | None = None  # {"split", "ids", "gold"} of the English sentences read

    def english(self, method: str, rung: str, metrics: dict) -> None:
        """Record an English rung's metrics for one seed (measured by the run's own fine-tuning code)."""
        self.scores.setdefault(method, RungScores()).add(rung, metrics)

    def english_predictions(self, label: str, split: str, ids, gold, pred) -> None:
        """Record one fine-tune's (one seed's) predictions on the English sentences (`split`: test, else dev), so the
        strong baseline's chain (the multilingual model's English score, then its target score) can be compared
        with the stitched one sentence by sentence (`gap_parts_bootstrap`)."""
        if self.english_split is None:
            self.english_split = {"split": split, "ids": [str(i) for i in ids], "gold": [str(g) for g in gold]}
        self.english_preds.setdefault(label, []).append([str(x) for x in pred])

    def english_record(self) -> dict | None:
        """What results.json stores under `ladder.english_predictions`: the English split's ids and gold labels and,
        per fine-tune label (`source-embeddings`: the E_s model; `mplm`; each re-initialising mapper), its
        predictions per seed. None when no English sentences were read."""
        if self.english_split is None:
            return None
        return {**self.english_split, "by_model": dict(self.english_preds)}

    def _record(self, method, seed, rung, probs, into: RungScores):
        from mosecrot_viz.core.metrics import classification_metrics

        pred = [self.labels[i] for i in probs.argmax(1)]
        into.add(rung, classification_metrics(self.gold, pred, self.labels))
        self._rows(method, seed, rung, pred, probs)

    def _rows(self, method, seed, rung, pred, probs):
        import pandas as pd

        self.rows.append(pd.DataFrame({"method": method, "seed": seed, "rung": rung, "id": self.ids, "gold": self.gold,
                                       "pred": pred, "confidence": probs.max(1).round(5)}))

    def target(self, method: str, seed: int, model, model_rows, target_matrix, stitched_logits, stitched_metrics,
               *, detail: bool, say=None) -> None:
        """Measure the target rungs of `method` for one seed on `model` (fine-tuned; its input rows `model_rows`).

        stitched_logits / stitched_metrics: what the run itself measured with `target_matrix` swapped in
        (the stitched rung is that result, not a re-computation). detail: also pick example sentences and
        measure their occlusion (the run does this for its first seed). say(message): progress notes.
        """
        import time

        from mosecrot_viz.core.stitching import set_input_embeddings
        from mosecrot_viz.core.training import predict_logits

        t0 = time.perf_counter()
        enc = self.enc
        set_input_embeddings(model, combined_matrix(model_rows, target_matrix, self.t_rows),  # the rows read, not all
                             pad_token_id=self.reader.source.pad)

        def predict(seqs, pad):
            return predict_logits(model, seqs, pad, self.device)

        scores = self.scores.setdefault(method, RungScores())
        probs = {}
        for rung in ("oracle_translation", "oracle_vector_vocab"):
            probs[rung] = softmax(predict(enc.ids[rung], enc.pad[rung]))
            self._record(method, seed, rung, probs[rung], scores)
        probs["stitched"] = softmax(np.asarray(stitched_logits, dtype=np.float64))
        scores.add("stitched", stitched_metrics)
        self._rows(method, seed, "stitched", [self.labels[i] for i in probs["stitched"].argmax(1)], probs["stitched"])
        self._record(method, seed, "dictionary", softmax(predict(enc.ids["dictionary"], enc.pad["dictionary"])),
                     self.reference.setdefault(method, RungScores()))
        if detail:
            self.examples[method] = {"seed": seed, "examples": self._examples(predict, probs, model_rows, target_matrix,
                                                                              say or (lambda _: None))}
        self.seconds += time.perf_counter() - t0

    def _examples(self, predict, probs, model_rows, target_matrix, say) -> list[dict]:
        gold = np.array([self.labels.index(g) for g in self.gold])
        s, o = probs["stitched"], probs["oracle_translation"]
        s_ok, o_ok = s.argmax(1) == gold, o.argmax(1) == gold
        conf = s.max(1)
        by_conf = np.argsort(-conf, kind="stable")
        quota = max(1, self.n_examples // 2)
        chosen = [(i, "casualty") for i in by_conf if o_ok[i] and not s_ok[i]][:quota]
        chosen += [(i, "rescue") for i in by_conf if s_ok[i] and not o_ok[i]][: max(1, self.n_examples // 4)]
        chosen += [(i, "both right") for i in by_conf if s_ok[i] and o_ok[i]][: self.n_examples - len(chosen)]
        # every chosen sentence's mapped words in one search (M is normalised once, not per sentence)
        rows = [m - self.reader.offset for i, _ in chosen for m in self.enc.mapped[i] if m is not None]  # rows of T
        near = iter(nearest_source_tokens(np.asarray(target_matrix)[rows], np.asarray(model_rows),
                                          self.exclude_ids).tolist())
        out = []
        for n, (i, kind) in enumerate(chosen):
            say(f"word importance (occlusion), sentence {n + 1} of {len(chosen)}")
            nearest = [self._token(next(near)) if m is not None else None for m in self.enc.mapped[i]]
            ex = {"id": self.ids[i], "text": self.texts[i], "gold": self.gold[i], "kind": kind,
                  "words": self.enc.words[i], "status": self.enc.status[i],
                  "translation": [self._token(t) if t is not None else None for t in self.enc.translation[i]],
                  "nearest_english": nearest}
            for rung in ("stitched", "oracle_translation"):
                c, drops = occlusion(predict, self.enc.ids[rung][i], self.enc.spans[rung][i], self.enc.mask[rung],
                                     self.enc.pad[rung])
                ex[rung] = {"pred": self.labels[c], "confidence": round(float(probs[rung][i].max()), 5),
                            "occlusion": [None if np.isnan(d) else round(float(d), 5) for d in drops]}
            out.append(ex)
        return out

    def _token(self, i: int) -> str:
        return self.id_to_token(int(i)) if self.id_to_token else str(int(i))

    def method_results(self, method: str) -> dict:
        """What results.json stores under methods.<method>: `ladder` and `ladder_reference`."""
        out = {"ladder": ordered_ladder(self.scores.get(method, RungScores()), self.english_suffix)}
        ref = self.reference.get(method)
        if ref:
            out["ladder_reference"] = {name: summarise_rung(name, ref.per_seed[name]) for name in ref.per_seed}
        return out

    def predictions(self):
        """Every target rung's predictions (method, seed, rung, id, gold, pred, confidence), or None."""
        import pandas as pd

        return pd.concat(self.rows, ignore_index=True) if self.rows else None


def gap_parts_bootstrap(labels, en_gold, en_stitched, en_mplm, tgt_gold, tgt_stitched, tgt_mplm, *, paired: bool,
                        n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
    """The gap between the stitched chain and the multilingual model's, split into its measured parts.

    en_*: per seed, predictions on the English sentences (en_stitched: the English model fine-tuned with its own E_s,
    the ladder's first rung); tgt_*: per seed, predictions on the target test set (tgt_stitched: the stitched method).
    All parts are "stitched minus multilingual" (negative: the stitched side loses), and they add up:

        gap = F1(stitched, target) - F1(mplm, target) = classifier + transfer
        classifier = F1(E_s model, English) - F1(mplm, English)             (which is the better English classifier)
        transfer   = (F1(mplm, En) - F1(mplm, target)) - (F1(E_s, En) - F1(stitched, target))  (whose transfer loses less)

    Returns {part: (value, low, high)} with a percentile bootstrap over sentences: one draw of sentences per
    resample, used for every model and seed (seeds paired); with `paired` (the English and target test sets are the
    same sentences in the same order, as SIB-200 and the Bible task are) the same draw indexes both sets, otherwise
    each set is drawn on its own.
    """
    from mosecrot_viz.core.metrics import _one_hot, _resamples, _seed_mean_f1

    labels = list(labels)
    y_en, e_s = _one_hot(en_gold, en_stitched, labels)
    _, e_m = _one_hot(en_gold, en_mplm, labels)
    y_t, t_s = _one_hot(tgt_gold, tgt_stitched, labels)
    _, t_m = _one_hot(tgt_gold, tgt_mplm, labels)
    if paired and len(en_gold) != len(tgt_gold):
        raise ValueError("paired English and target sets must have the same sentences")

    def en_part(w):
        return _seed_mean_f1(w, y_en, e_s) - _seed_mean_f1(w, y_en, e_m)

    def tgt_part(w):
        return _seed_mean_f1(w, y_t, t_s) - _seed_mean_f1(w, y_t, t_m)

    cls0, gap0 = float(en_part(np.ones((1, len(en_gold))))[0]), float(tgt_part(np.ones((1, len(tgt_gold))))[0])
    # the same seed and size draw the same sentences (`_resamples` is deterministic): paired sets share each draw
    cls = np.concatenate([en_part(w) for w in _resamples(len(en_gold), n_boot, seed)])
    gap = np.concatenate([tgt_part(w) for w in _resamples(len(tgt_gold), n_boot, seed if paired else seed + 1)])
    q = [(1 - level) / 2, (1 + level) / 2]
    return {name: (value, *(float(x) for x in np.quantile(d, q)))
            for name, value, d in (("gap", gap0, gap), ("classifier", cls0, cls), ("transfer", gap0 - cls0, gap - cls))}
