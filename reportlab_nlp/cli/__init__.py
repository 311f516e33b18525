"""``reportlab-nlp`` command line: a thin typer app over the package's plain functions.

Each group of commands lives in its own module and registers itself on ``app``; the modules
import nothing heavy at import time, so ``reportlab-nlp --help`` returns at once.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="reportlab-nlp",
    help="Turn radiology reports into CheXpert-style labels with evidence; link concepts; train a "
    "transformer labeler; de-identify.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from . import (  # noqa: E402  (the command modules register on `app`, defined above)
    deid_cmds,  # noqa: F401  deid, evaluate-deid
    export_cmds,  # noqa: F401  export, report
    label_cmds,  # noqa: F401  label, assertion, evaluate
    link_cmds,  # noqa: F401  link, ontology build
    model_cmds,  # noqa: F401  train
)


def main() -> None:
    app(prog_name="reportlab-nlp")


__all__ = ["app", "main"]
