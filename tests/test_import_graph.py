"""Imports flow one way: envs <- predictors <- analysis <- sim, function-level imports included.

``python tests/test_import_graph.py`` prints the graph between the four packages (edges with the
number of import statements behind each) and any back-edge with its file and line.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("envs", "predictors", "analysis", "sim")  # each may import only the ones before it


def imports() -> list[tuple[str, str, str]]:
    """(importing package, imported package, "file:line") for every import between the four packages."""
    out = []
    for layer in LAYERS:
        for path in sorted((REPO / layer).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in LAYERS and top != layer:
                        out.append((layer, top, f"{path.relative_to(REPO)}:{node.lineno}"))
    return out


def back_edges() -> list[tuple[str, str, str]]:
    return [(a, b, where) for a, b, where in imports() if LAYERS.index(b) > LAYERS.index(a)]


def test_no_package_imports_a_later_one():
    assert back_edges() == []


def test_the_layers_are_used():  # the check above would pass vacuously if the walk found nothing
    edges = {(a, b) for a, b, _ in imports()}
    assert {("predictors", "envs"), ("analysis", "predictors"), ("sim", "analysis")} <= edges


if __name__ == "__main__":
    counts = Counter((a, b) for a, b, _ in imports())
    for (a, b), n in sorted(counts.items(), key=lambda kv: (LAYERS.index(kv[0][0]), LAYERS.index(kv[0][1]))):
        print(f"{a:>10} -> {b:<10} {n:3d} import(s)")
    bad = back_edges()
    print(f"back-edges: {len(bad)}")
    for a, b, where in bad:
        print(f"  {where}: {a} -> {b}")
