"""The concept table: loading, validation and the on-disk KB format.

A *concept table* is the shipped ``ontologies/chest_imaging_concepts.yml`` (YAML, with a
header naming its references) or a KB directory written by ``reportlab-nlp ontology build``
(``concepts.jsonl``: one concept object per line, plus ``meta.json``). Both follow
``ontologies/concepts.schema.json``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import E, RulesError
from ..resources import data_path, load_yaml

log = logging.getLogger("reportlab_nlp.linking")

SHIPPED_TABLE = "chest_imaging_concepts.yml"
SCHEMA_FILE = "concepts.schema.json"
KB_CONCEPTS = "concepts.jsonl"
KB_META = "meta.json"
KB_FORMAT = "reportlab_nlp-kb"
_CUI = re.compile(r"^C\d{7}$")
# A JSONL KB can hold millions of concepts: every record gets the cheap checks below,
# the first ``_FULL_CHECK`` records get the full JSON-schema check as well.
_FULL_CHECK = 2000


@dataclass
class Concept:
    cui: str
    name: str
    category: str = "other"
    semantic_types: list[str] = field(default_factory=list)
    radlex: str | None = None
    synonyms: list[str] = field(default_factory=list)
    abbreviations: list[str] = field(default_factory=list)
    observations: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    # "verified" / "unverified" as ontologies/cui_evidence.tsv records it; a concept built from a UMLS
    # release is verified; None: the table does not say (a hand-written KB without the field)
    cui_status: str | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        if d["cui_status"] is None:
            del d["cui_status"]
        return d

    def merge(self, other: Concept) -> None:
        """Union another record of the same CUI into this one (aliases, hints)."""
        for attr in ("semantic_types", "synonyms", "abbreviations", "observations", "labels"):
            mine = getattr(self, attr)
            for v in getattr(other, attr):
                if v not in mine:
                    mine.append(v)
        self.radlex = self.radlex or other.radlex
        self.cui_status = self.cui_status or other.cui_status
        if self.category == "other":
            self.category = other.category


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    with open(data_path("ontologies", SCHEMA_FILE), encoding="utf-8") as fh:
        return json.load(fh)


@functools.lru_cache(maxsize=1)
def _concept_validator():
    import jsonschema

    schema = _schema()
    sub = dict(schema["$defs"]["concept"])
    return jsonschema.Draft202012Validator(sub)


def _error_text(err) -> str:
    where = "/".join(str(p) for p in err.absolute_path)
    # jsonschema messages quote the offending value; concept fields are vocabulary, not report text.
    return f"{where or 'record'}: {err.message}"


def validate_record(rec: object, where: str, full: bool = True) -> Concept:
    """Check one concept record and return it as a :class:`Concept`; RL211 on a bad record."""
    if not isinstance(rec, dict):
        raise RulesError(f"{where}: a concept must be a mapping", code=E.RL211)
    cui = rec.get("cui")
    if not isinstance(cui, str) or not _CUI.match(cui):
        raise RulesError(f"{where}: 'cui' must look like C0000000", code=E.RL211)
    if full:
        errors = sorted(_concept_validator().iter_errors(rec), key=lambda e: list(e.absolute_path))
        if errors:
            raise RulesError(f"{where} ({cui}): {_error_text(errors[0])}", code=E.RL211)
    else:
        if not isinstance(rec.get("name"), str) or not rec["name"].strip():
            raise RulesError(f"{where} ({cui}): 'name' must be a non-empty string", code=E.RL211)
        for key in ("synonyms", "abbreviations", "observations", "labels", "semantic_types"):
            v = rec.get(key, [])
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise RulesError(f"{where} ({cui}): '{key}' must be a list of strings", code=E.RL211)
    try:
        return Concept(**rec)
    except TypeError:
        unknown = sorted(set(rec) - set(Concept.__dataclass_fields__))
        raise RulesError(f"{where} ({cui}): unknown field(s) {unknown}", code=E.RL211) from None


def _merge_into(out: dict[str, Concept], c: Concept) -> None:
    if c.cui in out:
        out[c.cui].merge(c)
    else:
        out[c.cui] = c


def _load_yaml_table(path: Path) -> list[Concept]:
    doc = load_yaml(path)
    if not isinstance(doc, dict) or "concepts" not in doc:
        raise RulesError(f"{path}: a concept table needs a top-level 'concepts' list", code=E.RL211)
    if doc.get("version", 1) != 1:
        raise RulesError(f"{path}: unsupported concept table version {doc.get('version')!r}", code=E.RL211)
    extra = sorted(set(doc) - {"version", "concepts"})
    if extra:
        raise RulesError(f"{path}: unknown top-level key(s) {extra}", code=E.RL211)
    recs = doc["concepts"]
    if not isinstance(recs, list) or not recs:
        raise RulesError(f"{path}: 'concepts' must be a non-empty list", code=E.RL211)
    out: dict[str, Concept] = {}
    for i, rec in enumerate(recs):
        _merge_into(out, validate_record(rec, f"{path.name} concept #{i + 1}"))
    return list(out.values())


def iter_jsonl(path: Path) -> Iterator[Concept]:
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                raise RulesError(f"{path.name} line {lineno}: not valid JSON", code=E.RL211) from None
            yield validate_record(rec, f"{path.name} line {lineno}", full=lineno <= _FULL_CHECK)


def _load_jsonl(path: Path) -> list[Concept]:
    out: dict[str, Concept] = {}
    for c in iter_jsonl(path):
        _merge_into(out, c)
    if not out:
        raise RulesError(f"{path}: the KB holds no concepts", code=E.RL211)
    return list(out.values())


def resolve_kb(kb: str | Path | None) -> Path:
    """The concept file behind a ``--kb`` value: None -> the shipped table; a KB dir -> its concepts file."""
    if kb is None or str(kb) == "":
        return data_path("ontologies", SHIPPED_TABLE)
    p = Path(kb).expanduser()
    if p.is_dir():
        for name in (KB_CONCEPTS, "concepts.yml", "concepts.yaml"):
            if (p / name).is_file():
                return p / name
        raise RulesError(
            f"KB directory {p} holds no {KB_CONCEPTS}",
            code=E.RL210,
            hint="build one with `reportlab-nlp ontology build`",
        )
    if p.is_file():
        if p.suffix.lower() not in (".jsonl", ".yml", ".yaml"):
            raise RulesError(f"KB file {p} must be .jsonl, .yml or .yaml", code=E.RL210)
        return p
    raise RulesError(f"KB {p} does not exist", code=E.RL210)


def load_concepts(kb: str | Path | None = None) -> list[Concept]:
    """All concepts of a KB (shipped table by default), validated; duplicate CUIs are merged."""
    path = resolve_kb(kb)
    if path.suffix.lower() == ".jsonl":
        return _load_jsonl(path)
    return _load_yaml_table(path)


def write_kb(concepts: Iterable[Concept], out_dir: str | Path, meta: dict) -> Path:
    """Write a KB directory (concepts.jsonl + meta.json) and return the directory."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        n = 0
        with open(out / KB_CONCEPTS, "w", encoding="utf-8") as fh:
            for c in concepts:
                fh.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
                n += 1
        meta = {"format": KB_FORMAT, "version": 1, "concepts": n, **meta}
        (out / KB_META).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as err:
        from ..errors import OutputError

        raise OutputError(f"cannot write KB to {out}: {err.strerror}") from None
    return out
