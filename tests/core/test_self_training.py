"""Label-free self-training (`<method>+st`): the class-balanced selection, the self-trained copy, the run's hook."""
import json

import numpy as np
import pytest
import torch

from mosecrot_viz.core.self_training import RULE, base_method, select_confident, self_train, softmax
from mosecrot_viz.core.training import TrainConfig
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import run_experiment


def test_selection_keeps_the_most_confident_per_predicted_class_capped():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.8, 0.2], [0.3, 0.7], [0.55, 0.45], [0.2, 0.8]])
    idx, labels = select_confident(probs, cap=2)
    assert idx.tolist() == [0, 2, 3, 5] and labels.tolist() == [0, 0, 1, 1]  # 2 per class, not the 4 class-0 rows
    idx, labels = select_confident(probs, cap=10)
    assert idx.tolist() == [0, 1, 2, 3, 4, 5]
    assert select_confident(np.array([[0.5, 0.5], [0.5, 0.5]]), cap=1)[0].tolist() == [0]  # ties: row order
    np.testing.assert_allclose(softmax([[0.0, np.log(3.0)]]), [[0.25, 0.75]])
    assert base_method("rr-softmax+st") == "rr-softmax" and base_method("ls") == "ls"


def test_self_train_returns_a_trained_copy_with_the_target_rows_frozen(tiny_bert_dir):
    from mosecrot_viz.defaults.models import load_classifier

    model = load_classifier(str(tiny_bert_dir), 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    target = rng.normal(size=(12, 16)).astype(np.float32)  # 4 specials + 8 target words
    pool = [[2] + list(rng.integers(4, 12, size=5)) + [3] for _ in range(30)]
    student, hist = self_train(model, target, pool, pad_id=0, device=torch.device("cpu"),
                               train_cfg=TrainConfig(batch_size=8), seed=1)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the caller's model is untouched
    emb = student.get_input_embeddings().weight
    assert not emb.requires_grad and np.allclose(emb.detach().numpy(), target)
    changed = [k for k, v in student.state_dict().items() if k in before and "embeddings.word" not in k
               and v.shape == before[k].shape and not torch.equal(v, before[k])]
    assert any("encoder" in k for k in changed) and any("classifier" in k for k in changed)
    rounds = hist["self_training"]
    assert [r["round"] for r in rounds] == [1, 2, 3] and len(hist["epochs"]) == RULE.rounds
    for r in rounds:  # round r: at most ceil(0.2 r N / C) per predicted class
        assert r["cap_per_class"] == int(np.ceil(0.2 * r["round"] * 30 / 3))
        assert max(r["kept_per_class"]) <= r["cap_per_class"] and sum(r["kept_per_class"]) == r["kept"] > 0
    assert hist["best_dev_macro_f1"] is None  # no English dev data is read
    with pytest.raises(ValueError, match="empty pool"):
        self_train(model, target, [], pad_id=0, device=torch.device("cpu"), train_cfg=TrainConfig(), seed=1)


def test_the_run_adds_the_method_and_records_it(tmp_path, tiny_run_args):
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax+st", "majority"], seeds=[1], epochs=1, top_k=5,
                           out=str(tmp_path / "out"), ladder=False)
    out = run_experiment(cfg)
    assert cfg.methods == ["rr-softmax", "rr-softmax+st", "majority"]  # the base method joins, just before
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {"rr-softmax", "rr-softmax+st"} <= set(res["methods"])
    assert len(res["histories"]["rr-softmax+st"][0]["self_training"]) == RULE.rounds
    preds = out.predictions
    assert len(preds[preds["method"] == "rr-softmax+st"]) == len(preds[preds["method"] == "rr-softmax"]) == 12


def test_it_needs_target_text_and_never_reads_the_test_sentences(tmp_path, tiny_run_args):
    args = {**tiny_run_args, "target_train": None}
    with pytest.raises(InputError, match="give --target-train"):
        ExperimentConfig(**args, methods=["ls+st"]).validate()
    with pytest.raises(InputError, match="unknown methods"):
        ExperimentConfig(**tiny_run_args, methods=["majority+st"]).validate()
    same = {**tiny_run_args, "target_train": tiny_run_args["test"]}  # the pool would be the test set: left empty
    with pytest.raises(ValueError, match="empty pool"):
        run_experiment(ExperimentConfig(**same, methods=["ls+st"], seeds=[1], epochs=1, ladder=False))
