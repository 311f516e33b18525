"""Packaging: the wheel's package list and data globs cover the source tree. CI builds the real
wheel and sdist and lists them (.ci/run); these tests keep pyproject.toml in step with the tree
between runs."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_package_list_names_every_package_and_the_two_data_folders():
    code = [".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "reportlab_nlp").rglob("__init__.py")]
    data = {"reportlab_nlp._data.rules": "rules", "reportlab_nlp._data.ontologies": "ontologies"}
    assert sorted(SETUPTOOLS["packages"]) == sorted([*code, *data])
    assert SETUPTOOLS["package-dir"] == data


@pytest.mark.parametrize("kind", ["rules", "ontologies"])
def test_package_data_globs_match_every_data_file(kind):
    globs = SETUPTOOLS["package-data"][f"reportlab_nlp._data.{kind}"]
    assert all(g.startswith("**/*.") for g in globs)  # recursive: subfolders ship too
    suffixes = {g[len("**/*") :] for g in globs}
    files = [p.relative_to(ROOT / kind) for p in (ROOT / kind).rglob("*") if p.is_file()]
    assert files and [str(f) for f in files if f.suffix not in suffixes] == []
