"""The swapped model equals a model built directly with F_t; the word tokenizer's id layout."""
import numpy as np
import torch

from mosecrot_viz.core import stitching
from mosecrot_viz.core.tokenizer import WordTokenizer
from mosecrot_viz.io import models

SPECIALS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"}


def test_swapped_model_gives_same_logits_as_direct_build(tiny_bert_dir):
    tok = models.load_tokenizer(str(tiny_bert_dir))
    model = models.load_classifier(str(tiny_bert_dir), 3).eval()
    e_s = stitching.input_embeddings(model)
    rng = np.random.default_rng(0)
    f_s = rng.normal(size=e_s.shape).astype(np.float32)
    f_t = rng.normal(size=(7, e_s.shape[1])).astype(np.float32)
    wtok = WordTokenizer([f"w{i}" for i in range(7)], SPECIALS)
    full = stitching.target_matrix(f_t, e_s, wtok.special_source_ids(tok))

    stitching.set_input_embeddings(model, stitching.source_matrix(f_s, e_s, tok.all_special_ids))
    stitching.set_input_embeddings(model, full, pad_token_id=wtok.pad_token_id)  # the swap

    direct = models.load_classifier(str(tiny_bert_dir), 3).eval()
    direct.set_input_embeddings(torch.nn.Embedding.from_pretrained(torch.tensor(full)))
    trained = model.state_dict()
    with torch.no_grad():
        for name, p in direct.named_parameters():
            if "word_embeddings" not in name:
                p.copy_(trained[name])
    ids = torch.tensor([wtok.encode(["w1 w3 w6 zz"]).input_ids[0]])
    with torch.no_grad():
        swapped = model(input_ids=ids).logits
        torch.testing.assert_close(swapped, direct(input_ids=ids).logits)
        # and from first principles: feed the F_t rows themselves as input embeddings
        torch.testing.assert_close(swapped, model(inputs_embeds=torch.tensor(full)[ids]).logits)
    assert model.config.vocab_size == len(wtok) == 12
    assert not model.get_input_embeddings().weight.requires_grad  # frozen by default


def test_source_matrix_restores_special_rows():
    e_s = np.arange(12, dtype=np.float32).reshape(4, 3)
    f_s = np.zeros_like(e_s)
    out = stitching.source_matrix(f_s, e_s, [0, 2])
    np.testing.assert_array_equal(out[[0, 2]], e_s[[0, 2]])
    np.testing.assert_array_equal(out[[1, 3]], 0)


def test_word_tokenizer_ids_unknowns_and_truncation():
    wtok = WordTokenizer(["Haus", "katze"], SPECIALS)
    enc = wtok.encode(["Haus KATZE hund", ""], max_length=4)
    # specials first: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4; words from 5
    assert enc.input_ids[0] == [2, 5, 6, 3]  # truncated to 4 with CLS/SEP
    assert abs(enc.unknown_rate[0] - 1 / 3) < 1e-9
    assert enc.input_ids[1] == [2, 3] and enc.unknown_rate[1] == 1.0
    dropping = WordTokenizer(["haus"], SPECIALS, unk_policy="drop")
    assert dropping.encode(["haus hund"]).input_ids[0] == [2, 5, 3]


def test_frozen_swap_uses_the_rows_without_a_copy_and_a_trainable_one_copies(tiny_bert_dir):
    """Frozen: the embedding's weight is the caller's float32 rows (no n x D copy at full size); trainable: a copy,
    so an optimiser step never writes into the caller's array."""
    model = models.load_classifier(str(tiny_bert_dir), 3)
    rows = np.random.default_rng(1).normal(size=(11, stitching.input_embeddings(model).shape[1])).astype(np.float32)
    stitching.set_input_embeddings(model, rows, pad_token_id=0)
    w = model.get_input_embeddings().weight
    assert w.data_ptr() == torch.from_numpy(rows).data_ptr() and not w.requires_grad
    assert model.get_input_embeddings().padding_idx == 0 and torch.equal(w[0], torch.from_numpy(rows[0]))
    before = rows.copy()
    stitching.set_input_embeddings(model, rows, freeze=False)
    w = model.get_input_embeddings().weight
    assert w.requires_grad and w.data_ptr() != torch.from_numpy(rows).data_ptr()
    with torch.no_grad():
        w.add_(1.0)
    np.testing.assert_array_equal(rows, before)


def test_target_matrix_from_blocks_equals_the_stacked_matrix():
    import numpy as np

    from mosecrot_viz.core.stitching import target_matrix, target_matrix_from_blocks

    rng = np.random.default_rng(0)
    e_s = rng.normal(size=(10, 4)).astype(np.float32)
    f_t, extra = rng.normal(size=(6, 4)), rng.normal(size=(3, 4)).astype(np.float32)
    got = target_matrix_from_blocks([f_t, extra], e_s, [0, 3])
    want = target_matrix(np.vstack([f_t, extra]), e_s, [0, 3])
    assert got.dtype == np.float32 and got.shape == (11, 4)
    assert np.array_equal(got, want)
