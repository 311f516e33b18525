"""The one registry of error codes (``reportlab_nlp.errors``): every code used anywhere in the package
is registered exactly once, every raise site and reject uses a code registered for that use, and
``docs/errors.md`` is what the registry generates."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reportlab_nlp import errors
from reportlab_nlp.errors import REGISTRY, ArgumentError, E, ReportLabError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reportlab_nlp"
CODE = re.compile(r"\bRL\d{3}\b")
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _codes_in(path: Path) -> set[str]:
    return set(CODE.findall(path.read_text(encoding="utf-8")))


def test_registry_holds_each_code_once_under_its_own_attribute():
    attrs = {k: v for k, v in vars(E).items() if CODE.fullmatch(k)}
    assert attrs == {code: code for code in REGISTRY}
    assert all(entry.code == code for code, entry in REGISTRY.items())
    names = [entry.name for entry in REGISTRY.values()]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    assert all(entry.meaning.strip() and entry.raised_as.strip() for entry in REGISTRY.values())


def test_registering_a_code_twice_fails():
    with pytest.raises(RuntimeError, match="RL101 registered twice"):
        errors._reg("RL101", "another_meaning", "A second meaning.", "ReportLabError")
    assert REGISTRY["RL101"].name == "column_missing"


def test_every_code_in_the_package_is_registered():
    unregistered = {
        f"{path.relative_to(ROOT)}: {code}"
        for path in SOURCES
        for code in _codes_in(path)
        if code not in REGISTRY
    }
    assert unregistered == set()


def test_every_code_in_the_docs_is_registered():
    docs = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    unregistered = {f"{p.name}: {c}" for p in docs for c in _codes_in(p) if c not in REGISTRY}
    assert unregistered == set()


def _class_names() -> set[str]:
    names = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names.add(node.name)
    return names


def test_raised_as_names_real_exception_classes():
    classes = _class_names()
    for entry in REGISTRY.values():
        for part in entry.raised_as.split("; "):
            assert part == errors.REJECT or part in classes, (entry.code, part)


def test_each_error_class_default_code_is_registered_for_that_class():
    subclasses = [
        cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, ReportLabError)
    ]
    names = {cls.__name__ for cls in subclasses}
    assert {"ReportLabError", "ArgumentError", "RecordError", "OutputError", "ExportError"} <= names
    for cls in subclasses:
        assert cls.__name__ in REGISTRY[cls.code].raised_as.split("; "), cls


def _code_of(node: ast.expr) -> str | None:
    """``"RL123"`` or ``E.RL123`` -> ``"RL123"``; anything else -> None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "E":
        return node.attr
    return None


def _uses() -> list[tuple[str, str, str]]:
    """(where, code, how) for every ``SomeError(..., code=X)`` and ``Reject(id, reason, X)``."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if node.func.id == "Reject":
                code = _code_of(node.args[2]) if len(node.args) == 3 else None
                if code:
                    found.append((where, code, errors.REJECT))
                continue
            for kw in node.keywords:
                code = _code_of(kw.value) if kw.arg == "code" else None
                if code:
                    found.append((where, code, node.func.id))
    return found


def test_raise_sites_and_rejects_use_codes_registered_for_that_use():
    uses = _uses()
    assert len(uses) > 100  # the scan sees the package's raise sites and rejects
    wrong = [
        (where, code, how)
        for where, code, how in uses
        if code not in REGISTRY or how not in REGISTRY[code].raised_as.split("; ")
    ]
    assert wrong == []


def test_no_code_is_written_as_a_string_literal_outside_the_registry():
    # raise sites and rejects use E.RL###; only errors.py spells a code as a string
    literal = re.compile(r"""["']RL\d{3}["']""")
    with_literals = {
        str(p.relative_to(ROOT))
        for p in SOURCES
        if p.name != "errors.py" and literal.search(p.read_text(encoding="utf-8"))
    }
    assert with_literals == set()


def test_link_arguments_codes_are_distinct():
    # RL001 used to mean three things; now each has its own code
    assert REGISTRY["RL001"].name == "link_phrases_or_text"
    assert REGISTRY["RL002"].name == "ontology_umls_or_table"
    assert REGISTRY["RL900"].name == "internal_error"


def test_str_of_an_error_is_code_and_message():
    err = ArgumentError("span 3:99 is outside the text (length 20)", code=E.RL121)
    assert str(err) == "[RL121] span 3:99 is outside the text (length 20)"
    assert err.code == "RL121" and isinstance(err, ValueError)
    assert str(ArgumentError("bad")) == "[RL020] bad"
    assert str(ReportLabError("x", hint="try y")) == "[RL000] x (try y)"


def test_docs_errors_md_is_generated_from_the_registry():
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert text == errors.markdown()
    rows = [line for line in text.splitlines() if line.startswith("| RL")]
    assert [r.split(" | ")[0][2:] for r in rows] == sorted(REGISTRY)


def test_the_generator_command_prints_the_markdown():
    out = subprocess.run(
        [sys.executable, "-m", "reportlab_nlp.errors", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout == errors.markdown()
    bad = subprocess.run([sys.executable, "-m", "reportlab_nlp.errors"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr
