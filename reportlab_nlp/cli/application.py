"""The ``reportlab-nlp`` typer app that every command module registers on.

Its own module (below ``reportlab_nlp.cli`` and the ``*_cmds`` modules), so the command modules
import it without importing their own package: no import cycle.
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
