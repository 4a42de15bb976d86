"""Beyond the paper, label-free: self-training the stitched model on unlabelled target text (`<method>+st`).

The stitched model never sees a target sentence, so target word order and target co-occurrence are lost to it.
After the swap it can label an unlabelled target pool itself (the target train split's text; its labels are never
read, and the test sentences are never in it) and learn from its own confident predictions, with the target
embeddings in place (frozen) and the encoder and head trained. The rule, fixed in advance and not tuned on any test
set (`SelfTrainingRule`):

* `rounds` = 3; each round labels the whole pool with the current model, then fine-tunes one epoch on the kept part
  (the learning rate and batch size of the run's English fine-tune);
* class-balanced selection: round r keeps, for each predicted class, its most confident sentences, at most
  ceil(`share_step` * r * N / C) of them (N pool sentences, C classes; `share_step` = 0.2, so 20%, 40%, 60% of the
  pool when the classes are balanced); a class the model rarely predicts cannot fill the set with another's errors;
* no probability threshold: after the swap the probabilities are not calibrated, so only the ranking is used.

Each round starts from the previous round's model (the self-trained copy; the caller's model is not changed).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

ST_SUFFIX = "+st"


@dataclass(frozen=True)
class SelfTrainingRule:
    """The fixed self-training schedule (module text): rounds, per-class share step, epochs per round."""

    rounds: int = 3
    share_step: float = 0.2
    epochs_per_round: int = 1


RULE = SelfTrainingRule()


def is_self_trained(method: str) -> bool:
    """True for a method name with the self-training suffix (`rr-softmax+st`)."""
    return method.endswith(ST_SUFFIX)


def base_method(method: str) -> str:
    """`rr-softmax+st` -> `rr-softmax`."""
    return method[: -len(ST_SUFFIX)] if is_self_trained(method) else method


def softmax(logits) -> np.ndarray:
    """Row-wise softmax of (N, C) logits, numerically stable."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def select_confident(probs, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Per predicted class, the indices of its `cap` most confident rows of `probs` (N, C); returns (indices, labels),
    indices ascending. Ties are broken by row order (stable), so the choice is deterministic."""
    probs = np.asarray(probs)
    pred, conf = probs.argmax(axis=1), probs.max(axis=1)
    keep = []
    for c in range(probs.shape[1]):
        rows = np.flatnonzero(pred == c)
        order = rows[np.argsort(-conf[rows], kind="stable")]
        keep.extend(order[:cap].tolist())
    idx = np.array(sorted(keep), dtype=int)
    return idx, pred[idx]


def self_train(model, target_matrix, pool_ids, *, pad_id: int, device, train_cfg, seed: int,
               rule: SelfTrainingRule = RULE, say=None):
    """A self-trained copy of the stitched `model` and its history, shaped like `fine_tune`'s (its `epochs` are the
    rounds' epochs, `best_dev_macro_f1` None: no English dev data is read) plus `self_training`, one dict per round.

    model: the fine-tuned model (any input embeddings: `target_matrix` (|specials| + |V_t|, D) is put in, frozen);
    pool_ids: the unlabelled target sentences, token ids by the run's target tokenizer; train_cfg: the run's
    `TrainConfig` (its lr and batch size; `rule.epochs_per_round` epochs per round).
    """
    from dataclasses import replace

    from mosecrot_viz.core import stitching
    from mosecrot_viz.core.training import fine_tune, predict_logits

    if not pool_ids:
        raise ValueError("self-training needs unlabelled target sentences (an empty pool)")
    student = copy.deepcopy(model)
    stitching.set_input_embeddings(student, target_matrix, freeze=True, pad_token_id=pad_id)
    n_classes = student.config.num_labels
    cfg = replace(train_cfg, epochs=rule.epochs_per_round, patience=None)
    history, epochs, warnings, rate = [], [], [], None
    for r in range(1, rule.rounds + 1):
        probs = softmax(predict_logits(student, pool_ids, pad_id, device))
        cap = math.ceil(rule.share_step * r * len(pool_ids) / n_classes)
        idx, labels = select_confident(probs, cap)
        if say:
            say(f"self-training round {r}/{rule.rounds}: {len(idx)} of {len(pool_ids)} pool sentences")
        ids = [pool_ids[i] for i in idx]
        # one epoch per round and no held-out data: the epoch trained is the one kept (fine_tune keeps its best
        # "dev" epoch, here the only one; the kept set stands in as its dev data, a few rows, for the record)
        hist = fine_tune(student, ids, labels, ids[:32], labels[:32], pad_id=pad_id, device=device, cfg=cfg,
                         seed=seed + r, label=f"self-training round {r}")
        history.append({"round": r, "kept": int(len(idx)), "pool": len(pool_ids), "cap_per_class": cap,
                        "kept_per_class": np.bincount(labels, minlength=n_classes).tolist(),
                        "mean_confidence": float(probs.max(axis=1)[idx].mean())})
        epochs += [{**e, "epoch": len(epochs) + 1, "dev_macro_f1": None} for e in hist["epochs"]]
        warnings += hist.get("warnings", [])
        rate = hist.get("matmul_gflops")
    return student, {"epochs": epochs, "best_dev_macro_f1": None, "best_epoch": len(epochs), "stopped_early": False,
                     "matmul_gflops": rate, "warnings": warnings, "self_training": history}
