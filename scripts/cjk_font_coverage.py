"""How much of the Chinese text the app shows the shipped CJK web font covers (assets/fonts, issue 26).

    .venv/bin/python scripts/cjk_font_coverage.py            # the zh default task and lexicon
    .venv/bin/python scripts/cjk_font_coverage.py my.tsv     # any task file(s) as well

Reads the font's character map (fontTools with brotli: `pip install fonttools brotli`, not app dependencies) and,
for the Chinese Bible task `task:bible-zh` (train, dev and test: the text Errors and Why quote) and the Chinese
words of `lexicon:zh` (the words Anchors and Alignment draw), counts the characters the app asks the font for (code
points in `defaults.shipped.CJK_RANGES`; others keep the app's own fonts): their occurrences and distinct
characters, and the share of each the font has a glyph for. A character it lacks falls back to the browser's own
fonts (a box where it has no CJK font). Builds the defaults into the cache on first use; writes nothing else.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mosecrot_viz.defaults.shipped import CJK_FONT, in_cjk_ranges  # noqa: E402


def font_chars(path: Path) -> set[int]:
    """The code points `path` (a woff2) maps to glyphs."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:
        sys.exit("cjk_font_coverage: needs fontTools and brotli to read the woff2 (pip install fonttools brotli)")
    return set(TTFont(str(path)).getBestCmap())


def coverage(counts: Counter, have: set[int]) -> dict:
    """Occurrences and distinct characters of `counts` (char -> occurrences, CJK-range characters only) the font
    has, as counts and shares, and the ten most frequent missing characters."""
    total, distinct = sum(counts.values()), len(counts)
    covered = {c: n for c, n in counts.items() if ord(c) in have}
    missing = Counter({c: n for c, n in counts.items() if ord(c) not in have})
    return {"occurrences": total, "covered_occurrences": sum(covered.values()),
            "share_occurrences": sum(covered.values()) / total if total else 1.0,
            "distinct": distinct, "covered_distinct": len(covered),
            "share_distinct": len(covered) / distinct if distinct else 1.0, "top_missing": missing.most_common(10)}


def cjk_counts(texts) -> Counter:
    """char -> occurrences over `texts`, for the characters the app asks the CJK font for."""
    return Counter(ch for t in texts for ch in str(t) if in_cjk_ranges(ch))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tasks", nargs="*", help="more task files (TSV/CSV with a text column) to measure")
    args = ap.parse_args(argv)
    from mosecrot_viz.defaults.registry import resolve
    from mosecrot_viz.io.lexicon import load_lexicon
    from mosecrot_viz.io.tasks import load_task

    have = font_chars(CJK_FONT.path)
    print(f"font {CJK_FONT.path.name} ({CJK_FONT.package}): {len(have):,} code points, "
          f"{sum(1 for c in have if in_cjk_ranges(chr(c))):,} of them in the CJK ranges")
    task_dir = resolve("task:bible-zh")
    sources = {"task:bible-zh (train, dev and test text)":
               [t for s in ("train", "dev", "test") for t in load_task(task_dir / f"{s}.tsv")["text"]]}
    lex = load_lexicon(resolve("lexicon:zh"))
    sources["lexicon:zh (Chinese words)"] = [t for _, t in lex]
    for path in args.tasks:
        sources[path] = list(load_task(path)["text"])
    for name, texts in sources.items():
        c = coverage(cjk_counts(texts), have)
        missing = " ".join(f"{ch}×{n}" for ch, n in c["top_missing"])
        print(f"{name}: {c['covered_occurrences']:,} of {c['occurrences']:,} character occurrences covered "
              f"({c['share_occurrences']:.2%}); {c['covered_distinct']:,} of {c['distinct']:,} distinct characters "
              f"({c['share_distinct']:.2%}); most frequent missing: {missing or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
