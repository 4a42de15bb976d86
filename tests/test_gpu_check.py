"""The GPU check (scripts/gpu_check.sh) stays runnable while no GPU is lent: its dry run
(`--device cpu --tiny`) goes through every step on tiny inputs and writes every figure as a number;
the CPU/CUDA agreement rule is checked on made-up numbers."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from mosecrot_viz.cli import DEMO_METHODS

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["rr-softmax", "ls", "source", "mplm"]
FIGURES = (
    ["cuda_tests.passed", "cuda_tests.failed", "cuda_tests.skipped", "demo.wall_s"]
    + [f"demo.macro_f1.{m}" for m in DEMO_METHODS]
    + ["mapping.seconds", "mapping.matmul_fp32_tflops", "mapping.gemm_floor_s", "mapping.ratio_to_floor",
       "mapping.same_topk_sets_as_cpu", "mapping.max_weight_diff_vs_cpu", "mapping.max_output_diff_vs_cpu"]
    + ["finetune.examples_per_s", "finetune.tokens_per_s", "finetune.achieved_tflops", "finetune.matmul_tflops",
       "finetune.share_of_matmul_pct", "sib200.wall_s"]
    + [f"sib200.{f}.{m}" for m in METHODS for f in ("macro_f1", "macro_f1_std")]
    + [f"agreement.{f}.{m}" for m in METHODS for f in ("delta", "tolerance")]
    + ["agreement.methods_compared", "agreement.all_within_noise"]
)


def _script_env() -> dict:
    # the interpreter running the tests is the environment the script reuses (no set-up, no network)
    return dict(os.environ, VENV=sys.prefix)


def test_dry_run_writes_every_figure_as_a_number(tmp_path):
    out = tmp_path / "PERFORMANCE-GPU.md"
    res = subprocess.run(["bash", "scripts/gpu_check.sh", "--device", "cpu", "--tiny", "--out", str(out),
                          "--workdir", str(tmp_path / "work")], cwd=ROOT, env=_script_env(), capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    text = out.read_text()
    assert text.startswith("# GPU check: dry run") and "All steps finished." in text
    figures = dict(re.findall(r"^\| `([^`]+)` \| ([^|]+?) \|", text, re.M))
    missing = [f for f in FIGURES if f not in figures]
    assert not missing, f"figures missing from the report: {missing}"
    values = {f: float(figures[f].replace(",", "")) for f in FIGURES}  # each one a number
    assert values["cuda_tests.failed"] == 0 and values["cuda_tests.skipped"] >= 3  # no GPU here: skipped, not failed
    assert values["mapping.same_topk_sets_as_cpu"] == 1 and values["agreement.all_within_noise"] == 1
    assert values["agreement.methods_compared"] == len(METHODS)
    steps = dict(re.findall(r"^\| ([a-z0-9-]+) \| (ok|failed|timed out|skipped|disagree) \|", text, re.M))
    assert steps == {s: "ok" for s in ["cuda-tests", "demo", "mapping", "finetune", "sib200", "agreement"]}
    assert re.search(r"^\| torch \| \d", text, re.M)  # the machine section names the torch build
    assert "bash scripts/gpu_check.sh --device cpu --tiny" in text  # and the command
    assert not (ROOT / "docs" / "PERFORMANCE-GPU.md").with_suffix(".md.tmp").exists()


def test_dry_run_refuses_to_overwrite_the_real_report():
    res = subprocess.run(["bash", "scripts/gpu_check.sh", "--device", "cpu", "--tiny"], cwd=ROOT, env=_script_env(),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "--tiny needs --out" in res.stderr


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a GPU machine: the full check would run")
def test_full_check_without_a_gpu_stops_before_any_set_up():
    res = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=ROOT, env=_script_env(), capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and "no NVIDIA GPU here" in res.stderr and "--device cpu --tiny" in res.stderr


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results(per_seed: dict, **config) -> dict:
    base = {"vectors": "default:zh", "lexicon": "/a/muse/en-zh.txt", "train": "/a/eng_Latn/train.tsv",
            "dev": "/a/eng_Latn/dev.tsv", "test": "/a/zho_Hans/test.tsv", "lang": "zh", "source_model": "default",
            "multilingual_model": "default-multilingual", "top_k": 50, "temperature": None, "epochs": 5, "lr": 1e-4,
            "batch_size": 32, "max_length": 128, "max_vocab": None, "freeze_embeddings": True, "anchor_policy": "first"}
    return {"config": {**base, **config}, "methods": {m: {"per_seed": s} for m, s in per_seed.items()}}


def test_agreement_rule_within_seed_noise(gpu_check):
    cpu = _results({"ls": [0.80, 0.81, 0.79], "source+seededhead": [0.18, 0.21, 0.24], "source": [0.5, 0.5, 0.5],
                    "mplm": [0.84, 0.84, 0.84]}, lexicon="/elsewhere/muse/en-zh.txt")  # another checkout's path
    dev = _results({"ls": [0.82, 0.80, 0.81], "source": [0.20, 0.25, 0.24], "mplm": [0.80, 0.80, 0.80],
                    "rr-softmax": [0.8, 0.8, 0.8]})
    a = gpu_check.agreement(dev, cpu, ["ls", "source", "mplm", "rr-softmax"], label_ref="test")
    rows = a["rows"]
    se_ls = (0.01**2 / 3 + 0.01**2 / 3) ** 0.5
    assert rows["ls"]["agree"] and rows["ls"]["tolerance"] == pytest.approx(2.776 * se_ls, rel=1e-3)  # t at 4 df
    # the current code's row is preferred; wider spreads widen the tolerance
    assert rows["source"]["row"] == "source+seededhead" and rows["source"]["agree"]
    se = (statistics.stdev([0.18, 0.21, 0.24]) ** 2 / 3 + statistics.stdev([0.20, 0.25, 0.24]) ** 2 / 3) ** 0.5
    assert rows["source"]["tolerance"] == pytest.approx(2.776 * se, rel=1e-3)
    assert not rows["mplm"]["agree"] and rows["mplm"]["tolerance"] == 0.02  # no spread: the floor; 4 points apart
    assert not rows["rr-softmax"]["compared"]  # no stored row
    assert a["n_compared"] == 3 and not a["all_agree"]


def test_agreement_compares_only_rows_of_the_same_settings(gpu_check):
    cpu = _results({"ls": [0.8, 0.8, 0.8], "ls+unfrozen": [0.8, 0.8, 0.8]}, epochs=3)
    cpu["tags"] = {"unfrozen": {"freeze_embeddings": False}}
    a = gpu_check.agreement(_results({"ls": [0.8, 0.8, 0.8]}), cpu, ["ls"], label_ref="test")
    assert not a["rows"]["ls"]["compared"] and "epochs: 3 stored, 5 here" in a["rows"]["ls"]["why"]
    assert gpu_check.setting_mismatches({"freeze_embeddings": True}, {"freeze_embeddings": True},
                                        {"freeze_embeddings": False}) == ["freeze_embeddings: False stored, True here"]
