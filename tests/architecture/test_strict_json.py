"""JSON is written strictly (rule 4): every `json.dump`/`json.dumps` in the package, the pages and the scripts passes
`allow_nan=False` (or goes through `atomic.json_text`), so a NaN or an infinity is an error naming where it came
from, never a `NaN` token that strict readers refuse. Found by reading the source, as the layer test does."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lax_json_writes() -> list[str]:
    out = []
    for folder in ("mosecrot_viz", "pages", "scripts"):
        for f in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("dump", "dumps") and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == "json"
                        and not any(k.arg == "allow_nan" and isinstance(k.value, ast.Constant) and k.value.value is False
                                    for k in node.keywords)):
                    out.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    return out


def test_every_json_write_refuses_nan():
    assert lax_json_writes() == []


def test_the_check_sees_a_lax_write(tmp_path, monkeypatch):
    import tests.architecture.test_strict_json as me

    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "x.py").write_text("import json\njson.dumps({'a': float('nan')})\n")
    monkeypatch.setattr(me, "ROOT", tmp_path)
    assert me.lax_json_writes() == ["scripts/x.py:2"]
