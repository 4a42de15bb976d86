"""The benchmark's correctness checks hold on a small size (the fast paths equal their references), and its
report prints every ratio against its goal from the figures it was given."""
from mosecrot_viz.bench import report, run_bench


def test_bench_small_fast_paths_equal_references(tmp_path):
    r = run_bench(words=3000, anchors=400, tgt_dim=30, src_dim=16, k=20, load_rows=3000, workdir=tmp_path,
                  end_to_end=False, sib200_lang=None)
    assert r["map_exact_check"]["same_topk_sets"] and r["map_exact_check"]["rows"] == 2000
    assert r["map_check"]["max_weight_diff"] < 1e-5 and r["map_check"]["rows_compared"] > 1900
    assert r["map_ours"]["stats"]["precision"] == "fp32"  # a map this small never probes for the bf16 screen
    assert r["load_identical"]
    assert r["map_ours"]["seconds"] > 0 and r["map_dense"]["peak_mb"] > 0
    table = report(r, "python -m mosecrot_viz bench")
    assert "mapping time" in table and "loading 3,000 rows" in table and "demo" not in table


def test_report_prints_each_ratio_against_its_goal():
    r = {"machine": "x86_64, 2 cores", "sizes": {"load_rows": 10, "tgt_dim": 3}, "matmul_gflops": 200.0,
         "map_ours": {"seconds": 6.0, "peak_mb": 900, "phases": {"similarities (GEMM)": 4.5, "top-k": 1.5}},
         "gemm_floor_s": 4.0, "map_dense": {"seconds": 36.0, "peak_mb": 9000, "phases": {"similarities (GEMM)": 6.0}},
         "map_check": {"same_topk_sets": False, "max_weight_diff": 1e-7, "max_output_diff": 1e-6, "rows_compared": 1999,
                       "dense_rows_off_exact": 1},
         "map_exact_check": {"rows": 2000, "same_topk_sets": True},
         "load_ours": {"seconds": 5.0, "peak_mb": 500}, "load_gensim": {"seconds": 30.0, "peak_mb": 250},
         "load_identical": True,
         "train_step": {"batch_size": 32, "device": "cpu", "examples_per_s": 80.0, "achieved_gflops": 110.0,
                        "mfu": 0.55, "steps": 4, "mean_width": 30.0,
                        "profile": {"seconds": {"collate": 0.1, "forward": 0.3, "backward": 0.5, "clip": 0.05,
                                                "optimiser": 0.05}, "ffn_gemm_shape": [960, 384, 1536],
                                    "ffn_gemm_gflops_torch": 150.0}},
         "demo": {"process_s": 170.0, "wall_s": 164.0},
         "two_sessions": {"sequential_s": 100.0, "together_s": 110.0, "epochs": 1, "methods": ["ls"]},
         "sib200": {"skipped": "the shared SIB-200 data is not here"}}
    table = report(r, "python -m mosecrot_viz bench")
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    assert "6.0x faster | reference only" in rows["mapping time"] and "≥ 5x" not in table  # retired as a goal
    assert "1.50x the floor | ≤ 1.0x | **missed**" in rows["mapping vs GEMM floor (2·V·A·d flops; fp32 screen)"]
    assert "exact: True | dense float32 NumPy: 1 rows off" in rows["mapping top-k sets (first 2,000 rows)"]
    assert "weights within 1e-5 | met" in rows["mapping weights vs dense (1,999 rows with the same sets)"]
    assert "6.0x faster" in rows["loading 10 rows of a 3-d .vec"]
    assert "2.00x | ≤ 1.5x | **missed**" in rows["loading peak memory (process RSS)"]
    assert "MFU 55% | ≥ 60% | **missed**" in table
    assert "1.10x | 0.85x to 1.15x | met" in table and "170 s (its own wall time 164 s)" in table
    assert "skipped: the shared SIB-200 data is not here" in table
    assert "ours similarities (GEMM) 4.5 s, top-k 1.5 s (GEMM floor 4.0 s)" in table
    assert "Five times" not in table
    assert "forward 30%, backward 50%" in table and "150 GFLOP/s against the machine's 200: 75%" in table
