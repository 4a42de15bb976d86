"""A run's results: the typed record behind results.json, and the one commit that writes a run folder.

`RunResults` names every field results.json holds (`to_json` / `from_json`); the run builds one, and the app, the
CLI and the analyses read the JSON it writes. `write_results` commits a run folder's files at once.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from mosecrot_viz.atomic import commit_files, json_bytes
from mosecrot_viz.core.anchors import AnchorSet


@dataclass
class RunResults:
    """What results.json holds (see docs/ARCHITECTURE.md, "One run").

    config: the run's `ExperimentConfig.to_dict()`; labels: class names in id order; data: split sizes, vocabulary
    and unknown-word rates; anchors: `AnchorSet.summary()`; methods: method -> aggregated metrics (macro-F1 mean,
    std over seeds, 95% bootstrap interval, per class, confusion, English F1, head, ladder); histories: fine-tune
    label -> per-seed training history; environment: versions, commit, device, input hashes; warnings: what the
    run's checks found legal but degenerate (one anchor, a test set without some labels, constant predictions, ...),
    each {"key", "message"}.
    """

    config: dict
    device: str
    labels: list
    data: dict
    anchors: dict
    methods: dict
    histories: dict
    wall_seconds: float
    environment: dict
    bli_test: dict | None = None  # with a BLI test dictionary
    stored_models: dict | None = None  # "method/seed" -> file, with keep_models
    ladder: dict | None = None  # the gap ladder's own timing and data
    tags: dict | None = None  # scripts/sib200_results.py --merge --tag: the settings of each tagged group of rows
    merged_runs: list | None = None  # scripts/sib200_results.py --merge: the runs merged into this record
    # legal but degenerate inputs and results, [{"key", "message"}] (core.checks.RunWarnings); [] in older records
    warnings: list = field(default_factory=list)

    def to_json(self) -> dict:
        """The results.json dict (optional fields only when set)."""
        return {k: v for k, v in asdict(self).items() if v is not None or k not in _OPTIONAL}

    @classmethod
    def from_json(cls, data: dict) -> "RunResults":
        """Back from a results.json dict; unknown keys (a newer writer's) are refused by name."""
        extra = set(data) - set(cls.__dataclass_fields__)
        if extra:
            raise ValueError(f"results.json holds fields this version does not know: {sorted(extra)}")
        return cls(**data)


_OPTIONAL = ("bli_test", "stored_models", "ladder", "tags", "merged_runs")


@dataclass
class RunOutput:
    """What a run produced: the results.json dict, per-example predictions, the anchors and F matrices."""

    results: dict
    predictions: pd.DataFrame
    anchors: AnchorSet
    mapped: dict = field(default_factory=dict)  # method -> (F_s, F_t)
    ladder_predictions: pd.DataFrame | None = None  # every target rung's predictions (core.ladder)
    ladder_examples: dict | None = None  # method -> example sentences with occlusion (first seed)
    models: dict = field(default_factory=dict)  # (method, seed) -> the stitched model's state dict (keep_models)


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
