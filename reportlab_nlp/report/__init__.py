"""The HTML QA report (``reportlab-nlp report``): prevalence, section patterns, rejects,
co-occurrence and sampled reports with highlighted evidence, in one self-contained file."""

from __future__ import annotations

from .data import ReportData, build_report_data
from .html import render_html, write_report
from .spans import Mark, render_sentence

__all__ = ["Mark", "ReportData", "build_report_data", "render_html", "render_sentence", "write_report"]
