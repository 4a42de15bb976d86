"""How fast this machine fine-tunes each default model, measured once at set-up, for the time-left estimate.

A first run on a fresh machine has no earlier run to price its models by, and the matmul FLOPs of a model say
little about its epoch: on the demo's 2-core machine the multilingual model (12 layers, its 96M-value embedding
trained) took 4.5 times as long per epoch as MiniLM (6 layers, embedding frozen), where the FLOPs say 2 times.
So `resources --fetch` times two short epochs of each default model on the demo's own English sentences, the way a
run trains it (`core.training.fine_tune`: length-bucketed batches of 32, the source model's input embeddings frozen,
the multilingual model's trained), and stores per model the seconds per training example and per dev example
(`calibration.json` in the cache, with the machine it was measured on). `analysis.eta` reads it where no run has
measured the model; a run's own epochs replace it as soon as there are any.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from mosecrot_viz.atomic import atomic_path
from mosecrot_viz.paths import cache_dir

FILE = "calibration.json"
TRAIN_EXAMPLES, DEV_EXAMPLES, EPOCHS = 96, 32, 2  # the second epoch is timed: the first pays allocations
VERSION = 1


def machine() -> str:
    """What the figures depend on besides the model: the processor, the cores this process may use and the device
    a run trains on."""
    from mosecrot_viz.core.devices import pick_device

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.machine()} {_cpu_name()} x{cores} {pick_device('auto').type}"


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown cpu"


def key(model: str) -> str:
    """The name a model's figures are stored under: a default's resource key (`model:minilm`) for any of its
    aliases, else the name as given."""
    from mosecrot_viz.defaults.models import MODEL_ALIASES

    return MODEL_ALIASES.get(model, model)


def path() -> Path:
    return cache_dir() / FILE


def load() -> dict:
    """{model key (`key`): {"train_s_per_example", "eval_s_per_example"}} measured on this machine; {} when there is
    no calibration, an unreadable one, or one from another machine (a copied cache)."""
    try:
        data = json.loads(path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION or data.get("machine") != machine():
        return {}
    models = data.get("models")
    return models if isinstance(models, dict) else {}


def measure(model_name: str, *, train_embeddings: bool, texts: list[str], labels: list[int]) -> dict:
    """Seconds per training example and per dev example of `model_name` over `texts` (the first
    `TRAIN_EXAMPLES` train, the next `DEV_EXAMPLES` dev), from the last of `EPOCHS` epochs."""
    from mosecrot_viz.core.training import TrainConfig, fine_tune, pick_device
    from mosecrot_viz.defaults import models
    from mosecrot_viz.experiment.inputs import encode_hf

    tok = models.load_tokenizer(model_name)
    model = models.load_classifier(model_name, max(labels) + 1)
    if not train_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    ids = encode_hf(tok, texts, 128)
    n = TRAIN_EXAMPLES
    hist = fine_tune(model, ids[:n], labels[:n], ids[n:], labels[n:], pad_id=tok.pad_token_id,
                     device=pick_device("auto"), cfg=TrainConfig(epochs=EPOCHS, batch_size=32),
                     seed=0)
    last = hist["epochs"][-1]
    return {"train_s_per_example": last["train_seconds"] / n,
            "eval_s_per_example": max(0.0, last["epoch_seconds"] - last["train_seconds"]) / max(1, len(ids) - n)}


def ensure(progress=print) -> dict:
    """The calibration for the default source and multilingual models, measured when this machine has none
    (about half a minute on 2 cores); returns it."""
    from mosecrot_viz.experiment.presets import DEMO
    from mosecrot_viz.io.tasks import load_task

    have = load()
    cfg = DEMO.config()
    wanted = {cfg.source_model: False, cfg.multilingual_model: True}  # train the input embeddings?
    missing = {m: e for m, e in wanted.items() if key(m) not in have}
    if not missing:
        return have
    task = load_task(cfg.train)
    texts = list(task["text"][:TRAIN_EXAMPLES + DEV_EXAMPLES])
    names = sorted(set(task["label"]))
    labels = [names.index(x) for x in task["label"][:len(texts)]]
    if len(texts) < TRAIN_EXAMPLES + 1:
        return have
    for name, train_embeddings in missing.items():
        t = time.perf_counter()
        have[key(name)] = measure(name, train_embeddings=train_embeddings, texts=texts,
                                                        labels=labels)
        progress(f"{'fine-tune timing':<16} {name} measured in {time.perf_counter() - t:6.1f} s")
    with atomic_path(path()) as tmp:
        Path(tmp).write_text(json.dumps({"version": VERSION, "machine": machine(), "models": have}, indent=1,
                                        allow_nan=False))
    return have
