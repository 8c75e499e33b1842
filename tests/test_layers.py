"""The layers of the code, as the README draws them: each module imports only from its own package and
from the layers below it. A failure names the import that goes against the order."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS: list[tuple[str, ...]] = [
    ("rag_core",),  # types, errors, settings, language data, tokens, sentences
    ("vectorstore", "rag_models"),  # storage; models (LLMs, embedders)
    ("ingest",),
    ("rag.query",),
    ("rag",),  # the app: components, eval, the local server's client, LangChain adapters
    ("api",),
    ("rag_cli",),
]
MAX_LINES = 400


def _unit(module: str) -> str:
    """The layer unit a dotted module name belongs to (the longest matching prefix)."""
    units = sorted((u for layer in LAYERS for u in layer), key=len, reverse=True)
    return next((u for u in units if module == u or module.startswith(u + ".")), "")


def _rank(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _modules() -> dict[str, Path]:
    found = {}
    for unit in (u for layer in LAYERS for u in layer if "." not in u):
        for path in (ROOT / unit).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(p for p in parts if p != "__init__")] = path
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every import of the module, also those inside functions; relative ones as "." (not used here)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.lineno, "." if node.level else node.module or ""))
    return out


def test_imports_point_down_the_layers_only() -> None:
    wrong = []
    for module, path in _modules().items():
        own = _unit(module)
        for line, name in _imports(path):
            if name == ".":
                wrong.append(f"{path.relative_to(ROOT)}:{line}: a relative import (write it in full)")
                continue
            target = _unit(name)
            if not target or target == own or name.startswith(own + "."):
                continue
            if _rank(target) >= _rank(own):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name} ({target} is not below {own})")
    assert not wrong, "\n".join(wrong)


def test_no_product_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules().values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def test_the_layer_check_catches_an_import_against_the_order(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from api.app import create_app\n", encoding="utf-8")
    assert _imports(module) == [(2, "api.app")]
    assert _rank(_unit("api.app")) > _rank(_unit("vectorstore.bad"))
    assert _unit("rag.query.pipeline") == "rag.query" and _unit("rag.components") == "rag"
