"""Stitching: give a PLM new input embeddings (F_s for fine-tuning, F_t for the target language).

The body of the model is untouched; only the embedding matrix and `config.vocab_size` change.
Special-token rows are always the PLM's original rows.
"""
from __future__ import annotations

import numpy as np
import torch


def input_embeddings(model) -> np.ndarray:
    """E_s: the PLM's input embedding matrix as float32 numpy, shape (|V_s|, D)."""
    return model.get_input_embeddings().weight.detach().float().cpu().numpy().copy()


def set_input_embeddings(model, matrix, *, freeze: bool = True, pad_token_id: int | None = None):
    """Replace the model's input embeddings with `matrix` (n, D); frozen unless `freeze=False`.

    Frozen float32 rows on the CPU become the embedding's weight without a copy (and without first drawing n x D
    random numbers for a fresh `nn.Embedding`): at 2,000,000 words x 384 that copy was 3 GB of the run's peak.
    Trainable rows are copied, so training never writes into the caller's array."""
    matrix = torch.as_tensor(np.asarray(matrix), dtype=torch.float32)
    old = model.get_input_embeddings()
    if matrix.shape[1] != old.weight.shape[1]:
        raise ValueError(f"embedding width {matrix.shape[1]} does not match the model's {old.weight.shape[1]}")
    if freeze:
        emb = torch.nn.Embedding(matrix.shape[0], matrix.shape[1], padding_idx=pad_token_id, _weight=matrix,
                                 _freeze=True)
    else:
        emb = torch.nn.Embedding(matrix.shape[0], matrix.shape[1], padding_idx=pad_token_id)
        with torch.no_grad():
            emb.weight.copy_(matrix)
    emb.weight.requires_grad_(not freeze)
    emb.to(old.weight.device)
    model.set_input_embeddings(emb)
    model.config.vocab_size = matrix.shape[0]
    if pad_token_id is not None:
        model.config.pad_token_id = pad_token_id
    return model


def source_matrix(mapped_source, original, special_ids) -> np.ndarray:
    """F_s (|V_s|, D) with the special tokens' original rows restored from `original` (E_s, same shape)."""
    out = np.array(mapped_source, dtype=np.float32, copy=True)
    out[list(special_ids)] = original[list(special_ids)]
    return out


def target_matrix(mapped_target, original_source, special_source_ids) -> np.ndarray:
    """The swapped embedding matrix (len(special_source_ids) + |V_t|, D): special rows (from E_s, (|V_s|, D))
    first, then the F_t row (|V_t|, D) of each target word."""
    return target_matrix_from_blocks([mapped_target], original_source, special_source_ids)


def target_matrix_from_blocks(blocks, original_source, special_source_ids) -> np.ndarray:
    """`target_matrix` over row blocks (F_t, then any beyond-paper blocks), stacked once into one preallocated
    float32 matrix (specials + sum of block rows, D): no intermediate stack of the blocks, so a 2M-word F_t is
    copied once, not twice."""
    specials = original_source[list(special_source_ids)]
    rows = len(specials) + sum(len(b) for b in blocks)
    out = np.empty((rows, specials.shape[1]), dtype=np.float32)
    out[: len(specials)] = specials
    at = len(specials)
    for b in blocks:
        out[at : at + len(b)] = b
        at += len(b)
    return out
