"""``export`` (the image-trainer feed) and ``report`` (the HTML QA report) commands."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from .application import app
from .common import cli_errors, console, setup_logging


class Format(str, Enum):
    chexpert = "chexpert"
    mimic = "mimic"
    csv = "csv"


class BlankAs(str, Enum):
    blank = "blank"
    zero = "zero"


def _summary_table(summary: dict):
    from rich.table import Table

    t = Table(title="export plan", show_header=True, header_style="bold")
    t.add_column("what")
    t.add_column("count", justify="right")
    for key in ("label_rows", "metadata_rows", "images", "patients", "rejects"):
        t.add_row(key.replace("_", " "), str(summary[key]))
    for code, n in summary["rejects_by_code"].items():
        t.add_row(f"  rejects {code}", str(n))
    for name, s in summary["splits"].items():
        t.add_row(f"split {name}", f"{s['images']} images / {s['patients']} patients")
    return t


def _prevalence_table(prev):
    from rich.table import Table

    t = Table(title="positive images per split (after --uncertain / --blank-as)", header_style="bold")
    t.add_column("label")
    splits = list(dict.fromkeys(prev["split"]))
    for s in splits:
        t.add_column(s, justify="right")
    for label, rows in prev.groupby("label", sort=False):
        cells = [f"{int(r.positive)} ({r.positive_pct:.1f}%)" for r in rows.itertuples()]
        t.add_row(str(label), *cells)
    return t


@app.command("export")
@cli_errors
def export_cmd(
    labels: Path = typer.Argument(
        ..., help="Label table from `reportlab-nlp label` (.csv, .tsv or .parquet)."
    ),
    metadata: Path = typer.Option(
        ..., "--metadata", "-m", help="Image metadata: one row per image (.csv/.tsv/.parquet)."
    ),
    output: Path = typer.Option(
        ..., "-o", "--output", help="Output folder (must be empty unless --overwrite)."
    ),
    fmt: Format = typer.Option(Format.chexpert, "--format", "-f", help="chexpert, mimic or csv."),
    preset: str = typer.Option("default", "--preset", help="Metadata columns preset: default or mimic."),
    columns: str | None = typer.Option(
        None, "--columns", help="Rename metadata columns: view=ViewPosition,age=PatientAge."
    ),
    id_column: str | None = typer.Option(
        None, "--id-column", help="Id column of the label table (default: first)."
    ),
    uncertain: str = typer.Option(
        "keep", "--uncertain", help="keep, ignore, zeros, ones, libauc, or a policy YAML file."
    ),
    blank_as: BlankAs = typer.Option(BlankAs.blank, "--blank-as", help="Not-mentioned cells: blank or zero."),
    split: str = typer.Option("0.8,0.1,0.1", "--split", help="train,valid[,test] fractions (patient-level)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split."),
    relayout: bool = typer.Option(
        False, "--relayout", help="Symlink images into the trainer's folder layout."
    ),
    image_root: Path | None = typer.Option(
        None, "--image-root", help="Folder that relative metadata paths start from."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an earlier export in a non-empty folder."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the summary and prevalence; write nothing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary tables."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details (never report text)."),
) -> None:
    """Join labels with image metadata and write files image trainers load (CheXpert, MIMIC-CXR, CSV)."""
    setup_logging(verbose)
    from ..export import ExportOptions, check_output_dir, plan_export, write_export
    from ..export.tables import parse_columns

    if not dry_run:
        check_output_dir(output, overwrite)
    opts = ExportOptions(
        format=fmt.value,
        preset=preset,
        columns=parse_columns(columns),
        id_column=id_column,
        uncertain=uncertain,
        blank_as=blank_as.value,
        split=split,
        seed=seed,
        relayout=relayout,
        image_root=image_root,
    )
    plan = plan_export(labels, metadata, opts)
    if not quiet:
        console.print(_summary_table(plan.summary()))
        console.print(_prevalence_table(plan.prevalence))
    if dry_run:
        console.print("[yellow]dry run[/yellow]: nothing written")
        return
    summary = write_export(plan, labels, metadata, output, overwrite=overwrite)
    if not quiet:
        msg = (
            f"[green]exported[/green] {summary['images']} images -> {output} ({', '.join(summary['files'])})"
        )
        if summary["rejects"]:
            msg += f"; [yellow]{summary['rejects']} rejects[/yellow] -> {output / 'rejects.csv'}"
        console.print(msg, soft_wrap=True)


@app.command("report")
@cli_errors
def report_cmd(
    labels: Path = typer.Argument(..., help="Label table from `reportlab-nlp label`."),
    output: Path = typer.Option(..., "-o", "--output", help="HTML file to write (self-contained)."),
    evidence: Path | None = typer.Option(
        None, "--evidence", "-e", help="Evidence JSONL from `label --evidence`."
    ),
    review: Path | None = typer.Option(
        None, "--review", "-r", help="Disagreements CSV from `label --engine hybrid --review`."
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Rejects CSV of the labelling run (code counts)."
    ),
    taxonomy: str = typer.Option(
        "chexpert", "--taxonomy", "-t", help="chexpert, nih14 or a taxonomy YAML path."
    ),
    per_label: int = typer.Option(3, "--per-label", min=0, help="Sampled reports per label."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample."),
    redact: bool = typer.Option(
        False, "--redact", help="Mask PHI (the de-identifier's detector) in the sampled sentences."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary line."),
) -> None:
    """Write one self-contained HTML QA report: prevalence, sections, rejects, co-occurrence, evidence."""
    import time

    from ..batch import guard_paths
    from ..report import build_report_data, write_report

    guard_paths(
        {"LABELS": labels, "--evidence": evidence, "--review": review, "--rejects": rejects}, {"-o": output}
    )
    t0 = time.perf_counter()
    data = build_report_data(
        labels, evidence, review, rejects, taxonomy=taxonomy, per_label=per_label, seed=seed
    )
    redactor = None
    if redact:
        from ..deid import Detector

        redactor = Detector().detect
    write_report(data, output, redactor=redactor)
    if not quiet:
        console.print(
            f"[green]report[/green] {data.n_reports} reports -> {output} ({time.perf_counter() - t0:.1f} s)",
            soft_wrap=True,
        )
