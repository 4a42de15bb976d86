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
    from mosecrot_viz.errors import InputError
    from mosecrot_viz.experiment.config import ExperimentConfig

    cfg = ExperimentConfig(vectors="v", lexicon="l", train="t", test="t", methods=["ls"], unk_policy="guess")
    with pytest.raises(InputError, match="--unk-policy must be one of"):
        cfg.validate()
    ExperimentConfig(vectors="v", lexicon="l", train="t", test="t", methods=["ls"], unk_policy="subwords").validate()


def _tiny_fasttext_bin(path, words, dim=6):
    """A real fastText .bin (as in tests/io/test_vectors.py) trained on sentences of `words`."""
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    sents = [list(words[i:i + 5]) for i in range(0, len(words), 2)] * 10
    ft = FastText(vector_size=dim, min_count=1, epochs=2, seed=0, workers=1, bucket=2000, min_n=2, max_n=4)
    ft.build_vocab(sents)
    ft.train(sents, total_examples=len(sents), epochs=2)
    save_facebook_model(ft, str(path))
    return path


def test_fasttext_bin_gives_unseen_test_words_their_subword_vectors(tmp_path):
    from mosecrot_viz.core.vocab_extension import has_subword_vectors, subword_words, with_subword_words
    from mosecrot_viz.io.vectors import load_vectors

    kv = load_vectors(_tiny_fasttext_bin(tmp_path / "m.bin", ["le", "chat", "noir", "dort", "la", "maison"]))
    assert has_subword_vectors(kv)
    sub = subword_words(kv, ["le chat dort", "les chats noirs", "Le chats"])
    assert sub.words == ("les", "chats", "noirs")  # "Le" is found lower-cased, as WordTokenizer finds it
    assert (sub.tokens, sub.n_tokens, sub.n_listed) == (4, 8, 6)
    np.testing.assert_allclose(sub.vectors[1], kv.get_vector("chats"), rtol=1e-6)
    ext = with_subword_words(kv, sub)
    assert ext.index_to_key == kv.index_to_key + ["les", "chats", "noirs"]
    np.testing.assert_allclose(ext["chats"], kv.get_vector("chats"), rtol=1e-6)
    np.testing.assert_allclose(ext.vectors[:6], kv.vectors[:6])
    from conftest import write_vec

    write_vec(tmp_path / "t.vec", ["le", "chat"])
    assert not has_subword_vectors(load_vectors(tmp_path / "t.vec"))  # a text file has no n-grams


def test_pipeline_reads_unseen_test_words_through_fasttext_subwords(tmp_path, tiny_run_args):
    """The fastText model lists only some target words; the others get an F_t row from their n-gram
    vector, the test set then has no unknown word, and the anchors still come from the listed words."""
    from conftest import WORDS

    from mosecrot_viz.core.vocab_extension import has_subword_vectors, subword_words
    from mosecrot_viz.experiment.config import ExperimentConfig
    from mosecrot_viz.experiment.pipeline import configured_mapper, load_inputs, map_spaces, run_experiment
    from mosecrot_viz.io.vectors import load_vectors

    listed = ["x" + w for w in WORDS if w not in ("cat", "ball", "doctor")]
    path = _tiny_fasttext_bin(tmp_path / "xx.bin", listed)
    cfg = ExperimentConfig(**dict(tiny_run_args, vectors=str(path)), methods=["rr-softmax", "majority"], epochs=1,
                           top_k=5)
    inputs = load_inputs(cfg)
    assert set(inputs.subword_words.words) == {"xcat", "xball", "xdoctor"}
    assert inputs.n_listed == len(listed) and len(inputs.vectors.index_to_key) == len(listed) + 3
    res = run_experiment(cfg, inputs=inputs)
    data = res.results["data"]
    assert data["subword_vocabulary"] == 3 and data["target_vocab"] == len(listed)
    assert data["test_unknown_word_rate"] == 0 and 0 < data["test_subword_word_rate"] < 1
    assert res.results["anchors"]["count"] == len(listed)  # xcat & co. are not anchors: not listed words
    assert max(res.anchors.target_ids) < len(listed)
    # the F_t row of an unseen word is the mapping of fastText's own n-gram vector for it
    ft = load_vectors(path)
    assert has_subword_vectors(ft) and "xcat" not in ft.key_to_index
    spaces = map_spaces(cfg, inputs, ["rr-softmax"])
    mapper = configured_mapper(cfg, "rr-softmax").fit(
        spaces.e_s[spaces.anchors.source_ids], inputs.vectors.vectors[spaces.anchors.target_ids])
    row = inputs.vectors.key_to_index["xcat"]
    np.testing.assert_allclose(spaces.mapped["rr-softmax"][1][row], mapper.transform_target(ft.get_vector("xcat")[None])[0],
                               rtol=1e-5, atol=1e-6)
    assert subword_words(ft, ["xcat"]).words == ("xcat",)
