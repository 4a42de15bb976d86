"""Normalisation of the anchor space (none / unit / center-unit): known answers, where it applies, the CLI flag."""
import numpy as np
import pytest

from mosecrot_viz.cli import _experiment_config, build_parser, main
from mosecrot_viz.core import stitching
from mosecrot_viz.errors import InputError
from mosecrot_viz.experiment.config import ExperimentConfig
from mosecrot_viz.experiment.inputs import load_inputs
from mosecrot_viz.experiment.spaces import configured_mapper, map_spaces, normalise_rows


def _by_hand(x, center):
    x = np.asarray(x, dtype=np.float64)
    if center:
        x = x - x.mean(axis=0)
    n = np.sqrt((x ** 2).sum(axis=1, keepdims=True))
    return np.where(n > 0, x / np.where(n > 0, n, 1), 0.0)


def test_known_answers():
    x = np.array([[1.0, 2.0], [3.0, 2.0], [2.0, 5.0]])
    assert normalise_rows(x, "none") is x  # the default: the vectors as shipped, not even copied
    np.testing.assert_allclose(normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0]]), "unit"), [[0.6, 0.8], [0.0, 0.0]])
    # mean (2, 3): rows (-1, -1), (1, -1), (0, 2), then unit length
    s = 1 / np.sqrt(2)
    np.testing.assert_allclose(normalise_rows(x, "center-unit"), [[-s, -s], [s, -s], [0.0, 1.0]], rtol=1e-6)
    assert normalise_rows(x, "unit").dtype == np.float32
    with pytest.raises(ValueError, match="unknown normalisation"):
        normalise_rows(x, "l2")
    with pytest.raises(InputError, match="--normalisation must be one of"):
        ExperimentConfig(vectors="v", lexicon="l", train="t", test="t", methods=["majority"],
                         normalisation="l2").validate()


def test_map_spaces_applies_it_to_target_rows_always_and_to_e_s_only_where_it_is_re_initialised(tiny_run_args):
    methods = ["rr-softmax", "ls", "rr-softmax-keep"]
    base = ExperimentConfig(**tiny_run_args, methods=methods, top_k=5)
    inputs = load_inputs(base)
    plain = map_spaces(base, inputs, methods)
    cfg = ExperimentConfig(**tiny_run_args, methods=methods, top_k=5, normalisation="center-unit")
    normed = map_spaces(cfg, inputs, methods)
    e_s, e_t, a = plain.e_s, inputs.vectors.vectors, plain.anchors
    assert np.array_equal(normed.anchors.target_ids, a.target_ids)  # the "first" policy reads no vectors
    cs, ct = _by_hand(e_s, True), _by_hand(e_t, True)

    # ls keeps E_s: fitted from normalised target rows onto E_s as it is, F_s = E_s
    ls = configured_mapper(cfg, "ls").fit(e_s[a.source_ids], ct[a.target_ids])
    np.testing.assert_allclose(normed.mapped["ls"][1], ls.transform_target(ct), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(normed.mapped["ls"][0], plain.mapped["ls"][0])
    # rr-softmax re-initialises E_s: everything from the normalised rows, specials keep their E_s rows
    rr = configured_mapper(cfg, "rr-softmax").fit(cs[a.source_ids], ct[a.target_ids])
    f_s = stitching.source_matrix(rr.transform_source(cs), e_s, plain.tokenizer.all_special_ids)
    np.testing.assert_allclose(normed.mapped["rr-softmax"][0], f_s, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(normed.mapped["rr-softmax"][1], rr.transform_target(ct), rtol=1e-4, atol=1e-5)
    # a keep RR mapper: target similarities in the normalised space, its rows E_s's own
    keep = configured_mapper(cfg, "rr-softmax-keep").fit(e_s[a.source_ids], ct[a.target_ids])
    np.testing.assert_allclose(normed.mapped["rr-softmax-keep"][1], keep.transform_target(ct), rtol=1e-4, atol=1e-5)
    for m in methods:  # and the option changes what it should
        assert not np.allclose(normed.mapped[m][1], plain.mapped[m][1]), m
    # "none" is the behaviour without the option: the raw rows
    raw = configured_mapper(base, "ls").fit(e_s[a.source_ids], e_t[a.target_ids])
    np.testing.assert_allclose(plain.mapped["ls"][1], raw.transform_target(e_t), rtol=1e-5, atol=1e-6)


def test_unit_length_keeps_rr_target_rows_when_e_s_is_kept(tiny_run_args):
    """Cosines do not see length: with E_s kept, unit-length target rows give the RR keep map exactly as before."""
    inputs = load_inputs(ExperimentConfig(**tiny_run_args))
    plain = map_spaces(ExperimentConfig(**tiny_run_args, top_k=5), inputs, ["rr-softmax-keep"])
    unit = map_spaces(ExperimentConfig(**tiny_run_args, top_k=5, normalisation="unit"), inputs, ["rr-softmax-keep"])
    np.testing.assert_allclose(unit.mapped["rr-softmax-keep"][1], plain.mapped["rr-softmax-keep"][1], rtol=1e-4,
                               atol=1e-5)


def test_cli_flag(tiny_run_args, capsys):
    a = tiny_run_args
    argv = ["run", "--vectors", a["vectors"], "--lexicon", a["lexicon"], "--train", a["train"], "--test", a["test"],
            "--out", "o"]
    assert _experiment_config(build_parser().parse_args(argv)).normalisation == "none"
    assert _experiment_config(build_parser().parse_args(argv + ["--normalisation", "center-unit"])).normalisation \
        == "center-unit"
    with pytest.raises(SystemExit) as exc:
        main(argv + ["--normalisation", "l2"])
    assert exc.value.code == 2 and "invalid choice: 'l2'" in capsys.readouterr().err
