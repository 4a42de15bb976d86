"""Files the app ships in `assets/` that come from a package registry (not drawn by scripts/make_assets.py): today
the CJK web font. One row each, in the shape of `registry.describe()`, so Home, Setup and the README list them with
the downloaded defaults."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets"


@dataclass(frozen=True)
class ShippedAsset:
    """A file under assets/, unchanged from `package`, with its licence text at `licence_file`."""

    key: str
    description: str
    package: str
    licence: str
    provenance: str
    path: Path
    licence_file: Path
    sha256: str


CJK_FONT = ShippedAsset(
    key="font:noto-sans-sc",
    description="web font Noto Sans SC Regular (400), its Chinese-simplified subset (7,946 characters): the app's "
                "fallback for Chinese text in every page, chart and table",
    package="@fontsource/noto-sans-sc==5.3.0 (npm)",
    licence="OFL-1.1",
    provenance="files/noto-sans-sc-chinese-simplified-400-normal.woff2 of the npm package, unchanged; the "
               "package's LICENSE (SIL Open Font License 1.1) is assets/fonts/OFL.txt",
    path=ASSETS / "fonts" / "noto-sans-sc-chinese-simplified-400-normal.woff2",
    licence_file=ASSETS / "fonts" / "OFL.txt",
    sha256="95e3633b6a98f764ba3adfb54504a0cd4799328c009adf9081d6c1850f9c4c78",
)
SHIPPED = (CJK_FONT,)
# the code points the font is used for (CSS unicode-range): CJK radicals, symbols and punctuation, kana, bopomofo,
# unified ideographs (extension A and the main block), compatibility ideographs and forms, full-width forms;
# everything else keeps the app's own fonts
CJK_RANGES = ((0x2E80, 0x2FFF), (0x3000, 0x30FF), (0x3100, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
              (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))


def in_cjk_ranges(char: str) -> bool:
    """Whether the app asks the CJK font for `char` (one character): its code point is in `CJK_RANGES`."""
    c = ord(char)
    return any(lo <= c <= hi for lo, hi in CJK_RANGES)


def unicode_range_css() -> str:
    """`CJK_RANGES` as a CSS unicode-range value, "U+2E80-2FFF, U+3000-30FF, ..."."""
    return ", ".join(f"U+{lo:04X}-{hi:04X}" for lo, hi in CJK_RANGES)


def describe() -> list[dict]:
    """One row per shipped asset, with `registry.describe()`'s keys (rights and note say it ships in assets/)."""
    return [{"key": a.key, "kind": a.key.split(":", 1)[0], "description": a.description, "package": a.package,
             "licence": a.licence, "provenance": a.provenance, "rights": f"{a.licence}: free to use, embed and "
             "redistribute with its licence text; not sold on its own", "restrictive": False,
             "note": f"shipped in {a.path.relative_to(ASSETS.parent)}", "sha256": a.sha256} for a in SHIPPED]
