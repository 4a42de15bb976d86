"""Classification heads: the one the encoder was trained to be read with.

A BERT-type `*ForSequenceClassification` reads the pooler (the [CLS] state through a dense+tanh
layer that BERT learned with next-sentence prediction). Encoders trained as sentence embedders
with mean pooling, such as multilingual-e5 (the embedded multilingual default), ship no pooler
weights: that head would read a randomly initialised pooler. For them the head is the mean of the
last hidden states over the real (unpadded) tokens, then dropout and a linear layer.

The head is chosen from the model folder (`classifier_pooling`), in this order:
1. `config.json` key `classifier_pooling`: `"mean"` or `"cls"` (the e5 converter writes `"mean"`);
2. `"mean"` for a BERT-type model whose weights hold no pooler (its classifier would read noise);
3. `"cls"` otherwise: the architecture's own head. all-MiniLM-L6-v2, the source default, keeps it:
   it was also trained with mean pooling, but its checkpoint has trained pooler weights and the
   paper's setting fine-tunes the standard head; write `"classifier_pooling": "mean"` into a
   model's config.json to choose mean pooling for it.
Results name the head each fine-tuned method used (`methods.<m>.head`).
"""
from __future__ import annotations

from pathlib import Path

import torch

from mosecrot_viz.errors import InputError
from mosecrot_viz.io.structured import load_json

POOLING_KEY = "classifier_pooling"
HEADS = ("cls", "mean")
_POOLER_HEAD_TYPES = ("bert",)  # model types whose sequence classifier reads the pooler


def _has_pooler_weights(folder: Path) -> bool:
    from safetensors import safe_open

    for f in folder.glob("*.safetensors"):
        with safe_open(str(f), "pt") as st:
            if any(k.endswith("pooler.dense.weight") for k in st.keys()):
                return True
    return False


def classifier_pooling(target) -> str:
    """`"mean"` or `"cls"` for a resolved model (a folder, or a hub id: `"cls"`), by the rule above."""
    folder = Path(str(target))
    config_path = folder / "config.json"
    if not config_path.is_file():
        return "cls"
    try:
        config = load_json(config_path, kind="model config")  # bounded in size and nesting
    except (OSError, InputError):
        return "cls"  # the loader reports a bad config.json itself
    if not isinstance(config, dict):
        return "cls"
    if config.get(POOLING_KEY) in HEADS:
        return config[POOLING_KEY]
    if config.get("model_type") in _POOLER_HEAD_TYPES and not _has_pooler_weights(folder):
        return "mean"
    return "cls"


class MeanPoolingClassifier(torch.nn.Module):
    """Encoder -> mean of the last hidden states over attended tokens -> dropout -> linear.

    It answers what the pipeline and training use of a Hugging Face classifier: `config`
    (`num_labels`, `vocab_size`, `pad_token_id`), `get_input_embeddings` / `set_input_embeddings`,
    and `forward(input_ids, attention_mask)` returning an object with `.logits`.
    """

    head = "mean"

    def __init__(self, encoder, num_labels: int):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        self.config.num_labels = num_labels
        p = getattr(self.config, "classifier_dropout", None)
        self.dropout = torch.nn.Dropout(p if p is not None else getattr(self.config, "hidden_dropout_prob", 0.1))
        self.classifier = torch.nn.Linear(self.config.hidden_size, num_labels)
        std = getattr(self.config, "initializer_range", 0.02)
        torch.nn.init.normal_(self.classifier.weight, std=std)  # as BERT initialises its classifier
        torch.nn.init.zeros_(self.classifier.bias)

    def get_input_embeddings(self):
        return self.encoder.get_input_embeddings()

    def set_input_embeddings(self, embeddings) -> None:
        self.encoder.set_input_embeddings(embeddings)

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        from transformers.modeling_outputs import SequenceClassifierOutput

        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        return SequenceClassifierOutput(logits=self.classifier(self.dropout(pooled)))


def with_head(model, pooling: str):
    """`model` (a loaded `*ForSequenceClassification`) as it is for `"cls"`, or its encoder under a fresh
    mean-pooling head for `"mean"` (the unused pooler and classifier of `model` are dropped)."""
    if pooling == "cls":
        return model
    if pooling != "mean":
        raise ValueError(f"pooling must be one of {HEADS}, got {pooling!r}")
    encoder = model.base_model
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None  # BertModel skips a None pooler; its (random) weights would only ride along
    return MeanPoolingClassifier(encoder, model.config.num_labels)


def head_of(model) -> str:
    """The head a loaded classifier uses: `"mean"` or `"cls"`."""
    return getattr(model, "head", "cls")
