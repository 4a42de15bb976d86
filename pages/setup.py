"""Setup: choose target vectors, lexicon and task data (default, shared SIB-200, upload or server path).

Each of the user's own files is read as soon as it is given, so a bad one is reported (file and
line) beside its own input rather than later, in a failed run. The choices, the uploads (copied into
the app's data folder) and the inputs accepted are kept in the setup record the URL names
(`ui.state`), so Run, a reload, a second tab and a shared link all see the same inputs. The anchor
count is the run's own (`experiment.spaces.count_anchors`, with Run's anchor options).
"""

import streamlit as st

from mosecrot_viz.analysis.script_shift import SIMULATION_NOTE
from mosecrot_viz.errors import InputError, OverlapError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.ui import cached, state
from mosecrot_viz.ui.components import provenance_table
from mosecrot_viz.ui.entry import require_app
from mosecrot_viz.ui.inputs import (
    ALLOWED_VECTOR_SUFFIXES,
    MAX_UPLOAD_MB,
    MUSE,
    MUSE_LICENCE,
    SERVER_ROOTS_ENV,
    demo_inputs,
    model_choice,
    readable_message,
    readable_options,
    server_path,
    server_roots,
    sib200_available,
    sib200_inputs,
)
from mosecrot_viz.ui.setup_support import (
    SEGMENTATIONS,
    anchor_summary,
    check_input,
    check_labels,
    describe_limits,
    resolve_rule,
    test_coverage,
)

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)


def _uploader_changed(kind: str) -> None:
    """The user removed (or replaced) a file in an uploader: the recorded upload for it no longer counts."""
    if st.session_state.get(f"setup_up_{kind}") is None:
        state.forget_upload(kind)


st.title("Setup")
SOURCES = {"default": "Embedded default (Bible en→zh)", "sib200": "SIB-200 (shared data)", "files": "My own files"}
FILES = [
    ("vectors", "target static vectors (.vec .txt .bin .gz)", [s.strip(".") for s in ALLOWED_VECTOR_SUFFIXES]),
    ("lexicon", "bilingual lexicon (english target per line)", ["txt", "tsv", "gz"]),
    ("train", "English training data", ["tsv", "csv", "txt"]),
    ("test", "target-language test data", ["tsv", "csv", "txt"]),
    ("target_train", "target-language training data (for LR; optional)", ["tsv", "csv", "txt"]),
]
WIDGETS = {"setup_source": "default", "setup_sib_lang": "zh", **{f"setup_path_{k}": "" for k, _, _ in FILES},
           "setup_lang": "", "setup_src_model": "default", "setup_mplm": "default-multilingual",
           "setup_segmentation": "auto"}
record = state.bind("setup", WIDGETS)
available = [k for k in SOURCES if k != "sib200" or sib200_available()]
if st.session_state["setup_source"] not in available:
    st.warning(f"These inputs were {SOURCES.get(st.session_state['setup_source'], st.session_state['setup_source'])}, "
               "which this machine does not have: choose again.")
    st.session_state["setup_source"] = "files"
choice = st.radio("inputs", available, **state.kw("setup", "setup_source"), horizontal=True, format_func=SOURCES.get)

setup, problem = None, None
shown, uploads_root = {}, state.app_data_dir() / "uploads"  # kept upload path -> its name; where uploads are kept
if choice == "default":
    setup = demo_inputs()
elif choice == "sib200":
    lang = st.selectbox("target language", ["zh", "fr", "de", "es"], **state.kw("setup", "setup_sib_lang"))
    setup = sib200_inputs(lang)
    if lang in MUSE:
        st.caption(f"Lexicon: {MUSE_LICENCE}; SIB-200's sentences are Flores-200, CC BY-SA 4.0.")
else:
    limits = ", ".join(f"{k}: {v:,}" for k, v in describe_limits().items())
    roots = server_roots()
    st.caption(f"Upload files ({MAX_UPLOAD_MB:,} MB at most each). Uploads are kept in the app's data folder with "
               f"this setup, so a run's inputs outlive a restart. Other limits: {limits}.")
    st.caption(f"Server paths may name files under: {', '.join(f'`{r}`' for r in roots)} ({SERVER_ROOTS_ENV})."
               if roots else f"Server paths are off on this app (whoever runs it can allow folders with "
               f"`{SERVER_ROOTS_ENV}`): upload your files.")
    cols = st.columns(2)
    fields, frames, names = {}, {}, {}  # names: what the user calls each file (an upload's own name)
    kept = record.get("uploads") or {}
    for i, (kind, label, types) in enumerate(FILES):
        with cols[i % 2]:
            up = st.file_uploader(label, type=types, key=f"setup_up_{kind}", on_change=_uploader_changed, args=(kind,))
            path = st.text_input(f"…or server path for {kind}" + ("" if roots else " (off)"),
                                 **state.kw("setup", f"setup_path_{kind}"))
            try:
                if up is not None:
                    fields[kind], names[kind] = str(state.keep_upload(up, kind)), up.name
                elif path:
                    fields[kind] = server_path(path, kind)  # refused before it is opened when outside the roots
                elif kind in kept:  # uploaded earlier (another page, a reload, another tab): still the chosen file
                    fields[kind], names[kind] = kept[kind]["path"], kept[kind]["name"]
                    st.caption(f"using your upload **{kept[kind]['name']}** (kept with this setup)")
            except ValueError as exc:  # InputError (size, name, a refused path) and OS-level refusals alike
                st.error(readable_message(str(exc), shown, uploads_root))
            if kind in names:
                shown[fields[kind]] = names[kind]
            if kind in fields:
                try:
                    frames[kind] = check_input(kind, fields[kind])
                    if kind == "test" and "train" in frames:  # checked here, so its error sits under this input
                        check_labels(frames["train"], frames["test"], name="test")
                except InputError as exc:  # an upload is named as the user named it, not by its kept copy
                    st.error(readable_message(str(exc), shown, uploads_root))
                    if kind == "test" and "train" in frames and kind in frames:
                        st.caption("The training data's labels: "
                                   + ", ".join(map(str, sorted(set(frames["train"]["label"]))[:20])))
                    del fields[kind]
                    frames.pop(kind, None)
    lang = st.text_input("target language code (chooses the segmentation rule: jieba for zh, elision for fr/it/ca)",
                         **state.kw("setup", "setup_lang"))
    if all(k in fields for k in ("vectors", "lexicon", "train", "test")):
        setup = dict(fields, lang=lang or None, label="my files", names=names)
    else:
        problem = "Give at least vectors, lexicon, English training data and target test data."
        st.info(problem)

models_col1, models_col2 = st.columns(2)
source_model = models_col1.text_input("source model (folder, hub id, or 'default')", **state.kw("setup", "setup_src_model"))
mplm = models_col2.text_input("multilingual model", **state.kw("setup", "setup_mplm"))
target_lang = setup.get("lang") if setup else None
rule = st.selectbox("target segmentation (split text as the vectors were built)", SEGMENTATIONS,
                    **state.kw("setup", "setup_segmentation"), format_func=lambda r: f"auto: {resolve_rule(r, target_lang)}"
                    if r == "auto" else r, help="words: a Unicode word regex; elision: l' + autre (fr/it/ca); "
                    "elision-clitics: also a + -t + -il (spaCy's French); jieba: Chinese")
record = state.save("setup", WIDGETS)


def refuse(message: str) -> None:
    """Show why these inputs cannot be used, record that no inputs are ready, and stop."""
    st.error(message)
    state.update(inputs=None, problem=message)
    st.stop()


if setup is None:
    state.update(inputs=None, problem=problem or "no inputs chosen")
else:
    anchor_opts = state.config_overrides(record.get("run"), with_training=False)
    try:  # a model folder is a server path: only inside the allowed roots, refused before it is read
        source_model, mplm = model_choice(source_model), model_choice(mplm)
        setup.update(source_model=source_model, multilingual_model=mplm, segmentation=rule, source=choice)
        cfg = ExperimentConfig.from_dict(setup, **anchor_opts)
        kv = cached.vectors(setup["vectors"], cfg.max_vocab)
        pairs = cached.lexicon(setup["lexicon"])
        tok = cached.tokenizer(source_model)
        anchors = anchor_summary(cfg.to_dict())
    except OverlapError as exc:  # no single file to blame: the message names the lexicon, vectors and model
        refuse(readable_message(f"Cannot use these inputs: {exc}", shown, uploads_root))
    except (InputError, OSError, ValueError) as exc:
        refuse(readable_message(f"Cannot use these inputs: {exc}", shown, uploads_root))
    st.session_state["setup"] = setup
    state.update(inputs=setup, problem=None)
    n_words, unknown = test_coverage(kv, tok, setup.get("lang"), rule, check_input("test", setup["test"])["text"])
    c = st.columns(5)
    c[0].metric("target vocabulary", f"{len(kv.index_to_key):,}")
    c[1].metric("vector dimension", kv.vector_size)
    c[2].metric("lexicon pairs", f"{len(pairs):,}")
    c[3].metric("anchors", f"{anchors['count']:,}", help="what the run will use: pairs with a whole-token English "
                "side and a target vector, after Run's anchor options (the pipeline's own anchor selection)")
    c[4].metric("test words without a vector", f"{unknown:.1%}", help=f"{n_words:,} test words after segmentation")
    opts = {k: v for k, v in anchor_opts.items() if v not in (None, False, "unk", "first")}
    st.caption("Dropped lexicon pairs by reason: " + ", ".join(f"{k}: {v:,}" for k, v in anchors["dropped"].items())
               + (f". Anchor options from Run: {readable_options(opts)}." if opts else "."))
    st.success(f"Inputs ready: {setup['label']}. Go to **Run**.")
    shift = state.simulated_shift(record.get("run"))
    if shift:  # set on Run: these inputs will be read with part of the target alphabet renamed
        st.info(f"Run simulates an unseen script on these inputs: {shift:.0%} of the target alphabet renamed. "
                + SIMULATION_NOTE)

with st.expander("Provenance and licences of the embedded defaults"):
    st.dataframe(provenance_table(), hide_index=True)
