"""What a user chose, kept where another page, a reload, a second tab and a shared link find it.

The URL carries `?setup=<id>` (and `&run=<run id>` once a run is viewed). The choices live in a
small JSON record, `<app data>/setups/<id>.json`: Setup's widgets (which source, file paths,
language, models, segmentation), the user's uploads (copied into `<app data>/uploads/<id>/`, so
they outlive a restart), the inputs Setup accepted, Run's settings, and three run fields kept apart
so that looking at one run never changes another:
- `runs`: the runs started from this setup's Run page, oldest first (only Start adds to it). Start is
  disabled while any of them is queued or running, in every tab and after a reload;
- `run_shown`: the run the Run page shows (its own picker; a new Start sets it to the new run);
- `viewed_run`: the run the analysis pages show (their pickers; Start and the demo set it too).
The app data folder is $MOSECROT_APP_DATA, else `app-data/` beside the run store.

Streamlit forgets the widgets of a page that is not on screen, so each page seeds its widget keys
from the record before drawing them (`bind`), each widget writes a change into the record as it
happens (`kw`: its `on_change`), and the page stores what it drew (`save`).
"""
from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import streamlit as st

from mosecrot_viz.atomic import write_json
from mosecrot_viz.experiment import options

APP_DATA_ENV = "MOSECROT_APP_DATA"
ID_RE = re.compile(r"^[0-9a-f]{12}$")
RUN_ID_RE = re.compile(r"^[\w.\-]{1,200}$")


def app_data_dir() -> Path:
    """$MOSECROT_APP_DATA, else `app-data/` beside the run store (the resource cache by default)."""
    from mosecrot_viz.store.runs import runs_root

    env = os.environ.get(APP_DATA_ENV)
    return Path(env).expanduser() if env else runs_root().parent / "app-data"


def record_path(sid: str) -> Path:
    return app_data_dir() / "setups" / f"{sid}.json"


def uploads_dir(sid: str | None = None) -> Path:
    """Where the uploads of setup `sid` (default: this session's) are kept."""
    path = app_data_dir() / "uploads" / (sid or setup_id())
    path.mkdir(parents=True, exist_ok=True)
    return path


def setup_id() -> str:
    """This session's setup id: kept in the session, else taken from the URL, else new; always put in the URL
    (page switches clear the query string)."""
    sid = st.session_state.get("setup_id")
    if not sid:
        given = st.query_params.get("setup", "")
        sid = given if ID_RE.match(given) else uuid.uuid4().hex[:12]
        st.session_state["setup_id"] = sid
    if st.query_params.get("setup") != sid:
        st.query_params["setup"] = sid
    return sid


def load_record(sid: str | None = None) -> dict:
    """The record of setup `sid` (default: this session's); {} when there is none yet."""
    try:
        return json.loads(record_path(sid or setup_id()).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _write(rec: dict) -> None:
    rec["rev"] = uuid.uuid4().hex[:8]
    path = record_path(setup_id())
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, rec)


def update(**fields) -> dict:
    """Set top-level fields of this session's record (written only when something changed)."""
    rec = load_record()
    if any(rec.get(k) != v for k, v in fields.items()):
        rec.update(fields)
        _write(rec)
    return rec


def bind(section: str, defaults: dict) -> dict:
    """Before a page draws its widgets: give each widget key (`defaults`: key -> default) the record's value.

    The record is the truth on every run (the widgets' `on_change` writes a change into it first, see `kw`),
    so a page opened again, a reload, a second tab and a shared link all draw the same values, and
    values Streamlit kept from an earlier visit cannot win over it. Returns the record."""
    rec = load_record()
    values = rec.get(section) or {}
    for key, default in defaults.items():
        st.session_state[key] = values.get(key, default)
    return rec


def remember(section: str, key: str) -> None:
    """`on_change` of a bound widget: write its new value into the record before the page reruns."""
    rec = load_record()
    values = dict(rec.get(section) or {})
    values[key] = st.session_state[key]
    rec[section] = values
    _write(rec)


def kw(section: str, key: str) -> dict:
    """Keyword arguments binding a widget to the record: its key and the `on_change` that records it."""
    return {"key": key, "on_change": remember, "args": (section, key)}


def save(section: str, keys) -> dict:
    """After a page drew its widgets: store their values under `section` (written only when changed: the first
    visit's defaults, or a value the page corrected)."""
    values = {k: st.session_state[k] for k in keys if k in st.session_state}
    rec = load_record()
    if rec.get(section) != values:
        rec[section] = values
        _write(rec)
    return rec


def keep_upload(uploaded, kind: str) -> Path:
    """Copy a browser upload into this setup's uploads folder (sanitised name, size limit: `inputs.save_upload`)
    and record it under `kind` with the name the user gave it."""
    from mosecrot_viz.ui.inputs import save_upload

    path = save_upload(uploaded, kind, uploads_dir())
    rec = load_record()
    uploads = dict(rec.get("uploads") or {})
    if uploads.get(kind) != {"name": uploaded.name, "path": str(path)}:
        uploads[kind] = {"name": uploaded.name, "path": str(path)}
        rec["uploads"] = uploads
        _write(rec)
    return path


def forget_upload(kind: str) -> None:
    """Stop using the recorded upload for `kind` (the file stays until its folder is cleared)."""
    rec = load_record()
    if kind in (rec.get("uploads") or {}):
        rec["uploads"] = {k: v for k, v in rec["uploads"].items() if k != kind}
        _write(rec)


def setup_runs(rec: dict | None = None) -> list[str]:
    """Ids of the runs started from this setup's Run page, oldest first."""
    rec = load_record() if rec is None else rec
    return [r for r in rec.get("runs") or [] if RUN_ID_RE.match(str(r))]


def busy_runs(rec: dict | None = None) -> list:
    """This setup's runs still queued, running or analysing (StoredRun), newest first: while there is one, Start
    stays disabled (and is refused when clicked in a tab that has not redrawn yet)."""
    from mosecrot_viz.store.runs import list_runs

    mine = set(setup_runs(rec))
    return [r for r in list_runs() if r.run_id in mine and r.active]


def started_run(run_id: str) -> None:
    """Record a run started from this setup's Run page: it joins `runs` and becomes the run Run shows and the one
    the analysis pages show once it is complete."""
    rec = load_record()
    rec["runs"] = [*setup_runs(rec), run_id]
    rec["run_shown"] = rec["viewed_run"] = run_id
    _write(rec)
    st.query_params["run"] = run_id


def shown_run_id(rec: dict | None = None) -> str | None:
    """The run the Run page shows: its picker's choice, else this setup's newest run, else None (a new setup shows
    no other setup's results)."""
    rec = load_record() if rec is None else rec
    mine = setup_runs(rec)
    return rec.get("run_shown") or (mine[-1] if mine else None)


def show_run(run_id: str | None) -> None:
    """The Run page's picker chose `run_id` (the setup's own runs are untouched)."""
    update(run_shown=run_id)


def viewed_run_id(rec: dict | None = None) -> str | None:
    """The run the analysis pages were asked to show: the record's, else the URL's (a link from elsewhere)."""
    rec = load_record() if rec is None else rec
    run = rec.get("viewed_run")
    if not run:
        given = st.query_params.get("run", "")
        run = given if RUN_ID_RE.match(given) else None
    return run


def view_run(run_id: str) -> None:
    """An analysis page's picker (or the demo) chose `run_id`: into the record and the URL. Never touches `runs` or
    `run_shown`, so a look at an older run cannot replace the run a setup waits for."""
    update(viewed_run=run_id)
    st.query_params["run"] = run_id


#: the Run page's widget keys -> the run option each sets: their labels, defaults and bounds are the option's
#: (experiment.options); a widget shows None as 0 where the option says so ("0 = off"), seeds as "1,2", and the
#: subwords checkbox is unk_policy == "subwords"
RUN_WIDGETS = {"run_seeds": "seeds", "run_topk": "top_k", "run_tau": "temperature", "run_epochs": "epochs",
               "run_patience": "patience", "run_device": "device", "run_freeze": "freeze_embeddings",
               "run_policy": "anchor_policy", "run_agree": "anchor_agreement_share", "run_nanchors": "n_anchors",
               "run_stop": "drop_stopword_anchors", "run_lexvocab": "extend_vocab_from_lexicon",
               "run_subwords": "unk_policy", "run_shift": "script_shift"}
ANCHOR_WIDGETS = ("run_policy", "run_agree", "run_nanchors", "run_stop", "run_lexvocab", "run_subwords")


def widget_value(name: str, value):
    """Run option `name`'s `value` as its Run page widget holds it."""
    if name == "seeds":
        return ",".join(map(str, value))
    if name == "unk_policy":
        return value == "subwords"
    if value is None and options.OPTIONS[name].zero_is_none:
        return 0.0 if options.base_type(name) is float else 0
    return value


def option_value(name: str, value):
    """A Run page widget's `value` as run option `name`'s value (0 -> None where the option says so); a seeds text
    that is not whole numbers is an `OptionError` naming the widget."""
    if name == "seeds":
        try:
            return [int(s) for s in str(value).split(",") if s.strip()]
        except ValueError:
            raise options.refuse("seeds", "must be comma-separated whole numbers", str(value)) from None
    if name == "unk_policy":
        return "subwords" if value else "unk"
    kind = options.base_type(name)
    if kind is bool:
        return bool(value)
    if kind is int:
        value = int(value)
    if options.OPTIONS[name].zero_is_none and not value:
        return None
    return value


def widget_label(key: str) -> str:
    """The label of Run page widget `key`: its option's (the app's errors name the option by it)."""
    return options.OPTIONS[RUN_WIDGETS[key]].label


def number_bounds(key: str) -> dict:
    """`st.number_input` bounds of Run page widget `key` from its option: the lowest value (0 where 0 = off), the
    page's highest, the step."""
    name = RUN_WIDGETS[key]
    opt = options.OPTIONS[name]
    num = float if options.base_type(name) is float else int
    out = {"min_value": num(0 if opt.zero_is_none else opt.low), "max_value": opt.widget_max, "step": opt.widget_step}
    return {k: (num(v) if k != "step" else v) for k, v in out.items() if v is not None}


def choices(key: str) -> list:
    """The choices of Run page select widget `key` (its option's)."""
    return list(options.OPTIONS[RUN_WIDGETS[key]].choices)


def default_methods(setup: dict | None) -> list[str]:
    """The Run page's preselected methods: the option's default, without `lr` when the setup has no target-language
    training data (it needs it)."""
    return [m for m in options.default_of("methods") if m != "lr" or (setup or {}).get("target_train")]


RUN_DEFAULTS = {**{key: widget_value(name, options.default_of(name)) for key, name in RUN_WIDGETS.items()},
                "run_sweep_param": "top_k"}


def simulated_shift(values: dict) -> float | None:
    """The unseen-script share Run's widgets (`values`, as stored) set, or None when the simulation is off."""
    return option_value("script_shift", {**RUN_DEFAULTS, **(values or {})}["run_shift"])


def config_overrides(values: dict, *, with_training: bool = True) -> dict:
    """Run's widget values (`run_*` keys, as stored) -> ExperimentConfig fields. Setup uses the anchor fields
    for its preview, so its counts follow the options the run will use."""
    v = {**RUN_DEFAULTS, **(values or {})}
    keys = RUN_WIDGETS if with_training else ANCHOR_WIDGETS
    out = {RUN_WIDGETS[k]: option_value(RUN_WIDGETS[k], v[k]) for k in keys}
    if with_training and "run_methods" in v:
        out["methods"] = list(v["run_methods"])
    return out
