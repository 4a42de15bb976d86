"""Test-set unknown-word rate of a target test file under each segmentation rule.

    .venv/bin/python scripts/unknown_word_rate.py --vectors default:fr --test ../shared/data/sib200/fra_Latn/test.tsv \
        --lang fr --rules words,auto

Prints, per rule, the words of the test set, how many have no vector (looked up as the run's
`WordTokenizer` does: as written, then lower-cased), their share, and the mean per-sentence share
(the figure a run stores as `data.test_unknown_word_rate`). Reads only; writes nothing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mosecrot_viz.core.tokenizer import WordTokenizer  # noqa: E402
from mosecrot_viz.defaults.registry import resolve_spec  # noqa: E402
from mosecrot_viz.io.tasks import load_task  # noqa: E402
from mosecrot_viz.io.text import SEGMENTATIONS, resolve_rule  # noqa: E402
from mosecrot_viz.io.vectors import load_vectors  # noqa: E402

SPECIALS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}


def rates(words, texts, lang, rule) -> dict:
    """Word count, unknown words, their share, and the mean per-text share for one rule."""
    wtok = WordTokenizer(words, SPECIALS, lang=lang, segmentation=rule)
    enc = wtok.encode(texts, max_length=10**6)
    n = int(enc.n_words.sum())
    unknown = int(np.round(enc.unknown_rate * enc.n_words).sum())
    return {"rule": f"{rule} ({resolve_rule(rule, lang)})" if rule == "auto" else rule, "words": n,
            "unknown": unknown, "unknown_share": unknown / n if n else float("nan"),
            "mean_per_text": float(np.mean(enc.unknown_rate))}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vectors", required=True, help="vectors file or default:LANG")
    p.add_argument("--test", required=True, help="target test file (SIB-200, Taxi1500 or CSV/TSV layout)")
    p.add_argument("--lang", default=None)
    p.add_argument("--max-vocab", type=int, default=None)
    p.add_argument("--rules", default="words,auto", help=f"comma-separated from {','.join(SEGMENTATIONS)}")
    args = p.parse_args(argv)
    kv = load_vectors(resolve_spec(args.vectors, "vectors"), max_vocab=args.max_vocab)
    texts = load_task(args.test)["text"].to_list()
    print(f"{args.test}: {len(texts)} texts; vectors {args.vectors}: {len(kv.index_to_key):,} words")
    print(f"{'rule':<28}{'words':>8}{'unknown':>9}{'share':>8}{'per text':>10}")
    for rule in [r.strip() for r in args.rules.split(",") if r.strip()]:
        r = rates(kv.index_to_key, texts, args.lang, rule)
        print(f"{r['rule']:<28}{r['words']:>8}{r['unknown']:>9}{r['unknown_share']:>8.1%}{r['mean_per_text']:>10.1%}")


if __name__ == "__main__":
    main()
