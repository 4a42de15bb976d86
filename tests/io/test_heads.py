"""The classification head is chosen from the model: mean pooling for encoders trained with it (no pooler)."""
import json
import shutil

import pytest
import torch

from mosecrot_viz.io import models
from mosecrot_viz.io.heads import MeanPoolingClassifier, classifier_pooling, head_of


@pytest.fixture(scope="module")
def no_pooler_dir(tiny_bert_dir, tmp_path_factory):
    """The tiny BERT saved as a bare encoder without pooler weights, like the converted e5."""
    from transformers import BertModel

    d = tmp_path_factory.mktemp("no_pooler")
    for f in tiny_bert_dir.iterdir():
        if f.name not in ("model.safetensors", "config.json"):
            shutil.copy(f, d / f.name)
    torch.manual_seed(1)
    cfg = json.loads((tiny_bert_dir / "config.json").read_text())
    from transformers import BertConfig

    BertModel(BertConfig(**{k: v for k, v in cfg.items() if k not in ("architectures",)}),
              add_pooling_layer=False).save_pretrained(d)
    return d


def test_head_rule_reads_the_model_folder(tiny_bert_dir, no_pooler_dir, tmp_path):
    assert classifier_pooling(tiny_bert_dir) == "cls"  # trained pooler weights: the architecture's own head
    assert classifier_pooling(no_pooler_dir) == "mean"  # no pooler: its classifier would read noise
    assert classifier_pooling("some/hub-id") == "cls"
    forced = tmp_path / "forced"
    shutil.copytree(no_pooler_dir, forced)
    cfg = json.loads((forced / "config.json").read_text())
    (forced / "config.json").write_text(json.dumps(dict(cfg, classifier_pooling="cls")))
    assert classifier_pooling(forced) == "cls"  # the config key decides first


def test_mean_pooling_head_averages_attended_tokens_only(no_pooler_dir, tiny_bert_dir):
    model = models.load_classifier(str(no_pooler_dir), 3)
    assert isinstance(model, MeanPoolingClassifier) and head_of(model) == "mean" and model.config.num_labels == 3
    assert head_of(models.load_classifier(str(tiny_bert_dir), 3)) == "cls"
    model.eval()
    with torch.no_grad():
        short = model(input_ids=torch.tensor([[2, 5, 6, 3]]), attention_mask=torch.tensor([[1, 1, 1, 1]])).logits
        padded = model(input_ids=torch.tensor([[2, 5, 6, 3, 0, 0]]),
                       attention_mask=torch.tensor([[1, 1, 1, 1, 0, 0]])).logits
        hidden = model.encoder(input_ids=torch.tensor([[2, 5, 6, 3]])).last_hidden_state
    torch.testing.assert_close(short, padded, atol=1e-5, rtol=1e-5)  # padding does not move the mean
    torch.testing.assert_close(short, model.classifier(hidden.mean(1)))


def test_embedded_e5_default_gets_the_mean_pooling_head():
    from conftest import cached_resource

    folder = cached_resource("model:e5")
    assert classifier_pooling(folder) == "mean"


def test_mplm_row_says_which_head_it_used(tmp_path, tiny_run_args, no_pooler_dir):
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.pipeline import run_experiment

    cfg = ExperimentConfig(**dict(tiny_run_args, multilingual_model=str(no_pooler_dir)),
                           methods=["mplm", "source", "majority"], epochs=1, model_cache=str(tmp_path / "mc"))
    res = run_experiment(cfg).results["methods"]
    assert res["mplm"]["head"] == "mean" and res["source"]["head"] == "cls"
    assert "head" not in res["majority"]
    again = run_experiment(cfg).results["methods"]  # the cached mean-head fine-tune loads back into the same head
    assert again["mplm"]["macro_f1"] == res["mplm"]["macro_f1"]
