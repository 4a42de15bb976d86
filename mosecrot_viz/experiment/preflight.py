"""Every cheap check of a run's inputs and outputs, before it waits for the machine or does any work.

Why: a run reads its inputs after it takes the machine's compute slot (`store.worker`), so a FIFO given as
vectors, a task label the English data lacks or a model folder missing tensors would otherwise wait behind
another person's ten-minute run before being refused. `check_run(cfg)` takes seconds: the options
(`ExperimentConfig.validate`, device availability included), every input's file kind (a regular file, not a
FIFO, device or folder) and format (the first bytes of vectors and lexicons sniffed; task files read whole, they
are small and bounded, with the labels of every split checked against the English training labels), the model
folders' config and tensors (the names in the safetensors headers: for encoders whose layers all hold the same
tensors a layer's gap shows from the names alone, in milliseconds and without torch; then compared with the
architecture built on torch's meta device: no weights loaded), and the output folder's name with its staging sibling's
(`check_out_name`). `default:` resources not built yet are skipped (the registry builds and checks them).

The CLI's `run` then parses a text vectors file whole and checks the lexicon against it (`check_contents`): a bad row far
into the file, all-zero, subnormal or all-identical vectors, or a lexicon (or BLI test dictionary) sharing no word
with the vectors is refused before the wait too, and the parse is kept in the parsed-vector cache, so the run's own load after the wait is fast.

A check that passed is remembered for the same file (path, inode, size, mtime, ctime), so a sweep's trials
that share their files are checked once.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from mosecrot_viz.atomic import STAGE_OVERHEAD
from mosecrot_viz.errors import FormatError, InputError, PathError, SchemaError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.io.limits import LimitedGzip, check_regular_file, refuse_unsafe, strip_bom

#: model types whose encoder layers all hold the same tensors, so a layer's gap shows from the names alone
HOMOGENEOUS_LAYERS = ("bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra", "deberta",
                      "deberta-v2", "mpnet")
_LAYER_NAME = re.compile(r"^(?P<stack>.*?)\.(?P<index>\d+)\.(?P<rest>.+)$")
SAFETENSORS_HEADER_MAX = 100_000_000  # bytes: the safetensors format's own limit on its JSON header
SNIFF_BYTES = 256 * 1024  # enough for a few lines of 4096-d text vectors
LONGEST_RUN_FILE = 80  # bytes of the longest file name a run writes in its folder (a kept model's, a temp file's)
_passed: dict = {}  # check key -> True, for files that passed (bounded below)


def _identity(path) -> tuple:
    st = os.stat(path)
    return (str(Path(path).resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _once(key: tuple, check) -> None:
    if key in _passed:
        return
    check()
    if len(_passed) > 1024:
        _passed.clear()
    _passed[key] = True


def _default_path(spec: str, kind: str) -> Path | None:
    """The cached file of a `default:` spec when built; None when not built yet; InputError when unknown."""
    from mosecrot_viz.defaults.registry import RESOURCES, cache_path_if_built

    key = f"{kind}:{spec.split(':', 1)[1]}"
    if key not in RESOURCES:
        raise InputError(f"--{kind} {spec}: unknown default; known: "
                         f"{sorted('default:' + k.split(':', 1)[1] for k in RESOURCES if k.startswith(kind + ':'))}")
    return cache_path_if_built(key)


def _head_lines(path: Path, kind: str) -> list[tuple[int, str]]:
    """(line number, text) of the complete lines in the file's first `SNIFF_BYTES` (gzip read through its
    bomb-limited reader), refusing a pickle and non-UTF-8 bytes with the line named."""
    try:
        with (LimitedGzip(path) if path.name.lower().endswith(".gz") else open(path, "rb")) as fh:
            head = fh.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise FormatError(f"cannot read this {kind} file ({exc})", path) from None
    refuse_unsafe(head[:8], path, kind)
    head = strip_bom(head)
    if len(head) == SNIFF_BYTES:  # the last line may be cut: keep whole lines only
        head = head[:head.rfind(b"\n") + 1] if b"\n" in head else b""
    out = []
    for lineno, raw in enumerate(head.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise FormatError("not UTF-8 text", path, lineno) from None
        if text:
            out.append((lineno, text))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def sniff_vectors(path: Path) -> None:
    """Refuse a vectors file whose first bytes are no vectors format (`io.vectors.detect_format`); for text, the
    first vector line must be a word and numbers."""
    from mosecrot_viz.io.vectors import detect_format

    if detect_format(path) != "text":
        return  # word2vec binary or fastText .bin: detect_format has read their header or magic
    lines = _head_lines(path, "vectors")
    if not lines:
        raise FormatError("vector file has no vector line in its first bytes", path)
    first = lines[0][1].split()
    data = lines[1:] if len(first) == 2 and all(x.isdigit() for x in first) else lines
    if not data:
        return  # a header alone within the first bytes (one very long line after it): the loader decides
    lineno, text = data[0]
    fields = text.split()
    if len(fields) < 2 or not _is_number(fields[-1]):
        raise FormatError(f"not a vectors file: expected 'word v1 v2 ...' (word2vec/fastText text), found "
                          f"{text[:60]!r}", path, lineno)


def sniff_lexicon(path: Path) -> None:
    """Refuse a lexicon whose first pair line is not two fields (as `io.lexicon.load_lexicon` reads it)."""
    lines = _head_lines(path, "lexicon")
    if not lines:
        if path.stat().st_size == 0:
            raise FormatError("lexicon holds no pairs", path)
        return
    lineno, line = lines[0]
    parts = line.split("\t") if "\t" in line else line.split()
    if len([p for p in parts if p.strip()]) != 2:
        raise FormatError(f"expected 'english<TAB>target' (2 fields), found {len(parts)}: {line[:60]!r}", path, lineno)


def check_file(spec: str | None, kind: str, flag: str) -> Path | None:
    """The file `spec` names (a `default:` spec resolved when built), checked for its kind and sniffed for its
    format; None for an unset or not-yet-built default."""
    if not spec:
        return None
    if isinstance(spec, str) and spec.startswith("default:"):
        if kind not in ("vectors", "lexicon"):
            raise InputError(f"{flag} {spec}: default: specs are for --vectors and --lexicon only")
        path = _default_path(spec, kind)
        if path is None:
            return None
    else:
        path = Path(spec).expanduser()
    try:
        check_regular_file(path, {"vectors": "vector"}.get(kind, kind))  # the loaders' words for their files
    except PathError as exc:
        raise PathError(f"{exc} ({flag})") from None
    sniff = {"vectors": sniff_vectors, "lexicon": sniff_lexicon}.get(kind)
    if sniff:
        _once(("sniff", kind) + _identity(path), lambda: sniff(path))
    return path


# Files one of which every tokenizer a model folder can hold is read from (fast tokenizers' tokenizer.json; WordPiece,
# BPE and SentencePiece vocabularies): a folder with none fails in AutoTokenizer, after the wait for the machine.
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model", "sentencepiece.model")


def _names_a_path(spec: str) -> bool:
    """True when `spec`, which names nothing on disk, is written as a path, not a hub id (NAME or OWNER/NAME):
    absolute, relative to . or .., in the home folder, or with more than one '/'. Why: a mistyped folder was taken
    for a hub id and failed only in the loader, after the wait for the compute slot (hostile sweep w08)."""
    return (spec.startswith(("/", "./", "../", "~", "\\")) or spec in (".", "..") or spec.count("/") > 1
            or "\\" in spec)


def model_folder(spec: str, flag: str) -> Path | None:
    """The model folder `spec` names (a built default's too), None for a hub id or a default not built yet; a
    missing folder written as a path, or a file, is a `PathError`. Cheap (no file read): the checks call it for every
    model before the checks that import transformers, so a mistyped folder is refused in a second."""
    from mosecrot_viz.defaults.models import MODEL_ALIASES
    from mosecrot_viz.defaults.registry import cache_path_if_built

    if spec in MODEL_ALIASES:
        folder = cache_path_if_built(MODEL_ALIASES[spec])
        if folder is None or not Path(folder).is_dir():
            return None
    else:
        folder = Path(spec).expanduser()
        if not folder.exists():
            if _names_a_path(spec):
                raise PathError(f"{flag}: no such model folder (a hub id is NAME or OWNER/NAME)", folder)
            return None  # a hub id
    folder = Path(folder)
    if not folder.is_dir():
        raise PathError(f"{flag}: is a file, not a model folder (give the folder holding config.json)", folder)
    return folder


def check_model(spec: str, flag: str) -> None:
    """A model folder (or a built default) holds config.json, a tokenizer and safetensors weights covering its
    encoder.

    Hub ids are left to the loader (it fails within seconds when the hub does not answer)."""
    folder = model_folder(spec, flag)
    if folder is None:
        return
    files = sorted(folder.glob("*.safetensors"))
    key = ("model", str(folder.resolve())) + tuple(_identity(p) for p in [folder / "config.json", *files]
                                                    if p.exists())
    _once(key, lambda: _check_model_folder(folder, files, flag))


def _check_model_folder(folder: Path, files: list, flag: str) -> None:
    from mosecrot_viz.io.models import _check_weights  # the loader's own refusal of pickle-only weights

    if not (folder / "config.json").is_file():
        raise SchemaError(f"{flag}: model folder has no config.json", folder)
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise SchemaError(f"{flag}: model folder has no tokenizer (none of {', '.join(TOKENIZER_FILES)}): copy the "
                          "model's tokenizer files beside its config.json", folder)
    _check_weights(folder)
    config, shapes = _config(folder), _header_shapes(files)
    _check_embedding_shape(config, shapes, folder, flag)
    missing, total = _layer_gaps(config, set(shapes))  # from names alone: no torch, milliseconds
    if not missing:
        missing, total = _missing_tensors(folder, set(shapes))  # exact, against the architecture (transformers)
    if missing:
        raise SchemaError(f"{flag}: the weights lack {len(missing)} of the encoder's {total} tensors (e.g. "
                          f"{missing[0]}): incomplete or for another architecture", folder)


def _config(folder: Path) -> dict:
    """config.json, read within the JSON limits (`io.structured`); a malformed one is a FormatError naming it."""
    from mosecrot_viz.io.structured import load_json

    config = load_json(folder / "config.json")
    if not isinstance(config, dict):
        raise FormatError("config.json is not a JSON object", folder / "config.json")
    return config


def _check_embedding_shape(config: dict, shapes: dict, folder: Path, flag: str) -> None:
    """The word embeddings' shape in the weights against config.json's vocab_size x embedding width (an
    `embedding_size` where the architecture has one, else `hidden_size` / `dim`): a config from another model
    size would otherwise fail only when the loader copies the weights, after the wait for the machine."""
    rows, width = config.get("vocab_size"), config.get("embedding_size", config.get("hidden_size", config.get("dim")))
    found = [(n, s) for n, s in shapes.items() if n.endswith("word_embeddings.weight")]
    if not (isinstance(rows, int) and isinstance(width, int)) or len(found) != 1:
        return
    name, shape = found[0]
    if list(shape) != [rows, width]:
        raise SchemaError(f"{flag}: the weights' {name} is {' x '.join(map(str, shape))}, but config.json says "
                          f"vocab_size {rows} x width {width}: a config.json from another model?", folder)


def _header_shapes(files: list) -> dict:
    """Tensor name -> shape for every tensor in the safetensors files' headers (the 8-byte length, then that many
    bytes of JSON; no weights read, no torch imported)."""
    names = {}
    for f in files:
        try:
            with open(f, "rb") as fh:
                n = int.from_bytes(fh.read(8), "little")
                if not 2 <= n <= SAFETENSORS_HEADER_MAX:
                    raise ValueError(f"header length {n}")
                header = json.loads(fh.read(n))
            names.update((k, v.get("shape") if isinstance(v, dict) else None) for k, v in header.items()
                         if k != "__metadata__")
        except (OSError, ValueError, AttributeError) as exc:
            raise FormatError(f"not a readable safetensors file ({exc})", f) from None
    return names


def _layer_gaps(config: dict, names: set) -> tuple[list, int]:
    """(tensors missing from the encoder's layers, how many its layers hold), judged from the names alone, for the
    architectures whose layers all hold the same tensors (`HOMOGENEOUS_LAYERS`); ([], 0) for any other.

    The layer stack is the name prefix before an index (`encoder.layer.3.` or `bert.encoder.layer.3.`) that has the
    most indices; each of its `num_hidden_layers` layers must hold every tensor any layer holds, and the word
    embeddings must be there. What this does not see (a missing pooler, a model of another family) is left to the
    exact check on torch's meta device (`_missing_tensors`)."""
    if config.get("model_type") not in HOMOGENEOUS_LAYERS:
        return [], 0
    layers = config.get("num_hidden_layers", config.get("n_layers"))
    stacks: dict = {}
    for name in names:
        m = _LAYER_NAME.match(name)
        if m:
            stacks.setdefault(m["stack"], {}).setdefault(int(m["index"]), set()).add(m["rest"])
    if not stacks or not isinstance(layers, int) or layers < 1:
        return [], 0
    stack, by_index = max(stacks.items(), key=lambda kv: len(kv[1]))
    parts = sorted(set().union(*by_index.values()))
    missing = [f"{stack}.{i}.{rest}" for i in range(layers) for rest in parts if rest not in by_index.get(i, ())]
    if not any(n.endswith("word_embeddings.weight") for n in names):
        missing.insert(0, "embeddings.word_embeddings.weight")
    return missing, layers * len(parts) + 1


def _missing_tensors(folder: Path, have: set) -> tuple[list, int]:
    """(encoder weights the safetensors files lack, how many the encoder has): `have`, the names in the files'
    headers (`_header_shapes`, no weights read), against the parameters of the architecture built from config.json
    on torch's meta device (no memory). The pooler may be absent (converted checkpoints such as the embedded e5
    ship none), as the loader allows; a prefix (`bert.`) and the old LayerNorm names (gamma, beta) are read as the
    loader reads them."""
    import torch
    from transformers import AutoConfig, AutoModel

    try:
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
        with torch.device("meta"):
            base = AutoModel.from_config(config)
    except (OSError, ValueError, KeyError) as exc:
        raise FormatError(f"cannot read this model folder's config.json ({type(exc).__name__}: {str(exc)[:200]})",
                          folder) from None
    except Exception:  # an architecture that cannot be built this way: the loader's own coverage check decides
        return [], 0
    prefix = (getattr(base, "base_model_prefix", "") or "") + "."
    legacy = {".gamma": ".weight", ".beta": ".bias"}
    names = set()
    for k in have:
        k = k[len(prefix):] if prefix != "." and k.startswith(prefix) else k
        for old, new in legacy.items():
            if k.endswith(old):
                k = k[: -len(old)] + new
        names.add(k)
    expected = [k for k, _ in base.named_parameters()  # weights only: a buffer absent from a file is rebuilt
                if not k.startswith("pooler.") and ".pooler." not in k]
    return sorted(k for k in expected if k not in names), len(expected)


def check_out_name(folder, flag: str = "--out") -> None:
    """Refuse an output folder whose name, or its staging sibling's (`atomic.stage_name`), or the path of a file
    inside it, is longer than the file system allows: the run would finish, then fail to commit its files."""
    if folder is None or not str(folder).strip():
        return
    p = Path(folder).expanduser().absolute()
    anchor = p.parent
    while not anchor.exists() and anchor != anchor.parent:
        anchor = anchor.parent
    try:
        name_max = os.pathconf(anchor, "PC_NAME_MAX")
        path_max = os.pathconf(anchor, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    for part in p.parts[1:]:
        if len(os.fsencode(part)) > name_max:
            raise PathError(f"{flag}: the name {part[:40]!r}... is {len(os.fsencode(part))} bytes, more than this "
                            f"file system's {name_max}", p)
    n = len(os.fsencode(p.name))
    if n + STAGE_OVERHEAD > name_max:
        raise PathError(f"{flag}: the folder name is {n} bytes; its staging folder beside it, "
                        f"'.<name>.commit-<pid>-<id>', would be {n + STAGE_OVERHEAD}, more than this file system's "
                        f"{name_max}: use a name of at most {name_max - STAGE_OVERHEAD} bytes", p)
    longest = len(os.fsencode(str(p.parent))) + 1 + n + STAGE_OVERHEAD + 1 + LONGEST_RUN_FILE
    if longest > path_max:
        raise PathError(f"{flag}: the path is too long for this file system ({longest} bytes with the run's files "
                        f"and staging, more than {path_max}): choose a shorter folder", p)


def check_inputs(cfg: ExperimentConfig, contents: bool = False) -> None:
    """Every input the config names: file kinds, formats, task headers and the labels of every split, models;
    with `contents` (the CLI's `run`), a text vectors file parsed whole and the lexicon's overlap with it
    (`check_contents`). A sweep's trials and the app's runs leave those to the run itself: a trial whose vectors
    fail is recorded as failed and the sweep goes on, and the app has read its vectors on Setup already."""
    from mosecrot_viz.experiment.inputs import load_splits

    vectors = check_file(cfg.vectors, "vectors", "--vectors")
    lexicon = check_file(cfg.lexicon, "lexicon", "--lexicon")
    if cfg.bli_test_lexicon:
        check_file(cfg.bli_test_lexicon, "lexicon", "--bli-test-lexicon")
    tasks = [("train", "--train"), ("dev", "--dev"), ("test", "--test"), ("target_train", "--target-train"),
             ("source_test", "--source-test")]
    paths = [(check_file(getattr(cfg, f), "task", flag)) for f, flag in tasks]
    key = ("splits",) + tuple(_identity(p) if p else None for p in paths)
    _once(key, lambda: load_splits(cfg))  # headers, rows and every split's labels against the English training set
    models = [(cfg.source_model, "--source-model")] + ([(cfg.multilingual_model, "--multilingual-model")]
                                                       if "mplm" in cfg.methods else [])
    for spec, flag in models:
        model_folder(spec, flag)  # a missing or mistyped folder, before any check that imports gensim or transformers
    if contents and vectors is not None and lexicon is not None and _text_vectors(vectors):  # before the models:
        # their exact check imports transformers (seconds), and a bad vectors file should not wait for that either
        key = ("contents", cfg.max_vocab, cfg.lang, cfg.simplify_chinese) + _identity(vectors) + _identity(lexicon)
        _once(key, lambda: check_contents(cfg, vectors))
    for spec, flag in models:
        check_model(spec, flag)


def _text_vectors(path: Path) -> bool:
    """A text vectors file (.vec/.txt, gzipped or not): its parse is kept in the content-keyed parsed cache."""
    from mosecrot_viz.io.vectors import TEXT_SUFFIXES, _strip_gz

    return _strip_gz(path)[0] in TEXT_SUFFIXES


def check_contents(cfg: ExperimentConfig, vectors: Path) -> None:
    """Every row of a text vectors file and the lexicon's overlap with it, before the wait: the file is parsed once
    (its rows checked: ragged, not numbers, NaN, all zero, subnormal, all one vector), which fills the content-keyed parsed cache,
    so the run's own load after the wait reads that cache instead of parsing again; then a lexicon (and a BLI test
    dictionary) none of whose target words has a vector (another language's lexicon, another script) is refused. The matrix is dropped
    before the wait. Binary models (fastText, word2vec) are not read here: without a parsed cache, a 7 GB model
    would be read twice. What needs the model's vocabulary (the English side's whole-token rule) is checked when
    the run counts its anchors, after the wait."""
    from mosecrot_viz.core.checks import check_vector_scale
    from mosecrot_viz.errors import OverlapError
    from mosecrot_viz.experiment.inputs import load_pairs
    from mosecrot_viz.io.vectors import load_vectors

    kv = load_vectors(vectors, max_vocab=cfg.max_vocab)
    check_vector_scale(kv.vectors, cfg.vectors)  # subnormal vectors are refused (a warning otherwise: the run's)
    words = kv.key_to_index
    lexicons = [("--lexicon", cfg.lexicon)] + ([("--bli-test-lexicon", cfg.bli_test_lexicon)]
                                               if cfg.bli_test_lexicon else [])
    for flag, spec in lexicons:
        pairs = load_pairs(cfg, spec)
        if pairs and not any(t in words for _, t in pairs):
            folded = {w.casefold() for w in words}
            if not any(t.casefold() in folded for _, t in pairs):
                raise OverlapError(f"{flag} {spec}: none of its {len(pairs):,} target words has a vector in "
                                   f"{cfg.vectors} ({len(words):,} words, e.g. {', '.join(list(words)[:3])}; the "
                                   f"lexicon's, e.g. {', '.join(t for _, t in pairs[:3])}): another language or "
                                   f"script?")
    del kv


def check_run(cfg: ExperimentConfig) -> ExperimentConfig:
    """`validate` (options, device), the output names, then every input: all before any wait or work."""
    cfg.validate()
    if cfg.out:
        check_out_name(cfg.out, "--out")
    if cfg.model_cache:
        check_out_name(cfg.model_cache, "--model-cache")
    check_inputs(cfg)
    return cfg
