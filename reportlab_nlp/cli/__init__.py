"""``reportlab-nlp`` command line: a thin typer app over the package's plain functions.

Each group of commands lives in its own module and registers itself on ``app``
(``reportlab_nlp.cli.application``); the modules import nothing heavy at import time, so
``reportlab-nlp --help`` returns at once.
"""

from __future__ import annotations

from . import (
    deid_cmds,  # noqa: F401  deid, evaluate-deid
    export_cmds,  # noqa: F401  export, report
    label_cmds,  # noqa: F401  label, assertion, evaluate
    link_cmds,  # noqa: F401  link, ontology build
    model_cmds,  # noqa: F401  train
)
from .application import app


def main() -> None:
    app(prog_name="reportlab-nlp")


__all__ = ["app", "main"]
