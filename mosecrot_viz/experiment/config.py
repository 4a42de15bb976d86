"""ExperimentConfig: the one object the CLI, the app and grids build, and the pipeline reads.

Its fields, defaults, bounds, help and names are `experiment.options.RunOptions` (torch-free, so `run --help` is built
from them); this class adds the checks that need the method registry (core.mappers) and the device.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from mosecrot_viz.core.anchors import POLICIES as ANCHOR_POLICIES  # noqa: F401 (re-exported for the Run page)
from mosecrot_viz.core.devices import DEVICES  # noqa: F401 (re-exported for the Run page)
from mosecrot_viz.core.method_registry import MAPPER_NAMES, METHOD_NAMES
from mosecrot_viz.experiment.options import (  # noqa: F401 (NORMALISATIONS, SEED_MAX: re-exported)
    NORMALISATIONS,
    SEED_MAX,
    OptionError,
    RunOptions,
    check_options,
    esc,
)

FINE_TUNED_RR = ("rr-standard", "rr-softmax", "rr-sparsemax")  # the paper's three RR weightings
MAPPED_METHODS = MAPPER_NAMES  # live views of core.method_registry: a mapper registered there is listed here too
ALL_METHODS = METHOD_NAMES  # the mappers, then the baselines lr, mplm, source, majority
SELF_TRAINING_SUFFIX = "+st"  # `rr-softmax+st`: the method, then label-free self-training (core.self_training)


def _self_trained_mapped(method: str) -> bool:
    """True for `<mapped method>+st`."""
    return method.endswith(SELF_TRAINING_SUFFIX) and method[: -len(SELF_TRAINING_SUFFIX)] in MAPPED_METHODS


@dataclass
class ExperimentConfig(RunOptions):
    """Everything one run needs (the fields: `RunOptions`). Paths may be `default:LANG` for the embedded defaults."""

    def validate(self) -> "ExperimentConfig":
        """Raise `OptionError` (an `InputError`) for anything the pipeline could only discover late: its text names
        the CLI flag, `render("app")` the Run page's label.

        Folds repeated methods and seeds (a method named twice would be trained and reported twice).
        """
        self.methods = list(dict.fromkeys(self.methods or []))
        check_options(self)  # types, bounds and choices of every option (experiment.options)
        self._check_self_training()
        unknown = [m for m in self.methods if m not in ALL_METHODS and not _self_trained_mapped(m)]
        if unknown:
            raise OptionError("methods", f"unknown methods {esc(unknown)}; choose from {esc(list(ALL_METHODS))}")
        if not self.methods:
            raise OptionError("methods", "{methods}: no methods chosen")
        if "lr" in self.methods and not self.target_train:
            raise OptionError("methods", "method 'lr' trains on target-language data: give {target_train}")
        check_device(self.device)
        return self

    def _check_self_training(self) -> None:
        """`<mapped method>+st` (core.self_training) reads the target train split's text as its unlabelled pool, and
        starts from the base method's stitched model: the base joins the methods, just before it."""
        st = [m for m in self.methods if _self_trained_mapped(m)]
        if st and not self.target_train:
            raise OptionError("methods", f"{st[0]} self-trains on unlabelled target text: give {{target_train}} "
                              "(its labels are never read)")  # st[0]: a registry name, no braces
        for m in st:
            base = m[: -len(SELF_TRAINING_SUFFIX)]
            if base not in self.methods:
                self.methods.insert(self.methods.index(m), base)

    @classmethod
    def from_dict(cls, data: dict, **overrides) -> "ExperimentConfig":
        """A config from a stored or UI dict, ignoring keys that are not fields (e.g. a display label)."""
        return cls(**{k: v for k, v in {**data, **overrides}.items() if k in cls.__dataclass_fields__})

    @classmethod
    def from_record(cls, data, source, **overrides) -> "ExperimentConfig":
        """The config a stored run recorded (`RunResults.config`), its options checked (types, bounds, choices:
        `check_options`) before anything is built from it: a results.json edited to `top_k: -7` is one line naming
        the file, not an IndexError deep in the export. The device is not checked (a run made on a GPU is read on
        a machine without one)."""
        from mosecrot_viz.errors import SchemaError

        try:
            cfg = cls.from_dict(dict(data), **overrides)
            check_options(cfg)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"its recorded config does not check out ({exc}): was results.json edited?",
                              source) from None
        return cfg

    def to_dict(self) -> dict:
        """Plain dict for results.json."""
        return asdict(self)


def check_device(device: str) -> None:
    """Raise `OptionError` naming --device (the app: its label) when `cuda` or `mps` was asked for and this PyTorch
    cannot use it.

    Why: torch says "PyTorch is not linked with support for mps" only when the first tensor moves, after the
    inputs are loaded (and after waiting for the compute slot); asked here it costs nothing. `auto` and `cpu` need
    no check, so they import no torch: a refused input answers without its 1-2 s import.
    """
    if device not in ("cuda", "mps"):
        return
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise OptionError("device", f"{{device}} cuda: no CUDA GPU is available to this PyTorch ({torch.__version__}, "
                          f"{build}); use {{device}} auto or cpu")
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_built():
            raise OptionError("device", f"{{device}} mps: this PyTorch ({torch.__version__}) is not built with MPS "
                              "support (Apple silicon macOS builds only); use {device} auto or cpu")
        if not mps.is_available():
            raise OptionError("device", "{device} mps: no MPS device is available (needs macOS 12.3+ on Apple "
                              "silicon); use {device} auto or cpu")
