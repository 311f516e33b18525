"""``label``, ``assertion`` and ``evaluate`` commands (rule labeler; ``--engine model|hybrid``
hands over to the transformer labeler in ``reportlab_nlp.model``)."""

from __future__ import annotations

import time
from enum import Enum
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


class Engine(str, Enum):
    rules = "rules"
    model = "model"
    hybrid = "hybrid"
    llm = "llm"


@app.command("label")
@cli_errors
def label_cmd(
    input: Path = typer.Argument(
        ..., help="Reports: .csv, .tsv, .jsonl, .parquet, or a directory of .txt files."
    ),
    output: Path = typer.Option(
        ..., "-o", "--output", help="Label table: .csv, .tsv or .parquet (by extension)."
    ),
    taxonomy: str = typer.Option(
        "chexpert", "--taxonomy", "-t", help="chexpert, nih14, or a taxonomy YAML path."
    ),
    id_column: str | None = typer.Option(
        None, "--id-column", help="Id column (default report_id, else detected)."
    ),
    text_column: str | None = typer.Option(
        None, "--text-column", help="Text column (default report, else detected)."
    ),
    evidence: Path | None = typer.Option(
        None, "--evidence", help="Write one JSON record per mention (section, sentence, span, trigger, CUI)."
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Rejects CSV (default: <output stem>.rejects.csv)."
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        "-w",
        min=1,
        help="Worker processes (--executor local) or Ray actors (--executor ray).",
    ),
    executor: str = executor_option(),
    ray_address: str | None = ray_address_option(),
    ray_gpus: float = typer.Option(
        0.0, "--ray-gpus", min=0.0, help="GPUs per Ray actor for --engine model/hybrid/llm (e.g. 1 or 0.5)."
    ),
    all_sections: bool = typer.Option(
        False, "--all-sections", help="Also label INDICATION, HISTORY, COMPARISON, TECHNIQUE."
    ),
    link: bool | None = typer.Option(
        None, "--link/--no-link", help="Link mentions to UMLS CUIs (default: on with --evidence)."
    ),
    kb: Path | None = typer.Option(
        None, "--kb", help="Knowledge base folder from `reportlab-nlp ontology build`."
    ),
    engine: Engine = typer.Option(
        Engine.rules,
        "--engine",
        help="rules, model (trained transformer), llm (prompted decoder, e.g. MedGemma-4B-it) or hybrid "
        "(rules + model or llm).",
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Model folder: from `reportlab-nlp train` (model/hybrid) or a local instruction-tuned decoder "
        "checkpoint (llm/hybrid).",
    ),
    prompt: Path | None = typer.Option(
        None,
        "--prompt",
        help="llm: prompt YAML (labels, definitions, few-shot examples; default rules/prompts/chexpert.yml).",
    ),
    review: Path | None = typer.Option(
        None, "--review", help="Hybrid: write rule/model disagreements to this CSV."
    ),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Model engine batch size."),
    device: str = typer.Option("auto", "--device", help="Model engine device: auto, cpu or cuda."),
    chunk_size: int = typer.Option(
        2000, "--chunk-size", min=1, help="Records read per chunk (memory stays flat)."
    ),
    encoding: str = encoding_option(),
    strip_markup: str = strip_markup_option(),
    resume: bool = resume_option(),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details (never report text)."),
) -> None:
    """Label reports with CheXpert-style values (1 positive, 0 negative, -1 uncertain, blank)."""
    setup_logging(verbose)
    from ..errors import ReportLabError

    check_executor(executor)
    run_on = {"executor": executor, "workers": workers, "ray_address": ray_address}
    if engine is not Engine.rules:
        if model is None:
            raise ReportLabError(
                "--engine model/hybrid/llm needs --model DIR (a folder from `reportlab-nlp train` "
                "or a decoder checkpoint)",
                code=E.RL401,
            )
        from ..model.labeling import label_archive_with_model

        decoder_dir = not (model / "label_schema.json").exists() and (model / "config.json").exists()
        if engine is Engine.llm or (engine is Engine.hybrid and decoder_dir):
            from ..model.llm.labeling import label_archive_with_llm

            summary = label_archive_with_llm(
                input,
                output,
                model_dir=model,
                engine=engine.value,
                prompt=prompt,
                id_column=id_column,
                text_column=text_column,
                evidence_path=evidence,
                review_path=review,
                rejects_path=rejects,
                batch_size=batch_size,
                device=device,
                chunk_size=chunk_size,
                show_progress=not quiet,
                resume=resume,
                num_gpus=ray_gpus,
                **run_on,
            )
            if not quiet:
                console.print(
                    f"[green]labelled[/green] {summary['rows_out']} reports -> {output} "
                    f"({summary['rejects']} rejected; {summary['retried']} retried; "
                    f"{summary['unverified_quotes']} unverifiable quotes dropped)",
                    soft_wrap=True,
                )
            return

        summary = label_archive_with_model(
            input,
            output,
            model_dir=model,
            engine=engine.value,
            id_column=id_column,
            text_column=text_column,
            evidence_path=evidence,
            review_path=review,
            rejects_path=rejects,
            batch_size=batch_size,
            device=device,
            chunk_size=chunk_size,
            show_progress=not quiet,
            resume=resume,
            num_gpus=ray_gpus,
            **run_on,
        )
        if not quiet:
            msg = (
                f"[green]labelled[/green] {summary.get('rows_out', 0)} reports -> {output} "
                f"({summary.get('rejects', 0)} rejected"
            )
            msg += (
                f"; {summary.get('windowed_reports', 0)} longer than the encoder window, "
                "split into overlapping windows)"
            )
            console.print(msg, soft_wrap=True)
        return
    if review is not None:
        raise ReportLabError("--review only applies to --engine hybrid", code=E.RL402)
    from ..labeler import label_archive

    with progress(disable=quiet) as bar:
        task = bar.add_task("labelling", total=None, rate="")
        t0 = time.perf_counter()
        done = [0]

        def on_progress(n: int) -> None:
            done[0] += n
            el = time.perf_counter() - t0
            bar.update(task, advance=n, rate=f"{done[0] / el:.0f} reports/s" if el > 0 else "")

        summary = label_archive(
            input,
            output,
            taxonomy=taxonomy,
            id_column=id_column,
            text_column=text_column,
            evidence_path=evidence,
            rejects_path=rejects,
            chunk_size=chunk_size,
            all_sections=all_sections,
            link=link,
            kb=str(kb) if kb else None,
            resume=resume,
            encoding=encoding,
            strip_markup=strip_markup,
            on_progress=on_progress,
            **run_on,
        )
    if not quiet:
        for note in summary.notes:
            console.print(f"[yellow]note[/yellow] {note}")
        msg = f"[green]labelled[/green] {summary.rows_out} reports -> {output}"
        if summary.evidence:
            msg += f"; {summary.mentions} mentions -> {summary.evidence}"
        if summary.rejects:
            msg += f"; [yellow]{summary.rejects} rejected[/yellow] -> {summary.rejects_path}"
        console.print(msg + f" ({summary.reports_per_second:.0f} reports/s)", soft_wrap=True)


@app.command("assertion")
@cli_errors
def assertion_cmd(
    input: Path = typer.Argument(
        ..., help="CSV with columns id,text,start,end (character span of the target in text)."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="CSV with columns id,assertion."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Rejects CSV (default: <output stem>.rejects.csv)."
    ),
    encoding: str = typer.Option("auto", "--encoding", help="Input encoding: auto or any Python codec name."),
) -> None:
    """Classify given target spans: present, absent, possible, historical, hypothetical or other."""
    from ..targets import classify_targets

    run = classify_targets(input, output, rejects_path=rejects, encoding=encoding)
    msg = f"[green]classified[/green] {run.rows_out} targets -> {output}"
    if run.rejects:
        msg += f"; [yellow]{run.rejects} rejected[/yellow] -> {run.rejects_path}"
    console.print(msg)


@app.command("evaluate")
@cli_errors
def evaluate_cmd(
    predictions: Path = typer.Argument(..., help="Label table produced by `label`."),
    gold: Path = typer.Argument(..., help="Gold label table (same id column first; 1/0/-1/blank cells)."),
    taxonomy: str = typer.Option(
        "chexpert", "--taxonomy", "-t", help="chexpert, nih14 or a taxonomy YAML path."
    ),
    positive_only: bool = typer.Option(
        False, "--positive-only", help="Gold codes only presence: 1 = present, anything else = not coded."
    ),
    uncertain_positive: bool = typer.Option(
        False, "--uncertain-positive", help="Count -1 predictions as positive."
    ),
    labels: str | None = typer.Option(None, "--labels", help="Comma-separated subset of labels to score."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the metrics as JSON to this file."),
) -> None:
    """Per-label precision/recall/F1 and macro averages of a label table against gold."""
    from ..batch import guard_paths
    from ..evaluation import evaluate_files, format_report

    guard_paths({"predictions": predictions, "gold": gold}, {"--json": json_out})
    subset = [s.strip() for s in labels.split(",")] if labels else None
    result = evaluate_files(
        predictions,
        gold,
        taxonomy,
        positive_only=positive_only,
        uncertain_positive=uncertain_positive,
        labels=subset,
    )
    out_console.print(format_report(result), highlight=False, markup=False)
    if json_out is not None:
        from ..batch.staging import write_json_atomic

        json_out.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(json_out, result)
