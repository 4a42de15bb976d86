"""ExperimentConfig: the one object the CLI and the app build, and the pipeline reads."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from mosecrot_viz.core.anchors import POLICIES as ANCHOR_POLICIES  # noqa: F401 (re-exported for the Run page)
from mosecrot_viz.core.devices import DEVICES
from mosecrot_viz.core.method_registry import MAPPER_NAMES, METHOD_NAMES
from mosecrot_viz.core.tokenizer import UNK_POLICIES
from mosecrot_viz.errors import InputError
from mosecrot_viz.io.text import SEGMENTATIONS

FINE_TUNED_RR = ("rr-standard", "rr-softmax", "rr-sparsemax")  # the paper's three RR weightings
MAPPED_METHODS = MAPPER_NAMES  # live views of core.method_registry: a mapper registered there is listed here too
ALL_METHODS = METHOD_NAMES  # the mappers, then the baselines lr, mplm, source, majority
NORMALISATIONS = ("none", "unit", "center-unit")  # experiment.spaces.normalise_rows
SELF_TRAINING_SUFFIX = "+st"  # `rr-softmax+st`: the method, then label-free self-training (core.self_training)


def _self_trained_mapped(method: str) -> bool:
    """True for `<mapped method>+st`."""
    return method.endswith(SELF_TRAINING_SUFFIX) and method[: -len(SELF_TRAINING_SUFFIX)] in MAPPED_METHODS


#: largest seed: NumPy's legacy seeding (np.random.seed, used with torch.manual_seed) takes 0 .. 2**32 - 1
SEED_MAX = 2**32 - 1


@dataclass
class ExperimentConfig:
    """Everything one run needs. Paths may be `default:LANG` for the embedded defaults."""

    vectors: str
    lexicon: str
    train: str
    test: str
    out: str | None = None
    dev: str | None = None
    lang: str | None = None
    target_train: str | None = None
    source_test: str | None = None
    source_model: str = "default"
    multilingual_model: str = "default-multilingual"
    methods: list[str] = field(default_factory=lambda: ["rr-softmax", "ls", "lr", "source", "majority"])
    top_k: int | None = 50
    temperature: float | None = None  # None: each RR mapper's default (see core.mappers.MAPPERS)
    seeds: list[int] = field(default_factory=lambda: [1])
    epochs: int = 5
    patience: int | None = None  # stop fine-tuning after this many epochs without a better English dev F1 (off:
    # the paper trains every epoch and keeps the best one)
    lr: float = 1e-4
    batch_size: int = 32
    max_length: int = 128
    max_vocab: int | None = None
    device: str = "auto"
    freeze_embeddings: bool = True
    anchor_policy: str = "first"
    n_anchors: int | None = None  # keep a random subset of this many anchors (the paper's Table 4)
    anchor_seed: int = 0
    drop_stopword_anchors: bool = False  # remove anchors whose English side is a stop word
    anchor_agreement_share: float | None = None  # keep this share of anchors whose R_s/R_t rows agree best
    unk_policy: str = "unk"  # "subwords" (beyond the paper): unknown words read by the PLM's own tokenizer
    extend_vocab_from_lexicon: bool = False  # beyond the paper: lexicon words without a vector join the vocabulary
    segmentation: str = "auto"  # how target text is split into words (io.text): "auto" = the language's rule
    simplify_chinese: bool | None = None  # None: on when lang is zh
    sweep: dict | None = None  # {"id", "param", "value"} when this run is one trial of a sweep
    model_cache: str | None = None  # folder to reuse fine-tuned models across runs (None: off)
    ladder: bool = True  # measure the gap ladder (core.ladder): inference only, no extra fine-tuning
    keep_models: bool = False  # store each stitched model (method, seed) in the run folder (safetensors), so
    # it can be exported (`export --what model`) or tried on a sentence without fine-tuning again
    bli_test_lexicon: str | None = None  # a separate BLI test dictionary (MUSE style): results' `bli_test`, P@1/5/10
    # (NN, CSLS) with each mapper refitted on the anchors minus every anchor whose target word it tests
    normalisation: str = "none"  # the anchor space's rows before anchors are used (experiment.spaces.NORMALISATIONS):
    # none (vectors as shipped), unit (unit length), center-unit (mean-centred, then unit length: VecMap's order)
    script_shift: float | None = None  # a simulation (core.script_shift): this share of the target alphabet renamed
    # into scripts neither tokenizer knows, in the vectors' words, the lexicon and the target texts (None: off)

    def validate(self) -> "ExperimentConfig":
        """Raise `InputError` for anything the pipeline could only discover late, naming the CLI flag.

        Folds repeated methods and seeds (a method named twice would be trained and reported twice).
        """
        self.methods = list(dict.fromkeys(self.methods or []))
        self._check_numbers()
        self._check_self_training()
        unknown = [m for m in self.methods if m not in ALL_METHODS and not _self_trained_mapped(m)]
        if unknown:
            raise InputError(f"unknown methods {unknown}; choose from {list(ALL_METHODS)}")
        if not self.methods:
            raise InputError("no methods chosen")
        if "lr" in self.methods and not self.target_train:
            raise InputError("method 'lr' trains on target-language data: give --target-train")
        if not self.seeds:
            raise InputError("give at least one seed")
        if self.top_k is not None and self.top_k < 0:
            raise InputError(f"top-k must be >= 0 (0 = all anchors), got {self.top_k}")
        if self.n_anchors is not None and self.n_anchors < 1:
            raise InputError(f"n_anchors must be >= 1, got {self.n_anchors}")
        if self.anchor_agreement_share is not None and not 0 < self.anchor_agreement_share <= 1:
            raise InputError(f"anchor agreement share must be in (0, 1], got {self.anchor_agreement_share}")
        if self.epochs < 1:
            raise InputError(f"epochs must be >= 1, got {self.epochs}")
        if self.unk_policy not in UNK_POLICIES:
            raise InputError(f"unk policy must be one of {UNK_POLICIES}, got {self.unk_policy!r}")
        if self.segmentation not in SEGMENTATIONS:
            raise InputError(f"segmentation must be one of {SEGMENTATIONS}, got {self.segmentation!r}")
        if self.script_shift is not None:
            if isinstance(self.script_shift, bool) or not isinstance(self.script_shift, (int, float, np.number)) \
                    or not 0 <= self.script_shift <= 1:
                raise InputError(f"--script-shift must be a share in [0, 1], got {self.script_shift!r}")
            if self.bli_test_lexicon:
                raise InputError("--script-shift with --bli-test-lexicon: the BLI test dictionary is not renamed; "
                                 "give one of the two")
        if self.normalisation not in NORMALISATIONS:
            raise InputError(f"--normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}")
        if self.device not in DEVICES:
            raise InputError(f"device must be auto, cpu, cuda or mps, got {self.device!r}")
        check_device(self.device)
        return self

    def _check_self_training(self) -> None:
        """`<mapped method>+st` (core.self_training) reads the target train split's text as its unlabelled pool, and
        starts from the base method's stitched model: the base joins the methods, just before it."""
        st = [m for m in self.methods if _self_trained_mapped(m)]
        if st and not self.target_train:
            raise InputError(f"{st[0]} self-trains on unlabelled target text: give --target-train (its labels are "
                             "never read)")
        for m in st:
            base = m[: -len(SELF_TRAINING_SUFFIX)]
            if base not in self.methods:
                self.methods.insert(self.methods.index(m), base)

    def _check_numbers(self) -> None:
        """Whole numbers where counts are meant, finite positive numbers where rates are; empty paths refused."""
        def whole(name, flag, value, low, optional=False):
            if value is None and optional:
                return
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise InputError(f"{flag} must be a whole number >= {low}, got {value!r}")
            if name:
                setattr(self, name, int(value))

        def finite(flag, value, optional=False):
            if value is None and optional:
                return
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value) \
                    or value <= 0:
                raise InputError(f"{flag} must be a finite number > 0, got {value!r}")

        if not isinstance(self.seeds, (list, tuple)):
            raise InputError(f"--seeds must be a list of whole numbers, got {self.seeds!r}")
        for seed in self.seeds:
            whole(None, "--seeds", seed, 0)
            if seed > SEED_MAX:
                raise InputError(f"--seeds must be whole numbers from 0 to {SEED_MAX} (2^32 - 1, NumPy's seed range), "
                                 f"got {seed!r}")
        self.seeds = list(dict.fromkeys(int(s) for s in self.seeds))
        whole("epochs", "--epochs", self.epochs, 1)
        whole("patience", "--patience", self.patience, 1, optional=True)
        whole("batch_size", "--batch-size", self.batch_size, 1)
        whole("max_length", "max_length", self.max_length, 2)
        whole("top_k", "--top-k", self.top_k, 0, optional=True)
        whole("max_vocab", "--max-vocab", self.max_vocab, 1, optional=True)
        whole("n_anchors", "--n-anchors", self.n_anchors, 1, optional=True)
        finite("--lr", self.lr)
        finite("--temperature", self.temperature, optional=True)
        finite("--anchor-agreement", self.anchor_agreement_share, optional=True)
        for flag, value in (("--out", self.out), ("--model-cache", self.model_cache),
                            ("--bli-test-lexicon", self.bli_test_lexicon)):
            if value is not None and not str(value).strip():
                raise InputError(f"{flag} is empty: give a folder")
        for flag, value in (("--vectors", self.vectors), ("--lexicon", self.lexicon), ("--train", self.train),
                            ("--test", self.test)):
            if not value or not str(value).strip():
                raise InputError(f"{flag} is empty: give a file")

    @classmethod
    def from_dict(cls, data: dict, **overrides) -> "ExperimentConfig":
        """A config from a stored or UI dict, ignoring keys that are not fields (e.g. a display label)."""
        return cls(**{k: v for k, v in {**data, **overrides}.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict:
        """Plain dict for results.json."""
        return asdict(self)


def check_device(device: str) -> None:
    """Raise `InputError` naming --device when `cuda` or `mps` was asked for and this PyTorch cannot use it.

    Why: torch says "PyTorch is not linked with support for mps" only when the first tensor moves, after the
    inputs are loaded (and after waiting for the compute slot); asked here it costs nothing.
    """
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise InputError(f"--device cuda: no CUDA GPU is available to this PyTorch ({torch.__version__}, {build}); "
                         "use --device auto or cpu")
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_built():
            raise InputError(f"--device mps: this PyTorch ({torch.__version__}) is not built with MPS support (Apple "
                             "silicon macOS builds only); use --device auto or cpu")
        if not mps.is_available():
            raise InputError("--device mps: no MPS device is available (needs macOS 12.3+ on Apple silicon); use "
                             "--device auto or cpu")
