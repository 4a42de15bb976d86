"""Named presets: option values that differ from the schema's defaults for one purpose (torch-free to import).

`DEMO` is the teaching demo of the Home page and the `demo` command: the embedded default task (English -> Chinese
Bible verses, `defaults.registry.demo_inputs`), its methods (`DEMO_METHODS`, with the multilingual model as the
strong baseline) and 3 fine-tuning epochs instead of the schema's 5 (the paper's), so it finishes in minutes on a
laptop CPU. Every option a preset does not name keeps its schema default (`experiment.options`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mosecrot_viz.defaults.registry import DEMO_METHODS
from mosecrot_viz.experiment.options import OPTIONS


@dataclass(frozen=True)
class Preset:
    """A named set of option values (`options`: field name -> value) over the schema's defaults."""

    name: str
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        unknown = [k for k in self.options if k not in OPTIONS]
        if unknown:
            raise ValueError(f"preset {self.name!r}: {unknown} are not run options")

    def config(self, inputs: dict | None = None, **overrides):
        """The preset's `ExperimentConfig` on `inputs` (default: the embedded demo task, built into the cache
        first); `overrides` (e.g. the command line's training flags) win over the preset."""
        from mosecrot_viz.defaults.registry import demo_inputs
        from mosecrot_viz.experiment.config import ExperimentConfig

        values = {k: (list(v) if isinstance(v, list) else v) for k, v in {**self.options, **overrides}.items()}
        return ExperimentConfig.from_dict(demo_inputs() if inputs is None else inputs, **values)


DEMO = Preset("demo", {"methods": list(DEMO_METHODS), "epochs": 3})
