"""Beyond the paper's setting: lexicon words without a vector, and the PLM-subword fallback for unknown words."""
import numpy as np
import pytest

from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.core.vocab_extension import lexicon_vocabulary

SPECIALS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}


class FakePieces:
    """A PLM tokenizer stand-in: words from a fixed vocabulary, anything else split into known pieces or [UNK]."""

    unk_token_id = 1
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "house": 4, "dog": 5, "hot": 6, "##dog": 7}

    def __call__(self, text, add_special_tokens=False):
        if text in self.vocab:
            return {"input_ids": [self.vocab[text]]}
        if text == "hotdog":
            return {"input_ids": [6, 7]}
        return {"input_ids": [1]}


def test_lexicon_vocabulary_adds_only_words_without_a_vector_with_their_translation_rows():
    pairs = [("house", "haus"), ("dog", "Hund"), ("hotdog", "wurst"), ("zzz", "quux"), ("dog", "hund"),
             ("house", "heim")]
    target_vocab = {"haus": 0, "hund": 1}  # "Hund" is covered by its lower-cased form
    lv = lexicon_vocabulary(pairs, target_vocab, FakePieces(), special_ids=(0, 2, 3))
    assert lv.words == ("wurst", "heim")  # "quux": its translation is all [UNK]
    assert lv.piece_ids == ((6, 7), (4,))
    f_s = np.arange(8 * 2, dtype=np.float32).reshape(8, 2)
    np.testing.assert_allclose(lv.rows(f_s), [(f_s[6] + f_s[7]) / 2, f_s[4]])


def test_subword_fallback_reads_unknown_words_with_the_plm_pieces_after_the_words():
    wtok = WordTokenizer(["haus", "hund"], SPECIALS, unk_policy="subwords", subword_tokenizer=FakePieces())
    assert len(wtok) == 6
    enc = wtok.encode(["haus hotdog dog hund"])
    assert enc.input_ids[0] == [wtok.cls_token_id, 4, 6 + 6, 6 + 7, 6 + 5, 5, wtok.sep_token_id]
    assert enc.unknown_rate[0] == 0.5  # still counted as words without a static vector
    with pytest.raises(ValueError, match="needs the PLM"):
        WordTokenizer(["haus"], SPECIALS, unk_policy="subwords")


def test_config_refuses_an_unknown_unk_policy():
    from mosecrot_viz.config import ExperimentConfig
    from mosecrot_viz.errors import InputError

    cfg = ExperimentConfig(vectors="v", lexicon="l", train="t", test="t", methods=["ls"], unk_policy="guess")
    with pytest.raises(InputError, match="unk policy"):
        cfg.validate()
    ExperimentConfig(vectors="v", lexicon="l", train="t", test="t", methods=["ls"], unk_policy="subwords").validate()
