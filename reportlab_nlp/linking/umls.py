"""Build a KB directory from a UMLS release (MRCONSO.RRF + MRSTY.RRF) or from a concept table.

MRCONSO.RRF is several GB: it is streamed line by line. Rows of one CUI are contiguous in a
release, so each concept is written as soon as the next CUI starts (memory stays flat apart
from MRSTY's CUI -> semantic types map). Filters: languages (LAT), source vocabularies (SAB),
semantic types (TUI, via MRSTY), and suppressed rows (SUPPRESS != 'N', dropped by default).
Concepts that are also in the shipped table get its report vocabulary, observation ids,
taxonomy labels and RadLex ids (``merge_shipped``), so observation hints keep working.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import E, RulesError
from .concepts import Concept, load_concepts, write_kb

log = logging.getLogger("reportlab_nlp.linking")

# MRCONSO.RRF columns (UMLS Reference Manual, 3.3.2)
CUI, LAT, TS, LUI, STT, SUI, ISPREF, AUI, SAUI, SCUI, SDUI, SAB, TTY, CODE, STR, SRL, SUPPRESS, CVF = range(
    18
)
_ABBR_TTYS = frozenset({"AB", "ACR", "AA"})
MAX_ALIASES = 64  # per concept; the longest tail of UMLS strings adds nothing to linking


def _find(meta: Path, name: str) -> Path:
    for cand in (meta / name, meta / "META" / name):
        if cand.is_file():
            return cand
    raise RulesError(f"{meta} holds no {name}", code=E.RL212, hint="pass the release's META directory")


def read_mrsty(path: Path) -> dict[str, list[str]]:
    types: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            f = line.rstrip("\n").split("|")
            if len(f) < 2 or not f[0].startswith("C") or not f[1].startswith("T"):
                raise RulesError(f"{path.name} line {lineno}: not an MRSTY row (CUI|TUI|...)", code=E.RL212)
            lst = types.setdefault(f[0], [])
            if f[1] not in lst:
                lst.append(f[1])
    return types


def _concepts_from_mrconso(
    path: Path, keep_row: Callable[[list[str]], bool], stats: Counter
) -> Iterator[tuple[str, list[list[str]]]]:
    current, rows = None, []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            f = line.rstrip("\n").split("|")
            if len(f) < 18:
                stats["malformed_rows"] += 1
                if stats["malformed_rows"] <= 5:
                    log.warning("%s line %d: expected 18 fields, got %d; skipped", path.name, lineno, len(f))
                continue
            stats["rows"] += 1
            if f[CUI] != current:
                if rows:
                    yield current, rows
                current, rows = f[CUI], []
            if keep_row(f):
                rows.append(f)
            else:
                stats["rows_filtered"] += 1
    if rows:
        yield current, rows


def _concept_from_rows(cui: str, rows: list[list[str]], tuis: list[str]) -> Concept:
    pref = next((r for r in rows if r[TS] == "P" and r[STT] == "PF" and r[ISPREF] == "Y"), None)
    pref = pref or next((r for r in rows if r[ISPREF] == "Y"), rows[0])
    synonyms: list[str] = []
    abbreviations: list[str] = []
    seen = {pref[STR].lower()}
    radlex = None
    for r in rows:
        s = r[STR].strip()
        if r[SAB] == "RADLEX" and r[CODE].startswith("RID") and radlex is None:
            radlex = r[CODE]
        if not s or s.lower() in seen:
            continue
        seen.add(s.lower())
        if r[TTY] in _ABBR_TTYS and len(s) <= 12:
            abbreviations.append(s)
        elif len(synonyms) < MAX_ALIASES:
            synonyms.append(s)
    return Concept(
        cui=cui,
        name=pref[STR].strip(),
        semantic_types=list(tuis),
        radlex=radlex,
        synonyms=synonyms,
        abbreviations=abbreviations,
        cui_status="verified",
    )


def build_from_umls(
    meta_dir: str | Path,
    out_dir: str | Path,
    languages: Iterable[str] = ("ENG",),
    sources: Iterable[str] | None = None,
    semantic_types: Iterable[str] | None = None,
    include_suppressed: bool = False,
    merge_shipped: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> dict:
    """Stream a UMLS META directory into ``out_dir`` (concepts.jsonl + meta.json); return the stats."""
    meta = Path(meta_dir)
    if not meta.is_dir():
        raise RulesError(f"UMLS directory {meta} does not exist", code=E.RL212)
    mrconso, mrsty = _find(meta, "MRCONSO.RRF"), _find(meta, "MRSTY.RRF")
    langs = {l.upper() for l in languages}
    sabs = {s.upper() for s in sources} if sources else None
    tui_filter = {t.upper() for t in semantic_types} if semantic_types else None
    types = read_mrsty(mrsty)
    shipped = {c.cui: c for c in load_concepts(None)} if merge_shipped else {}
    stats: Counter = Counter()

    def keep_row(f: list[str]) -> bool:
        if f[LAT] not in langs:
            return False
        if sabs is not None and f[SAB].upper() not in sabs:
            return False
        if not include_suppressed and f[SUPPRESS] != "N":
            return False
        return True

    found_shipped: set[str] = set()
    written: set[str] = set()

    def concepts() -> Iterator[Concept]:
        for cui, rows in _concepts_from_mrconso(mrconso, keep_row, stats):
            tuis = types.get(cui, [])
            if tui_filter is not None and not tui_filter.intersection(tuis):
                stats["concepts_filtered_semantic_type"] += 1
                continue
            c = _concept_from_rows(cui, rows, tuis)
            if cui in written:
                stats["concepts_split"] += 1  # rows of a CUI not contiguous: the loader merges them
            written.add(cui)
            if cui in shipped:
                found_shipped.add(cui)
                s = shipped[cui]
                c.merge(
                    Concept(
                        cui=cui,
                        name=s.name,
                        category=s.category,
                        radlex=s.radlex,
                        synonyms=s.synonyms,
                        abbreviations=s.abbreviations,
                        observations=s.observations,
                        labels=s.labels,
                    )
                )
            stats["concepts"] += 1
            if on_progress is not None and stats["concepts"] % 10000 == 0:
                on_progress(stats["concepts"])
            yield c

    # write_kb consumes the generator; meta is written after, with the final counts
    out = write_kb(concepts(), out_dir, meta={"source": "umls"})
    if stats["concepts"] == 0:
        raise RulesError(
            f"no concept of {meta} passes the filters", code=E.RL213, hint="check --lang / --sab / --tui"
        )
    missing = sorted(set(shipped) - found_shipped)
    info = {
        "source": "umls",
        "umls_dir": str(meta),
        "filters": {
            "languages": sorted(langs),
            "sources": sorted(sabs) if sabs else None,
            "semantic_types": sorted(tui_filter) if tui_filter else None,
            "include_suppressed": include_suppressed,
        },
        "merged_shipped_table": merge_shipped,
        "shipped_cuis_missing": missing,
        "stats": dict(stats),
    }
    write_meta(out, info, stats["concepts"])
    if missing:
        log.warning("%d concept(s) of the shipped table are not in this UMLS selection", len(missing))
    return info


def write_meta(out: Path, info: dict, n: int) -> None:
    import json

    from .concepts import KB_FORMAT, KB_META

    (out / KB_META).write_text(
        json.dumps({"format": KB_FORMAT, "version": 1, "concepts": n, **info}, indent=2) + "\n",
        encoding="utf-8",
    )


def build_from_table(table: str | Path | None, out_dir: str | Path) -> dict:
    """Validate a concept table (shipped by default) and write it as a KB directory."""
    concepts = load_concepts(table)
    source = "shipped" if table is None else str(table)
    write_kb(concepts, out_dir, meta={"source": source})
    return {"source": source, "stats": {"concepts": len(concepts)}}
