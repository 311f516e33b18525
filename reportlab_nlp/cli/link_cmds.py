"""``reportlab-nlp link`` and ``reportlab-nlp ontology build``: UMLS concept linking."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import E, ReportLabError
from .application import app
from .common import cli_errors, console, out_console, setup_logging

ontology_app = typer.Typer(help="Build and inspect concept KBs for linking.", no_args_is_help=True)
app.add_typer(ontology_app, name="ontology")


@app.command("link")
@cli_errors
def link(
    phrases: list[str] | None = typer.Argument(None, help="Phrases to link; each one is one mention."),
    text: str | None = typer.Option(
        None, "--text", help="A report text: extract its mentions with the rule pipeline and link them."
    ),
    kb: Path | None = typer.Option(
        None, "--kb", help="KB directory from `ontology build` (default: the shipped ontologies/ table)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    threshold: float | None = typer.Option(
        None, "--threshold", min=0.0, max=1.0, help="Minimum score to link (default 0.7)."
    ),
    k: int | None = typer.Option(None, "--k", min=1, help="Nearest neighbours per mention (default 10)."),
    taxonomy: str = typer.Option(
        "chexpert", "--taxonomy", help="Taxonomy of the rule pipeline (with --text)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Link phrases (or the mentions of a report text) to UMLS concepts."""
    setup_logging(verbose)
    if bool(phrases) == (text is not None):
        raise ReportLabError("give either PHRASE... or --text, not both and not neither", code=E.RL001)
    from ..linking import DEFAULT_K, DEFAULT_THRESHOLD, get_linker

    opts = {
        "threshold": DEFAULT_THRESHOLD if threshold is None else threshold,
        "k": DEFAULT_K if k is None else k,
    }
    if text is None:
        linker = get_linker(kb, **opts).load()
        rows = [linker.link(p).as_dict(linker, phrase=p) for p in phrases]
    else:
        rows = _link_text(text, kb, taxonomy, opts)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    _print_table(rows, key="phrase" if text is None else "text")


def _link_text(text: str, kb: Path | None, taxonomy: str, opts: dict) -> list[dict]:
    from .. import pipeline

    nlp = pipeline.load(taxonomy=taxonomy, link=True, kb=None if kb is None else str(kb))
    if "reportlab_linker" in nlp.pipe_names:
        comp = nlp.get_pipe("reportlab_linker")
        comp.cfg.update(threshold=opts["threshold"], k=opts["k"])
        comp._linker = None
        linker = comp.linker
    else:  # pragma: no cover - pipeline.load(link=True) always adds it
        raise ReportLabError("the pipeline has no linking stage", code=E.RL900)
    doc = nlp(text)
    rows = []
    for ent in doc.ents:
        rows.append(
            {
                "text": ent.text,
                "start": ent.start_char,
                "end": ent.end_char,
                "observation": ent._.observation,
                "assertion": ent._.assertion,
                "cui": ent._.cui,
                "preferred_name": ent._.preferred_name,
                "score": None if ent._.link_score is None else round(ent._.link_score, 4),
                "candidates": [
                    {"cui": c, "preferred_name": linker.preferred_name(c), "score": round(s, 4)}
                    for c, s in (ent._.candidates or [])
                ],
            }
        )
    return rows


def _print_table(rows: list[dict], key: str) -> None:
    from rich.table import Table

    table = Table(show_lines=False)
    for col in (key, "CUI", "preferred name", "score", "next candidates"):
        table.add_column(col)
    for r in rows:
        others = ", ".join(
            f"{c['cui']} {c['preferred_name']} ({c['score']:.2f})" for c in r["candidates"][1:3]
        )
        table.add_row(
            r[key],
            r["cui"] or "-",
            r["preferred_name"] or "-",
            "-" if r["score"] is None else f"{r['score']:.3f}",
            others,
        )
    out_console.print(table)


@ontology_app.command("build")
@cli_errors
def ontology_build(
    out: Path = typer.Option(..., "-o", "--out", help="KB directory to write (concepts.jsonl + meta.json)."),
    umls: Path | None = typer.Option(
        None, "--umls", help="UMLS META directory holding MRCONSO.RRF and MRSTY.RRF."
    ),
    table: Path | None = typer.Option(
        None,
        "--table",
        help="A concept table (YAML/JSONL) to compile instead of UMLS (default: the shipped one).",
    ),
    lang: list[str] = typer.Option(["ENG"], "--lang", help="MRCONSO languages (LAT) to keep; repeatable."),
    sab: list[str] | None = typer.Option(
        None, "--sab", help="Source vocabularies (SAB) to keep; repeatable (default: all)."
    ),
    tui: list[str] | None = typer.Option(
        None, "--tui", help="Semantic types (TUI) to keep; repeatable (default: all)."
    ),
    include_suppressed: bool = typer.Option(
        False, "--include-suppressed", help="Keep suppressed strings (SUPPRESS != N)."
    ),
    merge_shipped: bool = typer.Option(
        True,
        "--merge-shipped/--no-merge-shipped",
        help="Add the shipped table's report vocabulary and observation/label hints to matching CUIs.",
    ),
    index: bool = typer.Option(
        True, "--index/--no-index", help="Build the linking index into the cache now."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Build a linking KB from a UMLS release (or compile a concept table)."""
    setup_logging(verbose)
    from ..linking import build_from_table, build_from_umls, get_linker

    if umls is not None and table is not None:
        raise ReportLabError("give --umls or --table, not both", code=E.RL002)
    if umls is not None:
        info = build_from_umls(
            umls,
            out,
            languages=lang,
            sources=sab,
            semantic_types=tui,
            include_suppressed=include_suppressed,
            merge_shipped=merge_shipped,
        )
    else:
        info = build_from_table(table, out)
    n = info["stats"]["concepts"]
    console.print(f"wrote {n} concepts to {out}")
    missing = info.get("shipped_cuis_missing")
    if missing:
        console.print(
            f"{len(missing)} shipped concept(s) not in this UMLS selection (listed in {out}/meta.json)"
        )
    if index:
        linker = get_linker(out).load()
        console.print(f"index ready in {linker.index_dir}")
