"""``reportlab-nlp deid`` and ``reportlab-nlp evaluate-deid``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import E
from .application import app
from .common import (
    check_executor,
    cli_errors,
    console,
    encoding_option,
    executor_option,
    out_console,
    progress,
    ray_address_option,
    resume_option,
    setup_logging,
    strip_markup_option,
)
from .deid_model_cmds import DeidCommand


@app.command("deid", cls=DeidCommand, epilog="Train the optional model: reportlab-nlp deid train --help.")
@cli_errors
def deid(
    input: Path = typer.Argument(
        ..., help="Reports: .csv, .tsv, .jsonl, .parquet or a folder of .txt files."
    ),
    output: Path = typer.Option(
        ..., "-o", "--output", help="Output table (all input columns, text replaced); in tag mode the spans."
    ),
    mode: str = typer.Option(
        "mask",
        "--mode",
        help="mask ([NAME], [DATE], ...), surrogate (realistic replacements) or tag (spans only).",
    ),
    spans: Path | None = typer.Option(
        None, "--spans", help="Also write spans as CSV: <id column>,start,end,category (no text)."
    ),
    group_column: str | None = typer.Option(
        None,
        "--group-column",
        help="Column whose value keeps surrogates and date shifts consistent (e.g. patient_id).",
    ),
    secret_file: Path | None = typer.Option(
        None, "--secret-file", help="Key for reproducible surrogates (without it, a random key per run)."
    ),
    id_column: str | None = typer.Option(
        None, "--id-column", help="Id column (default: report_id or a usual name)."
    ),
    text_column: str | None = typer.Option(
        None, "--text-column", help="Text column (default: report or a usual name)."
    ),
    strict_years: bool = typer.Option(
        False, "--strict-years", help="Also flag bare years (Safe Harbor keeps years outside full dates)."
    ),
    times: bool = typer.Option(
        False, "--times", help="Also flag times of day (category TIME; no Safe Harbor identifier)."
    ),
    strict_ages: bool = typer.Option(False, "--strict-ages", help="Flag every age, not only ages over 89."),
    ner: bool = typer.Option(
        False, "--ner", help="Add spaCy NER (en_core_web_sm) for names and places; slower."
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Also use a token classifier from `deid train` (its spans join the rules' by union); CPU.",
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Rejects file (default: <output>.rejects.csv)."
    ),
    audit: Path | None = typer.Option(
        None, "--audit", help="Write the run's audit summary (counts per category) as JSON."
    ),
    chunk_size: int = typer.Option(1000, "--chunk-size", min=1, help="Records per chunk."),
    encoding: str = encoding_option(),
    strip_markup: str = strip_markup_option(),
    resume: bool = resume_option(),
    workers: int = typer.Option(
        1,
        "--workers",
        "-w",
        min=1,
        help="Worker processes (--executor local) or Ray actors (--executor ray).",
    ),
    executor: str = executor_option(),
    ray_address: str | None = ray_address_option(),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log progress (counts only, never text)."),
) -> None:
    """De-identify report text: mask, surrogate or tag PHI. Records that fail are withheld (fail closed)."""
    setup_logging(verbose)
    from ..deid.pipeline import MODES, deidentify_archive, read_secret
    from ..errors import ReportLabError

    if mode not in MODES:
        raise ReportLabError(f"unknown --mode {mode!r}; expected one of {', '.join(MODES)}", code=E.RL612)
    check_executor(executor)
    secret = read_secret(secret_file) if secret_file else None
    with progress() as bar:
        task = bar.add_task("de-identifying", total=None, rate="")
        result = deidentify_archive(
            input,
            output,
            mode=mode,
            spans_path=spans,
            group_column=group_column,
            secret=secret,
            id_column=id_column,
            text_column=text_column,
            strict_years=strict_years,
            use_ner=ner,
            rejects_path=rejects,
            audit_path=audit,
            chunk_size=chunk_size,
            resume=resume,
            secret_path=secret_file,
            times=times,
            strict_ages=strict_ages,
            model=model,
            encoding=encoding,
            strip_markup=strip_markup,
            on_chunk=lambda n: bar.advance(task, n),
            executor=executor,
            workers=workers,
            ray_address=ray_address,
        )
    summary = result.as_dict()
    cats = ", ".join(f"{c} {n}" for c, n in summary["spans_by_category"].items() if n)
    console.print(
        f"deid ({mode}): {summary['records_in']} records in, {summary['records_out']} written, "
        f"{summary['records_rejected']} rejected; {summary['spans_total']} spans"
        + (f" ({cats})" if cats else ""),
        highlight=False,
    )


@app.command("evaluate-deid")
@cli_errors
def evaluate_deid(
    predicted: Path = typer.Argument(
        ..., help="Predicted spans CSV (<id>,start,end,category), e.g. from deid --spans."
    ),
    gold: Path = typer.Argument(..., help="Gold spans CSV (<id>,start,end,category)."),
    texts: Path = typer.Option(..., "--texts", help="The reports the spans point into."),
    id_column: str | None = typer.Option(
        None, "--id-column", help="Id column of the reports (default: the spans' id column)."
    ),
    text_column: str | None = typer.Option(None, "--text-column", help="Text column of the reports."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON."),
    show_leaks: bool = typer.Option(
        False, "--show-leaks", help="Also list missed gold values (this output holds PHI)."
    ),
) -> None:
    """Token precision/recall/F1, instance recall and recall per category of PHI spans."""
    from ..deid.evaluate import evaluate_spans, format_leaks, format_report, leaks, read_spans
    from ..inputs import read_reports

    pred_df, pred_id = read_spans(predicted)
    gold_df, _ = read_spans(gold)
    frame, _rejects, src = read_reports(texts, id_column or pred_id, text_column)
    text_map = dict(zip(frame[src.id_column].astype(str), frame[src.text_column]))
    metrics = evaluate_spans(pred_df, gold_df, text_map)
    leaked = leaks(pred_df, gold_df, text_map) if show_leaks else None
    if as_json:
        if leaked is not None:
            metrics["leaks"] = [{"id": i, "category": c, "value": v} for i, c, v in leaked]
        out_console.print_json(json.dumps(metrics))
    else:
        out_console.print(format_report(metrics), highlight=False, markup=False)
        if leaked is not None:
            out_console.print(format_leaks(leaked), highlight=False, markup=False)
