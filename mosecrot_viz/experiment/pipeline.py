"""The pipeline's public names in one place, for callers that want the whole flow (the CLI, the run store, scripts).

The work lives in the modules beside this one: `inputs` (what a run reads), `spaces` (anchors and the mapped
spaces), `run` (fine-tune, swap, evaluate, aggregate) and `results` (the results record and the run folder commit).
"""
from mosecrot_viz.experiment.inputs import Inputs, anchor_inputs, load_inputs, load_pairs
from mosecrot_viz.experiment.results import RunOutput, RunResults, model_file_name, write_results
from mosecrot_viz.experiment.run import FINE_TUNING, ProgressFn, Run, run_experiment
from mosecrot_viz.experiment.spaces import (
    Spaces,
    configured_mapper,
    count_anchors,
    map_spaces,
    select_anchors,
    source_embeddings,
    word_tokenizer,
)

__all__ = ["FINE_TUNING", "Inputs", "ProgressFn", "Run", "RunOutput", "RunResults", "Spaces", "anchor_inputs",
           "configured_mapper", "count_anchors", "load_inputs", "load_pairs", "map_spaces", "model_file_name",
           "run_experiment", "select_anchors", "source_embeddings", "word_tokenizer", "write_results"]
