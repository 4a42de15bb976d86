"""A run's records as typed, frozen values: results.json, status.json, analysis.json (base layer: stdlib only).

Every reader of a run folder goes through these types; nothing else indexes the JSON by key. `keys` holds the
machine keys of drop reasons, rungs and links with their display text.
"""
from mosecrot_viz.records.analyses import ANALYSES_VERSION, StoredAnalyses
from mosecrot_viz.records.keys import DROP_REASONS, LINK_TEXT, RUNG_TEXT, drop_key, drop_text, rung_text, split_rung
from mosecrot_viz.records.results import (
                                          SCHEMA_VERSION,
                                          AnchorReport,
                                          DataReport,
                                          LadderRun,
                                          LadderRung,
                                          MethodResult,
                                          RunResults,
                                          as_results,
)
from mosecrot_viz.records.status import ACTIVE_STATES, RunState, RunStatus

__all__ = ["ACTIVE_STATES", "ANALYSES_VERSION", "DROP_REASONS", "LINK_TEXT", "RUNG_TEXT", "SCHEMA_VERSION",
           "AnchorReport", "DataReport", "LadderRun", "LadderRung", "MethodResult", "Ranked", "RunResults", "RunState",
           "RunStatus", "StoredAnalyses", "as_results", "drop_key", "drop_text", "rung_text", "split_rung"]
