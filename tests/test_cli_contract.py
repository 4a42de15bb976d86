"""The CLI's contract, in real processes: every check before any wait (a bad input is refused while another run
holds the machine's compute slot), usage errors exit 2 in one line naming the flag, failed work exits 1 in one line,
never a traceback; records are trusted only when they check out (input hashes, tampered folders)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import write_vec

ROOT = Path(__file__).resolve().parents[1]
HOLD = """
import sys, time
from mosecrot_viz.store.worker import compute_slot
with compute_slot():
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


@pytest.fixture
def env(tmp_path) -> dict:
    e = dict(os.environ, PYTHONPATH=str(ROOT), MOSECROT_CACHE=str(tmp_path / "cache"), HF_HUB_OFFLINE="1",
             TOKENIZERS_PARALLELISM="false", MOSECROT_SHARE_CORES="1")
    e.pop("MOSECROT_DEBUG", None)
    return e


def cli(args, env, timeout=300):
    """(exit status, stdout, stderr, seconds) of `python -m mosecrot_viz ARGS` in a fresh process."""
    t = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "mosecrot_viz", *map(str, args)], capture_output=True, text=True,
                         env=env, timeout=timeout, cwd=ROOT)
    return res.returncode, res.stdout, res.stderr, time.monotonic() - t


def one_line(err: str, *needles) -> str:
    """`err` is one line holding every needle, and no traceback."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for n in needles:
        assert n in err, (n, err)
    return lines[0]


def run_args(a: dict, **over) -> list:
    args = {"--vectors": a["vectors"], "--lexicon": a["lexicon"], "--train": a["train"], "--dev": a["dev"],
            "--test": a["test"], "--source-model": a["source_model"], "--methods": "rr-softmax,majority",
            "--epochs": 1, **over}
    return [str(x) for k, v in args.items() if v is not None for x in (k, v)]


def _import_seconds(env) -> float:
    """What a fresh process spends importing what a refusal imports (the CLI and the checks: `experiment.preflight`
    reads safetensors headers and config.json itself, and needs neither transformers nor gensim): the part of a
    refusal's time that is not the checks. It grows with the machine's load (several seconds with a dozen processes
    sharing 2 cores)."""
    t = time.monotonic()
    subprocess.run([sys.executable, "-c", "import mosecrot_viz.cli, mosecrot_viz.experiment.preflight, "
                    "mosecrot_viz.experiment.inputs"], env=env, check=True, timeout=300, cwd=ROOT)
    return time.monotonic() - t


def _model_without_tensors(src: Path, dest: Path) -> Path:
    """A copy of model folder `src` whose safetensors lack the first encoder layer's attention."""
    from safetensors.torch import load_file, save_file

    dest.mkdir()
    for f in src.iterdir():
        if f.is_file() and f.suffix != ".safetensors":
            (dest / f.name).write_bytes(f.read_bytes())
    for f in src.glob("*.safetensors"):
        state = load_file(str(f))
        save_file({k: v for k, v in state.items() if "layer.0.attention" not in k}, str(dest / f.name))
    return dest


def test_bad_inputs_are_refused_within_seconds_while_another_run_holds_the_slot(tmp_path, env, tiny_run_args):
    slot_env = {k: v for k, v in env.items() if k != "MOSECROT_SHARE_CORES"}
    fifo = tmp_path / "vectors.vec"
    os.mkfifo(fifo)
    target_train = tmp_path / "target_train.tsv"
    target_train.write_text("index_id\tcategory\ttext\n1\tanimals\txcat xdog\n2\tgeography\txroad xcar\n")
    broken = _model_without_tensors(Path(tiny_run_args["source_model"]), tmp_path / "broken_model")
    good_rows = Path(tiny_run_args["vectors"]).read_text(encoding="utf-8").splitlines()[1:]
    dim = len(good_rows[0].split()) - 1
    padding = [f"pad{i} " + " ".join(["0.25"] * dim) for i in range(12_000)]  # past the 256 KB the sniff reads
    ragged = tmp_path / "ragged_end.vec"
    ragged.write_text("\n".join(good_rows + padding + ["last 0.5"]) + "\n", encoding="utf-8")
    zeros = tmp_path / "zeros.vec"
    zeros.write_text("\n".join(r.split()[0] + " " + " ".join(["0"] * dim) for r in good_rows) + "\n",
                     encoding="utf-8")
    no_overlap = tmp_path / "no_overlap.txt"
    no_overlap.write_text("cat\tzzkatze\ndog\tzzhund\n", encoding="utf-8")
    one_row = " ".join(good_rows[0].split()[1:])
    identical = tmp_path / "identical.vec"  # every word the same vector: its map would collapse after the wait
    identical.write_text("\n".join(r.split()[0] + " " + one_row for r in good_rows) + "\n", encoding="utf-8")
    no_tokenizer = tmp_path / "no_tokenizer"  # weights and config, no tokenizer file (hostile sweep w06)
    no_tokenizer.mkdir()
    for name in ("config.json", "model.safetensors"):
        (no_tokenizer / name).write_bytes((Path(tiny_run_args["source_model"]) / name).read_bytes())
    cases = [
        (run_args(tiny_run_args, **{"--vectors": fifo}), ("--vectors", str(fifo), "FIFO")),
        (run_args(tiny_run_args, **{"--source-model": no_tokenizer}), ("--source-model", "no tokenizer")),
        # a mistyped folder was taken for a hub id and failed in the loader after the wait (hostile sweep w08)
        (run_args(tiny_run_args, **{"--methods": "mplm", "--multilingual-model": tmp_path / "typo"}),
         ("--multilingual-model", str(tmp_path / "typo"), "no such model folder")),
        (run_args(tiny_run_args, **{"--target-train": target_train, "--methods": "lr,majority"}),
         ("--target-train", str(target_train), "geography")),
        (run_args(tiny_run_args, **{"--source-model": broken}), ("--source-model", str(broken), "tensors")),
        # issue 24's other cases, found by the hostile sweep: rows past the sniffed bytes, and the anchors
        (run_args(tiny_run_args, **{"--vectors": ragged}), (str(ragged), f"{len(good_rows) + 12_001}:",
                                                             "1 numbers, expected")),
        (run_args(tiny_run_args, **{"--vectors": zeros}), (str(zeros), "all zeros")),
        (run_args(tiny_run_args, **{"--lexicon": no_overlap}), ("lexicon", str(no_overlap))),
        (run_args(tiny_run_args, **{"--vectors": identical}), (str(identical), "one and the same vector")),
        (run_args(tiny_run_args, **{"--bli-test-lexicon": no_overlap}), ("--bli-test-lexicon", str(no_overlap))),
    ]
    overhead = _import_seconds(slot_env)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "600"], stdout=subprocess.PIPE, text=True, env=slot_env,
                              cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        for i, (args, needles) in enumerate(cases):
            rc, _, err, seconds = cli(["run", *args, "--out", tmp_path / f"out{i}"], slot_env)
            assert rc == 1, err
            one_line(err, *needles)
            assert "waiting for another run" not in err
            print(f"refused in {seconds:.1f} s (imports alone: {overhead:.1f} s): {err.strip()[-80:]}")
            # within 5 s on an idle machine (the imports take about 1.5 s there); a loaded one adds its import time
            assert seconds < (5 if overhead < 2 else 5 + overhead), (seconds, overhead, err)
            assert holder.poll() is None  # refused while the slot was still held
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("over, needles", [
    ({"--temperature": "0"}, ("--temperature", "finite number > 0")),
    ({"--seeds": "4294967296"}, ("--seeds", "4294967295")),
    ({"--device": "mps"}, ("--device mps",)),
    ({"--out": "O" * 240}, ("--out", "staging", "240 bytes")),
])
def test_option_bounds_are_usage_errors_naming_the_flag(tmp_path, env, tiny_run_args, over, needles):
    if over.get("--device") == "mps":
        import torch

        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            pytest.skip("this machine has MPS")
    if "--out" in over:
        over = {"--out": tmp_path / over["--out"]}
    args = run_args(tiny_run_args, **{"--out": tmp_path / "out", **over})
    rc, _, err, _ = cli(["run", *args], env)
    assert rc == 2, err
    one_line(err, *needles)
    assert not (tmp_path / "out" / "results.json").exists()


def test_cuda_asked_for_without_a_gpu_is_a_usage_error(tmp_path, env, tiny_run_args):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    rc, _, err, _ = cli(["run", *run_args(tiny_run_args, **{"--device": "cuda", "--out": tmp_path / "out"})], env)
    assert rc == 2
    one_line(err, "--device cuda", "no CUDA GPU")


def test_every_subcommand_answers_bad_flags_in_one_line(tmp_path, env):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    cases = [  # (argv, exit status, needles)
        (["sweep", "--grid", "g.yaml", "--out", a_file], 2, ("--out", "existing file")),
        (["bench", "--k", "-5", "--quick"], 2, ("--k", "-5")),
        (["bench", "--steps", "0", "--quick"], 2, ("--steps",)),
        (["bench", "--quick", "--out", tmp_path], 2, ("--out", "folder")),
        (["export", tmp_path, "--what", "projector", "--max-words", "-5", "--out", tmp_path / "e"], 2,
         ("--max-words", "-5")),
        (["export", tmp_path, "--what", "model", "--seed", "-1", "--out", tmp_path / "e"], 2, ("--seed",)),
        (["explain", tmp_path / "nowhere"], 1, ("results.json",)),
        (["bench", "--full-size", "--forms", "text,xml"], 2, ("--forms", "xml")),  # was exit 1 (hostile sweep c07)
        (["run", "--vectors", a_file, "--lexicon", a_file, "--train", a_file, "--test", a_file, "--methods", "",
          "--out", tmp_path / "r"], 2, ("--methods: no methods chosen",)),  # named no flag (hostile sweep c23)
        (["sweep", "--grid", "g.yaml", "--vectors", a_file, "--out", tmp_path / "s"], 2, ("--vectors", "grid")),
        # a flag given with its default's value is given all the same (it was let through, then ignored)
        (["sweep", "--grid", "g.yaml", "--epochs", "5", "--out", tmp_path / "s"], 2, ("--epochs", "grid")),
        (["sweep", "--grid", "g.yaml", "--epoch", "5", "--out", tmp_path / "s"], 2, ("--epochs", "grid")),  # abbrev.
        # an unknown embedded default is a bad option value (exit 2), not a failed run (it was exit 1)
        (["run", "--vectors", "default:qq", "--lexicon", "default:zh", "--train", a_file, "--test", a_file,
          "--out", tmp_path / "r"], 2, ("--vectors", "default:qq", "default:zh")),
        (["run", "--vectors", "default:zh", "--lexicon", "default:qq", "--train", a_file, "--test", a_file,
          "--out", tmp_path / "r"], 2, ("--lexicon", "default:qq", "default:fr")),
    ]
    for argv, status, needles in cases:
        rc, _, err, _ = cli(argv, env)
        assert rc == status, (argv, err)
        one_line(err, *needles)


INJECT = """
import sys
import mosecrot_viz.cli as cli
def boom(args):
    raise {exc}
cli._resources = boom
sys.exit(cli.main(["resources"]))
"""


def test_memory_and_unexpected_errors_are_one_line_and_debug_shows_the_traceback(env):
    def inject(exc, extra_env=None):
        res = subprocess.run([sys.executable, "-c", INJECT.format(exc=exc)], capture_output=True, text=True,
                             env=dict(env, **(extra_env or {})), timeout=300, cwd=ROOT)
        return res.returncode, res.stderr

    rc, err = inject('MemoryError("Unable to allocate 6.2 GiB for an array with shape (190000, 4000) and data '
                     'type float64")')
    assert rc == 1
    one_line(err, "out of memory", "6.2 GiB", "MOSECROT_MAX_MATRIX_MB", "--max-vocab")
    rc, err = inject('KeyError("geography")')
    assert rc == 1
    one_line(err, "unexpected KeyError", "geography", "MOSECROT_DEBUG=1")
    rc, err = inject('RuntimeError("line one\\nline two")')
    assert rc == 1
    one_line(err, "line one line two")
    rc, err = inject('KeyError("geography")', {"MOSECROT_DEBUG": "1"})
    assert rc == 1 and "Traceback" in err and "KeyError: 'geography'" in err


def _results(**over) -> dict:
    return {"config": {"seeds": [1], "methods": ["rr-softmax"]}, "labels": ["a", "b"], "anchors": {"count": 3},
            "methods": {"rr-softmax": {"macro_f1": 0.5, "macro_f1_std": 0.0}}, **over}


@pytest.mark.parametrize("results", [
    ["a", "list"],
    _results(config=["not", "an", "object"]),
    _results(methods={"rr-softmax": [0.5]}),
    _results(methods={"rr-softmax": {"macro_f1": "high"}}),
    _results(environment={"inputs": ["x"]}),
])
def test_a_tampered_run_folder_is_one_line_naming_its_file(tmp_path, env, results):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(results))
    for argv in (["explain", run], ["export", run, "--what", "projector", "--out", tmp_path / "e"]):
        rc, _, err, _ = cli(argv, env)
        assert rc == 1, (argv, err)
        assert "AttributeError" not in err
        one_line(err, str(run / "results.json"))


def test_export_refuses_and_explain_warns_when_an_input_changed(tmp_path, env, tiny_run_args):
    from mosecrot_viz.cli import main

    out = tmp_path / "run"
    assert main(["run", *run_args(tiny_run_args), "--top-k", "3", "--out", str(out)]) == 0
    lexicon = Path(tiny_run_args["lexicon"])
    original = lexicon.read_bytes()
    rc, _, err, _ = cli(["explain", out], env)
    assert rc == 0 and err == "", err
    lexicon.write_bytes(original.replace(b"cat\txcat", b"cat\txdog"))  # same size: only the hash tells
    rc, stdout, err, _ = cli(["explain", out], env)
    assert rc == 0 and "rr-softmax" in stdout
    assert one_line(err, "--lexicon", str(lexicon), "changed since the run").startswith("warning: ")
    rc, _, err, _ = cli(["export", out, "--what", "projector", "--out", tmp_path / "p"], env)
    assert rc == 1
    one_line(err, "--lexicon", str(lexicon), "changed since the run", "export rebuilds")
    assert not (tmp_path / "p" / "vectors.tsv").exists()
    lexicon.write_bytes(original)  # restored: the export goes ahead
    rc, _, err, _ = cli(["export", out, "--what", "projector", "--out", tmp_path / "p"], env)
    assert rc == 0, err
    assert (tmp_path / "p" / "vectors.tsv").exists()


def test_the_hash_cache_sees_a_same_size_rewrite_with_its_mtime_put_back(tmp_path):
    from mosecrot_viz.experiment.provenance import _sha256

    f = tmp_path / "v.vec"
    f.write_text("a 1 2\n")
    before = _sha256(f)
    st = f.stat()
    f.write_text("b 1 2\n")  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # the old mtime put back
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    assert _sha256(f) != before


def test_any_positive_temperature_is_accepted_and_gives_finite_weights(tiny_run_args):
    """No temperature makes a weighting underflow any more (core.relative works on the gaps to each row's best
    cosine), so the only bound is the one that makes sense: finite and > 0. A tiny tau is the nearest anchor."""
    import torch

    from mosecrot_viz.core.relative import anchor_weights
    from mosecrot_viz.errors import InputError
    from mosecrot_viz.experiment.config import ExperimentConfig

    sims = torch.linspace(1, -1, 50).repeat(4, 1)
    for tau in (1e-40, 1e-8, 2.0 / 2**24, 0.01):
        for weighting in ("softmax", "sparsemax"):
            w = anchor_weights(sims, weighting, tau)
            assert torch.isfinite(w).all() and torch.allclose(w.sum(1), torch.ones(4))
        ExperimentConfig(**tiny_run_args, temperature=tau).validate()
    one_hot = anchor_weights(sims, "softmax", 1e-40)
    assert torch.equal(one_hot[:, 0], torch.ones(4)) and one_hot[:, 1:].abs().max() == 0
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(InputError, match="--temperature"):
            ExperimentConfig(**tiny_run_args, temperature=bad).validate()


def test_out_names_are_checked_with_their_staging_sibling(tmp_path):
    from mosecrot_viz.atomic import STAGE_OVERHEAD, stage_name
    from mosecrot_viz.errors import PathError
    from mosecrot_viz.experiment.preflight import check_out_name

    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    fits = "r" * (limit - STAGE_OVERHEAD)
    check_out_name(tmp_path / fits)
    assert len(stage_name(fits)) <= limit
    (tmp_path / (fits + "x")).mkdir()  # the folder itself fits the file system...
    with pytest.raises(PathError, match="staging"):  # ...its staging sibling would not
        check_out_name(tmp_path / (fits + "x"))


def test_staging_left_by_a_killed_run_is_cleaned_by_the_next_commit(tmp_path):
    from mosecrot_viz.atomic import STAGE_TAG, commit_files

    run = tmp_path / "run"
    commit_files(run, {"results.json": b"{}"})
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = tmp_path / f".run{STAGE_TAG}{gone.pid}-0123456789ab"
    live = tmp_path / f".run{STAGE_TAG}{os.getpid()}-0123456789ab"
    for stage in (dead, live):
        stage.mkdir()
        (stage / "model.safetensors").write_bytes(b"x" * 1000)
    old_tmp = run / ".status.json.0123456789ab.tmp"
    old_tmp.write_text("{")
    os.utime(old_tmp, (time.time() - 7200, time.time() - 7200))
    fresh_tmp = run / ".status.json.ba9876543210.tmp"
    fresh_tmp.write_text("{")
    commit_files(run, {"results.json": b"{\"a\": 1}"})
    assert not dead.exists() and not old_tmp.exists()
    assert live.exists() and fresh_tmp.exists()  # a live writer's stage and a temp file being written stay
    assert json.loads((run / "results.json").read_text()) == {"a": 1}


def test_a_complete_trial_is_checked_and_a_corrupt_one_run_again(tmp_path, tiny_grid):
    from mosecrot_viz.store.engines import run_trials, trial_path
    from mosecrot_viz.store.grid import expand, load_grid

    trials = [t for t in expand(load_grid(tiny_grid)) if t.config.methods == ["ls"]][:2]
    root = tmp_path / "store"
    first = run_trials(trials, root)
    assert sorted(first.completed) == sorted(t.trial_id for t in trials)
    a, b = (trial_path(root, t) / "results.json" for t in trials)
    a.write_text(a.read_text()[:-40])  # cut short: no longer JSON
    res = json.loads(b.read_text())
    res["config"]["top_k"] = 7  # another config than the trial's
    b.write_text(json.dumps(res))
    again = run_trials(trials, root)
    assert sorted(again.completed) == sorted(t.trial_id for t in trials) and not again.skipped
    assert json.loads(b.read_text())["config"]["top_k"] == trials[1].config.top_k
    third = run_trials(trials, root)
    assert sorted(third.skipped) == sorted(t.trial_id for t in trials)


def test_a_sweep_checks_every_trials_files_before_any_trial_runs(tmp_path, env, tiny_run_args):
    bad_dev = tmp_path / "dev.tsv"
    bad_dev.write_text("index_id\tcategory\ttext\n1\tweather\txcat\n")
    args = ["sweep", *run_args(tiny_run_args, **{"--dev": bad_dev}), "--param", "top_k", "--values", "1,3",
            "--out", tmp_path / "sweep"]
    rc, _, err, _ = cli(args, env)
    assert rc == 1
    one_line(err, str(bad_dev), "weather")
    assert not any((tmp_path / "sweep").glob("*/status.json"))  # no trial folder was queued
    vec = tmp_path / "w.vec"
    write_vec(vec, ["a", "b"], dim=3)
    vec.write_bytes(b"\x80\x04" + vec.read_bytes())  # a pickle's first bytes
    rc, _, err, _ = cli(["sweep", *run_args(tiny_run_args, **{"--vectors": vec}), "--param", "top_k", "--values",
                         "1,3", "--out", tmp_path / "sweep2"], env)
    assert rc == 1
    one_line(err, str(vec), "pickle")


def test_a_learning_rate_that_blows_up_the_weights_fails_in_training_naming_it(tmp_path, env, tiny_run_args):
    """The hostile sweep's --lr 1e30: the weights went NaN in the last update, the run trained to the end and failed
    writing the predictions ('unexpected NonFiniteError'); now the fine-tune's own check names the learning rate."""
    args = run_args(tiny_run_args, **{"--lr": "1e30", "--methods": "rr-softmax,majority", "--no-ladder": None})
    rc, _, err, _ = cli(["run", *args, "--no-ladder", "--out", tmp_path / "out"], env)
    assert rc == 1, err
    one_line(err, "lr 1e+30")
    assert "unexpected" not in err and "NonFiniteError" not in err, err


def test_a_vectors_corpus_too_small_for_min_count_is_one_line_naming_the_flag(tmp_path, env):
    """The hostile sweep's `vectors --min-count 1000` printed 'unexpected ValueError: ...'."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("le chat dort\nle chien court\n", encoding="utf-8")
    rc, _, err, _ = cli(["vectors", "--corpus", corpus, "--min-count", "1000", "--out", tmp_path / "v.bin"], env)
    assert rc == 1, err
    one_line(err, "min_count=1000", "--min-count")
    assert "unexpected" not in err and "ValueError" not in err, err


def test_explain_on_unreadable_records_names_no_exception_class(tmp_path, env):
    """The hostile sweep's messages embedded '(LimitError: ...)', '(FormatError: ...)' and '(KeyError: -1)'."""
    cases = {"big": None, "binary": b"\x00\xff\xfe garbage", "deep": b"[" * 500 + b"]" * 500}
    for name, content in cases.items():
        run = tmp_path / name
        run.mkdir()
        if content is None:
            with open(run / "results.json", "wb") as fh:
                fh.truncate(2 * 2**20)  # 2 MB of zero bytes, over a 1 MB limit
        else:
            (run / "results.json").write_bytes(content)
        rc, _, err, _ = cli(["explain", run], dict(env, MOSECROT_MAX_JSON_MB="1"))
        assert rc == 1, err
        line = one_line(err, str(run / "results.json"))
        assert not any(f"{kind}:" in line for kind in ("LimitError", "FormatError", "KeyError", "ValueError")), line
        assert line.count(str(run / "results.json")) == 1, line


@pytest.mark.parametrize("literal", ["1e999", "-Infinity", "NaN"])
def test_a_non_finite_number_anywhere_in_a_record_is_refused_naming_the_file(tmp_path, env, literal):
    """wall_seconds edited to 1e999 was read as inf and explain said nothing, exit 0 (hostile sweep r06): the score
    checks cover a few fields, the reader covers every one (all JSON this program writes is strict)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(_results()).replace('"macro_f1_std": 0.0', '"macro_f1_std": 0.0, '
                                                                      f'"wall_seconds": {literal}'))
    for argv in (["explain", "--json", run], ["export", run, "--what", "projector", "--out", tmp_path / "e"]):
        rc, out, err, _ = cli(argv, env)
        assert rc == 1 and out == "", (argv, out)
        one_line(err, str(run / "results.json"), literal, "not finite")


def test_a_name_that_is_not_utf8_is_a_usage_error_before_any_work(tmp_path, env, tiny_run_args):
    """An --out holding byte 0xff ran the whole experiment, then failed writing results.json as 'unexpected
    UnicodeEncodeError' (hostile sweep c28); an input file's name goes into results.json too."""
    odd = os.fsdecode(os.fsencode(str(tmp_path)) + b"/run-\xff")
    odd_train = os.fsdecode(os.fsencode(str(tmp_path)) + b"/train-\xff.tsv")
    Path(odd_train).write_bytes(Path(tiny_run_args["train"]).read_bytes())
    for over, flag in (({"--out": odd}, "--out"), ({"--train": odd_train, "--out": tmp_path / "r"}, "--train")):
        rc, _, err, seconds = cli(["run", *run_args(tiny_run_args, **over)], env)
        assert rc == 2, err
        one_line(err, flag, "not valid UTF-8", "\\udcff")
        assert not Path(odd).exists()


def test_a_summary_the_terminal_cannot_encode_is_printed_with_escapes(tmp_path, env, tiny_run_args):
    """PYTHONIOENCODING=ascii: the finished run's summary ('±', a label 'santé') raised UnicodeEncodeError after the
    results were written, exit 1 (hostile sweep c29); now it is printed with escapes, exit 0."""
    relabelled = {}
    for key in ("train", "dev", "test"):
        p = tmp_path / f"{key}.tsv"
        p.write_text(Path(tiny_run_args[key]).read_text().replace("\thealth\t", "\tsanté\t"), encoding="utf-8")
        relabelled[f"--{key}"] = p
    rc, out, err, _ = cli(["run", *run_args(tiny_run_args, **relabelled, **{"--out": tmp_path / "r"})],
                          dict(env, PYTHONIOENCODING="ascii"))
    assert rc == 0, err
    assert "\\xb1 std" in out and "Traceback" not in err
    assert json.loads((tmp_path / "r" / "results.json").read_text())["labels"] == ["animals", "sant\u00e9", "sport"]


def test_a_tampered_predictions_table_is_one_line_naming_it(tmp_path, env, tiny_run_args):
    """predictions.csv was read with a bare pd.read_csv: 90 MB of rows ended explain in 'out of memory' naming no
    file, and a table missing its columns was a pandas traceback in the Compare and Errors pages (hostile sweep m12,
    r20); the run folder's tables now go through one bounded reader."""
    from mosecrot_viz.store.runs import StoredRun

    out = tmp_path / "run"
    rc, _, err, _ = cli(["run", *run_args(tiny_run_args, **{"--out": out})], env)
    assert rc == 0, err
    table = out / "predictions.csv"
    good = table.read_text()
    table.write_text("method,seed\nrr-softmax,1\n")
    rc, _, err, _ = cli(["explain", out], env)
    assert rc == 1
    one_line(err, str(table), "lacks the columns id, gold, pred")
    table.write_text(good + good.split("\n", 1)[1] * 400)  # 400 times the rows: past a 0.01 MB limit
    rc, _, err, _ = cli(["explain", out], dict(env, MOSECROT_MAX_RUN_TABLE_MB="0.01"))
    assert rc == 1
    one_line(err, str(table), "MOSECROT_MAX_RUN_TABLE_MB")
    table.write_text(good.replace(",animals,", ",NA,"))  # a label NA is a label, not a missing value
    assert "NA" in set(StoredRun(out).predictions()["gold"])


def test_out_of_memory_under_an_address_space_ceiling_says_so_in_one_line(monkeypatch):
    """Under `ulimit -v` 1.2 GB a library's dlopen failed as 'unexpected ImportError: ... failed to map segment'
    and a bare MemoryError named only the inputs' limits (hostile sweep a02): both now name the ceiling."""
    from mosecrot_viz import cli as cli_module
    from mosecrot_viz.io import limits

    monkeypatch.setattr(limits, "address_space_limit", lambda: 1229 * 2**20)
    line = cli_module.error_line(ImportError("/x/_propack.so: failed to map segment from shared object"))
    assert line.startswith("error: out of memory loading a library (/x/_propack.so)") and "unexpected" not in line
    assert "1,229 MB of address space (ulimit -v)" in line and "\n" not in line
    line = cli_module.error_line(MemoryError())
    assert "MOSECROT_MAX_MATRIX_MB" in line and "address-space limit (1,229 MB: ulimit -v)" in line
    monkeypatch.setattr(limits, "address_space_limit", lambda: None)
    assert "ulimit" not in cli_module.error_line(MemoryError())


def test_a_parameter_sweep_checks_its_shared_inputs_whole_before_the_wait(tmp_path, env, tiny_run_args):
    """`sweep --param` trials share every input file; a lexicon sharing no word with the vectors (or vectors whose
    rows past the sniff are ragged) waited for the slot and then failed every trial (hostile sweep w16)."""
    slot_env = {k: v for k, v in env.items() if k != "MOSECROT_SHARE_CORES"}
    no_overlap = tmp_path / "no_overlap.txt"
    no_overlap.write_text("cat\tzzkatze\ndog\tzzhund\n", encoding="utf-8")
    good_rows = Path(tiny_run_args["vectors"]).read_text(encoding="utf-8").splitlines()[1:]
    padding = [f"pad{i} " + " ".join(["0.25"] * 6) for i in range(12_000)]  # past the 256 KB the sniff reads
    ragged = tmp_path / "ragged_end.vec"
    ragged.write_text("\n".join(good_rows + padding + ["last 0.5"]) + "\n", encoding="utf-8")
    overhead = _import_seconds(slot_env)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "600"], stdout=subprocess.PIPE, text=True, env=slot_env,
                              cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        for i, (over, needles) in enumerate([({"--lexicon": no_overlap}, ("lexicon", str(no_overlap))),
                                             ({"--vectors": ragged}, (str(ragged), "1 numbers, expected"))]):
            argv = ["sweep", "--param", "top_k", "--values", "1,2", *run_args(tiny_run_args, **over),
                    "--out", tmp_path / f"sweep{i}"]
            rc, _, err, seconds = cli(argv, slot_env, timeout=120)
            assert rc == 1, err
            one_line(err, *needles)
            assert "waiting for another run" not in err
            assert seconds < (5 if overhead < 2 else 5 + overhead), (seconds, overhead, err)
            assert holder.poll() is None
    finally:
        holder.kill()
        holder.wait()
