"""The set-up measurement the time-left estimate prices a first run's models by (experiment/calibration.py)."""
import json
import math

import pytest

from mosecrot_viz.analysis import eta
from mosecrot_viz.experiment import calibration


def test_a_models_seconds_per_example_are_measured_by_a_real_fine_tune(tiny_bert_dir, monkeypatch):
    monkeypatch.setattr(calibration, "TRAIN_EXAMPLES", 8)
    texts = ["the cat sat on the mat", "a dog ran fast", "the red ball", "big tree house"] * 3
    got = calibration.measure(str(tiny_bert_dir), train_embeddings=False, texts=texts, labels=[0, 1, 2, 0] * 3)
    assert set(got) == {"train_s_per_example", "eval_s_per_example"}
    assert all(math.isfinite(v) and v >= 0 for v in got.values()) and got["train_s_per_example"] > 0


def test_a_calibration_from_another_machine_or_version_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSECROT_CACHE", str(tmp_path))
    figures = {"model:e5": {"train_s_per_example": 0.1, "eval_s_per_example": 0.03}}
    calibration.path().write_text(json.dumps({"version": calibration.VERSION, "machine": calibration.machine(),
                                              "models": figures}))
    assert calibration.load() == figures
    calibration.path().write_text(json.dumps({"version": calibration.VERSION, "machine": "another", "models": figures}))
    assert calibration.load() == {}  # a copied cache: its figures are not this machine's
    calibration.path().write_text("{not json")
    assert calibration.load() == {}
    assert calibration.key("default-multilingual") == calibration.key("e5") == "model:e5"
    assert calibration.key("/my/model") == "/my/model"


def test_a_first_run_prices_an_unmeasured_model_by_the_set_up_measurement(tmp_path, monkeypatch):
    cfg = {"methods": ["rr-softmax", "mplm"], "seeds": [1], "epochs": 3, "source_model": "default",
           "multilingual_model": "default-multilingual", "vectors": "v.vec", "ladder": False}
    monkeypatch.setattr(calibration, "load", lambda: {"model:e5": {"train_s_per_example": 0.1,
                                                                   "eval_s_per_example": 0.05}})
    sizes = eta.RunSizes(n_train=100, n_dev=20)
    seen = eta.Observed()
    seen.add(0.0, "seed 1, rr-softmax: fine-tuning, 3 epochs")
    seen.add(4.0, "seed 1, rr-softmax: epoch 1/3, dev F1 0.5")
    est = eta.estimate(cfg, "seed 1, rr-softmax: epoch 1/3, dev F1 0.5", seen, n_train=100, runs_root=tmp_path,
                       sizes=sizes)
    assert est.sources == {"default": "this run", "default-multilingual": "set-up measurement"}
    e5_epoch = 100 * 0.1 + 20 * 0.05  # as measured, not scaled by how MiniLM compares with its own figure
    assert est.tuning == pytest.approx(2 * 4.0 + 3 * e5_epoch)
