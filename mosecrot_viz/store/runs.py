"""The run store: one folder per run with its config, live status, results, predictions and anchors.

The app and the CLI share it: a folder written by `python -m mosecrot_viz run --out DIR` under the
store's root is a run like any other. Runs started from the app are queued on one background worker
(`store.worker`: one at a time, in the order asked, and one per machine across processes) and report
progress to `status.json`, so a page reload or a second tab finds them.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mosecrot_viz.atomic import clean_stale_staging, write_bytes, write_json
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.preflight import check_run
from mosecrot_viz.io.structured import load_json, load_run_table
from mosecrot_viz.records import ACTIVE_STATES as _ACTIVE
from mosecrot_viz.records import RunResults, RunState, RunStatus
from mosecrot_viz.store import worker
from mosecrot_viz.store.worker import SlotWaitCancelled, compute_slot

PREDICTION_COLUMNS = ("method", "seed", "id", "gold", "pred")  # what every reader of predictions.csv uses
PREDICTION_TEXT = ("method", "id", "gold", "pred")  # read as written: a label 'NA' is a label

RUNS_ENV = "MOSECROT_RUNS"
CANCEL_FILE = "cancel.requested"  # its presence asks the run's thread to stop at its next progress report
ANALYSING = RunState.ANALYSING  # results written; the run's process computes the pages' analyses (analysis.stored)
ACTIVE_STATES = _ACTIVE  # queued, running, analysing


class RunCancelled(Exception):
    """Raised from a run's progress callback once a cancel was requested; the run ends as `cancelled`."""


def runs_root() -> Path:
    """Where runs live: $MOSECROT_RUNS, else `runs/` under the resource cache."""
    from mosecrot_viz.defaults.registry import cache_dir

    root = Path(os.environ.get(RUNS_ENV) or cache_dir() / "runs").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _alive(pid) -> bool:
    if not pid:
        return True  # written by an older version: cannot tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_json(path: Path):
    try:
        return load_json(path)  # size and nesting bounded: a tampered run folder is skipped, never a traceback
    except (OSError, InputError):
        return None


def read_results(run_dir) -> RunResults:
    """A finished run folder's results.json as the typed record (`records.RunResults`), checked for the shape every
    reader relies on (a `config` with its seeds, `methods` of numeric figures, an `environment` of records): a
    missing, unreadable, tampered or newer-version file is one `InputError` naming it, never an AttributeError
    further on. A folder written by an older version is migrated (`RunResults.from_json`)."""
    from mosecrot_viz.errors import PathError

    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise PathError(f"{path}: no results.json here (is {run_dir} a finished run folder?)")
    try:
        results = load_json(path, kind="results")  # bounded in size and depth (io.structured)
    except InputError:
        raise  # the reader's own line names the file and what is wrong (too large, not JSON, too deep)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not a readable results file ({getattr(exc, 'strerror', None) or exc})") from None
    return RunResults.from_json(results, path, strict=True)


@contextmanager
def tampered(path):
    """Inside: a field of the wrong type or missing (KeyError, TypeError, AttributeError, IndexError, a bad number)
    while reading a stored run is one `InputError` naming `path`."""
    try:
        yield
    except InputError:
        raise
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        what = f"no field {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args else str(exc)
        raise InputError(f"{path}: a field is missing or of the wrong type ({what}); was the file edited? run it "
                         "again") from None


@dataclass(frozen=True)
class StoredRun:
    """A run folder and what it holds."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    def status(self) -> RunStatus:
        """The run's `RunStatus`: state (`RunState`: queued|running|analysing|complete|failed|cancelled|incomplete),
        fraction, message, ...

        Complete when results.json exists (it is written last), unless the run's own process is still computing the
        pages' analyses (`analysing`, results already readable). A queued or running run whose
        process is gone (killed, crashed, server restarted) is reported as incomplete. A running run
        carries `elapsed` and `eta_seconds` (from its measured pace) once it has made progress, and
        `cancelling: True` between a cancel request and its next progress report.
        """
        st = RunStatus.from_json(_read_json(self.path / "status.json"))
        if (self.path / "results.json").exists():
            if st.state in (RunState.RUNNING, RunState.ANALYSING) and _alive(st.pid):
                # results are there; the run's process is still at work (computing the pages' analyses, or between
                # committing the results and saying so)
                return st.but(state=RunState.ANALYSING, fraction=1.0)
            return RunStatus(RunState.COMPLETE, 1.0, "done")
        if st.state in (RunState.QUEUED, RunState.RUNNING) and not _alive(st.pid):
            return st.but(state=RunState.INCOMPLETE,
                          message=f"stopped before finishing (its process {st.pid} is gone); last: {st.message}")
        if st.state in (RunState.QUEUED, RunState.RUNNING) and (self.path / CANCEL_FILE).exists():
            st = st.but(cancelling=True)
        return st

    @property
    def active(self) -> bool:
        """Queued, running, or computing the pages' analyses after its results."""
        return self.status().state.active

    def results(self) -> dict | None:
        """results.json as the file holds it (bounded; None when absent or unreadable): for tools that look at the
        file itself. Readers of a run's figures use `record()`."""
        return _read_json(self.path / "results.json")

    def record(self) -> RunResults | None:
        """results.json as the typed record (an older version's migrated); None when absent, unreadable, tampered
        or of a newer version (a listing skips such a run; `read_results` says why)."""
        data = self.results()
        if data is None:
            return None
        try:
            return RunResults.from_json(data, self.path / "results.json", strict=True)
        except InputError:
            return None

    def config(self) -> dict | None:
        """The run's config as `ExperimentConfig.to_dict()` wrote it: from results.json once finished, else
        config.json."""
        res = self.record()
        return dict(res.config) if res else _read_json(self.path / "config.json")

    def predictions(self) -> pd.DataFrame | None:
        """predictions.csv (method, seed, id, gold, pred, ...), or None; bounded and checked (`io.structured`)."""
        return load_run_table(self.path / "predictions.csv", PREDICTION_COLUMNS, PREDICTION_TEXT,
                              kind="predictions")

    def anchors(self) -> dict | None:
        return _read_json(self.path / "anchors.json")

    def ladder_predictions(self) -> pd.DataFrame | None:
        """ladder.csv: every target rung's predictions (method, seed, rung, id, gold, pred, confidence), if measured."""
        return load_run_table(self.path / "ladder.csv", PREDICTION_COLUMNS + ("rung",), PREDICTION_TEXT + ("rung",),
                              kind="ladder predictions")

    def ladder_examples(self) -> dict | None:
        """ladder_examples.json: per method, example sentences with word status and occlusion (first seed)."""
        return _read_json(self.path / "ladder_examples.json")


def list_runs(root: Path | None = None) -> list[StoredRun]:
    """Every run folder under the root, newest first."""
    root = root or runs_root()
    runs = [StoredRun(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")  # a commit in progress
            and ((p / "results.json").exists() or (p / "status.json").exists())]
    return sorted(runs, key=lambda r: r.path.stat().st_mtime, reverse=True)


def latest_run(name: str, root: Path | None = None) -> StoredRun | None:
    """The newest run (in any state) whose folder was named `name` by `new_run_dir`, or None."""
    return next((r for r in list_runs(root) if f"-{name}-" in r.run_id), None)


def latest_complete(name: str, root: Path | None = None) -> StoredRun | None:
    """The newest complete run whose folder was named `name` by `new_run_dir` (e.g. the last demo), or None."""
    for r in list_runs(root):
        if f"-{name}-" in r.run_id and r.status().state is RunState.COMPLETE:
            return r
    return None


def runs_table(runs: list[StoredRun]) -> pd.DataFrame:
    """One row per run: id, state, language, methods, anchors, best method and its macro-F1."""
    rows = []
    for r in runs:
        res, st = r.record(), r.status()
        cfg = _config_of(res.config if res else r.config())
        row = {"run": r.run_id, "state": st.state.value, "lang": cfg.lang if cfg else None,
               "methods": ",".join(cfg.methods) if cfg else "", "seeds": len(cfg.seeds) if cfg else 0}
        if res:
            name, best = res.best() or ("", None)
            row.update({"anchors": res.anchors.count, "best": name,
                        "best macro-F1": round(best.macro_f1, 3) if best else None,
                        "minutes": round((res.wall_seconds or 0) / 60, 1)})
        rows.append(row)
    return pd.DataFrame(rows)


def _config_of(stored) -> ExperimentConfig | None:
    """A stored config dict (results.json's or config.json's) as the config, or None when absent or unreadable."""
    try:
        return ExperimentConfig.from_dict(stored) if isinstance(stored, dict) else None
    except (TypeError, ValueError):
        return None


def new_run_dir(name: str = "run", root: Path | None = None) -> Path:
    """A fresh, uniquely named run folder."""
    root = root or runs_root()
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40]
    path = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True)
    return path


def prepare_run(cfg: ExperimentConfig, name: str = "run", root: Path | None = None) -> Path:
    """Check `cfg` and its files (`experiment.preflight`: raising `InputError` now, not in a thread after waiting
    for the machine) and give it a queued run folder."""
    check_run(cfg)  # before the folder exists: an invalid config leaves nothing behind
    return _queue(cfg, new_run_dir(name, root))


def prepare_run_at(cfg: ExperimentConfig, path: Path) -> Path:
    """Check `cfg` and its files and make `path` (new or a stale earlier attempt) a queued run folder."""
    check_run(cfg)
    return _queue(cfg, path)


def _queue(cfg: ExperimentConfig, path: Path) -> Path:
    """Make `path` a queued run folder for the validated `cfg` (run_experiment validates once more: its callers
    need not go through the store)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(path)  # what a killed earlier attempt left beside and in the folder
    for stale in ("results.json", "error.txt", "analysis.json", "analysis-error.txt"):
        (path / stale).unlink(missing_ok=True)
    cfg.out = str(path)
    write_json(path / "config.json", cfg.to_dict())
    _say_queued(path, "queued")  # the message a queued run shows
    return path


# One experiment at a time per process: torch's global RNG (dropout, init) would otherwise mix
# two sessions' seeds, and on a small machine two fine-tunes at once are no faster than in turn.
# The app's runs also go through one FIFO worker (`store.worker`); this lock covers other callers.
_RUN_LOCK = threading.Lock()


def execute_run(cfg: ExperimentConfig, path: Path, *, analyse: bool = False) -> bool:
    """Run a prepared config (after any run already going in this process), reporting progress
    and failures to its status.json; True on success. A run cancelled while it waited never starts.
    With `analyse` (runs started from the app) the analysis pages' data is computed right after (`analysis.stored`);
    sweep and grid trials skip it (the pages compute it for a trial someone opens)."""
    path = Path(path)
    cancelled = (path / CANCEL_FILE).exists
    with _RUN_LOCK:
        if cancelled():
            _mark_cancelled(path, 0.0, "cancelled before it started")
            return False
        with ExitStack() as held:
            try:
                held.enter_context(compute_slot(on_wait=lambda msg: _say_queued(path, msg), cancelled=cancelled))
            except SlotWaitCancelled:
                _mark_cancelled(path, 0.0, "cancelled while it waited for another run on this machine")
                return False
            except Exception as exc:  # e.g. a read-only cache folder: the run fails with the reason, never stays queued
                _say(path, RunStatus(RunState.FAILED, 0.0, (
                    f"could not take the machine's compute slot ({type(exc).__name__}: {exc}); make the cache folder "
                    "writable (MOSECROT_CACHE) or set MOSECROT_SHARE_CORES=1 to run without it")))
                return False
            return _execute(cfg, path, analyse)


def _say_queued(path: Path, message: str) -> None:
    """A queued run's status while it waits, with the pid that owns it (so it reads as alive)."""
    _say(path, RunStatus(RunState.QUEUED, 0.0, message, started=time.time(), pid=os.getpid()))


def _say(path: Path, status: RunStatus) -> None:
    """Write the run's status.json (atomically: a page polling it reads the old one or this one)."""
    write_json(path / "status.json", status.to_json())


def eta_seconds(spent: float, done: float, left: float) -> float | None:
    """Seconds left at the measured pace: `spent` seconds since fine-tuning began for `done` of the work since
    then, `left` still to do; None before the first epoch has been measured. The fraction counts finished
    fine-tuning epochs (every fine-tune: the mapped methods', the shared E_s one, the multilingual model's), so
    the pace is the measured time per epoch."""
    if done <= 0 or spent <= 0 or left <= 0:
        return None
    return spent / done * left


def cancel_run(run: "StoredRun | Path") -> bool:
    """Ask a queued or running run to stop: its thread raises `RunCancelled` at its next progress report (at the
    latest after the current fine-tuning epoch) and marks it cancelled; other runs are untouched. False when the
    run had already ended."""
    path = Path(getattr(run, "path", run))
    state = StoredRun(path).status().state
    if state not in (RunState.QUEUED, RunState.RUNNING):  # ended, or only analysing its results
        return False
    write_bytes(path / CANCEL_FILE, f"{time.time()}\n".encode())
    if state is RunState.QUEUED:  # still waiting its turn: said at once (execute_run checks the file before any work)
        _mark_cancelled(path, 0.0, "cancelled while queued")
    return True


def _mark_cancelled(path: Path, fraction: float, message: str) -> None:
    _say(path, RunStatus(RunState.CANCELLED, fraction, message, ended=time.time()))


def _execute(cfg: ExperimentConfig, path: Path, analyse: bool = False) -> bool:
    from mosecrot_viz.experiment.pipeline import FINE_TUNING, run_experiment

    started = time.time()
    last = {"fraction": 0.0, "message": "", "written": 0.0}
    tuning = {}  # when fine-tuning began and the fraction then: the pace is measured from there

    def progress(message: str, fraction: float) -> None:
        if (path / CANCEL_FILE).exists():
            raise RunCancelled(f"cancelled at {fraction:.0%} ({message})")
        now = time.time()
        if message == FINE_TUNING:
            tuning.update(t=now, fraction=fraction)
        if (fraction - last["fraction"] >= 0.01 or fraction >= 1.0 or message != last["message"]
                or now - last["written"] >= 5):
            last.update(fraction=fraction, message=message, written=now)
            eta = (eta_seconds(now - tuning["t"], fraction - tuning["fraction"], 1.0 - fraction) if tuning
                   else None)
            _say(path, RunStatus(RunState.RUNNING, fraction, message, pid=os.getpid(), started=started,
                                 elapsed=round(now - started, 1), eta_seconds=round(eta, 1) if eta is not None else None))

    try:
        out = run_experiment(cfg, progress=progress)
    except RunCancelled as exc:
        _mark_cancelled(path, last["fraction"], str(exc))
    except InputError as exc:
        _say(path, RunStatus(RunState.FAILED, last["fraction"], str(exc)))
    except Exception as exc:  # shown in the app; the traceback is kept beside it
        write_bytes(path / "error.txt", traceback.format_exc().encode("utf-8"))
        _say(path, RunStatus(RunState.FAILED, last["fraction"], f"{type(exc).__name__}: {exc}"))
    else:
        if analyse:
            try:
                _say(path, RunStatus(RunState.ANALYSING, 1.0, "computing what the analysis pages read (held-out BLI, "
                                     "drift, the anchor view)", pid=os.getpid(), started=started,
                                     elapsed=round(time.time() - started, 1)))
                _precompute(cfg, path, out)
            finally:  # whatever happened above, the run does not stay 'analysing'
                _say(path, RunStatus(RunState.COMPLETE, 1.0, "done"))
        else:
            _say(path, RunStatus(RunState.COMPLETE, 1.0, "done"))
        return True
    return False


def _precompute(cfg: ExperimentConfig, path: Path, out) -> None:
    """Store what the analysis pages need beside the finished run (`analysis.stored`), from the run's own inputs
    and mapped spaces (`out`: its `RunOutput`); a failure here leaves the run complete (the pages then compute it
    themselves) with its traceback in analysis-error.txt."""
    from mosecrot_viz.analysis.registry import precompute

    try:
        precompute(cfg, path, inputs=out.inputs, spaces=out.spaces)
    except Exception:  # optional: the pages fall back to computing it
        write_bytes(path / "analysis-error.txt", traceback.format_exc().encode("utf-8"))


def start_run(cfg: ExperimentConfig, name: str = "run", root: Path | None = None) -> StoredRun:
    """Queue `cfg` on the process's one worker (`store.worker`), writing into a new run folder; returns at once.
    Runs asked for together start one after the other, in the order asked."""
    path = prepare_run(cfg, name, root)
    ahead = worker.pending()
    if ahead:
        _say_queued(path, f"queued behind {ahead} run{'s' if ahead > 1 else ''} of this app (one at a time, so each "
                    "gets every core)")
    worker.submit(execute_run, cfg, path, analyse=True)
    return StoredRun(path)


def start_sweep(configs: list[ExperimentConfig], name: str = "sweep", root: Path | None = None) -> list[StoredRun]:
    """Queue every trial of a sweep as its own run and work through them in one background thread."""
    paths = [prepare_run(c, f"{name}-{c.sweep['param']}-{c.sweep['value']}", root) for c in configs]

    for c, p in zip(configs, paths):
        worker.submit(execute_run, c, p)
    return [StoredRun(p) for p in paths]
