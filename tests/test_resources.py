"""reportlab_nlp.resources: the shipped data is found in both layouts (installed wheel, source
checkout), and YAML files are parsed once per content."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reportlab_nlp import resources
from reportlab_nlp.errors import RulesError

ROOT = Path(__file__).resolve().parent.parent


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


def test_yaml_cache_follows_content_not_the_clock(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text("a: 1\n", encoding="utf-8")
    stamp = path.stat().st_mtime_ns
    assert resources.load_yaml(path) == {"a": 1}
    path.write_text("a: 2\n", encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))  # rewritten within one tick: same mtime, same size
    assert resources.load_yaml(path) == {"a": 2}
    assert resources.load_yaml(path) is resources.load_yaml(path)  # unchanged content: one parse


@pytest.mark.parametrize(
    "content,message",
    [
        (b"a: [1,\n", "is not valid YAML at line 2"),
        (b"a: caf\xe9\n", "is not UTF-8 (invalid byte at offset 6)"),
    ],
)
def test_a_broken_yaml_file_gets_a_coded_error(tmp_path, content, message):
    path = tmp_path / "bad.yml"
    path.write_bytes(content)
    with pytest.raises(RulesError) as err:
        resources.load_yaml(path)
    assert err.value.code == "RL200" and message in str(err.value)
    with pytest.raises(RulesError) as err:
        resources.load_yaml(tmp_path / "missing.yml")
    assert err.value.code == "RL200" and "missing.yml: no such file" in str(err.value)
