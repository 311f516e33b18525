"""The one loader for the data that ships with the package: ``rules/`` and ``ontologies/``.

In a source checkout both folders sit at the repository root; in an installed wheel they
are ``reportlab_nlp/_data/rules`` and ``reportlab_nlp/_data/ontologies``. Every module
reads them through :func:`data_path` / :func:`load_yaml`, never through its own path logic.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import RulesError

Kind = Literal["rules", "ontologies"]
_PKG = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def data_root(kind: Kind) -> Path:
    """Folder holding the shipped ``rules`` or ``ontologies``."""
    for candidate in (_PKG / "_data" / kind, _PKG.parent / kind):
        if candidate.is_dir():
            return candidate
    raise RulesError(f"the packaged {kind}/ folder is missing; reinstall reportlab-nlp")


def data_path(kind: Kind, *parts: str) -> Path:
    """Path of a shipped data file, e.g. ``data_path("rules", "taxonomies", "chexpert.yml")``."""
    path = data_root(kind).joinpath(*parts)
    if not path.exists():
        raise RulesError(f"packaged file {kind}/{'/'.join(parts)} does not exist")
    return path


def resolve(kind: Kind, name_or_path: str | Path, suffixes: tuple[str, ...] = (".yml", ".yaml")) -> Path:
    """A user-given path if it exists, else a shipped file under ``kind`` (suffix optional).

    ``resolve("rules", "taxonomies/nih14")`` finds ``rules/taxonomies/nih14.yml``.
    """
    p = Path(name_or_path)
    if p.exists():
        return p
    root = data_root(kind)
    for cand in [root / p, *(root / (str(p) + s) for s in suffixes)]:
        if cand.exists():
            return cand
    raise RulesError(f"{name_or_path!s} is neither an existing file nor a packaged {kind} file")


@functools.lru_cache(maxsize=256)
def _load_yaml_cached(path: str, mtime: float) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RulesError(f"{path} is not valid YAML{where}") from None
    except OSError as err:
        raise RulesError(f"cannot read {path}: {err.strerror}") from None


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file (cached by path and modification time)."""
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError:
        raise RulesError(f"cannot read {p}: no such file") from None
    return _load_yaml_cached(str(p.resolve()), mtime)


def content_hash(*paths: str | Path, extra: str = "") -> str:
    """SHA-256 over file contents, for on-disk caches keyed by content."""
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]
