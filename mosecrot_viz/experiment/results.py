"""A run's output, and the one commit that writes a run folder.

The typed record behind results.json is `records.RunResults` (re-exported here): the run builds one, and the app,
the CLI and the analyses read results.json back through it. `write_results` commits a run folder's files at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mosecrot_viz.atomic import commit_files, json_bytes
from mosecrot_viz.core.anchors import AnchorSet
from mosecrot_viz.records import RunResults


@dataclass
class RunOutput:
    """What a run produced: the results.json dict (`RunResults.to_json()`; `record` gives it typed), per-example
    predictions, the anchors and F matrices."""

    results: dict
    predictions: pd.DataFrame
    anchors: AnchorSet
    mapped: dict = field(default_factory=dict)  # method -> (F_s, F_t)
    ladder_predictions: pd.DataFrame | None = None  # every target rung's predictions (core.ladder)
    ladder_examples: dict | None = None  # method -> example sentences with occlusion (first seed)
    models: dict = field(default_factory=dict)  # (method, seed) -> the stitched model's state dict (keep_models)
    # in memory only, never written: what the run read and mapped, so the analysis stage right after the run
    # (`analysis.registry.precompute`) reads and maps nothing again
    inputs: object = None  # experiment.inputs.Inputs
    spaces: object = None  # experiment.spaces.Spaces

    @property
    def record(self) -> RunResults:
        """The results as the typed record (read back from `results`)."""
        return RunResults.from_json(self.results)


def model_file_name(method: str, seed: int) -> str:
    """The run folder's file holding a stitched model's weights (`keep_models`)."""
    return f"model-{method}-seed{int(seed)}.safetensors"


def write_results(out: RunOutput, folder) -> Path:
    """Write results.json, predictions.csv, anchors.json (and the ladder's files) into `folder` in one commit.

    The files are staged in a fresh sibling folder and swapped in at once (`atomic.commit_files`):
    a reader sees the previous run or this one, never this run's predictions beside the previous
    results.json. A folder holding these is a run the app's run store can list and open.
    """
    a = out.anchors
    files = {"anchors.json": json_bytes({"source_words": list(a.source_words), "source_ids": a.source_ids.tolist(),
                                         "target_words": list(a.target_words), "target_ids": a.target_ids.tolist()}),
             "predictions.csv": out.predictions.to_csv(index=False).encode("utf-8")}
    if out.ladder_predictions is not None:
        files["ladder.csv"] = out.ladder_predictions.to_csv(index=False).encode("utf-8")
    if out.ladder_examples is not None:
        files["ladder_examples.json"] = json_bytes(out.ladder_examples)
    if out.models:
        from safetensors.torch import save

        for (method, seed), state in out.models.items():
            files[model_file_name(method, seed)] = save(state, metadata={"method": method, "seed": str(seed)})
    files["results.json"] = json_bytes(out.results)  # its presence marks a complete run
    stale = [p.name for p in Path(folder).glob("model-*-seed*.safetensors")] if Path(folder).is_dir() else []
    # the pages' stored analyses (analysis.stored) belong to the run they were computed for: a new run drops them
    commit_files(folder, files, drop=("ladder.csv", "ladder_examples.json", "analysis.json", "analysis-error.txt",
                                      *stale))
    return Path(folder) / "results.json"
