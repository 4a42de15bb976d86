"""mosecrot_viz: run and inspect MoSECroT crosslingual model stitching."""

import os as _os

# OpenBLAS's worker threads spin for about 2**28 cycles after each BLAS call before they sleep. The mapping
# alternates a NumPy GEMM with torch.topk, and that spin took one of the cores topk needed (topk 1.6x slower
# on 2 cores, `python -m mosecrot_viz bench`). 2**4 cycles makes them sleep at once. OpenBLAS reads this when
# it loads, so it only takes effect where this package is imported before NumPy (the CLI, the bench's
# processes); a value the user set is kept.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

__version__ = "0.1.0"
