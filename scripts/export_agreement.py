"""Does an exported stitched model give the run's predictions as a Hugging Face user calls it, on unseen text?

    .venv/bin/python scripts/export_agreement.py RUN_DIR [--method rr-softmax] [--seed 1] [--n 1000]

RUN_DIR is a finished run on a Bible task of the embedded defaults (its `lang` one of the database's languages,
e.g. `fr`). The held-out sentences are verses of that language's translation that are in none of the run's task
files (train, dev, test, source test, target train), at least 5 words (8 characters in Chinese) long as the task's
are, `--n` of them drawn with `--sample-seed`; they are read from the cached database and never written anywhere.

The run's side is the run's own stitched model and word tokenizer (`experiment.stitched.load_stitched`); the
export's side is `store.export.export_model` into a temporary folder, then only `AutoTokenizer.from_pretrained`
and `AutoModelForSequenceClassification.from_pretrained` on that folder, called on the RAW verses in batches
(`padding=True, truncation=True`). Prints the share of sentences whose predicted label agrees, and the share whose
input reads the same embedding rows (token agreement; an alias id of the export reads a copy of its word's row).
A Chinese run also prints the same for the folder's `presegmented/` tokenizer on jieba-segmented text.

`--projector-sizes 20000,5000` prints instead the size of the Projector export (the app's zip) of the method's
mapping with every row and with each word limit.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def held_out_verses(results, n: int, seed: int) -> list[str]:
    """`n` verses of the run's language that none of its task files holds (by text), in a seeded random order."""
    from mosecrot_viz.defaults.bible import _CHAR_LANGS, _long_enough, _verses
    from mosecrot_viz.defaults.registry import _bible_db
    from mosecrot_viz.io.tasks import load_task
    from mosecrot_viz.io.text import base_language

    cfg = results.config  # the run's record (experiment.stitched.read_run)
    lang = base_language(cfg.get("lang"))
    used = set()
    for key in ("train", "dev", "test", "source_test", "target_train"):
        if cfg.get(key):
            used |= set(load_task(cfg[key])["text"])
    verses = sorted({t for t in _verses(_bible_db(), lang).values() if t and _long_enough(t, lang)} - used)
    if lang in _CHAR_LANGS and not verses:
        raise SystemExit(f"no held-out verses for {lang}")
    pick = np.random.default_rng(seed).permutation(len(verses))[:n]
    return [verses[i] for i in pick]


def run_side(sm, texts) -> tuple[list, list]:
    """The run's predicted labels and per sentence its input rows' ids, by the run's own tokenizer and model."""
    seqs = sm.wtok.encode(texts, sm.config.max_length).input_ids
    logits = sm.predict_logits(seqs)
    return [sm.labels[int(i)] for i in np.asarray(logits).argmax(-1)], seqs


def hf_side(folder: Path, texts, subfolder: str = "", batch: int = 64) -> tuple[list, list, np.ndarray]:
    """Labels, input ids and the input embedding matrix of the exported folder, used only through the Auto classes."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    tok = AutoTokenizer.from_pretrained(str(folder), **({"subfolder": subfolder} if subfolder else {}))
    preds, ids = [], []
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            enc = tok(list(texts[i:i + batch]), return_tensors="pt", padding=True, truncation=True)
            preds += [model.config.id2label[int(c)] for c in model(**enc).logits.argmax(-1)]
            ids += [row[mask.bool()].tolist() for row, mask in zip(enc["input_ids"], enc["attention_mask"])]
    return preds, ids, model.get_input_embeddings().weight.detach().numpy()


def same_rows(run_ids, run_emb, hf_ids, hf_emb) -> bool:
    return len(run_ids) == len(hf_ids) and np.array_equal(run_emb[run_ids], hf_emb[hf_ids])


def projector_sizes(run_dir, method, limits) -> None:
    """The zipped and unpacked size of the Projector export with every row, then with each word limit."""
    import io
    import zipfile

    from mosecrot_viz.store.export import export_zip

    for limit in [None] + list(limits):
        data = export_zip(run_dir, "projector", method, max_words=limit)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
            rows = sum(1 for _ in zf.open("vectors.tsv"))
        print(f"projector, {'every row' if limit is None else f'--max-words {limit}'}: {rows:,} rows, "
              f"{len(data) / 1e6:.1f} MB zipped, {unpacked / 1e6:.1f} MB unpacked")


def main(argv=None) -> None:
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.pipeline import load_inputs
    from mosecrot_viz.experiment.stitched import load_stitched, read_run
    from mosecrot_viz.io.text import resolve_rule, segment
    from mosecrot_viz.store.export import export_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir")
    ap.add_argument("--method", help="a stitched method of the run (default: its first)")
    ap.add_argument("--seed", type=int, help="one of the run's seeds (default: its first)")
    ap.add_argument("--n", type=int, default=1000, help="held-out verses (default 1000)")
    ap.add_argument("--sample-seed", type=int, default=0, help="seed of the draw of held-out verses")
    ap.add_argument("--projector-sizes", help="comma-separated word limits: print the Projector zip's size instead")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    if args.projector_sizes:
        return projector_sizes(args.run_dir, args.method, [int(x) for x in args.projector_sizes.split(",") if x])
    results = read_run(args.run_dir)
    cfg = ExperimentConfig.from_dict(results.config)
    inputs = load_inputs(cfg)
    sm = load_stitched(args.run_dir, args.method, args.seed, results=results, inputs=inputs)
    texts = held_out_verses(results, args.n, args.sample_seed)
    run_preds, run_ids = run_side(sm, texts)
    run_emb = sm.model.get_input_embeddings().weight.detach().numpy()
    rule = resolve_rule(cfg.segmentation, cfg.lang)
    print(f"run {args.run_dir}: {sm.method} seed {sm.seed}, language {cfg.lang}, segmentation {rule}, "
          f"{len(texts)} held-out verses")
    with tempfile.TemporaryDirectory(prefix="mosecrot-agreement-") as tmp:
        export_model(args.run_dir, tmp, sm.method, sm.seed, inputs=inputs)
        paths = [("raw text, AutoTokenizer.from_pretrained(folder)", "", texts)]
        if (Path(tmp) / "presegmented").is_dir():
            paths.append(("jieba-segmented text, subfolder='presegmented'", "presegmented",
                          [" ".join(segment(t, cfg.lang, rule=rule)) for t in texts]))
        for label, sub, given in paths:
            preds, ids, emb = hf_side(Path(tmp), given, sub)
            agree = sum(a == b for a, b in zip(run_preds, preds))
            tokens = sum(same_rows(a, run_emb, b, emb) for a, b in zip(run_ids, ids))
            print(f"{label}: predictions agree on {agree}/{len(texts)} = {agree / len(texts):.2%}; "
                  f"input tokens identical on {tokens}/{len(texts)} = {tokens / len(texts):.2%}")


if __name__ == "__main__":
    main()
