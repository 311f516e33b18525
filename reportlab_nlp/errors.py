"""Coded, actionable errors, and the one registry of their codes.

Every error a user can cause carries a stable code (``RL###``) and a message that
names the record or file and the problem. Messages never contain report text:
callers pass identifiers, column names, paths and counts only.

Each code is registered exactly once in :class:`E` with its name, its meaning and how it
reaches the user: raised as an exception class (``str(err) == "[RL###] message"``) or written
as a row of a rejects file (``reject``). Raise sites name the code through the registry::

    raise ArgumentError(f"span {start}:{end} is outside the text", code=E.RL121)
    rejects.append(Reject(rid, "duplicate record id", E.RL104))

``docs/errors.md`` is generated from the registry: ``python -m reportlab_nlp.errors --markdown``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Final

REJECT: Final = "reject"  # the ``raised_as`` of codes that are written as rejects rows, never raised


@dataclass(frozen=True)
class ErrorCode:
    """One registered code: ``code`` (``RL###``), a ``name`` (snake_case), its one ``meaning``,
    and ``raised_as``: the exception class name(s) that carry it, or ``"reject"``."""

    code: str
    name: str
    meaning: str
    raised_as: str


REGISTRY: dict[str, ErrorCode] = {}


def _reg(code: str, name: str, meaning: str, raised_as: str) -> str:
    """Register ``code`` once; returns the code string that raise sites and rejects use."""
    if code in REGISTRY:
        raise RuntimeError(f"error code {code} registered twice")  # a programming error, at import
    if any(e.name == name for e in REGISTRY.values()):
        raise RuntimeError(f"error name {name} registered twice")
    REGISTRY[code] = ErrorCode(code, name, meaning, raised_as)
    return code


class E:
    """The registry: one attribute per code (``E.RL101 == "RL101"``); details in ``REGISTRY``."""

    # ---- 0xx: calls and command-line arguments
    RL000 = _reg(
        "RL000", "unspecified", "A user-fixable error without a more specific code.", "ReportLabError"
    )
    RL001 = _reg(
        "RL001",
        "link_phrases_or_text",
        "`link` needs either PHRASE... or --text (not both, not neither).",
        "ReportLabError",
    )
    RL002 = _reg(
        "RL002",
        "ontology_umls_or_table",
        "`ontology build` takes --umls or --table, not both.",
        "ReportLabError",
    )
    RL020 = _reg(
        "RL020",
        "bad_argument",
        "A public function was called with an argument it cannot use.",
        "ArgumentError",
    )
    # ---- 1xx: reading the input
    RL100 = _reg(
        "RL100",
        "input_unreadable",
        "The input file cannot be read as a report table (missing, empty, no header, unknown format).",
        "InputFormatError",
    )
    RL101 = _reg(
        "RL101", "column_missing", "A required column (id or text) is missing or ambiguous.", "ColumnError"
    )
    RL102 = _reg(
        "RL102", "record_unusable", "One record is unusable (generic record-level code).", "RecordError"
    )
    RL103 = _reg("RL103", "record_id_missing", "The record has no id.", REJECT)
    RL104 = _reg("RL104", "record_id_duplicate", "The record id appears more than once in the input.", REJECT)
    RL105 = _reg("RL105", "text_missing", "The record's report text is missing.", REJECT)
    RL106 = _reg("RL106", "text_not_string", "The record's report text is not a string.", REJECT)
    RL107 = _reg("RL107", "text_empty", "The record's report text is empty (after markup stripping).", REJECT)
    RL108 = _reg("RL108", "jsonl_line_invalid", "A JSONL line is not a JSON object.", REJECT)
    RL109 = _reg("RL109", "txt_file_unreadable", "A .txt report file cannot be read or decoded.", REJECT)
    RL110 = _reg(
        "RL110", "report_too_long", "The report is longer than the labeler's character limit.", REJECT
    )
    RL111 = _reg(
        "RL111", "pipeline_failed", "The rule pipeline failed on this record (exception type named).", REJECT
    )
    RL112 = _reg(
        "RL112",
        "no_words",
        "The text has no alphabetic word of 2+ letters: nothing that could be a report.",
        REJECT,
    )
    RL113 = _reg(
        "RL113", "record_undecodable", "The record's bytes are not valid in the file's encoding.", REJECT
    )
    RL114 = _reg(
        "RL114",
        "broken_quote",
        "CSV/TSV quoting is broken: the damaged lines are rejected, reading goes on.",
        REJECT,
    )
    RL115 = _reg("RL115", "field_count", "A CSV/TSV record has more or fewer fields than the header.", REJECT)
    RL116 = _reg(
        "RL116", "bad_unicode", "The text holds an unpaired surrogate (e.g. a JSON \\ud800 escape).", REJECT
    )
    RL117 = _reg(
        "RL117",
        "markup_unstrippable",
        "HTML/RTF markup cannot be stripped, or a stripped-text offset cannot be mapped back.",
        f"MarkupError; {REJECT}",
    )
    RL118 = _reg(
        "RL118",
        "file_undecodable",
        "The file cannot be decoded at all (its header is not valid in the encoding).",
        "EncodingError",
    )
    RL119 = _reg(
        "RL119",
        "input_option",
        "An input option is invalid: an unknown encoding or strip_markup value.",
        "InputOptionError",
    )
    RL120 = _reg("RL120", "target_offsets", "A target row's start/end are not integers.", REJECT)
    RL121 = _reg(
        "RL121", "span_outside_text", "A target span lies outside its text.", f"ArgumentError; {REJECT}"
    )
    RL122 = _reg(
        "RL122", "span_misaligned", "A target span does not align with tokens.", f"ArgumentError; {REJECT}"
    )
    # ---- 2xx: rules, taxonomies, ontologies and other data files
    RL200 = _reg(
        "RL200", "rules_invalid", "A rules, taxonomy or word-list file is missing or invalid.", "RulesError"
    )
    RL201 = _reg(
        "RL201",
        "package_data_missing",
        "The packaged rules/ or ontologies/ folder is missing; reinstall reportlab-nlp.",
        "RulesError",
    )
    RL202 = _reg(
        "RL202",
        "word_list_invalid",
        "A word-list data file (rules/ or ontologies/) does not follow its schema.",
        "RulesError",
    )
    RL210 = _reg(
        "RL210",
        "kb_missing",
        "A linking knowledge base does not exist or has an unsupported file type.",
        "RulesError",
    )
    RL211 = _reg("RL211", "concept_table_invalid", "A concept table or KB record is invalid.", "RulesError")
    RL212 = _reg(
        "RL212",
        "umls_invalid",
        "A UMLS release directory is missing, lacks a file or holds a malformed row.",
        "RulesError",
    )
    RL213 = _reg(
        "RL213", "umls_empty", "No UMLS concept passes the language/source/TUI filters.", "RulesError"
    )
    # ---- 3xx: writing outputs
    RL300 = _reg("RL300", "output_unwritable", "An output cannot be written.", "OutputError")
    RL301 = _reg(
        "RL301",
        "output_is_input",
        "An output path names an input: refused before writing.",
        "OutputCollisionError",
    )
    RL302 = _reg(
        "RL302",
        "outputs_collide",
        "Two outputs name the same path: refused before writing.",
        "OutputCollisionError",
    )
    RL303 = _reg(
        "RL303",
        "resume_mismatch",
        "--resume cannot continue the interrupted run (changed input or options).",
        "ResumeError",
    )
    RL304 = _reg(
        "RL304",
        "resume_needs_secret",
        "--resume in surrogate mode needs --secret-file, or the replacements would differ.",
        "ResumeError",
    )
    RL320 = _reg(
        "RL320",
        "ray_missing",
        "--executor ray needs Ray Data, which is not installed (pip install 'reportlab-nlp[ray]').",
        "ReportLabError",
    )
    RL321 = _reg(
        "RL321", "ray_connect", "Cannot connect to the Ray cluster named by --ray-address.", "ReportLabError"
    )
    RL322 = _reg(
        "RL322",
        "ray_run_failed",
        "The Ray run failed (a worker died or Ray failed); completed chunks are kept for --resume.",
        "ReportLabError",
    )
    # ---- 4xx: models
    RL400 = _reg("RL400", "model_unusable", "A model directory, encoder or device is unusable.", "ModelError")
    RL401 = _reg(
        "RL401", "model_option_missing", "--engine model/hybrid/llm needs --model DIR.", "ReportLabError"
    )
    RL402 = _reg(
        "RL402", "review_needs_hybrid", "--review only applies to --engine hybrid.", "ReportLabError"
    )
    RL410 = _reg("RL410", "model_inference_failed", "Model inference failed on this record.", REJECT)
    RL411 = _reg(
        "RL411", "hybrid_rules_failed", "The rule labeler failed on this record in a hybrid run.", REJECT
    )
    RL420 = _reg(
        "RL420", "lora_base_missing", "The LoRA base checkpoint of a model is not found.", "ModelError"
    )
    RL421 = _reg(
        "RL421",
        "adapter_invalid",
        "A model's LoRA adapter is missing or does not fit its base checkpoint.",
        "ModelError",
    )
    RL430 = _reg("RL430", "prompt_invalid", "A prompt file is unusable.", "PromptError")
    RL431 = _reg(
        "RL431",
        "prompt_label_unknown",
        "A prompt names a label its taxonomy or definitions lack.",
        "PromptError",
    )
    RL432 = _reg(
        "RL432",
        "prompt_evidence_not_quoted",
        "A prompt example's evidence is not copied from its example report.",
        "PromptError",
    )
    RL440 = _reg(
        "RL440",
        "not_a_generative_model",
        "--model is missing or not a usable local generative (decoder) checkpoint.",
        "ModelError",
    )
    RL441 = _reg("RL441", "llm_backend", "The LLM backend is unknown or not available here.", "ModelError")
    RL450 = _reg("RL450", "llm_no_valid_answer", "The LLM gave no valid answer in its attempts.", REJECT)
    RL451 = _reg("RL451", "llm_report_too_long", "The report is longer than the model's context.", REJECT)
    RL452 = _reg("RL452", "llm_failed", "The LLM backend failed on this record.", REJECT)
    # ---- 5xx: evaluation
    RL500 = _reg(
        "RL500",
        "gold_mismatch",
        "A gold table for evaluation does not match the predictions.",
        "GoldTableError",
    )
    # ---- 6xx: de-identification
    RL610 = _reg(
        "RL610", "deid_failed", "De-identification failed on this record; the record is withheld.", REJECT
    )
    RL611 = _reg(
        "RL611",
        "secret_file",
        "The secret file cannot be read or holds fewer than 8 bytes.",
        "ReportLabError",
    )
    RL612 = _reg("RL612", "deid_mode", "Unknown de-identification mode.", "ReportLabError")
    RL620 = _reg(
        "RL620", "deid_model_not_dir", "A de-id model path (--model) is not a directory.", "DeidModelError"
    )
    RL621 = _reg(
        "RL621",
        "deid_model_config",
        "A de-id model's deid_model.json is missing, unreadable, from another format or inconsistent.",
        "DeidModelError",
    )
    RL622 = _reg(
        "RL622",
        "deid_model_weights",
        "A de-id model's or encoder's weights or fast tokenizer are missing or do not match its labels.",
        "DeidModelError",
    )
    RL623 = _reg(
        "RL623",
        "deid_gold_invalid",
        "A gold file for `deid train` (id,text or id,start,end,category) is missing or malformed.",
        "GoldTableError",
    )
    RL624 = _reg(
        "RL624",
        "deid_model_output_exists",
        "`deid train -o` names a folder that exists (use --overwrite) or cannot be created.",
        "DeidModelError",
    )
    RL625 = _reg(
        "RL625", "deid_no_training_data", "`deid train` was given no training data.", "DeidModelError"
    )
    # ---- 70x: export/report options and files
    RL700 = _reg(
        "RL700",
        "export_format",
        "export/report cannot run with these options (e.g. a bad --format).",
        "ExportError",
    )
    RL701 = _reg(
        "RL701",
        "export_input_unreadable",
        "An export/report input (labels, metadata, rejects, review) is missing, unreadable or lacks columns.",
        "ExportError",
    )
    RL702 = _reg(
        "RL702",
        "export_output_folder",
        "The export folder is a file, or not empty (without --overwrite).",
        "ExportError",
    )
    RL703 = _reg("RL703", "export_split", "Bad --split fractions.", "ExportError")
    RL704 = _reg(
        "RL704", "export_policy", "Bad --uncertain policy, policy file or --blank-as.", "ExportError"
    )
    RL705 = _reg("RL705", "export_columns", "Bad --columns, --preset or path template.", "ExportError")
    RL706 = _reg(
        "RL706",
        "export_absolute_paths",
        "Absolute metadata paths without --image-root, or paths outside it.",
        "ExportError",
    )
    RL707 = _reg(
        "RL707", "export_labels_missing", "The chosen --format needs the CheXpert labels.", "ExportError"
    )
    RL708 = _reg("RL708", "export_nothing_joined", "No image could be joined to a report.", "ExportError")
    RL709 = _reg("RL709", "evidence_unreadable", "The evidence file is not valid JSON Lines.", "ExportError")
    # ---- 71x: export rejects (rows of the export's rejects file)
    RL710 = _reg(
        "RL710", "image_without_report", "An image whose report id is not in the label table.", REJECT
    )
    RL711 = _reg("RL711", "report_without_image", "A report with no image in the metadata.", REJECT)
    RL712 = _reg(
        "RL712", "key_cell_empty", "A key cell (report id, patient id, path or image id) is empty.", REJECT
    )
    RL713 = _reg("RL713", "image_id_duplicate", "An image id appears more than once in the metadata.", REJECT)
    RL714 = _reg("RL714", "view_unknown", "The view is not one of rules/export.yml's spellings.", REJECT)
    RL715 = _reg("RL715", "age_invalid", "The age is not a number, or outside age_range.", REJECT)
    RL716 = _reg(
        "RL716", "report_id_duplicate", "A report id appears more than once in the label table.", REJECT
    )
    RL717 = _reg("RL717", "sex_unknown", "The sex is not one of rules/export.yml's spellings.", REJECT)
    RL718 = _reg("RL718", "label_cell_invalid", "A label cell is not 1, 0, -1 or blank.", REJECT)
    RL719 = _reg("RL719", "report_many_patients", "A report whose images name more than one patient.", REJECT)
    # ---- 9xx: internal
    RL900 = _reg(
        "RL900",
        "internal_error",
        "An internal invariant failed (accounting, chunk order, missing stage): please report it.",
        "ReportLabError; OutputError",
    )


class ReportLabError(Exception):
    """Base class for errors a user can fix. ``str(err)`` is ``"[RL###] message"``."""

    code: str = E.RL000

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        self.code = code or type(self).code
        self.message = message
        self.hint = hint
        super().__init__(f"[{self.code}] {message}" + (f" ({hint})" if hint else ""))


class InputFormatError(ReportLabError):
    """The input file cannot be read as a report table."""

    code = E.RL100


class ColumnError(ReportLabError):
    """A required column is missing or ambiguous."""

    code = E.RL101


class RecordError(ReportLabError):
    """One record is unusable; it goes to the rejects file, the batch goes on."""

    code = E.RL102

    def __init__(self, record_id: str, reason: str, *, code: str | None = None) -> None:
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"record {record_id!r}: {reason}", code=code)


class RulesError(ReportLabError):
    """A rules, taxonomy or ontology file is invalid."""

    code = E.RL200


class OutputError(ReportLabError):
    """The output cannot be written."""

    code = E.RL300


class OutputCollisionError(OutputError):
    """An output path names an input or another output (RL301, RL302): refused before writing."""

    code = E.RL301


class ResumeError(OutputError):
    """``--resume`` cannot continue the interrupted run (changed input or options: RL303)."""

    code = E.RL303


class ArgumentError(ReportLabError, ValueError):
    """A public function was called with an argument it cannot use (RL020)."""

    code = E.RL020


class ModelError(ReportLabError):
    """A model directory, encoder or device is unusable."""

    code = E.RL400


class GoldTableError(ReportLabError):
    """A gold table for evaluation does not match the predictions."""

    code = E.RL500


class ExportError(ReportLabError):
    """``export``/``report`` cannot run with these inputs or options (RL700 to RL709).

    Record-level problems of an export (RL710 and up) are not raised: they go to the rejects file.
    """

    code = E.RL700


# Record-level reject codes of the input reader (``reportlab_nlp.inputs``); each names the record
# (id, or ``<line N>`` / ``<lines N-M>`` when no id can be trusted) and never holds report text.
REJECT_NO_WORDS: Final = E.RL112
REJECT_UNDECODABLE: Final = E.RL113
REJECT_BROKEN_QUOTE: Final = E.RL114
REJECT_FIELD_COUNT: Final = E.RL115
REJECT_BAD_UNICODE: Final = E.RL116
REJECT_MARKUP: Final = E.RL117


class MarkupError(ReportLabError):
    """Markup cannot be stripped, or a stripped-text offset cannot be mapped to the source."""

    code = E.RL117


class EncodingError(InputFormatError):
    """The file cannot be decoded at all (its header is not valid in the encoding)."""

    code = E.RL118


class InputOptionError(ReportLabError):
    """An input option is invalid: an unknown ``encoding`` or ``strip_markup`` value."""

    code = E.RL119


def lookup(code: str) -> ErrorCode:
    """The registry entry of ``code`` (``KeyError`` if it is not registered)."""
    return REGISTRY[code]


def markdown() -> str:
    """``docs/errors.md``: every registered code, grouped by hundred, from the registry."""
    groups = {
        "0": "Calls and command-line arguments",
        "1": "Reading the input",
        "2": "Rules, taxonomies, ontologies and data files",
        "3": "Writing outputs",
        "4": "Models",
        "5": "Evaluation",
        "6": "De-identification",
        "7": "Export and report",
        "9": "Internal",
    }
    lines = [
        "# Error codes",
        "",
        "<!-- generated by `python -m reportlab_nlp.errors --markdown` from the registry in",
        "     reportlab_nlp/errors.py; do not edit by hand (tests/test_errors_registry.py checks it) -->",
        "",
        "Every error a user can fix prints as `[RL###] message` (exit code 2 on the command line); a",
        "problem with one record never stops a batch: the record goes to the rejects file with its code",
        '(rows in = rows out + rejects). "raised as" names the exception class; `reject` marks a code',
        "that is written as a rejects row. Messages and reasons never hold report text.",
    ]
    for digit, title in groups.items():
        entries = [e for e in REGISTRY.values() if e.code[2] == digit]
        if not entries:
            continue
        lines += [
            "",
            f"## RL{digit}xx: {title}",
            "",
            "| Code | Name | Raised as | Meaning |",
            "|---|---|---|---|",
        ]
        for e in sorted(entries, key=lambda e: e.code):
            lines.append(f"| {e.code} | `{e.name}` | {e.raised_as} | {e.meaning.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m reportlab_nlp.errors --markdown``: print docs/errors.md."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--markdown"]:
        print("usage: python -m reportlab_nlp.errors --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
