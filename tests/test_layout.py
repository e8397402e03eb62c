"""The house rules of ADR 0029 (layout): no import cycle between molq's modules, no module over 400 lines."""

from __future__ import annotations

from pathlib import Path

import grimp


ROOT = Path(__file__).resolve().parents[1] / "molq"
FACADE = "molq"  # imports nothing at run time; its TYPE_CHECKING block only mirrors the lazy table
MAX_LINES = 400
# A split here would cut one idea in two; each entry says why it stays whole.
OVERSIZE: dict[str, str] = {}


def _import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("molq", cache_dir=None)
    return {
        module: (
            {m for m in graph.find_modules_directly_imported_by(module) if m.startswith("molq")}
            if module != FACADE
            else set()
        )
        for module in graph.modules
    }


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module (or a module importing itself), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a deep import chain cannot hit the recursion limit.
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _cycle_in(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One concrete cycle through the component's first module, for the failure message."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(edges[node] & members):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return component  # pragma: no cover - a strongly connected component always closes


def test_the_module_graph_has_no_cycle() -> None:
    edges = _import_graph()
    cycles = [" -> ".join(_cycle_in(c, edges)) for c in strongly_connected(edges)]
    assert not cycles, "import cycles (TYPE_CHECKING imports count too; use a protocol):\n" + "\n".join(
        cycles
    )


def test_the_cycle_finder_names_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert strongly_connected(edges) == [["a", "b", "c"], ["e"]]
    assert _cycle_in(["a", "b", "c"], edges) == ["a", "b", "c", "a"]


def test_the_graph_sees_type_checking_imports() -> None:
    edges = _import_graph()
    # molq.api._parts imports Cluster only under TYPE_CHECKING: the check must see it.
    assert "molq.api._cluster" in edges["molq.api._parts"]


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {
        str(path.relative_to(ROOT.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in ROOT.rglob("*.py")
    }
    over = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in OVERSIZE}
    assert not over, f"modules over {MAX_LINES} lines (split by idea, ADR layout): {over}"
    stale = {name for name in OVERSIZE if sizes.get(name, 0) <= MAX_LINES}
    assert not stale, f"no longer oversize, drop from OVERSIZE: {stale}"
