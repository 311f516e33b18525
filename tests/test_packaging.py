"""Packaging: the wheel's package list and data globs cover the source tree; the shipped data
is found in both layouts (installed wheel, source checkout). CI builds the real wheel and sdist
and lists them (.ci/run); these tests keep pyproject.toml in step with the tree between runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from reportlab_nlp import resources
from reportlab_nlp.errors import RulesError

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
    suffixes = {g[len("**/*"):] for g in globs}
    files = [p.relative_to(ROOT / kind) for p in (ROOT / kind).rglob("*") if p.is_file()]
    assert files and [str(f) for f in files if f.suffix not in suffixes] == []


def _touch_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_wheel_layout_is_found_inside_the_package(tmp_path):
    pkg = _touch_dir(tmp_path / "site-packages" / "reportlab_nlp")
    rules = _touch_dir(pkg / "_data" / "rules")
    _touch_dir(tmp_path / "site-packages" / "rules")  # some other distribution's folder
    assert resources.find_data_root("rules", pkg) == rules


def test_checkout_layout_is_found_beside_pyproject(tmp_path):
    pkg = _touch_dir(tmp_path / "checkout" / "reportlab_nlp")
    (tmp_path / "checkout" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    onto = _touch_dir(tmp_path / "checkout" / "ontologies")
    assert resources.find_data_root("ontologies", pkg) == onto
    # the packaged copy wins where both exist (a wheel unpacked into a project folder)
    packaged = _touch_dir(pkg / "_data" / "ontologies")
    assert resources.find_data_root("ontologies", pkg) == packaged


def test_an_install_without_its_data_gets_a_coded_error(tmp_path):
    pkg = _touch_dir(tmp_path / "site-packages" / "reportlab_nlp")
    _touch_dir(tmp_path / "site-packages" / "rules")  # not ours: no pyproject.toml beside it
    with pytest.raises(RulesError) as err:
        resources.find_data_root("rules", pkg)
    assert err.value.code == "RL201" and "rules/ folder is missing" in str(err.value)


def test_this_checkout_reads_the_root_folders():
    assert resources.data_root("rules") == ROOT / "rules"
    assert resources.data_path("ontologies", "cui_evidence.tsv") == ROOT / "ontologies" / "cui_evidence.tsv"
    with pytest.raises(RulesError) as err:
        resources.data_path("rules", "no_such_file.yml")
    assert err.value.code == "RL200" and "rules/no_such_file.yml" in str(err.value)
