"""Every run option defined once: its type, default, bounds or choices, help text, CLI flag and app label.

`RunOptions` is a dataclass whose fields are the run's options; each field's metadata holds its `Option` (how it is
checked, shown and typed on the command line). `ExperimentConfig` (experiment.config) is this dataclass plus the
checks that need the method registry. From these fields:
- the CLI builds the `run`, `sweep` and `demo` flags, their defaults and help (cli.py);
- the Run page takes its widgets' defaults and bounds (ui/state.py, pages/run.py);
- a grid file's values are typed (store/grid.py: pydantic over the field types) and checked (`check_options`).

`check_options` is the one validator of types, bounds and choices. Its `OptionError` keeps the option's name and a
message template, so the same refusal reads `--epochs must be ...` on the command line and `epochs must be ...` (the
widget's label) in the app. Importing this module imports no torch: `run --help` is built from it.
"""
from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields

import numpy as np

from mosecrot_viz.core.anchors import POLICIES as ANCHOR_POLICIES
from mosecrot_viz.core.devices import DEVICES
from mosecrot_viz.core.tokenizer import UNK_POLICIES
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.text import SEGMENTATIONS

NORMALISATIONS = ("none", "unit", "center-unit")  # experiment.spaces.normalise_rows
#: largest seed: NumPy's legacy seeding (np.random.seed, used with torch.manual_seed) takes 0 .. 2**32 - 1
SEED_MAX = 2**32 - 1
CLI, APP = "cli", "app"  # the two surfaces an option's name is rendered for


@dataclass(frozen=True)
class Option:
    """How one run option is checked and shown (the field's type and default live on the field itself).

    check: "file" (a required, non-empty path), "folder" (an optional path that may not be empty), "count" (a whole
    number >= low), "rate" (a finite number > 0, at most `high` when given), "share" (a number in [0, 1]), "choice"
    (one of `choices`), "seeds" (whole numbers 0 .. SEED_MAX), or "" (not checked here).
    flag: the CLI flag ("" derives `--name-with-dashes`; None: no flag). negate: a bool the flag turns off.
    group: "experiment" (run, sweep) or "training" (run, sweep and demo). zero_is_none: 0 stands for None on the Run
    page ("app") or there and on the command line ("both"). widget_max, widget_step: the Run page's number inputs.
    """

    help: str
    label: str
    check: str = ""
    low: int | float = 0
    high: float | None = None
    choices: tuple = ()
    flag: str | None = ""
    negate: bool = False
    metavar: str | None = None
    group: str = "experiment"
    zero_is_none: str = ""
    widget_max: int | float | None = None
    widget_step: float | None = None


def option(default=MISSING, **kw):
    """A dataclass field with its `Option` in the metadata (a list default becomes a factory)."""
    meta = {"option": Option(**kw)}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class RunOptions:
    """Everything one run needs. Paths may be `default:LANG` for the embedded defaults. Field order is results.json's
    `config` order; `check_options` walks it."""

    vectors: str = option(help="static vectors file, or default:LANG", label="vectors", check="file")
    lexicon: str = option(help="bilingual lexicon (english target per line), or default:LANG", label="lexicon",
                          check="file")
    train: str = option(help="English training data", label="English training data", check="file")
    test: str = option(help="target-language test data", label="target-language test data", check="file")
    out: str | None = option(None, help="folder for results.json and predictions.csv", label="output folder",
                             check="folder", group="training")
    dev: str | None = option(None, help="English dev data for epoch selection (default: 10% of --train)",
                             label="English dev data")
    lang: str | None = option(None, help="target language code (chooses the segmentation rule: jieba for zh, "
                              "elision for fr/it/ca, ...)", label="language")
    target_train: str | None = option(None, help="target-language training data (the lr baseline trains on it; `<method>+st` reads its text only, as an unlabelled pool)",
                                      label="target-language training data")
    source_test: str | None = option(None, help="English test data, to report in-language F1 beside each method",
                                     label="English test data")
    source_model: str = option("default", help="hub id, local folder, or 'default' (all-MiniLM-L6-v2)",
                               label="source model")
    multilingual_model: str = option("default-multilingual", help="hub id, local folder, or 'default-multilingual' "
                                     "(multilingual-e5-small, 4-bit-derived)", label="multilingual model")
    methods: list[str] = option(["rr-softmax", "ls", "mplm", "lr", "source", "majority"],
                                help="comma-separated method names", label="methods")
    top_k: int | None = option(50, help="anchors per word (0 = all)", label="top-k (0 = all)", check="count",
                               low=0, zero_is_none="both", widget_max=100000)
    temperature: float | None = option(None, help="tau (default: each weighting's own, see README)",
                                       label="τ (0 = per weighting)", check="rate", zero_is_none="app",
                                       widget_max=10.0, widget_step=0.01)  # None: each RR mapper's default
    seeds: list[int] = option([1], help="comma-separated seeds; each is one fine-tune per method", label="seeds",
                              check="seeds", group="training")
    epochs: int = option(5, help="fine-tuning epochs (the best English-dev epoch is kept)", label="epochs",
                         check="count", low=1, group="training", widget_max=20)
    patience: int | None = option(None, help="stop a fine-tune after this many epochs without a better English dev "
                                  "F1 (default: off, as in the paper: every epoch is trained and the best kept)",
                                  label="stop early after this many epochs without a better English dev F1 "
                                  "(0 = off, as in the paper)", check="count", low=1, group="training",
                                  zero_is_none="app", widget_max=20)
    lr: float = option(1e-4, help="AdamW learning rate for fine-tuning", label="learning rate", check="rate",
                       group="training")
    batch_size: int = option(32, help="sentences per training step", label="batch size", check="count", low=1,
                             group="training")
    max_length: int = option(128, help="longest input in tokens", label="max length", check="count", low=2, flag=None)
    max_vocab: int | None = option(None, help="keep the N most frequent target words (default: all)",
                                   label="target vocabulary size", check="count", low=1)
    device: str = option("auto", help="auto = cuda when available, else mps, else cpu", label="device",
                         check="choice", choices=tuple(DEVICES), group="training")
    freeze_embeddings: bool = option(True, help="let input embeddings train during fine-tuning",
                                     label="freeze input embeddings during fine-tuning", flag="--no-freeze",
                                     negate=True)
    anchor_policy: str = option("first", help="one English translation per target word: lexicon order, each English "
                                "once, re-chosen by a first Procrustes alignment, or a dictionary re-induced from the "
                                "vectors", label="translation per target word", check="choice",
                                choices=tuple(ANCHOR_POLICIES))
    n_anchors: int | None = option(None, help="keep a random subset of N anchors (default: all)",
                                   label="random subset of anchors (0 = all)", check="count", low=1,
                                   zero_is_none="app", widget_max=10**6)  # the paper's Table 4
    anchor_seed: int = option(0, help="seed of the random anchor subset", label="anchor subset seed", flag=None)
    drop_stopword_anchors: bool = option(False, help="remove anchors whose English side is a stop word",
                                         label="drop stop-word anchors")
    anchor_agreement_share: float | None = option(None, help="keep this share of anchors whose relative "
                                                  "representations agree best across languages (default: all)",
                                                  label="keep share by R_s/R_t agreement (0 = off)", check="rate",
                                                  high=1, flag="--anchor-agreement", metavar="SHARE",
                                                  zero_is_none="app", widget_max=1.0, widget_step=0.1)
    unk_policy: str = option("unk", help="target words without a vector: the PLM's [UNK], dropped, or (beyond the "
                             "paper) its own word pieces", label="other unknown words are read by the PLM's own "
                             "tokenizer", check="choice", choices=tuple(UNK_POLICIES))
    extend_vocab_from_lexicon: bool = option(False, help="beyond the paper: lexicon words without a vector join the "
                                             "vocabulary (translation's pieces)", label="lexicon words without a "
                                             "vector join the vocabulary (their translation's PLM row)")
    segmentation: str = option("auto", help="how target text is split into words, as the vectors were built (auto: "
                               "the language's rule; words = a Unicode word regex, elision = l' + autre, "
                               "elision-clitics = also a -t -il)", label="segmentation", check="choice",
                               choices=tuple(SEGMENTATIONS))
    simplify_chinese: bool | None = option(None, help="traditional Chinese read as simplified (None: on when lang "
                                           "is zh)", label="simplify Chinese", flag=None)
    sweep: dict | None = option(None, help="{id, param, value} when this run is one trial of a sweep", label="sweep",
                                flag=None)
    model_cache: str | None = option(None, help="folder to reuse fine-tuned models across runs (safetensors; "
                                     "default: off)", label="model cache", check="folder")
    ladder: bool = option(True, help="skip the gap ladder (inference passes that take the loss apart link by link; "
                          "see explain)", label="measure the gap ladder", flag="--no-ladder", negate=True)
    keep_models: bool = option(False, help="keep each stitched model (method, seed) in --out as safetensors, for "
                               "`export --what model` and the app's sentence box without fine-tuning again (one "
                               "model's size per method and seed)", label="keep the stitched models")
    bli_test_lexicon: str | None = option(None, help="a separate BLI test dictionary (as MUSE's): results.json's "
                                          "bli_test gives P@1/5/10 by NN and CSLS on it, each mapper refitted on the "
                                          "anchors minus every anchor whose target word it tests",
                                          label="BLI test dictionary", check="folder", metavar="PATH")
    normalisation: str = option("none", help="rows of the anchor space before anchors are used: as shipped, unit "
                                "length, or mean-centred then unit length (VecMap's order); the static vectors "
                                "always, the PLM's embeddings for the mappers that re-initialise them (see "
                                "experiment/spaces.py)", label="normalisation", check="choice",
                                choices=NORMALISATIONS)
    script_shift: float | None = option(None, help="a simulation: rename this share (0-1) of the target alphabet "
                                        "into scripts neither tokenizer knows, in the vectors' words, the lexicon and "
                                        "the target text (after segmentation), so mplm and source meet an unseen "
                                        "script and static vectors do not notice (default: off)",
                                        label="unseen-script simulation: share renamed (0 = off)", check="share",
                                        metavar="SHARE", zero_is_none="app", widget_max=1.0,
                                        widget_step=0.25)  # core.script_shift


#: the options `sweep --param` (and the Run page's sweep) can vary one at a time (`store.sweeps.parse_values`)
SWEEPABLE = ("top_k", "n_anchors", "temperature", "drop_stopword_anchors", "script_shift")

#: field name -> its Option, in field order
OPTIONS: dict[str, Option] = {f.name: f.metadata["option"] for f in fields(RunOptions)}


def flag_of(name: str) -> str | None:
    """The CLI flag of option `name` (None when the command line does not set it)."""
    flag = OPTIONS[name].flag
    return f"--{name.replace('_', '-')}" if flag == "" else flag


def default_of(name: str):
    """Option `name`'s default (a fresh list for list options); MISSING for the required paths."""
    f = RunOptions.__dataclass_fields__[name]
    return f.default_factory() if f.default_factory is not MISSING else f.default


@functools.lru_cache(maxsize=None)
def _hints() -> dict:
    return typing.get_type_hints(RunOptions)


def type_of(name: str):
    """Option `name`'s annotated type, resolved (e.g. `int | None`): what pydantic checks a grid value against."""
    return _hints()[name]


def base_type(name: str) -> type:
    """The type under `| None` (`list` for `list[int]`): what a CLI flag or a widget holds."""
    t = type_of(name)
    if isinstance(t, types.UnionType) or typing.get_origin(t) is typing.Union:
        t = next(a for a in typing.get_args(t) if a is not type(None))
    return typing.get_origin(t) or t


class _Names(dict):
    """`{field}` -> the option's flag (CLI) or its widget label in quotes (APP), for `str.format_map`."""

    def __init__(self, surface: str):
        super().__init__()
        self.surface = surface

    def __missing__(self, key: str) -> str:
        if key not in OPTIONS:
            return "{" + key + "}"
        return (flag_of(key) or key) if self.surface == CLI else f'"{OPTIONS[key].label}"'


class OptionError(InputError):
    """A refused option value. `template` names options as `{field}` (a format string: a value in it is written
    with `esc`); `str()` is the command line's text (flags), `render(APP)` the app's (widget labels). `option` is
    the option refused."""

    def __init__(self, option: str, template: str):
        self.option, self.template = option, template
        super().__init__(self.render(CLI))

    def render(self, surface: str = CLI) -> str:
        """The message with every `{field}` as its flag (CLI) or its label (APP)."""
        return self.template.format_map(_Names(surface))


def esc(value) -> str:
    """`repr(value)` for a template: its braces doubled, so a user's value is never read as `{field}`."""
    return repr(value).replace("{", "{{").replace("}", "}}")


def app_message(exc: BaseException) -> str:
    """An error's text for the app: an option named by its widget's label, anything else as it is."""
    return exc.render(APP) if isinstance(exc, OptionError) else str(exc)


def refuse(name: str, rest: str, value=MISSING) -> OptionError:
    """`{name} <rest>[, got <value!r>]` as an OptionError."""
    return OptionError(name, f"{{{name}}} {rest}" + ("" if value is MISSING else f", got {esc(value)}"))


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.number))


def _whole(value, low) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= low


def optional(name: str) -> bool:
    """True when option `name` may be None (its type is `... | None`)."""
    return type(None) in typing.get_args(type_of(name))


def check_value(name: str, value):
    """Option `name`'s `value` checked against its `Option` (bounds, choices; None only where the type allows it);
    returns it (whole numbers as int, seeds folded). Raises `OptionError`."""
    opt = OPTIONS[name]
    if opt.check == "file":
        if not value or not str(value).strip():
            raise refuse(name, "is empty: give a file")
        return _check_default_spec(name, value)
    if value is None and optional(name):
        return value
    if name in DEFAULT_KINDS:
        _check_default_spec(name, value)
    if opt.check == "folder" and not str(value).strip():
        raise refuse(name, "is empty: give a folder")
    if opt.check == "count":
        if not _whole(value, opt.low):
            raise refuse(name, f"must be a whole number >= {opt.low}", value)
        return int(value)
    if opt.check == "rate":
        if not _is_number(value) or not math.isfinite(value) or value <= 0:
            raise refuse(name, "must be a finite number > 0", value)
        if opt.high is not None and value > opt.high:
            raise refuse(name, f"must be in (0, {opt.high}]", value)
    if opt.check == "share" and (not _is_number(value) or not 0 <= value <= 1):
        raise refuse(name, "must be a share in [0, 1]", value)
    if opt.check == "choice" and value not in opt.choices:
        raise refuse(name, f"must be one of {esc(opt.choices)}", value)
    if opt.check == "seeds":
        return _check_seeds(name, value)
    return value


#: the options that take `default:NAME` (an embedded resource), and the resource kind each names
DEFAULT_KINDS = {"vectors": "vectors", "lexicon": "lexicon", "bli_test_lexicon": "lexicon"}


def _check_default_spec(name: str, value):
    """A `default:NAME` value must name a known embedded resource of the option's kind (a bad option value, not a
    failed run); any other value is a path, checked by `experiment.preflight`. Returns `value`."""
    kind = DEFAULT_KINDS.get(name)
    if kind and isinstance(value, str) and value.startswith("default:"):
        from mosecrot_viz.defaults.registry import RESOURCES

        if f"{kind}:{value.split(':', 1)[1]}" not in RESOURCES:
            known = sorted("default:" + k.split(":", 1)[1] for k in RESOURCES if k.startswith(kind + ":"))
            raise refuse(name, f"names no embedded default; known: {', '.join(known)}", value)
    return value


def _check_seeds(name: str, seeds) -> list[int]:
    """Seeds: a list of whole numbers 0 .. SEED_MAX, at least one; repeated seeds folded."""
    if not isinstance(seeds, (list, tuple)):
        raise refuse(name, "must be a list of whole numbers", seeds)
    for seed in seeds:
        if not _whole(seed, 0):
            raise refuse(name, "must be a whole number >= 0", seed)
        if seed > SEED_MAX:
            raise refuse(name, f"must be whole numbers from 0 to {SEED_MAX} (2^32 - 1, NumPy's seed range)", seed)
    if not seeds:
        raise OptionError(name, "{seeds}: give at least one seed")
    return list(dict.fromkeys(int(s) for s in seeds))


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_options(opts: RunOptions) -> RunOptions:
    """Every option of `opts` checked in field order (`check_value`), whole numbers and seeds set back as checked,
    then the checks between options that need no registry. Raises `OptionError`; returns `opts`."""
    for name in OPTIONS:
        value = check_value(name, getattr(opts, name))
        setattr(opts, name, value)
        if isinstance(value, str) and not _utf8(value):
            # a file name with a byte that is not UTF-8 (os.fsdecode's surrogates): results.json cannot record it,
            # and the run failed after its work when writing it (hostile sweep c28)
            raise OptionError(name, "{" + name + "} " + esc(value) + ": the name is not valid UTF-8, so the run "
                              "could not record it in results.json; rename it")
    if opts.script_shift is not None and opts.bli_test_lexicon:
        raise OptionError("script_shift", "{script_shift} with {bli_test_lexicon}: the BLI test dictionary is not "
                          "renamed; give one of the two")
    return opts
