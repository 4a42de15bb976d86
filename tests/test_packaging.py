"""The package as the ecosystem sees it: pyproject metadata, the requirement files, a built wheel with its
`mosecrot-viz` command, the Makefile wrapping them, the licence and the shared-data location."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from mosecrot_viz import __version__

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"pytest", "playwright", "ruff", "hypothesis"}


def _name(req: str) -> str:
    return re.split(r"[<>=~!;\[ ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(path: Path) -> dict[str, str]:
    lines = [ln.split("#")[0].strip() for ln in path.read_text().splitlines()]
    return {_name(ln): ln.split("==")[1] for ln in lines if ln}


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_pyproject_runtime_dependencies_match_requirements_and_hold_no_test_tools(project):
    deps = {_name(d) for d in project["dependencies"]}
    runtime = _pins(ROOT / "requirements.txt")
    assert deps == set(runtime), deps ^ set(runtime)
    assert not deps & TOOLS and not set(runtime) & TOOLS
    assert {_name(d) for d in project["optional-dependencies"]["dev"]} == TOOLS == set(_pins(ROOT / "requirements-dev.txt"))
    assert {_name(d) for d in project["optional-dependencies"]["ray"]} == set(_pins(ROOT / "requirements-ray.txt"))
    assert project["requires-python"] == ">=3.11" and project["license"] == "MIT"
    assert project["scripts"]["mosecrot-viz"] == "mosecrot_viz.cli:main"
    # every pin sits inside the range pyproject declares
    from packaging.requirements import Requirement

    for dep in project["dependencies"]:
        req = Requirement(dep)
        assert req.specifier.contains(runtime[_name(dep)]), (dep, runtime[_name(dep)])


def test_requirements_comment_is_honest_about_torch_builds():
    text = (ROOT / "requirements.txt").read_text()
    assert "the CPU wheel" not in text and "CUDA build" in text
    assert not any(ln.startswith("torch==") for ln in (ROOT / "requirements.lock").read_text().splitlines())


def test_makefile_installs_runtime_package_and_dev_tools_for_test():
    res = subprocess.run(["make", "-n", "-B", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    runtime = out.index("-r requirements.txt -c requirements.lock")
    assert runtime < out.index("--no-deps -e .") < out.index("-r requirements-dev.txt -c requirements.lock") \
        < out.index("pytest")


def test_wheel_metadata_and_console_script(tmp_path):
    """Build the wheel from a copy of the sources (the checkout stays clean), check its metadata, install it
    into a folder of its own and run `mosecrot-viz` from there, away from the checkout."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "mosecrot_viz", src / "mosecrot_viz", ignore=shutil.ignore_patterns("__pycache__"))
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                          str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    wheel = next((tmp_path / "dist").glob("mosecrot_viz-*.whl"))
    assert wheel.name.startswith(f"mosecrot_viz-{__version__}-")
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(f"mosecrot_viz-{__version__}.dist-info/METADATA").decode()
        entry = z.read(f"mosecrot_viz-{__version__}.dist-info/entry_points.txt").decode()
        names = z.namelist()
    requires = [ln.split(":", 1)[1].strip() for ln in meta.splitlines() if ln.startswith("Requires-Dist:")]
    plain = {_name(r) for r in requires if "extra ==" not in r}
    assert plain == set(_pins(ROOT / "requirements.txt"))
    assert {_name(r) for r in requires if 'extra == "dev"' in r} == TOOLS
    assert {_name(r) for r in requires if 'extra == "ray"' in r} == {"ray"}
    assert "Requires-Python: >=3.11" in meta and "License-Expression: MIT" in meta
    assert "mosecrot-viz = mosecrot_viz.cli:main" in entry
    assert "mosecrot_viz/defaults/registry.py" in names and not any(n.startswith(("tests/", "pages/")) for n in names)

    site = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    env = dict(os.environ, PYTHONPATH=str(site))
    away = tmp_path / "elsewhere"
    away.mkdir()

    def cli(*args):
        return subprocess.run([str(site / "bin" / "mosecrot-viz"), *args], cwd=away, env=env, capture_output=True,
                              text=True, timeout=120)

    res = cli("--help")
    assert res.returncode == 0 and res.stdout.startswith("usage: mosecrot-viz"), res.stderr
    res = cli("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"mosecrot-viz {__version__}"
    res = cli("resources", "--json")
    assert res.returncode == 0 and '"model:minilm"' in res.stdout, res.stderr
    res = cli("explain", str(away / "nothing"))
    assert res.returncode == 1 and res.stderr.startswith("error: ")
    res = cli("run", "--bogus")
    assert res.returncode == 2
    where = subprocess.run([sys.executable, "-c", "import mosecrot_viz; print(mosecrot_viz.__file__)"], cwd=away,
                           env=env, capture_output=True, text=True, timeout=60).stdout
    assert where.startswith(str(site))  # the installed copy ran, not the checkout


def test_licence_file_and_readme_say_mit():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "MIT" in (ROOT / "README.md").read_text().split("## Licence", 1)[1][:600]


def test_shared_data_from_the_environment_or_beside_the_checkout(monkeypatch, tmp_path):
    from mosecrot_viz.defaults.registry import SHARED_DATA_ENV, shared_data_dir

    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path / "data"))
    assert shared_data_dir() == tmp_path / "data"
    monkeypatch.delenv(SHARED_DATA_ENV)
    assert shared_data_dir() == ROOT.parent / "shared" / "data"


def test_no_code_finds_shared_data_by_its_own_path():
    """Everything goes through shared_data_dir (so MOSECROT_SHARED_DATA moves it for all)."""
    pattern = re.compile(r'["\']shared["\']\s*/\s*["\']data["\']')
    offenders = []
    for folder in ("mosecrot_viz", "pages", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name.startswith("gpu_check") or path.name == "paths.py":  # the one definition
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_no_muse_derived_or_scratch_file_is_tracked():
    """Anchor lists of runs made with MUSE are MUSE-derived (CC BY-NC 4.0); merge-tmp/ is scratch."""
    res = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        pytest.skip("not a git checkout")
    tracked = res.stdout.splitlines()
    assert not [p for p in tracked if "merge-tmp/" in p or p.endswith("anchors.json") or "/muse/" in p.lower()]
