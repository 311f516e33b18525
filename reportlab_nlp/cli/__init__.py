"""``reportlab-nlp`` command line: a thin typer app over the package's plain functions.

Each group of commands lives in its own module and registers itself on ``app``; the modules
import nothing heavy at import time, so ``reportlab-nlp --help`` returns at once.
"""
from __future__ import annotations

import typer

app = typer.Typer(
    name="reportlab-nlp",
    help="Turn radiology reports into CheXpert-style labels with evidence; link concepts; train a transformer labeler; de-identify.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from . import label_cmds  # noqa: E402,F401  label, assertion, evaluate
from . import deid_cmds  # noqa: E402,F401  deid, evaluate-deid
from . import link_cmds  # noqa: E402,F401  link, ontology build
from . import model_cmds  # noqa: E402,F401  train
from . import export_cmds  # noqa: E402,F401  export, report


def main() -> None:
    app(prog_name="reportlab-nlp")


__all__ = ["app", "main"]
