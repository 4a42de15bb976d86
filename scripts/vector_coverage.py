"""Share of SIB-200 test words without a vector, word2vec against fastText, for the vectors trained here (de, es).

    .venv/bin/python scripts/vector_coverage.py                       # de and es, both default kinds
    .venv/bin/python scripts/vector_coverage.py --langs de --vectors default:de,my-de.bin

Reads the target test split of SIB-200 from the shared data folder (skips, saying so, when it is absent) and each
vectors file as a run reads it: a fastText `.bin` first gives every test word it does not list its n-gram vector
(`core.vocab_extension.subword_words`, the step `experiment.inputs.load_inputs` takes), then words are looked up as
the run's `WordTokenizer` does (as written, then lower-cased). Per vectors file it prints the test words, those
without a vector and their share, and for fastText the share read through n-grams and how much of those words'
n-grams the model ever trained: the mean share of their n-gram buckets that some listed word also hits, for the word
as written (what a run looks up today) and lower-cased (the training text is lower-cased). A vector from untrained
buckets is noise, so "no word without a vector" alone would overstate what n-grams give. Builds the defaults into
the cache on first use (about 2 minutes per fastText model on one core). Reads only; writes nothing else.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from unknown_word_rate import rates  # noqa: E402

from mosecrot_viz.core.vocab_extension import has_subword_vectors, subword_words, with_subword_words  # noqa: E402
from mosecrot_viz.defaults.registry import SIB_FOLDERS, resolve_spec, shared_data_dir  # noqa: E402
from mosecrot_viz.io.tasks import load_task  # noqa: E402
from mosecrot_viz.io.vectors import load_vectors  # noqa: E402


def trained_bucket_share(kv, words) -> float:
    """Mean over `words` of the share of each word's n-gram buckets that some listed word's n-grams also hit
    (buckets no listed word hits were never trained: they keep their random start)."""
    from gensim.models.fasttext import ft_ngram_hashes

    def hashes(w):
        return ft_ngram_hashes(w, kv.min_n, kv.max_n, kv.bucket)

    hit = {h for w in kv.index_to_key for h in hashes(w)}
    shares = [np.mean([h in hit for h in hs]) for hs in map(hashes, words) if hs]
    return float(np.mean(shares)) if shares else float("nan")


def coverage(spec: str, texts, lang: str) -> dict:
    """The run's view of `spec` on `texts`: listed words, test words without a vector, n-gram words."""
    t = time.perf_counter()
    kv = load_vectors(resolve_spec(spec, "vectors"))
    seconds = time.perf_counter() - t
    row = {"vectors": spec, "listed": len(kv.index_to_key), "load_s": seconds}
    if has_subword_vectors(kv):
        sub = subword_words(kv, texts, lang=lang)
        row.update(ngram_share=sub.tokens / max(sub.n_tokens, 1),
                   trained_as_written=trained_bucket_share(kv, sub.words),
                   trained_lower=trained_bucket_share(kv, [w.lower() for w in sub.words]))
        kv = with_subword_words(kv, sub)
    row.update(rates(kv.index_to_key, texts, lang, "auto"))
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--langs", default="de,es", help="comma-separated languages with a SIB-200 folder")
    p.add_argument("--vectors", default=None, help="comma-separated vectors (default: default:L-word2vec,default:L)")
    args = p.parse_args(argv)
    sib = shared_data_dir() / "sib200"
    if not sib.is_dir():
        print(f"skipped: no SIB-200 data at {sib} (set MOSECROT_SHARED_DATA)")
        return 0
    print(f"{'lang':<5}{'vectors':<24}{'listed':>8}{'test words':>11}{'no vector':>10}{'share':>8}"
          f"{'via n-grams':>12}{'trained n-grams (as written / lower)':>38}")
    for lang in [x.strip() for x in args.langs.split(",") if x.strip()]:
        texts = load_task(sib / SIB_FOLDERS[lang] / "test.tsv")["text"].to_list()
        specs = args.vectors.split(",") if args.vectors else [f"default:{lang}-word2vec", f"default:{lang}"]
        for spec in specs:
            r = coverage(spec, texts, lang)
            ngram = f"{r['ngram_share']:.1%}" if "ngram_share" in r else "-"
            trained = (f"{r['trained_as_written']:.0%} / {r['trained_lower']:.0%}" if "ngram_share" in r else "-")
            print(f"{lang:<5}{spec:<24}{r['listed']:>8,}{r['words']:>11,}{r['unknown']:>10,}{r['unknown_share']:>8.1%}"
                  f"{ngram:>12}{trained:>38}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
