"""results.json as typed records: the run's results, each method's, each ladder rung, the anchors and the data.

`RunResults.from_json(data, source)` is the one reader of results.json: it migrates a record written by an older
version (schema 1: no `schema_version`, per-seed scores possibly as objects) and refuses, in one line naming the
file and the version, a newer version's or a malformed record. `to_json` gives back the dict the run writes, fields
in the order they always had, with `schema_version` last.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

from mosecrot_viz.errors import SchemaError
from mosecrot_viz.records._base import Record, check_score, known, need, number, optional, plain, refuse
from mosecrot_viz.records.keys import DEV_SUFFIX, drop_key, drop_text, split_rung

SCHEMA_VERSION = 2  # 1: every results.json before this module (no `schema_version` field)


def _floats(values, where: str) -> tuple[float, ...]:
    """Per-seed scores as floats; schema 1 runs may store each seed as an object with its `macro_f1`."""
    out = []
    for v in need(values, list, where):
        v = v.get("macro_f1") if isinstance(v, Mapping) else v
        if not number(v):
            raise SchemaError(f"'{where}' holds {type(v).__name__}, not a number")
        check_score(v, where)
        out.append(v)
    return tuple(out)


@dataclass(frozen=True)
class LadderRung(Record):
    """One rung of a method's gap ladder (or its `dictionary` reference): `key` a machine key (core.ladder.RUNGS),
    `on_dev` when its English sentences were the dev split (stored as "<key> (dev)"), macro-F1 mean and std over
    seeds, per seed, and per class (label -> mean F1)."""

    key: str
    macro_f1: float
    macro_f1_std: float = 0.0
    per_seed: tuple[float, ...] = ()
    per_class: Mapping[str, float] = field(default_factory=dict)
    on_dev: bool = False

    @property
    def name(self) -> str:
        """The name results.json stores (`english_original (dev)`)."""
        return self.key + (DEV_SUFFIX if self.on_dev else "")

    def to_json(self) -> dict:
        return {"rung": self.name, "macro_f1": self.macro_f1, "macro_f1_std": self.macro_f1_std,
                "per_seed": list(self.per_seed), "per_class": dict(self.per_class)}

    def __getitem__(self, key: str):
        """The JSON view (`rung["macro_f1"]`), for callers written against the stored dict (tests, notebooks)."""
        return self.to_json()[key]

    @classmethod
    def from_json(cls, data: Mapping, where: str = "rung") -> "LadderRung":
        need(data, Mapping, where)
        key, on_dev = split_rung(need(data.get("rung"), str, f"{where}.rung"))
        if not number(data.get("macro_f1")):
            raise SchemaError(f"'{where}' has no numeric macro_f1")
        check_score(data["macro_f1"], f"{where}.macro_f1")
        check_score(data.get("macro_f1_std", 0.0), f"{where}.macro_f1_std")
        return cls(key, data["macro_f1"], data.get("macro_f1_std", 0.0), _floats(data.get("per_seed", []), where),
                   dict(data.get("per_class") or {}), on_dev)


@dataclass(frozen=True)
class MethodResult(Record):
    """One method's results over seeds: macro-F1 (mean, sample std, per seed, 95% bootstrap interval), accuracy,
    per class ({label: {precision, recall, f1, support}}), the summed confusion (labels x labels, in `labels`
    order), English F1, the best dev F1 per seed, the classification head, and the gap ladder."""

    macro_f1: float | None = optional()  # None only in a partial record a test builds (a stored run has it)
    macro_f1_std: float | None = optional()
    accuracy: float | None = optional()
    accuracy_std: float | None = optional()
    per_seed: tuple[float, ...] | None = optional()
    per_class: Mapping[str, Mapping[str, float]] | None = optional()
    confusion: list | None = optional()
    labels: tuple[str, ...] | None = optional()
    macro_f1_labels: tuple[str, ...] | None = optional()
    macro_f1_ci95: tuple[float, float] | None = optional()
    wall_seconds: float | None = optional()
    english_macro_f1: float | None = optional()
    best_dev_macro_f1: tuple[float, ...] | None = optional()
    head: str | None = optional()
    ladder: tuple[LadderRung, ...] | None = optional()
    ladder_reference: Mapping[str, LadderRung] | None = optional()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def seeds(self) -> int:
        """How many seeds the figures average (0 when a record stores no per-seed scores)."""
        return len(self.per_seed or ())

    @property
    def head_or_cls(self) -> str:
        """The classification head (`cls` for runs that predate the field)."""
        return self.head or "cls"

    def rung(self, key: str) -> LadderRung | None:
        """The ladder's rung with machine key `key`, or None."""
        return next((r for r in self.ladder or () if r.key == key), None)

    @classmethod
    def from_json(cls, data: Mapping, where: str = "method", strict: bool = True) -> "MethodResult":
        """From a results.json method entry; `strict` (a stored run's): its macro_f1 must be there."""
        need(data, Mapping, where)
        if ((strict or "macro_f1" in data) and not number(data.get("macro_f1"))) \
                or not number(data.get("macro_f1_std", 0.0)):
            raise SchemaError(f"'{where}' has no numeric macro_f1")
        for key in ("macro_f1", "macro_f1_std", "english_macro_f1"):
            if data.get(key) is not None:
                check_score(data[key], f"{where}.{key}")
        kw, extra = known(cls, data)
        if kw.get("per_seed") is not None:  # one score per seed the run used: never empty
            kw["per_seed"] = _floats(kw["per_seed"], f"{where}.per_seed")
            if not kw["per_seed"]:
                raise SchemaError(f"'{where}.per_seed' is empty: a stored method has one score per seed")
        for key in ("labels", "macro_f1_labels", "macro_f1_ci95", "best_dev_macro_f1"):
            if kw.get(key) is not None:
                kw[key] = tuple(need(kw[key], list, f"{where}.{key}"))
        if kw.get("per_class") is not None:
            need(kw["per_class"], Mapping, f"{where}.per_class")
        if kw.get("ladder") is not None:
            kw["ladder"] = tuple(LadderRung.from_json(r, f"{where}.ladder") for r in need(kw["ladder"], list,
                                                                                            f"{where}.ladder"))
        if kw.get("ladder_reference") is not None:
            kw["ladder_reference"] = {k: LadderRung.from_json(r, f"{where}.ladder_reference.{k}")
                                      for k, r in need(kw["ladder_reference"], Mapping, f"{where}.ladder_reference").items()}
        return cls(**kw, extra=extra)


@dataclass(frozen=True)
class AnchorReport(Record):
    """`AnchorSet.summary()`: anchors kept, lexicon pairs read, distinct English sides, the policy, translations
    re-chosen by alignment, and pairs dropped per reason (machine key -> count; `keys.DROP_REASONS` has the text)."""

    count: int
    lexicon_pairs: int | None = optional()
    unique_english: int | None = optional()
    policy: str | None = optional()
    rechosen_by_alignment: int | None = optional()
    dropped: Mapping[str, int] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def dropped_text(self) -> dict[str, int]:
        """Pairs dropped per reason, the reasons in words (as results.json stores them and the Anchors page shows)."""
        return {drop_text(k): n for k, n in self.dropped.items()}

    def to_json(self) -> dict:
        return {**super().to_json(), "dropped": self.dropped_text(), **plain(self.extra)}

    @classmethod
    def from_json(cls, data: Mapping, where: str = "anchors") -> "AnchorReport":
        need(data, Mapping, where)
        kw, extra = known(cls, data)
        kw["dropped"] = {drop_key(k): n for k, n in need(kw.get("dropped", {}), Mapping, f"{where}.dropped").items()}
        return cls(**{"count": 0, **kw}, extra=extra)

    @classmethod
    def of(cls, summary: Mapping) -> "AnchorReport":
        """From `AnchorSet.summary()` (its drop reasons are the text)."""
        return cls.from_json(summary)


@dataclass(frozen=True)
class DataReport(Record):
    """results.json's `data`: split sizes, the target vectors' vocabulary and dimension, the source dimension,
    unknown-word rate (mean over sentences) and share (over words), vocabulary added beyond the paper, and the
    script-shift simulation's summary (None unless simulated; always written by this version)."""

    train: int | None = optional()
    dev: int | None = optional()
    test: int | None = optional()
    target_vocab: int | None = optional()
    target_dim: int | None = optional()
    source_dim: int | None = optional()
    test_unknown_word_rate: float | None = optional()
    test_unknown_word_share: float | None = optional()
    lexicon_vocabulary: int | None = optional()
    subword_vocabulary: int | None = optional()
    test_subword_word_rate: float | None = optional()
    script_shift: Mapping | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    has_script_shift: bool = field(default=True, repr=False, compare=False)  # schema 1 runs lack the field

    def to_json(self) -> dict:
        out = super().to_json()
        out.pop("has_script_shift")
        if not self.has_script_shift and self.script_shift is None:
            out.pop("script_shift")
        return out

    @classmethod
    def from_json(cls, data: Mapping, where: str = "data") -> "DataReport":
        kw, extra = known(cls, need(data, Mapping, where))
        kw.pop("has_script_shift", None)
        return cls(**kw, extra=extra, has_script_shift="script_shift" in data)


@dataclass(frozen=True)
class LadderRun(Record):
    """results.json's `ladder`: the ladder's own seconds, the English split its English rungs read ("test" or
    "dev"), the seed whose sentences got occlusion detail, and the English sentences' predictions per fine-tune
    ({ids, gold, split, by_model: {label: [[pred per sentence] per seed]}}, None without English sentences)."""

    seconds: float | None = optional()
    english_data: str | None = optional()
    examples_seed: int | None = optional()
    english_predictions: Mapping | None = None  # always written by a run that measured a ladder
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping, where: str = "ladder") -> "LadderRun":
        kw, extra = known(cls, need(data, Mapping, where))
        return cls(**kw, extra=extra)


class Ranked(NamedTuple):
    """A method of a run, by name, with its results."""

    name: str
    result: MethodResult


@dataclass(frozen=True)
class RunResults(Record):
    """What results.json holds (see docs/ARCHITECTURE.md, "One run").

    config: the run's `ExperimentConfig.to_dict()` (read it back with `ExperimentConfig.from_dict`); labels: class
    names in id order; data, anchors, methods (name -> `MethodResult`, in the order run); histories: fine-tune label
    -> per-seed training history; environment: versions, commit, device, input hashes (experiment.provenance);
    warnings: what the run's checks found legal but degenerate, each {"key", "message"}.
    """

    config: Mapping[str, Any] = field(default_factory=dict)
    device: str | None = None
    labels: tuple[str, ...] = ()
    data: DataReport = field(default_factory=DataReport)
    anchors: AnchorReport = field(default_factory=lambda: AnchorReport(0))
    methods: Mapping[str, MethodResult] = field(default_factory=dict)
    histories: Mapping[str, list] = field(default_factory=dict)
    wall_seconds: float = 0.0
    environment: Mapping[str, Any] | None = None
    bli_test: Mapping | None = optional()  # with a BLI test dictionary
    stored_models: Mapping[str, str] | None = optional()  # "method/seed" -> file, with keep_models
    ladder: LadderRun | None = optional()  # the gap ladder's own timing and data
    tags: Mapping | None = optional()  # scripts/sib200_results.py --merge --tag: each tagged group's settings
    merged_runs: list | None = optional()  # scripts/sib200_results.py --merge: the runs merged into this record
    warnings: tuple = ()  # core.checks.RunWarnings; [] in older records
    schema_version: int = SCHEMA_VERSION

    @property
    def seeds(self) -> tuple[int, ...]:
        """The run's seeds (`config.seeds`; [1] when a record does not say)."""
        return tuple(self.config.get("seeds") or (1,))

    @property
    def lang(self) -> str | None:
        return self.config.get("lang")

    def method(self, name: str) -> MethodResult | None:
        return self.methods.get(name)

    def best(self, exclude=()) -> "Ranked | None":
        """The method with the highest macro-F1 outside `exclude` (name and result), or None."""
        ranked = [Ranked(m, v) for m, v in self.methods.items() if m not in exclude]
        return max(ranked, key=lambda kv: kv.result.macro_f1) if ranked else None

    def but(self, **changes) -> "RunResults":
        from dataclasses import replace

        return replace(self, **changes)

    @classmethod
    def from_json(cls, data, source=None, *, strict: bool = False) -> "RunResults":
        """From a results.json dict (`source`: the file or folder it came from, named in errors; `strict`: a run
        folder's file, which must hold its `config` with `seeds` and its `methods`, where a test's partial record
        need not).

        Schema 1 (no `schema_version`) is migrated: per-seed scores stored as objects become numbers, a missing
        `warnings` is []. A newer schema or a malformed record is one `SchemaError` line naming `source` and the
        version."""
        if not isinstance(data, Mapping):
            raise refuse(source, f"results of schema version ? not readable: the top level is {type(data).__name__}, "
                                 "not an object")
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise refuse(source, f"results.json has schema version {version!r}, which no version of mosecrot-viz "
                                 "writes (was it edited? run it again)")
        if version > SCHEMA_VERSION:
            raise refuse(source, f"results.json has schema version {version}; this mosecrot-viz reads versions up to "
                                 f"{SCHEMA_VERSION} (upgrade it to read this run)")
        extra = set(data) - {f for f in cls.__dataclass_fields__}
        if extra:
            raise refuse(source, f"results.json (schema version {version}) holds fields this version does not know: "
                                 f"{sorted(extra)}")
        try:
            if strict:
                for key in ("config", "methods"):
                    need(data.get(key), Mapping, key)
                if "seeds" not in data["config"]:
                    raise SchemaError("'config.seeds' is missing")
            return cls._parse(data, strict)
        except SchemaError as exc:
            raise refuse(source, f"not a results file of schema version {version} this version can read: {exc} "
                                 "(was it edited? run it again)") from None

    @classmethod
    def _parse(cls, data: Mapping, strict: bool) -> "RunResults":
        cfg = need(data.get("config", {}), Mapping, "config")
        if "seeds" in cfg and (not isinstance(cfg["seeds"], list)
                               or not all(isinstance(s, int) and not isinstance(s, bool) for s in cfg["seeds"])):
            raise SchemaError("'config.seeds' is not a list of whole numbers")
        methods = {m: MethodResult.from_json(v, f"methods.{m}", strict)
                   for m, v in need(data.get("methods", {}), Mapping, "methods").items()}
        env = data.get("environment")
        if env is not None:
            inputs = need(env, Mapping, "environment").get("inputs", {})
            if not isinstance(inputs, Mapping) or not all(isinstance(r, Mapping) for r in inputs.values()):
                raise SchemaError("'environment.inputs' is not an object of file records")
        ladder = data.get("ladder")
        return cls(
            config=cfg, device=data.get("device"), labels=tuple(need(data.get("labels", []), list, "labels")),
            data=DataReport.from_json(data.get("data", {})), anchors=AnchorReport.from_json(data.get("anchors", {})),
            methods=methods, histories=need(data.get("histories", {}), Mapping, "histories"),
            wall_seconds=data.get("wall_seconds", 0.0), environment=env, bli_test=data.get("bli_test"),
            stored_models=data.get("stored_models"), ladder=LadderRun.from_json(ladder) if ladder is not None else None,
            tags=data.get("tags"), merged_runs=data.get("merged_runs"),
            warnings=tuple(need(data.get("warnings", []), list, "warnings")), schema_version=SCHEMA_VERSION)


def as_results(results) -> RunResults:
    """`results` as a `RunResults`: a record as it is, a results.json dict read through `from_json`."""
    return results if isinstance(results, RunResults) else RunResults.from_json(results)
