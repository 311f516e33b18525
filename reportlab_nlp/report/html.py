"""Assemble the self-contained QA report: inline CSS and SVG charts, no script, no external resource.

Report text (evidence sentences) appears only in the HTML page, never in logs or errors.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path

from .charts import bar_chart, heatmap, prevalence_chart
from .data import ReportData
from .spans import Mark, render_sentence

CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ddd;padding:.2em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}
.chart svg{max-width:100%;height:auto}
.report{border:1px solid #e5e5e5;border-radius:6px;padding:.5em 1em;margin:.5em 0;background:#fafafa}
.rid{font-size:.8em;color:#666}
mark.ent{background:#fde2b8;padding:0 .15em;border-radius:3px}
mark.ent::after{content:attr(data-label);font-size:.65em;font-weight:bold;margin-left:.3em;color:#7a4a00}
mark.trigger{background:#d6eaf8;padding:0 .15em;border-radius:3px;font-style:italic}
span.phi{background:#333;color:#fff;padding:0 .2em;border-radius:3px;font-size:.85em}
.value-1{color:#c0392b}.value0{color:#2e86c1}.value-neg{color:#f39c12}
"""

Redactor = Callable[[str], list]


def _table(headers, rows, cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _value(v) -> str:
    return {1.0: "positive", 0.0: "negative", -1.0: "uncertain"}.get(v, "not mentioned")


def _samples(data: ReportData, redactor: Redactor | None) -> str:
    parts = []
    for label, reports in data.samples.items():
        if not reports:
            continue
        parts.append(f"<h3>{html.escape(label)}</h3>")
        for rep in reports:
            lines = []
            for s in rep["sentences"]:
                marks = []
                for m in s["mentions"]:
                    marks.append(
                        Mark(
                            int(m["start"]),
                            int(m["end"]),
                            "ent",
                            f"{m.get('label')}: {m.get('assertion', '')}".rstrip(": "),
                        )
                    )
                    ts, te = m.get("trigger_start"), m.get("trigger_end")
                    if ts is not None and te is not None and ts == ts and te == te:
                        marks.append(Mark(int(ts), int(te), "trigger"))
                unique = list(dict.fromkeys(marks))
                phi = [(sp.start, sp.end, sp.category) for sp in redactor(s["sentence"])] if redactor else []
                section = html.escape(str(s["mentions"][0].get("section", "")))
                lines.append(
                    f'<p class="sentence" data-section="{section}">'
                    f"{render_sentence(s['sentence'], s['sentence_start'], unique, phi)}</p>"
                )
            parts.append(
                f'<div class="report" data-report-id="{html.escape(rep["report_id"])}" '
                f'data-label="{html.escape(label)}"><div class="rid">report {html.escape(rep["report_id"])}'
                f"</div>{''.join(lines)}</div>"
            )
    return "".join(parts) or "<p>No evidence file given (<code>--evidence</code>).</p>"


def render_html(
    data: ReportData, title: str = "reportlab-nlp QA report", redactor: Redactor | None = None
) -> str:
    prev = data.prevalence
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{data.n_reports} labelled reports; {data.label_rejects} label rows rejected. "
        f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.</p>",
        '<h2 id="prevalence">Prevalence per label and value</h2>',
        f'<div class="chart" id="chart-prevalence">{prevalence_chart(prev)}</div>',
        _table(
            ["label", "positive (1)", "negative (0)", "uncertain (-1)", "blank"],
            [
                [lab, *prev.loc[lab, ["positive", "negative", "uncertain", "blank"]].tolist()]
                for lab in prev.index
            ],
            "prevalence",
        ),
    ]
    sections.append('<h2 id="sections">Section patterns and rejects</h2>')
    if data.section_patterns is not None and len(data.section_patterns):
        total = int(data.section_patterns.sum())
        sections.append(
            f'<div class="chart" id="chart-sections">'
            f"{bar_chart(data.section_patterns, 'Reports per section pattern', 'reports')}</div>"
        )
        sections.append(
            _table(
                ["section pattern", "reports", "share %"],
                [[p, int(n), f"{100 * n / total:.1f}"] for p, n in data.section_patterns.items()],
                "sections",
            )
        )
    else:
        sections.append("<p>Section patterns need the evidence file (<code>--evidence</code>).</p>")
    if data.rejects_by_code:
        import pandas as pd

        counts = pd.Series(data.rejects_by_code)
        sections.append(
            f'<div class="chart" id="chart-rejects">{bar_chart(counts, "Rejects per code", "records")}</div>'
        )
        sections.append(_table(["code", "records"], list(data.rejects_by_code.items()), "rejects"))
    else:
        sections.append("<p>No rejects.</p>")
    sections.append('<h2 id="cooccurrence">Co-occurrence of positive labels</h2>')
    sections.append(f'<div class="chart" id="chart-cooccurrence">{heatmap(data.cooccurrence)}</div>')
    if data.disagreements is not None:
        d = data.disagreements
        sections.append('<h2 id="disagreements">Rule / model disagreements</h2>')
        sections.append(
            _table(["label", "rule value", "model value", "cells"], d.values.tolist(), "disagreements")
        )
    sections.append('<h2 id="samples">Sampled reports with evidence</h2>')
    sections.append(
        "<p>Mentions are highlighted with their label and assertion; triggers (negation, "
        "uncertainty cues) in blue." + (" PHI is masked." if redactor else "") + "</p>"
    )
    sections.append(_samples(data, redactor))
    body = "\n".join(sections)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def write_report(data: ReportData, path: Path, redactor: Redactor | None = None) -> None:
    from ..errors import OutputError
    from ..outputs import publish, temp_path

    tmp = temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(render_html(data, redactor=redactor), encoding="utf-8")
        publish(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {err.strerror}") from None
