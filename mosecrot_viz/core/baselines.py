"""Baselines that need no PLM: logistic regression on mean static vectors, and the majority class."""
from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.linear_model import LogisticRegression

from mosecrot_viz.io.text import segment


def mean_vectors(kv, texts, lang=None, *, segmentation=None) -> tuple[np.ndarray, np.ndarray]:
    """Average static vector of each text's known words (zeros when none), and each text's unknown rate."""
    feats = np.zeros((len(texts), kv.vector_size), dtype=np.float32)
    unknown = np.zeros(len(texts))
    for i, text in enumerate(texts):
        words = segment(text, lang, rule=segmentation)
        rows = [kv.key_to_index.get(w, kv.key_to_index.get(w.lower())) for w in words]
        known = [r for r in rows if r is not None]
        if known:
            feats[i] = kv.vectors[known].mean(axis=0)
        unknown[i] = 1 - len(known) / len(words) if words else 1.0
    return feats, unknown


def logistic_regression(kv, train_texts, train_y, test_texts, *, lang=None, seed=0, segmentation=None) -> np.ndarray:
    """The paper's LR baseline: trained on TARGET-language data, so it is not zero-shot."""
    x_train, _ = mean_vectors(kv, train_texts, lang, segmentation=segmentation)
    x_test, _ = mean_vectors(kv, test_texts, lang, segmentation=segmentation)
    clf = LogisticRegression(max_iter=2000, C=10.0, random_state=seed)
    clf.fit(x_train, train_y)
    return clf.predict(x_test)


def majority(train_y, n: int) -> np.ndarray:
    """Predict the most frequent training label everywhere (the floor every method must beat)."""
    label = Counter(list(train_y)).most_common(1)[0][0]
    return np.array([label] * n)
