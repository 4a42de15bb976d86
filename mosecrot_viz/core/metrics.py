"""Classification metrics reported for every method: macro-F1, accuracy, per-class scores, confusion.

Macro-F1 is the mean F1 over the labels PRESENT IN THE GOLD LABELS of the set being scored (the test set, or each
bootstrap resample of it): a training label the test set never holds cannot be measured there, so it is left out
of the average instead of adding an F1 of 0 (a test set holding one of three training labels, every prediction
right, scores 1.0, not 0.333; the run records a `test_missing_labels` warning). A label that is predicted but not
in the gold set still costs: its wrong predictions are missed examples of the labels that are. Per-class scores
and the confusion matrix cover every training label (a label with support 0 shows F1 0 there); `macro_f1_labels`
names the labels the average is over.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


def gold_labels(y_true, labels) -> list:
    """The labels macro-F1 averages over: those of `labels` (the training labels, in their order) that occur in the
    gold labels `y_true`; every label when `y_true` is empty."""
    present = set(y_true)
    return [lab for lab in labels if lab in present] or list(labels)


def macro_f1(y_true, y_pred, labels=None) -> float:
    """Mean F1 over the labels present in `y_true` (of `labels`, when given): the project's one definition."""
    labels = sorted(set(y_true), key=str) if labels is None else list(labels)
    over = gold_labels(y_true, labels)
    _, _, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=over, zero_division=0)
    return float(np.mean(f)) if len(f) else 0.0


def classification_metrics(y_true, y_pred, labels) -> dict:
    """Scores over the label set `labels` (the training labels): macro-F1 over those present in `y_true` (see the
    module text), accuracy, per-class precision/recall/F1/support for every label, the confusion matrix."""
    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    over = gold_labels(y_true, labels)
    return {
        "macro_f1": float(np.mean([f[labels.index(lab)] for lab in over])),
        "macro_f1_labels": over,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "labels": labels,
    }


def seed_std(values) -> float:
    """Sample standard deviation over seeds (ddof=1); 0.0 for a single seed."""
    v = np.asarray(values, dtype=float)
    return float(v.std(ddof=1)) if len(v) > 1 else 0.0


def _macro_f1_counts(tp: np.ndarray, n_true: np.ndarray, n_pred: np.ndarray) -> np.ndarray:
    """Macro-F1 from per-class counts (..., C): F1 = 2 tp / (true + pred), averaged over the classes present in
    the gold labels (n_true > 0), as `classification_metrics` does; 0 where no class is present."""
    denom = n_true + n_pred
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(denom, dtype=float), where=denom > 0)
    present = n_true > 0
    count = present.sum(axis=-1)
    return np.divide((f1 * present).sum(axis=-1), count, out=np.zeros(count.shape, dtype=float), where=count > 0)


def _one_hot(y_true, preds_per_seed, labels) -> tuple[np.ndarray, list[np.ndarray]]:
    """(true labels one-hot (n, C), per seed the predictions one-hot (n, C)) over the full label set."""
    index = {lab: i for i, lab in enumerate(labels)}
    eye = np.eye(len(labels))
    return eye[np.array([index[y] for y in y_true], dtype=np.int64)], [
        eye[np.array([index[y] for y in pred], dtype=np.int64)] for pred in preds_per_seed]


def _seed_mean_f1(w: np.ndarray, true_1h: np.ndarray, preds_1h: list[np.ndarray]) -> np.ndarray:
    """Seed-mean macro-F1 for each row of example weights `w` (b, n): counts per resample, shape (b,)."""
    n_true = w @ true_1h
    return np.mean([_macro_f1_counts(w @ (true_1h * p), n_true, w @ p) for p in preds_1h], axis=0)


def _resamples(n: int, n_boot: int, seed: int):
    """Bootstrap draws over n examples as count weights, in blocks (b, n) of bounded memory."""
    rng = np.random.default_rng(seed)
    block = max(1, 2_000_000 // n)
    for start in range(0, n_boot, block):
        yield rng.multinomial(n, np.full(n, 1.0 / n), size=min(block, n_boot - start)).astype(float)


def bootstrap_macro_f1(y_true, preds_per_seed, labels, *, n_boot: int = 1000, level: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval over TEST EXAMPLES for the seed-mean macro-F1.

    Each resample draws n examples with replacement (the same draw for every seed, so the seeds stay
    paired on their examples), scores every seed on it (macro-F1 over the labels its gold holds), and averages over
    seeds; the interval is the (1-level)/2 and (1+level)/2 quantiles of those means. It measures how
    much the score would move with another test set of the same size, which the seed spread does not.
    """
    n = len(y_true)
    if n == 0:
        return float("nan"), float("nan")
    true_1h, preds_1h = _one_hot(y_true, preds_per_seed, list(labels))
    means = np.concatenate([_seed_mean_f1(w, true_1h, preds_1h) for w in _resamples(n, n_boot, seed)])
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap_macro_f1_diff(y_true, preds_a, preds_b, labels, *, n_boot: int = 1000, level: float = 0.95,
                            seed: int = 0) -> tuple[float, float, float]:
    """(difference, low, high): seed-mean macro-F1 of method A minus method B on the same test set, with a
    paired percentile bootstrap interval over TEST EXAMPLES.

    preds_a, preds_b: per seed, the predicted labels (each a sequence of len(y_true)); the seed counts may
    differ. Every resample draws the same examples for both methods and all their seeds, so the interval is that
    of the difference itself, narrower than comparing two separate intervals when the methods err on the same
    examples. An interval that excludes 0 says the test set supports the difference at `level`.
    """
    n = len(y_true)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    true_1h, a_1h = _one_hot(y_true, preds_a, list(labels))
    _, b_1h = _one_hot(y_true, preds_b, list(labels))
    full = np.ones((1, n))
    diff = float((_seed_mean_f1(full, true_1h, a_1h) - _seed_mean_f1(full, true_1h, b_1h))[0])
    diffs = np.concatenate([_seed_mean_f1(w, true_1h, a_1h) - _seed_mean_f1(w, true_1h, b_1h)
                            for w in _resamples(n, n_boot, seed)])
    lo, hi = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    return diff, float(lo), float(hi)


def aggregate_seeds(per_seed: list[dict], *, y_true=None, preds_per_seed=None, n_boot: int = 1000) -> dict:
    """Mean and spread of macro-F1 and accuracy over seeds (std with ddof=1, 0.0 for one seed); per-class
    F1 averaged; confusions summed. Given the gold labels and each seed's predictions, also the 95%
    bootstrap interval over test examples of the mean macro-F1 (`macro_f1_ci95`, see `bootstrap_macro_f1`)."""
    f1 = np.array([m["macro_f1"] for m in per_seed])
    acc = np.array([m["accuracy"] for m in per_seed])
    labels = per_seed[0]["labels"]
    per_class = {
        lab: {key: float(np.mean([m["per_class"][lab][key] for m in per_seed])) for key in ("precision", "recall", "f1")}
        for lab in labels
    }
    for lab in labels:
        per_class[lab]["support"] = per_seed[0]["per_class"][lab]["support"]
    out = {
        "macro_f1": float(f1.mean()),
        "macro_f1_std": seed_std(f1),
        "accuracy": float(acc.mean()),
        "accuracy_std": seed_std(acc),
        "per_seed": [float(x) for x in f1],
        "per_class": per_class,
        "confusion": np.sum([m["confusion"] for m in per_seed], axis=0).tolist(),
        "labels": labels,
        "macro_f1_labels": per_seed[0].get("macro_f1_labels", labels),  # the labels macro-F1 averages over
    }
    if y_true is not None and preds_per_seed is not None:
        out["macro_f1_ci95"] = list(bootstrap_macro_f1(y_true, preds_per_seed, labels, n_boot=n_boot))
    return out
