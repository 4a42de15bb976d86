"""Grid files: parsing, expansion into trials with stable ids, and the errors a user sees."""
import pytest
import yaml

from mosecrot_viz.errors import InputError
from mosecrot_viz.store.grid import expand, load_grid, parse_grid, trial_id


def _grid(tmp_path, **over):
    (tmp_path / "en.tsv").write_text("index_id\tcategory\ttext\n1\ta\tthe cat\n")
    data = {"name": "g", "base": {"train": "en.tsv", "test": "en.tsv", "lexicon": "lex.txt", "epochs": 1},
            "axes": {"language": [{"name": "xx", "lang": "xx", "vectors": "xx.vec"},
                                  {"name": "yy", "lang": "yy", "vectors": "yy.vec"}],
                     "method": ["rr-softmax", "ls"], "seed": [1, 2]}}
    data.update(over)
    p = tmp_path / "grid.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_axes_multiply_into_labelled_trials_with_stable_ids(tmp_path):
    trials = expand(load_grid(_grid(tmp_path)))
    assert len(trials) == 8
    first = trials[0]
    assert first.labels == {"language": "xx", "method": "rr-softmax", "seed": "1"}
    assert first.config.methods == ["rr-softmax"] and first.config.seeds == [1] and first.config.lang == "xx"
    # a relative path that exists beside the grid file is read from there; one that does not is kept as given
    assert first.config.train == str(tmp_path / "en.tsv") and first.config.vectors == "xx.vec"
    assert len({t.trial_id for t in trials}) == 8
    assert [t.trial_id for t in expand(load_grid(_grid(tmp_path)))] == [t.trial_id for t in trials]
    assert {t.config.sweep["id"] for t in trials} == {trials[0].config.sweep["id"]}
    assert first.config.sweep["axes"] == first.labels and first.config.sweep["trial"] == first.trial_id


def test_trial_id_ignores_where_a_trial_is_written(tmp_path):
    cfg = expand(load_grid(_grid(tmp_path)))[0].config
    before = trial_id(cfg)
    cfg.out, cfg.model_cache = "/elsewhere", "/cache"
    assert trial_id(cfg) == before
    cfg.top_k = 7
    assert trial_id(cfg) != before


def test_all_means_every_anchor_and_duplicates_run_once(tmp_path):
    trials = expand(load_grid(_grid(tmp_path, axes={"top_k": [10, "all"], "seed": [1, 1]},
                                    base={"train": "a", "test": "b", "lexicon": "c", "vectors": "d",
                                          "methods": ["ls"]})))
    assert [t.config.top_k for t in trials] == [10, None]
    assert trials[1].labels["top_k"] == "all"


@pytest.mark.parametrize("data, message", [
    ([1, 2], "must be a mapping"),
    ({"base": {}, "axes": {}, "extra": 1}, "unknown top-level keys"),
    ({"base": {"nope": 1}, "axes": {}}, "unknown config fields in base"),
    ({"base": {}, "axes": {"seed": []}}, "non-empty list"),
    ({"base": {}, "axes": {"colour": ["red"]}}, "unknown config fields"),
    ({"base": {}, "axes": {"language": [{"lang": "xx", "vectorz": "v"}]}}, "unknown config fields"),
])
def test_bad_grids_are_refused_with_the_file_named(data, message, tmp_path):
    with pytest.raises(InputError, match=message) as err:
        parse_grid(data, tmp_path, "my-grid.yaml")
    assert "my-grid.yaml" in str(err.value)


def test_bad_trial_values_name_the_trial(tmp_path):
    grid = parse_grid({"base": {"train": "a", "test": "b", "lexicon": "c", "vectors": "d"},
                       "axes": {"method": ["rr-softmax", "no-such-method"]}}, tmp_path, "g.yaml")
    with pytest.raises(InputError, match="method': 'no-such-method'.*unknown methods"):
        expand(grid)
    with pytest.raises(InputError, match="has no \\['vectors'\\]"):
        expand(parse_grid({"base": {"train": "a", "test": "b", "lexicon": "c"}, "axes": {}}, tmp_path, "g.yaml"))


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(InputError, match="missing.yaml: grid file not found"):
        load_grid(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("base: [unclosed\n")
    with pytest.raises(InputError, match=r"bad.yaml:\d+: not valid YAML"):
        load_grid(tmp_path / "bad.yaml")


def test_a_grid_too_large_is_refused_from_its_axis_lengths_before_anything_is_built(tmp_path):
    """10 axes x 10 values is 10^10 trials: the product is named at once, no tuple of it is ever made."""
    import time

    axes = {f"a{i}": list(range(10)) for i in range(10)}
    t = time.perf_counter()
    with pytest.raises(InputError, match=r"10 a0 x 10 a1 .* = 10,000,000,000 trials; the limit is 10,000") as err:
        parse_grid({"base": {}, "axes": axes}, tmp_path, "g.yaml")
    assert str(err.value).startswith("g.yaml: ") and time.perf_counter() - t < 1
    from mosecrot_viz.store.grid import Grid, trial_count

    assert trial_count(axes) == 10**10 and trial_count({}) == 1
    with pytest.raises(InputError, match="10,000,000,000 trials"):  # a Grid built by hand: the same check in expand
        expand(Grid(name="g", base={}, axes=axes, source="g.yaml"))


def test_the_example_grid_in_the_docs_expands():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "grids" / "sib200-langs-methods-seeds.yaml"
    trials = expand(load_grid(path))
    assert len(trials) == 2 * 3 * 3
    assert {t.config.lang for t in trials} == {"zh", "fr"} and {t.config.methods[0] for t in trials} == {
        "rr-softmax", "rr-sparsemax", "ls"}
