"""Draw the app's icon and logo as SVG into assets/ (plain SVG text: no drawing library, reproducible).

    .venv/bin/python scripts/make_assets.py          # writes assets/icon.svg and assets/logo.svg

The picture is the method in one glyph: two point clouds (the English and the target space) whose anchor
points are stitched together by lines.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
BLUE, ORANGE, INK = "#1f77b4", "#ff7f0e", "#2b2b2b"
# (x, y) of the English points (left) and their anchored target partners (right), in a 64 x 64 box
LEFT = [(14, 14), (10, 30), (18, 44), (12, 54)]
RIGHT = [(50, 12), (54, 28), (46, 42), (52, 54)]


def icon_body() -> str:
    lines = "".join(f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" stroke="{INK}" stroke-opacity="0.45" '
                    f'stroke-width="2" stroke-dasharray="3 2"/>' for a, b in zip(LEFT, RIGHT))
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="5" fill="{BLUE}"/>' for x, y in LEFT)
    dots += "".join(f'<circle cx="{x}" cy="{y}" r="5" fill="{ORANGE}"/>' for x, y in RIGHT)
    return lines + dots


def icon_svg() -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
            f'<rect width="64" height="64" rx="12" fill="#ffffff"/>{icon_body()}</svg>\n')


def logo_svg() -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 64" width="240" height="64">'
            f'<g>{icon_body()}</g>'
            f'<text x="72" y="41" font-family="Helvetica, Arial, sans-serif" font-size="24" font-weight="600" '
            f'fill="{INK}">mosecrot<tspan fill="{ORANGE}">_viz</tspan></text></svg>\n')


def main(out: Path = ASSETS) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("icon.svg", icon_svg()), ("logo.svg", logo_svg())):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS):
        print(p)
