"""The house's imports, read from the source as a newcomer would draw them: no module of
``micromotion`` or ``stylegan2`` reaches itself again through its imports (an import inside a
function counts too: it is a dependency hidden, not removed), and ``stylegan2`` — the model
below — never imports the product above it."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("micromotion", "stylegan2")


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The package modules ``path`` (module ``name``) imports, anywhere in it: ``from .x
    import y`` counts ``x.y`` where that is a module, else ``x`` (``from . import x``: ``x``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names}
    return {m for m in out if m in modules and m != name}


def graph() -> dict[str, set[str]]:
    files = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    return {name: _imports(path, name, set(files)) for name, path in files.items()}


def _cycle(g: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``g`` (its modules in order), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(g[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(g):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_the_graph_is_read():
    g = graph()
    assert "micromotion.requests.request" in g["micromotion.doors.serving"]
    assert "micromotion.fields" in g["micromotion.requests.request"]
    assert "stylegan2.model" in g["stylegan2.fused_cpu"] or \
        "stylegan2.fused_cpu" in g["stylegan2.model"]


def test_no_import_circle():
    assert _cycle(graph()) is None, " → ".join(_cycle(graph()))


# micromotion's floors, bottom to top: a module imports its own floor and those below it
FLOORS = ("micromotion", "media", "latents", "nets", "motions", "requests", "stages", "doors")


def _floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS.index(parts[1]) if len(parts) > 1 and parts[1] in FLOORS else 0


def test_the_folders_are_floors_imported_from_above():
    """micromotion/ holds the ground (errors, the request table, precision, the run context,
    weights); each folder above imports only its own and lower floors."""
    up = [(n, m) for n, deps in graph().items() if n.startswith("micromotion.")
          for m in deps if m.startswith("micromotion.") and _floor(m) > _floor(n)
          and n not in ("micromotion", "micromotion.__main__")]
    assert not up, "imports up a floor: " + "; ".join(f"{n} → {m}" for n, m in up)


def test_no_module_is_over_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "micromotion").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 300}
    assert not long, long


def test_a_circle_would_be_seen():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_model_never_imports_the_product():
    g = graph()
    assert not {(n, m) for n in g if n.startswith("stylegan2") for m in g[n]
                if m.startswith("micromotion")}
