"""Shared CLI plumbing: error handling, console, progress bars, logging.

Commands are thin: they parse options and call plain functions elsewhere in the package.
Heavy imports (spaCy, medspaCy, torch) happen inside command bodies so ``--help`` is instant.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import ReportLabError
from ..progress import PLAIN_EVERY, PlainProgress, progress  # noqa: F401  (re-exported for commands)

F = TypeVar("F", bound=Callable)
from ..progress import console  # noqa: E402  one stderr console for progress, errors and notes

out_console = Console()


def cli_errors(fn: F) -> F:
    """Turn a user mistake (ReportLabError) into one clear line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ReportLabError as err:
            # the message is text, not markup: "pip install 'reportlab-nlp[ray]'" keeps its brackets
            console.print(
                f"[bold red]error[/bold red] {escape(str(err))}", markup=True, highlight=False, soft_wrap=True
            )
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/yellow]")
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr. Log records carry ids, counts and paths only, never report text."""
    from rich.logging import RichHandler

    level = logging.INFO if verbose else logging.WARNING
    root = logging.getLogger("reportlab_nlp")
    root.setLevel(level)
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        root.addHandler(RichHandler(console=console, show_path=False, show_time=False))
    # medspaCy/PyRuSH log noisily through loguru/logging; keep them quiet
    for noisy in ("PyRuSH", "medspacy", "spacy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# ---------------------------------------------------------------- options every archive command shares
def encoding_option() -> str:
    return typer.Option(
        "auto",
        "--encoding",
        help="Input encoding: auto (BOM sniffing, UTF-16/32, else UTF-8) or any Python codec name.",
    )


def strip_markup_option() -> str:
    return typer.Option(
        "none", "--strip-markup", help="Strip markup from report text: auto, html, rtf or none."
    )


def resume_option() -> bool:
    return typer.Option(
        False,
        "--resume",
        help="Continue an interrupted run from its last completed chunk (<output>.partial/).",
    )


def executor_option() -> str:
    return typer.Option(
        "local", "--executor", help="local (this machine) or ray (Ray Data actors; pip install '.[ray]')."
    )


def ray_address_option() -> str | None:
    return typer.Option(
        None, "--ray-address", help="Ray cluster: auto, ray://host:10001 (default: start a local Ray)."
    )


def check_executor(executor: str) -> None:
    """RL020 for an executor name the runner does not know."""
    from ..batch import EXECUTORS
    from ..errors import ArgumentError, E

    if executor not in EXECUTORS:
        raise ArgumentError(
            f"unknown --executor {executor!r}; expected one of {', '.join(EXECUTORS)}", code=E.RL020
        )
