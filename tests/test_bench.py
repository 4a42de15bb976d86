"""The benchmark's correctness checks hold on a small size (the fast paths equal their references)."""
from mosecrot_viz.bench import report, run_bench


def test_bench_small_fast_paths_equal_references(tmp_path):
    r = run_bench(words=3000, anchors=400, tgt_dim=30, src_dim=16, k=20, load_rows=3000, workdir=tmp_path)
    assert r["map_check"]["same_topk_sets"] and r["map_check"]["max_weight_diff"] < 1e-5
    assert r["load_identical"]
    assert r["map_ours"]["seconds"] > 0 and r["map_dense"]["peak_mb"] > 0
    table = report(r, "python -m mosecrot_viz bench")
    assert "mapping time" in table and "loading top 3,000 rows" in table
