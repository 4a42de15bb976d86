"""Engines that run a grid's trials into the run store: one after another here, or as Ray tasks.

Both engines share one contract: every trial gets a folder named by its stable id under the
sweep's root, prepared up front (so the Compare page shows the whole grid, queued), a trial whose
folder already holds results is skipped (a re-run resumes), and a failing trial records its error
in its own folder while the others go on.

On Ray a trial runs in a scratch folder on whichever node takes it and returns its files to the
driver, which writes them into the store: the store needs no shared filesystem, but the trial's
input paths must be readable on every node (a shared mount, or `default:*` resources, which each
node builds into its own cache).
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mosecrot_viz.atomic import json_bytes, write_bytes, write_json
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.records import RunState, RunStatus
from mosecrot_viz.store.grid import Trial
from mosecrot_viz.store.runs import StoredRun, execute_run, prepare_run_at

ENGINES = ("local", "ray")
FORWARDED_ENV = ("MOSECROT_", "HF_", "TRANSFORMERS_", "TOKENIZERS_PARALLELISM")


@dataclass
class SweepSummary:
    """What a sweep did: trial ids completed now, skipped as already complete, and failed (with messages)."""

    completed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.completed) + len(self.skipped) + len(self.failed)


def trial_path(root: Path, trial: Trial) -> Path:
    """The folder a trial always writes to under `root`."""
    return Path(root) / trial.folder_name


def is_complete(path: Path) -> bool:
    """True when the folder holds a finished trial (results.json is written last)."""
    return (Path(path) / "results.json").exists()


def _comparable(cfg: dict) -> dict:
    """A config as JSON stores it, without where it was written."""
    return {k: v for k, v in json.loads(json.dumps(cfg, allow_nan=False)).items() if k != "out"}


def stored_trial_problem(path: Path, trial: Trial) -> str | None:
    """Why a trial folder's results cannot be taken as this trial's (unreadable or tampered results.json, or
    another config), or None when they can. Why: a re-run skips complete trials, so a corrupt one would otherwise
    stay in the grid's table for ever."""
    from mosecrot_viz.store.runs import read_results

    try:
        res = read_results(path)
    except InputError as exc:
        return str(exc)
    stored, wanted = _comparable(res.config), _comparable(trial.config.to_dict())
    if stored != wanted:
        diff = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
        return f"{path / 'results.json'}: its config differs from the trial's ({', '.join(diff[:5])})"
    return None


def run_trials(trials: list[Trial], root, engine: str = "local", *, address: str | None = None,
               cpus_per_trial: float = 1, progress=None) -> SweepSummary:
    """Run every trial not yet complete under `root` with the chosen engine; returns the summary.

    `progress(message, fraction)` is called as trials finish. A failed trial does not stop the others.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose from {ENGINES}")
    if engine == "ray":  # connect first: a bad address must not leave a grid of queued folders behind
        with _ray_session(address):
            return _run_all(trials, root, engine, progress, cpus_per_trial=cpus_per_trial)
    return _run_all(trials, root, engine, progress)


def _run_all(trials, root, engine, progress, **engine_args) -> SweepSummary:

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    summary = SweepSummary()
    todo = []
    redo = 0
    for t in trials:
        path = trial_path(root, t)
        problem = stored_trial_problem(path, t) if is_complete(path) else "not complete"
        if problem is None:
            summary.skipped.append(t.trial_id)
        else:
            redo += problem != "not complete"  # a corrupt or foreign results.json: run again (its files replaced)
            todo.append((t, prepare_run_at(t.config, path)))
    if progress:
        progress(f"{len(summary.skipped)} of {len(trials)} trials already complete; running {len(todo)}"
                 + (f" ({redo} whose stored results were unreadable or not the trial's)" if redo else ""),
                 len(summary.skipped) / max(len(trials), 1))
    runner = _run_local if engine == "local" else _run_ray
    runner(todo, summary, len(trials), progress, **engine_args)
    return summary


def _record(summary: SweepSummary, trial: Trial, path: Path, ok: bool, n_total: int, progress) -> None:
    if ok and is_complete(path):
        summary.completed.append(trial.trial_id)
    else:
        summary.failed[trial.trial_id] = StoredRun(path).status().message or "failed"
    if progress:
        word = "done" if trial.trial_id in summary.completed else "FAILED"
        progress(f"{summary.total}/{n_total} {word}: {trial.label}", summary.total / max(n_total, 1))


def _run_local(todo, summary, n_total, progress, **_) -> None:
    for trial, path in todo:
        _record(summary, trial, path, execute_run(trial.config, path), n_total, progress)


def run_trial_files(cfg_dict: dict) -> dict:
    """Run one trial in a scratch folder and return its files ({relative path: bytes}).

    This is what a Ray worker executes; it needs only the config, so it runs on any node.
    """
    cfg = ExperimentConfig.from_dict(cfg_dict)
    before = os.environ.get("MOSECROT_SHARE_CORES")
    os.environ["MOSECROT_SHARE_CORES"] = "1"  # Ray gives each trial its CPUs: no machine-wide one-at-a-time slot
    try:
        with tempfile.TemporaryDirectory(prefix="mosecrot-trial-") as scratch:
            path = prepare_run_at(cfg, Path(scratch))
            execute_run(cfg, path)
            return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
                    if p.is_file() and not p.name.endswith(".tmp")}
    finally:
        if before is None:
            os.environ.pop("MOSECROT_SHARE_CORES", None)
        else:
            os.environ["MOSECROT_SHARE_CORES"] = before


def write_trial_files(path: Path, files: dict) -> None:
    """Write a trial's returned files into its store folder, results.json last (it marks completion)."""
    for name in sorted(files, key=lambda n: n == "results.json"):
        target = (path / name).resolve()
        if path.resolve() not in target.parents:
            raise InputError(f"refusing to write {name!r} outside the trial folder", path)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = files[name]
        if name == "results.json":
            res = json.loads(data)
            res.setdefault("config", {})["out"] = str(path)
            data = json_bytes(res)  # strict: a NaN is an error naming its field
        elif name == "config.json":
            data = json_bytes(dict(json.loads(data), out=str(path)))
        write_bytes(target, data)


def ray_runtime_env(address: str | None = None) -> dict:
    """What Ray workers need to run trials: this package shipped to them, and on a local instance
    this machine's MOSECROT_/HF_ settings. Pass it to `ray.init` when you start Ray yourself."""
    import mosecrot_viz

    env = {"py_modules": [str(Path(mosecrot_viz.__file__).parent)]}
    if address is None:  # a local instance: this machine's caches and settings apply
        env["env_vars"] = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV)}
    return env


@contextmanager
def _ray_session(address: str | None):
    """Use the caller's Ray instance, or start/join one (and shut it down afterwards)."""
    try:
        import ray
    except ImportError:
        raise InputError("engine 'ray' needs Ray: pip install -r requirements-ray.txt") from None
    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env=ray_runtime_env(address))
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise InputError(f"cannot start or reach Ray at {address or 'a new local instance'}: {exc}") from None
    try:
        yield
    finally:
        ray.shutdown()


def _run_ray(todo, summary, n_total, progress, *, cpus_per_trial=1) -> None:
    import ray

    gpus = ray.cluster_resources().get("GPU", 0)
    task = ray.remote(num_cpus=cpus_per_trial, num_gpus=1 if gpus else 0, max_retries=0)(run_trial_files)
    pending = {}
    for trial, path in todo:
        write_json(path / "status.json", RunStatus(
            RunState.QUEUED, 0.0, f"waiting for a Ray worker ({'1 GPU' if gpus else f'{cpus_per_trial} CPU'})",
            pid=os.getpid()).to_json())
        pending[task.remote(trial.config.to_dict())] = (trial, path)
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            trial, path = pending.pop(ref)
            try:
                write_trial_files(path, ray.get(ref))
                ok = True
            except Exception as exc:  # the worker died or Ray failed: record it, go on
                write_json(path / "status.json", RunStatus(
                    RunState.FAILED, 0.0, f"Ray task failed: {type(exc).__name__}: {exc}"[:2000]).to_json())
                ok = False
            _record(summary, trial, path, ok, n_total, progress)
