"""A run's live status (status.json): its state as an enum, and what the progress reports say.

The store writes one of these at every change of state and at each progress report; pages, the CLI and the
benchmarks read `StoredRun.status()`, which gives a `RunStatus` (never a dict read by key).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Mapping

from mosecrot_viz.records._base import Record, number, optional


class RunState(str, Enum):
    """Where a run is. `str` values, as status.json stores them (a `RunState` equals its text)."""

    QUEUED = "queued"
    RUNNING = "running"
    ANALYSING = "analysing"  # results written; the run's process computes the pages' analyses (analysis.stored)
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INCOMPLETE = "incomplete"  # queued or running, but its process is gone
    UNKNOWN = "unknown"  # no readable status.json

    def __str__(self) -> str:
        return self.value

    @property
    def active(self) -> bool:
        """Queued, running, or computing the pages' analyses after its results."""
        return self in ACTIVE_STATES

    @property
    def broken(self) -> bool:
        """Failed, or stopped without finishing: the pages offer its message and a rerun."""
        return self in (RunState.FAILED, RunState.INCOMPLETE)


ACTIVE_STATES = (RunState.QUEUED, RunState.RUNNING, RunState.ANALYSING)


@dataclass(frozen=True)
class RunStatus(Record):
    """status.json: state, fraction of the work done (0..1), the last progress message, and while it runs its
    process id, start time (epoch seconds), seconds elapsed and left (`eta_seconds`, None until measured);
    `ended` when cancelled; `cancelling` between a cancel request and the run's next report."""

    state: RunState
    fraction: float = 0.0
    message: str = ""
    pid: int | None = optional()
    started: float | None = optional()
    elapsed: float | None = optional()
    eta_seconds: float | None = optional()
    ended: float | None = optional()
    cancelling: bool | None = optional()

    def to_json(self) -> dict:
        out = super().to_json()
        if self.elapsed is not None and self.eta_seconds is None:  # a running run's ETA is said to be unknown
            out["eta_seconds"] = None
        return out

    @classmethod
    def from_json(cls, data: Mapping | None) -> "RunStatus":
        """A status.json dict; anything unreadable (not an object, an unknown state, a non-number) reads as
        `unknown` rather than an error: a page polling a run must never fail on it."""
        if not isinstance(data, Mapping):
            return cls(RunState.UNKNOWN)
        try:
            state = RunState(data.get("state"))
        except ValueError:
            state = RunState.UNKNOWN

        def num(key):
            v = data.get(key)
            return v if number(v) else None

        msg = data.get("message")
        return cls(state, float(num("fraction") or 0.0), msg if isinstance(msg, str) else "",
                   pid=num("pid"), started=num("started"), elapsed=num("elapsed"), eta_seconds=num("eta_seconds"),
                   ended=num("ended"), cancelling=True if data.get("cancelling") is True else None)

    def but(self, **changes) -> "RunStatus":
        """A copy with `changes` (e.g. `state=RunState.INCOMPLETE`)."""
        return replace(self, **changes)

    # read-only mapping view for callers written against the dict (tests, scripts): status["state"], .get("pid")
    def __getitem__(self, key: str):
        out = self.to_json()
        return out[key]

    def get(self, key: str, default=None):
        return self.to_json().get(key, default)
