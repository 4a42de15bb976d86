"""Peak memory of the text vector loader against the matrix it returns (README's "about 1.1x").

    python scripts/loader_memory.py 19000 4000            # one tenth of the issue's 190,000 x 4,000
    python scripts/loader_memory.py 190000 4000 --keep    # the full case (a 5.3 GB file; minutes to write)

Writes a fastText-style `.vec` (4-decimal values) with and without its `rows dim` header into a temporary
folder, loads each in a fresh process (so the peak is the loader's own, VmHWM) and prints the peak above
the process's size before the load, divided by the matrix's size.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import os, sys, time
def status(k):
    return int(next(line for line in open("/proc/self/status") if line.startswith(k)).split()[1]) / 1024
from mosecrot_viz.io.vectors import load_vectors
base = status("VmRSS:")
t = time.perf_counter()
kv = load_vectors(sys.argv[1])
seconds = time.perf_counter() - t
matrix = kv.vectors.nbytes / 2**20
peak = status("VmHWM:")
print(f"{kv.vectors.shape[0]:,} x {kv.vectors.shape[1]:,}: matrix {matrix:,.0f} MB, peak {peak - base:,.0f} MB "
      f"above the process before loading ({(peak - base) / matrix:.2f}x), {seconds:.1f} s")
"""


def write(path: Path, rows: int, dim: int, header: bool) -> None:
    import numpy as np

    tail = b" ".join(b"%.4f" % x for x in np.random.default_rng(0).uniform(-1, 1, dim)) + b"\n"
    with open(path, "wb") as fh:
        if header:
            fh.write(b"%d %d\n" % (rows, dim))
        for i in range(rows):
            fh.write(b"w%d " % i + tail)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows", type=int)
    ap.add_argument("dim", type=int)
    ap.add_argument("--keep", action="store_true", help="keep the generated files (printed)")
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[1]
    folder = Path(tempfile.mkdtemp(prefix="loader-memory-"))
    env = dict(os.environ, PYTHONPATH=str(root), MOSECROT_PARSED_VECTORS=str(folder / "parsed"),
               MOSECROT_MAX_MATRIX_MB=str(max(8192, args.rows * args.dim * 4 // 2**20 + 1)))
    for header in (True, False):
        path = folder / f"{'header' if header else 'headerless'}.vec"
        write(path, args.rows, args.dim, header)
        out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, capture_output=True, text=True)
        print(f"{'with' if header else 'without'} header:", (out.stdout or out.stderr).strip())
        if not args.keep:
            path.unlink()
    if args.keep:
        print("files in", folder)


if __name__ == "__main__":
    main()
