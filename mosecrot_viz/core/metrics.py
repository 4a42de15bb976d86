"""Classification metrics reported for every method: macro-F1, accuracy, per-class scores, confusion."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def classification_metrics(y_true, y_pred, labels) -> dict:
    """Scores over the full label set `labels` (a class never predicted still counts in macro-F1)."""
    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "labels": labels,
    }


def aggregate_seeds(per_seed: list[dict]) -> dict:
    """Mean and std of macro-F1 and accuracy over seeds; per-class F1 averaged; confusions summed."""
    f1 = np.array([m["macro_f1"] for m in per_seed])
    acc = np.array([m["accuracy"] for m in per_seed])
    labels = per_seed[0]["labels"]
    per_class = {
        lab: {key: float(np.mean([m["per_class"][lab][key] for m in per_seed])) for key in ("precision", "recall", "f1")}
        for lab in labels
    }
    for lab in labels:
        per_class[lab]["support"] = per_seed[0]["per_class"][lab]["support"]
    return {
        "macro_f1": float(f1.mean()),
        "macro_f1_std": float(f1.std(ddof=0)),
        "accuracy": float(acc.mean()),
        "accuracy_std": float(acc.std(ddof=0)),
        "per_seed": [float(x) for x in f1],
        "per_class": per_class,
        "confusion": np.sum([m["confusion"] for m in per_seed], axis=0).tolist(),
        "labels": labels,
    }
