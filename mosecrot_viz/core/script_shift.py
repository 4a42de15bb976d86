"""A language the strong baseline never saw, simulated: a share of the target alphabet moved to unseen scripts.

The paper's case for stitching is a language with static vectors and no pre-trained model. Every language here is one
the multilingual model knows; a multilingual model turns an unseen script into unknown tokens (Pfeiffer et al. 2021,
"UNKs Everywhere"), while static-vector stitching never looks at how a word is written. `ScriptShift` makes that
regime by renaming letters: a seeded share (0 to 1) of the target alphabet's letters is mapped one to one onto code
points of historic scripts that neither the English nor the multilingual tokenizer knows (`CASED_BLOCKS` for letters
with an upper/lower pair, `UNCASED_BLOCKS` for the rest; both embedded tokenizers read each of them as their unknown
token, checked by `tokenizer_knows` and recorded per run).

Applied consistently (`experiment.inputs.load_inputs`), after segmentation: the static vectors' words, the lexicon's
target side and the target texts are renamed. Segmentation happens in the original script (the language's own
segmenter, as an unseen-script language would have its own), then each word is renamed: `ShiftedWordTokenizer` reads
a renamed text by restoring it, segmenting, and renaming the words. So the static-vector methods meet an isomorphic
copy of their inputs and predict exactly as before (a test proves it at share 1), while `mplm` and `source` read the
renamed text with their own tokenizers and lose what they knew of the language. Details that keep the copy exact:
* case: an upper/lower pair is renamed onto an upper/lower pair, so the run's lower-cased look-ups still meet
  (`rename(w).lower() == rename(w.lower())`); letters whose lower case is not one letter (`İ`) are left as they are;
* only letters move (digits, punctuation and spaces stay), and the mapping is nested: the letters renamed at a share
  are renamed, to the same code points, at every larger share (a sweep moves one curve, not a new draw per point);
* fastText n-gram vectors are computed before renaming (from the original spelling).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np

from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.io.text import segment

SHIFT_SEED = 0  # which letters move at a share: a fixed, seeded permutation of the alphabet
#: scripts with upper/lower pairs, unknown to both embedded tokenizers: Deseret, Osage, Old Hungarian, Warang Citi,
#: Medefaidrin, Adlam, Vithkuqi (about 260 pairs)
CASED_BLOCKS = ((0x10400, 0x1044F), (0x104B0, 0x104FB), (0x10C80, 0x10CFF), (0x118A0, 0x118FF), (0x16E40, 0x16E7F),
                (0x1E900, 0x1E943), (0x10570, 0x105BC))
#: uncased letters (category Lo), unknown to both: Tangut and its components, Yi syllables, Egyptian hieroglyphs,
#: Cuneiform, Linear A, then CJK Extension B (about 53,000 in all: enough for a Chinese vocabulary's characters)
UNCASED_BLOCKS = ((0x17000, 0x187F7), (0x18800, 0x18AFF), (0xA000, 0xA48C), (0x13000, 0x1342F), (0x12000, 0x12399),
                  (0x10600, 0x10736), (0x20000, 0x2A6DF))
KNOWN_TO_A_TOKENIZER = {0x25683}  # the one character of these blocks in XLM-R's vocabulary (multilingual-e5): unused


def _pairs(c: str) -> tuple[str, str] | None:
    """(lower, upper) when `c` is a letter of a clean case pair (each one character, each the other's case)."""
    lo, up = c.lower(), c.upper()
    if len(lo) == 1 and len(up) == 1 and lo != up and lo.upper() == up and up.lower() == lo:
        return lo, up
    return None


def _cased_pool() -> list[tuple[str, str]]:
    out = []
    for a, b in CASED_BLOCKS:
        for cp in range(a, b + 1):
            c = chr(cp)
            if unicodedata.category(c) == "Ll" and (p := _pairs(c)) is not None:
                out.append(p)
    return out


def _uncased_pool() -> list[str]:
    return [chr(cp) for a, b in UNCASED_BLOCKS for cp in range(a, b + 1)
            if unicodedata.category(chr(cp)) == "Lo" and cp not in KNOWN_TO_A_TOKENIZER]


def alphabet(texts) -> tuple[list[tuple[str, ...]], int]:
    """The letter units of `texts` (iterables of strings) in code-point order: a case pair (lower, upper) counts as one
    letter, any other letter as itself; and how many letters were left out (those whose lower case is not one
    letter, and title-case letters)."""
    letters: set[str] = set()
    for text in texts:
        letters.update(c for c in text if c.isalpha())
    units, skipped, seen = [], 0, set()
    for c in sorted(letters):
        if c in seen:
            continue
        pair = _pairs(c)
        if pair is not None:
            units.append(pair)
            seen.update(pair)
        elif len(c.lower()) == 1 and c.lower() == c and unicodedata.category(c) != "Lt":
            units.append((c,))
            seen.add(c)
        else:
            skipped += 1
    return units, skipped


@dataclass
class ScriptShift:
    """A bijective renaming of `renamed` of the target alphabet's `letters` letter units (`share` of them).

    `table` maps each renamed character to its new one (both cases of a pair); `rename` applies it to a word or a text,
    `restore` undoes it.
    """

    share: float
    letters: int
    renamed: int
    skipped: int
    table: dict[str, str] = field(repr=False)

    def __post_init__(self):
        self._forward = str.maketrans(self.table)
        self._back = str.maketrans({v: k for k, v in self.table.items()})

    def rename(self, text: str) -> str:
        """`text` with every renamed letter replaced (a word or a whole text: letters are renamed one by one)."""
        return text.translate(self._forward)

    def restore(self, text: str) -> str:
        """The original spelling of a renamed `text`."""
        return text.translate(self._back)

    def summary(self) -> dict:
        """results.json's `data.script_shift`: the share asked, letters in the alphabet, renamed, left out."""
        return {"share": self.share, "letters": self.letters, "renamed": self.renamed, "left_out": self.skipped,
                "seed": SHIFT_SEED, "scripts": "cased: Deseret, Osage, Old Hungarian, Warang Citi, Medefaidrin, "
                "Adlam, Vithkuqi; uncased: Tangut, Yi, Egyptian hieroglyphs, Cuneiform, Linear A, CJK Extension B"}

    def new_characters(self) -> list[str]:
        """The code points renamed letters now use (to check that a tokenizer does not know them)."""
        return sorted(set(self.table.values()))


def make_shift(share: float, texts, seed: int = SHIFT_SEED) -> ScriptShift:
    """The renaming of `share` (0..1) of the letter units found in `texts` (the vectors' words, the lexicon's target
    side and the target texts): units in a seeded random order, the first round(share * n) renamed; a case pair onto
    a case pair, any other letter onto an uncased letter. Code points already in the texts are never used as targets.

    Raises ValueError for a share outside [0, 1] or when the unseen scripts hold too few letters."""
    if not 0 <= share <= 1:
        raise ValueError(f"script shift share must be in [0, 1], got {share}")
    texts = list(texts)
    units, skipped = alphabet(texts)
    used = {c for u in units for c in u}
    order = np.random.default_rng(seed).permutation(len(units))
    n = int(round(share * len(units)))
    cased = iter(p for p in _cased_pool() if not used.intersection(p))
    uncased = iter(c for c in _uncased_pool() if c not in used)
    table: dict[str, str] = {}
    for i in order[:n]:
        unit = units[i]
        try:
            if len(unit) == 2:
                lo, up = next(cased)
                table[unit[0]], table[unit[1]] = lo, up
            else:
                table[unit[0]] = next(uncased)
        except StopIteration:
            kind = "upper/lower pairs" if len(unit) == 2 else "uncased letters"
            raise ValueError(f"the unseen scripts hold too few {kind} for {n} of {len(units)} letters") from None
    return ScriptShift(share, len(units), n, skipped, table)


def tokenizer_knows(tokenizer, characters) -> int:
    """How many of `characters` a Hugging Face tokenizer reads as something other than its unknown token (0 means the
    renamed letters are an unseen script to it; stripped characters count as unknown)."""
    if not characters:
        return 0
    vocab = tokenizer.get_vocab()
    ignore = {tokenizer.unk_token_id} | {vocab[t] for t in ("▁", "Ġ") if t in vocab}  # a bare word-start piece
    ids = tokenizer(list(characters), add_special_tokens=False)["input_ids"]
    return sum(any(i not in ignore for i in row) for row in ids)


class ShiftedWordTokenizer(WordTokenizer):
    """`WordTokenizer` over renamed words that segments a renamed text in its original script, then renames the
    words (segmentation happens before the renaming, as the language's own segmenter would see the text)."""

    def __init__(self, shift: ScriptShift, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shift = shift

    def split(self, text: str) -> list[str]:
        """The renamed words of a renamed `text`."""
        return [self.shift.rename(w) for w in segment(self.shift.restore(text), self.lang, rule=self.segmentation)]
