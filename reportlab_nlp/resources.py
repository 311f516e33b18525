"""The one loader for the data that ships with the package: ``rules/`` and ``ontologies/``.

Two layouts hold them:

* an installed wheel (or a non-editable ``pip install``): ``reportlab_nlp/_data/rules`` and
  ``reportlab_nlp/_data/ontologies`` inside the package (pyproject.toml maps the two root
  folders there);
* a source checkout, an editable install or an unpacked sdist: ``rules/`` and
  ``ontologies/`` at the project root, beside ``pyproject.toml``.

Every module reads them through :func:`data_path` / :func:`load_yaml`, never through its own
path logic.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import E, RulesError

Kind = Literal["rules", "ontologies"]
_PKG = Path(__file__).resolve().parent


def _candidates(kind: Kind, package_dir: Path) -> list[Path]:
    """Where ``kind`` may lie, in order: inside the installed package, then at a project root.

    The root folder counts only beside a ``pyproject.toml``, so an installed copy never picks
    up some other distribution's top-level ``rules/`` folder in site-packages.
    """
    found = [package_dir / "_data" / kind]
    root = package_dir.parent
    if (root / "pyproject.toml").is_file():
        found.append(root / kind)
    return found


def find_data_root(kind: Kind, package_dir: Path) -> Path:
    """The folder of ``kind`` for a package at ``package_dir`` (either layout)."""
    for candidate in _candidates(kind, package_dir):
        if candidate.is_dir():
            return candidate
    raise RulesError(f"the packaged {kind}/ folder is missing; reinstall reportlab-nlp", code=E.RL201)


@functools.cache
def data_root(kind: Kind) -> Path:
    """Folder holding the shipped ``rules`` or ``ontologies``."""
    return find_data_root(kind, _PKG)


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


_YAML_CACHE_SIZE = 256
_yaml_cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
_yaml_lock = threading.Lock()


def _parse_yaml(path: str, data: bytes) -> Any:
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise RulesError(f"{path} is not UTF-8 (invalid byte at offset {err.start})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RulesError(f"{path} is not valid YAML{where}") from None


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file, cached by path and content.

    The key is the content's hash, not the modification time: a file rewritten within one tick
    of the file system's clock (a test, an editor saving twice) is never served stale. Callers
    must not modify the parsed object (it is shared).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise RulesError(f"cannot read {p}: no such file") from None
    except OSError as err:
        raise RulesError(f"cannot read {p}: {err.strerror}") from None
    key = (str(p.resolve()), hashlib.sha256(data).hexdigest())
    with _yaml_lock:
        if key in _yaml_cache:
            _yaml_cache.move_to_end(key)
            return _yaml_cache[key]
    parsed = _parse_yaml(key[0], data)
    with _yaml_lock:
        _yaml_cache[key] = parsed
        while len(_yaml_cache) > _YAML_CACHE_SIZE:
            _yaml_cache.popitem(last=False)
    return parsed


def content_hash(*paths: str | Path, extra: str = "") -> str:
    """SHA-256 over file contents, for on-disk caches keyed by content."""
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


WORD_LISTS_SCHEMA = "word_lists.schema.json"


@functools.cache
def _word_lists_validator() -> Any:
    import json

    import jsonschema

    schema = json.loads(data_path("rules", WORD_LISTS_SCHEMA).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def check_word_lists(doc: Any, where: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """``doc`` if it follows ``rules/word_lists.schema.json`` and holds every ``required`` entry;
    else :class:`RulesError` RL202 naming ``where`` and the first problem (never the data)."""
    errors = sorted(_word_lists_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        at = "/".join(str(p) for p in err.absolute_path) or "top level"
        raise RulesError(f"{where}: {at}: {err.validator} check failed", code=E.RL202)
    missing = [k for k in required if k not in doc]
    if missing:
        raise RulesError(f"{where}: missing {', '.join(missing)}", code=E.RL202)
    return dict(doc)


def load_word_lists(name: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A shipped word-list file of ``rules/`` (e.g. ``"linking/words.yml"``), schema-checked.

    Lists come back as lists and maps as dicts, as the YAML holds them; the caller makes the
    frozensets it needs (the parsed object is shared: do not modify it)."""
    path = data_path("rules", *name.split("/"))
    return check_word_lists(load_yaml(path), f"rules/{name}", required)
