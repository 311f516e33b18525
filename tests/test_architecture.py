"""The package's import graph (grimp): no cycles, nothing outside the CLI imports the CLI, and the
layers of docs/architecture.md hold -- a module imports only modules of its own layer or below.

Every import counts, also one inside a function, except where noted: the runner
(``reportlab_nlp.batch``) gets its engines passed in, so at import time it imports nothing above
the base layer; only inside a function may it import an engine module (a lazy engine factory).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "reportlab_nlp"

# Top to bottom. A module belongs to the layer of the longest entry its name starts with
# (``reportlab_nlp.model.llm.engine`` -> ``model`` -> engines). Within a layer any import is allowed
# (cycles aside); across layers only downwards.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("cli", ("cli",)),
    ("engines", ("labeler", "deid", "model", "targets", "evaluation", "export", "report")),
    ("runner", ("batch",)),
    (
        "stages",
        (
            "pipeline",
            "linking",
            "aggregation",
            "assertion",
            "mentions",
            "sentences",
            "sections",
            "context_rules",
            "section_rules",
            "inflection",
            "nlp_base",
            "extensions",
        ),
    ),
    (
        "base",
        (
            "",  # the package's own __init__ (lazy attributes only)
            "inputs",
            "outputs",
            "record_checks",
            "markup",
            "text_decoding",
            "schema",
            "resources",
            "errors",
            "progress",
        ),
    ),
]
RUNNER_MAY_IMPORT_AT_IMPORT_TIME = {"base"}


@functools.cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, cache_dir=None)


def layer_of(module: str) -> str:
    rel = module[len(PACKAGE) + 1 :] if module != PACKAGE else ""
    best: tuple[int, str] | None = None
    for layer, prefixes in LAYERS:
        for prefix in prefixes:
            if rel == prefix or (prefix and rel.startswith(prefix + ".")):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), layer)
            elif prefix == "" and rel == "" and best is None:
                best = (0, layer)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")
    return best[1]


RANK = {layer: i for i, (layer, _) in enumerate(LAYERS)}


def _edges() -> list[tuple[str, str]]:
    g = graph()
    return sorted((m, i) for m in g.modules for i in g.find_modules_directly_imported_by(m))


def _cycles(g: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(g.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(g.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(g.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _source(module: str) -> Path:
    rel = Path(*module.split("."))
    return ROOT / (rel / "__init__.py" if (ROOT / rel).is_dir() else rel.with_suffix(".py"))


@functools.cache
def _function_level_lines(module: str) -> frozenset[int]:
    """Line numbers of import statements inside a function body of ``module``."""
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    lines.add(inner.lineno)
    return frozenset(lines)


def _import_time(importer: str, imported: str) -> bool:
    """Whether ``importer`` imports ``imported`` outside any function (at import time)."""
    details = graph().get_import_details(importer=importer, imported=imported)
    return any(d["line_number"] not in _function_level_lines(importer) for d in details)


def test_the_graph_is_the_whole_package():
    g = graph()
    assert {"reportlab_nlp.cli", "reportlab_nlp.errors", "reportlab_nlp.batch"} <= g.modules
    assert len(g.modules) == len(list((ROOT / PACKAGE).rglob("*.py")))


def test_every_module_is_in_a_layer():
    assert sorted({layer_of(m) for m in graph().modules}) == sorted(RANK)


def test_no_import_cycles():
    assert _cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    # the same finder on a small graph with one cycle (a -> b -> a) and an edge out of it
    g = grimp.ImportGraph()
    for m in ("p.a", "p.b", "p.c"):
        g.add_module(m)
    g.add_import(importer="p.a", imported="p.b")
    g.add_import(importer="p.b", imported="p.a")
    g.add_import(importer="p.b", imported="p.c")
    assert _cycles(g) == [["p.a", "p.b"]]


def test_no_library_module_imports_the_cli():
    offenders = [
        (m, i)
        for m, i in _edges()
        if i.startswith("reportlab_nlp.cli") and not m.startswith("reportlab_nlp.cli")
    ]
    assert offenders == []


def test_imports_point_down_the_layers():
    upward = []
    for importer, imported in _edges():
        a, b = layer_of(importer), layer_of(imported)
        if RANK[b] >= RANK[a]:
            continue
        if a == "runner" and not _import_time(importer, imported):
            continue  # a lazy engine factory inside a function of the runner
        upward.append(f"{importer} ({a}) -> {imported} ({b})")
    assert upward == []


def test_the_runner_imports_only_the_base_at_import_time():
    g = graph()
    runner = sorted(m for m in g.modules if layer_of(m) == "runner")
    assert runner and "reportlab_nlp.batch" in runner
    wrong = [
        f"{m} -> {i} ({layer_of(i)})"
        for m in runner
        for i in sorted(g.find_modules_directly_imported_by(m))
        if layer_of(i) not in RUNNER_MAY_IMPORT_AT_IMPORT_TIME | {"runner"} and _import_time(m, i)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("reportlab_nlp.cli.label_cmds", "cli"),
        ("reportlab_nlp.model.llm.engine", "engines"),
        ("reportlab_nlp.batch.staging", "runner"),
        ("reportlab_nlp.linking.normalize", "stages"),
        ("reportlab_nlp.nlp_base", "stages"),
        ("reportlab_nlp.errors", "base"),
        ("reportlab_nlp", "base"),
    ],
)
def test_layer_of(module, layer):
    assert layer_of(module) == layer


def test_architecture_doc_names_every_layer_in_order():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    positions = [text.index(f"**{layer}**") for layer, _ in LAYERS]
    assert positions == sorted(positions)
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            if prefix:
                assert f"`{prefix}`" in text, prefix
