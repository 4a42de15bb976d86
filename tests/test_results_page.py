"""docs/RESULTS.md is what the stored runs in docs/results render to, byte for byte (issue 25: the typed records
must not move a number or a word of it): `sib200_results.py --render-only`, then `sib200_ladder.py --render-only`,
on a copy of the page."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_stored_runs_render_the_results_page_byte_for_byte(tmp_path):
    page, stored = ROOT / "docs" / "RESULTS.md", ROOT / "docs" / "results"
    if not (page.exists() and all((stored / lang / "results.json").exists() for lang in ("zh", "fr", "de", "es"))):
        pytest.skip("docs/results does not hold the four stored runs")
    from mosecrot_viz.paths import shared_data_dir

    if not (shared_data_dir() / "sib200").is_dir():
        pytest.skip("the shared data (SIB-200) is absent: the results script needs it even to render")
    out = tmp_path / "RESULTS.md"
    shutil.copy(page, out)  # the date it gives is kept (the same stored runs)
    for script in ("sib200_results.py", "sib200_ladder.py"):
        subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--render-only", "--out", str(out)],
                       cwd=ROOT, check=True, capture_output=True, timeout=300)
    assert out.read_text(encoding="utf-8") == page.read_text(encoding="utf-8")
