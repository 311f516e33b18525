"""HTML/RTF markup stripping (issue 10, item 6): detection, line breaks, offset maps, and the
``strip_markup=`` option of the reader. Every fixture is written here, in ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reportlab_nlp.errors import InputOptionError, MarkupError
from reportlab_nlp.inputs import ReportSource, prepare_records
from reportlab_nlp.markup import OffsetMap, detect_markup, span_in_source, strip_html, strip_markup, strip_rtf

HTML_REPORT = "FINDINGS: Large right pleural effusion.<br/>No pneumothorax.<br/>IMPRESSION: Effusion."
RTF_REPORT = (
    r"{\rtf1\ansi\deff0 {\fonttbl{\f0 Arial;}}\f0\fs20 FINDINGS: Large right pleural effusion."
    r"\par No pneumothorax.\par}"
)


# ------------------------------------------------------------------ detection
@pytest.mark.parametrize(
    "text",
    [
        "Nodule size < 2 cm, stable.",
        "Nodule <2 cm and >1 cm.",
        "a <b> c is not markup without its closing tag",
        "PTX <5%; effusion > 1 L",
        "Tom &amp; Jerry",
        "<unknown> tag-like words",
        "{rtf} is not RTF",
    ],
)
def test_plain_text_is_not_markup(text: str) -> None:
    assert detect_markup(text) == "none"
    assert strip_markup(text, "auto") == (text, None)


@pytest.mark.parametrize(
    "text",
    [
        "Normal heart.<br/>No effusion.",
        "Normal heart.<BR>No effusion.",
        "<p>No effusion</p>",
        '<div class="report">No effusion</div>',
        "No <b>effusion</b>",
        "<!DOCTYPE html><html><body>ok</body></html>",
        "<table><tr><td>Heart</td><td>normal</td></tr></table>",
    ],
)
def test_html_is_detected(text: str) -> None:
    assert detect_markup(text) == "html"


def test_rtf_is_detected() -> None:
    assert detect_markup(RTF_REPORT) == "rtf"
    assert detect_markup("  \n{\\rtf1 x}") == "rtf"


# ------------------------------------------------------------------ HTML
def test_br_and_block_elements_become_single_newlines() -> None:
    text, omap = strip_html(HTML_REPORT)
    assert text == "FINDINGS: Large right pleural effusion.\nNo pneumothorax.\nIMPRESSION: Effusion."
    assert omap.exact and omap.kind == "html"
    text, _ = strip_html("<html><body><p>Heart normal.</p><p>No <b>pleural</b> effusion.</p></body></html>")
    assert text == "Heart normal.\nNo pleural effusion.\n"


def test_html_offsets_map_back_to_the_source() -> None:
    text, omap = strip_html(HTML_REPORT)
    start = text.index("pneumothorax")
    src_start, src_end = omap.to_source(start, start + len("pneumothorax"))
    assert HTML_REPORT[src_start:src_end] == "pneumothorax"
    # every character of data maps onto itself
    for i, ch in enumerate(text):
        s, e = omap.to_source(i, i + 1)
        assert HTML_REPORT[s:e] == ch or HTML_REPORT[s:e] == "<br/>"
    assert omap.to_source(0, len(text)) == (0, len(HTML_REPORT))
    assert omap.to_source(3, 3) == (3, 3)
    assert omap.to_source(len(text), len(text)) == (len(HTML_REPORT), len(HTML_REPORT))


def test_entities_are_decoded_and_map_to_the_whole_entity() -> None:
    src = "<p>Size &lt; 2&nbsp;cm &amp; stable &#x41;&#66; &unknown;</p>"
    text, omap = strip_html(src)
    assert text == "Size < 2 cm & stable AB &unknown;\n"
    lt = text.index("<")
    assert src[slice(*omap.to_source(lt, lt + 1))] == "&lt;"
    amp = text.index("&")
    assert src[slice(*omap.to_source(amp, amp + 1))] == "&amp;"
    assert src[slice(*omap.to_source(lt - 5, lt + 3))] == "Size &lt; 2"


def test_script_style_and_comments_are_dropped() -> None:
    src = "<style>p {color: red}</style><script>var a = '<p>';</script><!-- hidden -->No effusion."
    text, omap = strip_html(src)
    assert text == "No effusion."
    assert src[slice(*omap.to_source(0, len(text)))] == "No effusion."


def test_span_in_source_says_what_the_offsets_index() -> None:
    text, html_map = strip_html(HTML_REPORT)
    start = text.index("pneumothorax")
    s, e, indexes = span_in_source(html_map, start, start + 12)
    assert (HTML_REPORT[s:e], indexes) == ("pneumothorax", "source")
    assert span_in_source(None, 3, 7) == (3, 7, "source")
    _, rtf_map = strip_rtf(RTF_REPORT)
    assert span_in_source(rtf_map, 3, 7) == (3, 7, "stripped")


def test_offset_map_rejects_spans_outside_the_text() -> None:
    _, omap = strip_html("<p>ok</p>")
    with pytest.raises(MarkupError) as err:
        omap.to_source(0, 99)
    assert str(err.value) == "[RL117] span 0:99 is outside the stripped text (length 3)"


# ------------------------------------------------------------------ RTF
def test_rtf_par_becomes_a_newline_and_offsets_are_flagged_inexact() -> None:
    text, omap = strip_rtf(RTF_REPORT)
    assert text == "FINDINGS: Large right pleural effusion.\nNo pneumothorax.\n"
    assert isinstance(omap, OffsetMap)
    assert (omap.kind, omap.exact, omap.source_length, omap.text_length) == (
        "rtf",
        False,
        len(RTF_REPORT),
        len(text),
    )
    with pytest.raises(MarkupError) as err:
        omap.to_source(0, 5)
    assert err.value.code == "RL117"
    assert str(err.value) == "[RL117] RTF offsets index the stripped text; no source positions are known"


def test_modes() -> None:
    assert strip_markup(HTML_REPORT, "none") == (HTML_REPORT, None)
    assert strip_markup(RTF_REPORT, "html") == (RTF_REPORT, None)  # no HTML in it: unchanged
    assert strip_markup("Plain <br> report", "rtf") == (
        "Plain <br> report",
        None,
    )  # rtf mode: RTF records only
    assert strip_markup("Plain report, no markup.", "html") == ("Plain report, no markup.", None)
    with pytest.raises(InputOptionError) as err:
        strip_markup("x", "markdown")
    assert str(err.value) == "[RL119] unknown markup mode 'markdown'; expected one of none, auto, html, rtf"


# ------------------------------------------------------------------ reader
def _csv(tmp_path: Path) -> Path:
    p = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "report_id": ["h", "r", "p", "e"],
            "report": [HTML_REPORT, RTF_REPORT, "Nodule size < 2 cm.", "<p> </p>"],
        }
    ).to_csv(p, index=False)
    return p


def test_reader_strips_markup_per_record_with_aligned_offset_maps(tmp_path: Path) -> None:
    src = ReportSource(_csv(tmp_path), strip_markup="auto")
    (chunk,) = list(src.chunks())
    assert chunk.frame["report_id"].tolist() == ["h", "r", "p"]
    assert chunk.frame["report"].tolist() == [
        "FINDINGS: Large right pleural effusion.\nNo pneumothorax.\nIMPRESSION: Effusion.",
        "FINDINGS: Large right pleural effusion.\nNo pneumothorax.\n",
        "Nodule size < 2 cm.",
    ]
    assert len(chunk.offset_maps) == len(chunk.frame)
    html_map, rtf_map, plain = chunk.offset_maps
    assert (html_map.kind, html_map.exact, rtf_map.kind, rtf_map.exact, plain) == (
        "html",
        True,
        "rtf",
        False,
        None,
    )
    assert [(r.record_id, r.code, r.reason) for r in chunk.rejects] == [
        ("e", "RL107", "report text is empty once markup is stripped")
    ]


def test_reader_leaves_markup_alone_by_default(tmp_path: Path) -> None:
    (chunk,) = list(ReportSource(_csv(tmp_path)).chunks())
    assert chunk.frame["report"].tolist()[:2] == [HTML_REPORT, RTF_REPORT]
    assert chunk.offset_maps == [None, None, None]
    assert [(r.record_id, r.code) for r in chunk.rejects] == [("e", "RL112")]  # "<p> </p>" has no word
    with pytest.raises(InputOptionError):
        ReportSource(_csv(tmp_path), strip_markup="xml")


def test_prepare_records_strips_markup_for_dataframes() -> None:
    out = prepare_records(["a", "b"], [HTML_REPORT, "Normal."], [1, 2], set(), strip_markup="html")
    assert out.texts == [
        "FINDINGS: Large right pleural effusion.\nNo pneumothorax.\nIMPRESSION: Effusion.",
        "Normal.",
    ]
    assert out.offset_maps[0].exact and out.offset_maps[1] is None


def test_no_pneumothorax_after_br_or_par_is_labeled_and_points_into_the_source(
    tmp_path: Path, rule_nlp
) -> None:
    from reportlab_nlp.labeler import label_texts

    (chunk,) = list(ReportSource(_csv(tmp_path), strip_markup="auto").chunks())
    results = label_texts(chunk.frame["report"].tolist()[:2])
    for res in results:
        assert res.labels["Pneumothorax"] == 0.0
        assert res.labels["Pleural Effusion"] == 1.0
    mention = next(m for m in results[0].mentions if m["observation"] == "pneumothorax")
    start, end = chunk.offset_maps[0].to_source(mention["start"], mention["end"])
    assert HTML_REPORT[start:end] == "pneumothorax"
    # unstripped, the markup hides the negated mention
    raw = label_texts([HTML_REPORT, RTF_REPORT])
    assert [r.labels.get("Pneumothorax") for r in raw] == [None, None]
