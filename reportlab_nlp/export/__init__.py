"""The image-trainer feed: label table + image metadata -> files that image trainers load unchanged.

``plan_export`` reads, validates, joins and splits (patient-level, stratified) in on-disk hash
partitions, so its memory does not grow with the input; ``write_export`` writes CheXpert,
MIMIC-CXR or plain CSV files atomically. See docs/export.md.
"""

from __future__ import annotations

from .policies import UncertaintyPolicy, apply_policy, load_policy
from .run import FORMATS, ExportOptions, ExportPlan, check_output_dir, plan_export, write_export
from .splits import parse_split, patient_split, prevalence_table

__all__ = [
    "FORMATS",
    "ExportOptions",
    "ExportPlan",
    "UncertaintyPolicy",
    "apply_policy",
    "check_output_dir",
    "load_policy",
    "parse_split",
    "patient_split",
    "plan_export",
    "prevalence_table",
    "write_export",
]
