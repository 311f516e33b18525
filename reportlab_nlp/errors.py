"""Coded, actionable errors.

Every error a user can cause carries a stable code (``RL###``) and a message that
names the record or file and the problem. Messages never contain report text:
callers pass identifiers, column names, paths and counts only.
"""

from __future__ import annotations


class ReportLabError(Exception):
    """Base class for errors a user can fix. ``str(err)`` is ``"[RL###] message"``."""

    code = "RL000"

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None):
        self.code = code or type(self).code
        self.message = message
        self.hint = hint
        super().__init__(f"[{self.code}] {message}" + (f" ({hint})" if hint else ""))


class InputFormatError(ReportLabError):
    """The input file cannot be read as a report table."""

    code = "RL100"


class ColumnError(ReportLabError):
    """A required column is missing or ambiguous."""

    code = "RL101"


class RecordError(ReportLabError):
    """One record is unusable; it goes to the rejects file, the batch goes on."""

    code = "RL102"

    def __init__(self, record_id: str, reason: str, *, code: str | None = None):
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"record {record_id!r}: {reason}", code=code)


class RulesError(ReportLabError):
    """A rules, taxonomy or ontology file is invalid."""

    code = "RL200"


class OutputError(ReportLabError):
    """The output cannot be written."""

    code = "RL300"


class OutputCollisionError(OutputError):
    """An output path names an input or another output (RL301, RL302): refused before writing."""

    code = "RL301"


class ResumeError(OutputError):
    """``--resume`` cannot continue the interrupted run (changed input or options: RL303)."""

    code = "RL303"


class ArgumentError(ReportLabError, ValueError):
    """A public function was called with an argument it cannot use (RL020)."""

    code = "RL020"


class ModelError(ReportLabError):
    """A model directory, encoder or device is unusable."""

    code = "RL400"


class GoldTableError(ReportLabError):
    """A gold table for evaluation does not match the predictions."""

    code = "RL500"


class ExportError(ReportLabError):
    """``export``/``report`` cannot run with these inputs or options (RL700-RL709).

    Record-level problems of an export (RL710-RL729) are not raised: they go to the rejects file.
    """

    code = "RL700"


# Record-level reject codes of the input reader (``reportlab_nlp.inputs``); each names the record
# (id, or ``<line N>`` / ``<lines N-M>`` when no id can be trusted) and never holds report text.
REJECT_NO_WORDS = "RL112"  # the text has no alphabetic word of 2+ letters: nothing that could be a report
REJECT_UNDECODABLE = "RL113"  # the record's bytes are not valid in the file's encoding (named in the reason)
REJECT_BROKEN_QUOTE = "RL114"  # CSV/TSV quoting is broken: the damaged lines are rejected, reading goes on
REJECT_FIELD_COUNT = "RL115"  # a CSV/TSV record has more or fewer fields than the header
REJECT_BAD_UNICODE = "RL116"  # the text holds an unpaired surrogate (e.g. a JSON "\ud800" escape)
REJECT_MARKUP = "RL117"  # the record's HTML/RTF markup cannot be stripped


class MarkupError(ReportLabError):
    """Markup cannot be stripped, or a stripped-text offset cannot be mapped to the source."""

    code = "RL117"


class EncodingError(InputFormatError):
    """The file cannot be decoded at all (its header is not valid in the encoding)."""

    code = "RL118"


class InputOptionError(ReportLabError):
    """An input option is invalid: an unknown ``encoding`` or ``strip_markup`` value."""

    code = "RL119"
