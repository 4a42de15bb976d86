"""Errors: per-class F1 and confusion matrices for every method, misclassified examples, errors vs coverage."""
import pandas as pd
import streamlit as st

from mosecrot_viz.analysis import plots
from mosecrot_viz.analysis.errors import error_by_coverage, misclassified, per_class_table, run_test_set
from mosecrot_viz.experiment import stitched as stitched_models
from mosecrot_viz.ui import cached
from mosecrot_viz.ui.components import run_picker, show_figure
from mosecrot_viz.ui.entry import require_app

require_app()  # a page's own URL on a fresh server runs through app.py's navigation (ui.entry)

st.title("Errors")
run = run_picker("errors")
if run is None:
    st.stop()
res, preds = run.record(), run.predictions()
methods = list(res.methods)

st.subheader("Per-class F1, every method side by side")
show_figure(plots.per_class_f1(per_class_table(res)), "errors_perclass")

st.subheader("Confusion matrices")
shown = st.multiselect("methods", methods, methods[:3], key="errors_conf_methods")
if shown:
    show_figure(plots.confusion_matrices(res, shown), "errors_confusion")

mapped = [m for m in methods if preds[preds["method"] == m]["unknown_rate"].notna().any()]
if mapped:
    st.subheader("Error rate against the share of words without a vector")
    cov = pd.concat([error_by_coverage(preds, m).assign(method=m) for m in mapped], ignore_index=True)
    show_figure(plots.error_vs_coverage(cov), "errors_coverage")
    st.subheader("Misclassified target examples")
    m = st.selectbox("method", mapped, key="errors_mis_method")
    test = run_test_set(res)
    wrong = misclassified(preds, test, m)
    st.caption(f"{len(wrong)} of {len(preds[preds['method'] == m])} predictions wrong; sorted by unknown-word share.")
    st.dataframe(wrong, hide_index=True)
    st.download_button("misclassified as CSV", wrong.to_csv(index=False), "misclassified.csv", key="errors_csv")

# ---- issue 18: try a sentence with every stitched model, and take a model home ----


stitched_list = stitched_models.stitched_methods(res)
if stitched_list:
    st.subheader("Try a sentence")
    seeds = [int(s) for s in res.seeds]
    seed = st.selectbox("seed", seeds, key="errors_try_seed") if len(seeds) > 1 else seeds[0]
    kept = all(stitched_models.has_stored_model(run.path, m, seed) for m in stitched_list)
    ready = kept or st.session_state.get("errors_try_rebuild")
    if not kept:
        st.info("This run did not keep its stitched models (start runs with **keep models** / `--keep-models`). "
                f"They can be re-created: {len(stitched_list)} seeded fine-tune(s) with the run's settings, about as "
                "long as the run's own.")
        if st.button("re-create the stitched models", key="errors_try_rebuild_btn"):
            st.session_state["errors_try_rebuild"] = ready = True
    if ready:
        text = st.text_area("a target-language sentence", key="errors_sentence",
                            help="read by each stitched model as the run read its test set (same segmentation)")
        if text.strip():
            models = [cached.stitched_model(str(run.path), dict(res.config), m, seed) for m in stitched_list]
            rows = stitched_models.compare_sentence(models, text)
            status = rows[0]["status"] if rows else []
            if status and sum(x == "no vector" for x in status) > len(status) / 2:  # e.g. an English sentence
                st.warning(f"{sum(x == 'no vector' for x in status)} of {len(status)} words of this sentence have no "
                           "target-language vector and reach the model as [UNK]: is it in the run's target language?")
            st.dataframe(pd.DataFrame([{"method": r["method"], "prediction": r["pred"],
                                        **{f"P({lab})": round(p, 4) for lab, p in r["probs"].items()}} for r in rows]),
                         hide_index=True)
            tabs = st.tabs([r["method"] for r in rows])
            for tab, r in zip(tabs, rows):
                with tab:
                    show_figure(plots.occlusion_words(r["words"], r["occlusion"], r["status"],
                                                      title=f"{r['method']}: importance of each word"),
                                f"errors_try_{r['method']}")
                    st.dataframe(pd.DataFrame({"word": r["words"], "status": r["status"], "gloss": r["gloss"],
                                               "importance": r["occlusion"]}), hide_index=True)
            st.caption("Status: anchor, vector only (has a vector, not an anchor), lexicon only (no vector, but the "
                       "lexicon translates it: read as [UNK]), no vector ([UNK]). Importance = drop in the predicted "
                       "class's probability when the word is replaced by [UNK]; gloss = the lexicon's English.")

    st.subheader("Take the stitched model home")
    m_export = st.selectbox("method", stitched_list, key="errors_export_method")
    if res.methods[m_export].head_or_cls != "cls":
        st.info(f"{m_export} used a mean-pooling head, which AutoModelForSequenceClassification cannot express.")
    elif stitched_models.has_stored_model(run.path, m_export, seed) or ready:
        from mosecrot_viz.store.export import export_zip

        st.download_button(
            "Hugging Face folder (zip)", lambda: export_zip(run.path, "model", m_export, seed),
            f"{run.run_id}-{m_export}-seed{seed}.zip", "application/zip", key="errors_export_model",
            help="safetensors weights, config with id2label, a word-level tokenizer: AutoModelForSequenceClassification "
                 "and AutoTokenizer load it (also: python -m mosecrot_viz export RUN_DIR --what model)")
