"""Strict input reading (issue 10, items 4-5): CSV/TSV structure errors, per-record decoding,
control characters and the content check. Every fixture is written here, in ``tmp_path``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
from pathlib import Path

import pandas as pd
import pytest

from reportlab_nlp import inputs
from reportlab_nlp.errors import EncodingError, InputFormatError, InputOptionError
from reportlab_nlp.inputs import (
    Reject,
    ReportSource,
    prepare_records,
    read_reports,
    sniff_encoding,
    validate_records,
)

MARKER = "ZQXJ"  # a word that must never appear in a reject reason or record id made up by the reader


def _csv(tmp_path: Path, body: str, name: str = "r.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(body.encode("utf-8"))
    return p


def _pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["report_id"], frame["report"]))


def _codes(rejects: list[Reject]) -> list[tuple[str, str]]:
    return [(r.record_id, r.code) for r in rejects]


def _no_text_leaks(rejects: list[Reject]) -> bool:
    return all(MARKER not in r.reason and MARKER not in r.record_id for r in rejects)


# ------------------------------------------------------------------ CSV structure
def test_unclosed_quote_loses_only_the_damaged_record(tmp_path: Path) -> None:
    # pandas merged these 4 records into 3 rows: a's text swallowed b's line, under a's id
    p = _csv(
        tmp_path,
        'report_id,report\na,"ZQXJ No effusion.\nb,Cardiomegaly.\nc,"Small pneumothorax."\nd,Clear lungs.\n',
    )
    frame, rejects, _ = read_reports(p)
    assert _pairs(frame) == [("b", "Cardiomegaly."), ("c", "Small pneumothorax."), ("d", "Clear lungs.")]
    assert _codes(rejects) == [("<line 2>", "RL114")]
    assert (
        rejects[0].reason
        == "line 2: broken quoting (',' expected after '\"'); the record(s) there are not read"
    )
    assert _no_text_leaks(rejects)


def test_stray_quote_in_one_line_rejects_that_line_only(tmp_path: Path) -> None:
    p = _csv(tmp_path, 'report_id,report\na,No effusion.\nb,"He said "ZQXJ" twice"\nc,Normal.\nd,Clear.\n')
    frame, rejects, _ = read_reports(p)
    assert _pairs(frame) == [("a", "No effusion."), ("c", "Normal."), ("d", "Clear.")]
    assert _codes(rejects) == [("<line 3>", "RL114")]
    assert _no_text_leaks(rejects)


def test_quote_unclosed_until_the_end_of_the_file(tmp_path: Path) -> None:
    p = _csv(tmp_path, 'report_id,report\na,No effusion.\nb,"ZQXJ Small effusion.\nc,Normal.\nd,Clear.\n')
    frame, rejects, _ = read_reports(p)
    assert _pairs(frame) == [("a", "No effusion."), ("c", "Normal."), ("d", "Clear.")]
    assert _codes(rejects) == [("<line 3>", "RL114")]
    assert "unexpected end of data" in rejects[0].reason


def test_continuation_lines_of_a_damaged_record_never_become_records(tmp_path: Path) -> None:
    # line 3 parses as two fields, but "He said ..." is no id: it joins the damaged block
    p = _csv(tmp_path, 'report_id,report\na,"Line one\nHe said "ZQXJ" more, still\nend"\nc,Normal.\n')
    frame, rejects, _ = read_reports(p)
    assert _pairs(frame) == [("c", "Normal.")]
    assert _codes(rejects) == [("<lines 2-4>", "RL114")]
    assert rejects[0].reason.startswith("lines 2-4: broken quoting")


def test_multi_line_quoted_reports_are_read_whole(tmp_path: Path) -> None:
    p = _csv(
        tmp_path, 'report_id,report\na,"FINDINGS: Heart normal.\nIMPRESSION: ""No"" effusion."\nb,Normal.\n'
    )
    frame, rejects, _ = read_reports(p)
    assert rejects == []
    assert _pairs(frame) == [("a", 'FINDINGS: Heart normal.\nIMPRESSION: "No" effusion.'), ("b", "Normal.")]
    assert frame.index.tolist() == [0, 1]


def test_after_damage_only_lines_shaped_like_records_resume_reading(tmp_path: Path) -> None:
    # 12's text was written with an extra opening quote; its lines follow as unquoted pieces
    body = (
        "id,text\n10,Normal.\n11,No effusion.\n"
        '12,""ZQXJ street,\nLyss, nan 50662\nFINDINGS: Heart, normal.\nIMPRESSION: ok."\n'
        "13,Clear lungs.\n14,No pneumothorax.\n"
    )
    frame, rejects, _ = read_reports(_csv(tmp_path, body), "id", "text")
    assert list(zip(frame["id"], frame["text"])) == [
        ("10", "Normal."),
        ("11", "No effusion."),
        ("13", "Clear lungs."),
        ("14", "No pneumothorax."),
    ]
    # "Lyss" has no whitespace but not the shape of this file's ids (digits): a piece of record 12
    assert _codes(rejects) == [("<lines 4-7>", "RL114")]
    assert _no_text_leaks(rejects)


def test_id_shapes() -> None:
    shapes = inputs._IdShapes()
    assert [shapes.shape(x) for x in ("rpt-027", "12345", "s50414267", "CXR1_IM-0145")] == [
        "a-9",
        "9",
        "a9",
        "a9_a-9",
    ]
    assert shapes.fits(["Lyss", "x"], 2, 0)  # nothing learned yet: any id without whitespace
    shapes.learn("rpt-001")
    assert not shapes.fits(["Lyss", "x"], 2, 0)
    assert shapes.fits(["rpt-999", "x"], 2, 0)
    assert not shapes.fits(["rpt 999", "x"], 2, 0)
    assert not shapes.fits(["rpt-999"], 2, 0)


def test_field_count_mismatches_are_rejected_with_their_line(tmp_path: Path) -> None:
    p = _csv(
        tmp_path,
        "report_id,report,site\na,No effusion, no ZQXJ.,x\nb,Normal.,y\nc\n\nd,Clear.\nZQXJ stray text\n",
    )
    frame, rejects, _ = read_reports(p)
    assert frame["report_id"].tolist() == ["b", "d"]
    assert frame["site"].iloc[0] == "y" and pd.isna(frame["site"].iloc[1])  # d's missing trailing field
    # more fields: shifted, untrustworthy; fewer: trailing fields missing, as pandas reads them,
    # unless the row's "id" is a piece of text
    assert _codes(rejects) == [("<line 2>", "RL115"), ("<line 7>", "RL115"), ("c", "RL105")]
    assert rejects[0].reason == "line 2: 4 fields where the header has 3"
    assert rejects[1].reason == "line 7: 1 fields where the header has 3"
    assert _no_text_leaks(rejects)


def test_a_bare_cr_inside_a_field_never_splits_the_record(tmp_path: Path) -> None:
    # csv.writer(lineterminator="\n") leaves a bare CR unquoted; a CRLF file and a CR-only file read too
    frame, rejects, _ = read_reports(_csv(tmp_path, "report_id,report\na,No effusion \r0 cm\nb,Normal.\r\n"))
    assert (_pairs(frame), rejects) == ([("a", "No effusion \r0 cm"), ("b", "Normal.")], [])
    body = 'report_id,report\r\na,"No\r\neffusion\rseen"\r\nb,Normal.\r\n'
    frame, rejects, _ = read_reports(_csv(tmp_path, body, "crlf.csv"))
    assert (_pairs(frame), rejects) == ([("a", "No\r\neffusion\rseen"), ("b", "Normal.")], [])
    frame, rejects, _ = read_reports(
        _csv(tmp_path, "report_id,report\ra,Normal.\rb,No effusion.\r", "cr.csv")
    )
    assert (_pairs(frame), rejects) == ([("a", "Normal."), ("b", "No effusion.")], [])


def test_tsv_structure_errors(tmp_path: Path) -> None:
    p = tmp_path / "r.tsv"
    p.write_text('report_id\treport\na\t"ZQXJ unclosed\nb\tNormal.\nc\tx\ty\n', encoding="utf-8")
    frame, rejects, _ = read_reports(p)
    assert _pairs(frame) == [("b", "Normal.")]
    assert _codes(rejects) == [("<line 2>", "RL114"), ("<line 4>", "RL115")]


def test_runaway_quote_is_bounded_and_streaming_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "MAX_RECORD_CHARS", 500)
    rows = "".join(f"r{i},Report {i} shows no effusion.\n" for i in range(1, 100))
    p = _csv(tmp_path, 'report_id,report\nr0,"ZQXJ never closed\n' + rows)
    src = ReportSource(p)
    try:
        chunks = list(src.chunks(10))
    finally:
        csv.field_size_limit(1_000_000)
    assert [c.n_in for c in chunks] == [10] * 10
    assert sum(len(c.frame) for c in chunks) == 99
    assert _codes(chunks[0].rejects) == [("<line 2>", "RL114")]
    assert chunks[0].rejects[0].reason == (
        "line 2: a quoted field runs past 500 characters; the record(s) there are not read"
    )
    assert chunks[-1].frame["report_id"].tolist()[-1] == "r99"


def test_every_kept_text_stays_with_its_own_id(tmp_path: Path) -> None:
    # ids and texts carry the same number; damage anywhere must never pair a text with another id
    lines = [f'r{i},"Report {i} no effusion."' for i in range(12)]
    lines[3] = 'r3,"Report 3 no effusion.'  # unclosed
    lines[7] = 'r7,"Report 7 "no" effusion."'  # stray quotes
    lines[9] = "r9,Report 9, no effusion."  # unquoted delimiter
    frame, rejects, _ = read_reports(_csv(tmp_path, "report_id,report\n" + "\n".join(lines) + "\n"))
    assert all(text == f"Report {rid[1:]} no effusion." for rid, text in _pairs(frame))
    assert frame["report_id"].tolist() == [f"r{i}" for i in (0, 1, 2, 4, 5, 6, 8, 10, 11)]
    assert _codes(rejects) == [("<line 5>", "RL114"), ("<line 9>", "RL114"), ("<line 11>", "RL115")]


def test_the_file_fails_only_when_nothing_can_be_read(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError) as err:
        ReportSource(_csv(tmp_path, "", "empty.csv"))
    assert str(err.value) == "[RL100] empty.csv is empty: no CSV header line"
    with pytest.raises(InputFormatError) as err:
        ReportSource(_csv(tmp_path, 'report_id,"report\n', "header.csv"))
    assert (
        str(err.value)
        == "[RL100] header.csv: the header of this CSV file cannot be parsed (unexpected end of data)"
    )


def test_gzip_csv_is_read(tmp_path: Path) -> None:
    p = tmp_path / "r.csv.gz"
    p.write_bytes(gzip.compress(b"report_id,report\na,No effusion.\n"))
    frame, rejects, _ = read_reports(p)
    assert (_pairs(frame), rejects) == ([("a", "No effusion.")], [])


# ------------------------------------------------------------------ decoding
def test_invalid_utf8_rejects_only_its_record_csv(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_bytes(b"report_id,report\na,No effusion.\nb,caf\xe9 ZQXJ effusion.\nc,Normal.\n\xff\xfe,Clear.\n")
    frame, rejects, _ = read_reports(p)
    assert _pairs(frame) == [("a", "No effusion."), ("c", "Normal.")]
    assert _codes(rejects) == [("b", "RL113"), ("<line 5>", "RL113")]
    assert rejects[0].reason == (
        "line 3: column 'report' is not valid utf-8 (first invalid byte at character 3); "
        "pass --encoding if the file has another encoding"
    )
    assert rejects[1].reason.startswith("line 5: column 'report_id' is not valid utf-8")
    assert _no_text_leaks(rejects)


def test_invalid_utf8_rejects_only_its_record_tsv_jsonl_txt(tmp_path: Path) -> None:
    tsv = tmp_path / "r.tsv"
    tsv.write_bytes(b"report_id\treport\na\tNo effusion.\nb\tbad \xc3\x28 byte\n")
    frame, rejects, _ = read_reports(tsv)
    assert (_pairs(frame), _codes(rejects)) == ([("a", "No effusion.")], [("b", "RL113")])

    jl = tmp_path / "r.jsonl"
    jl.write_bytes(
        b'{"report_id": "a", "report": "bad \xe9 ZQXJ"}\n{"report_id": "b", "report": "Normal."}\n'
    )
    frame, rejects, _ = read_reports(jl)
    assert (_pairs(frame), _codes(rejects)) == ([("b", "Normal.")], [("a", "RL113")])
    assert (
        rejects[0].reason
        == "line 1: field 'report' is not valid utf-8; pass --encoding if the file has another encoding"
    )

    d = tmp_path / "dir"
    d.mkdir()
    (d / "a.txt").write_bytes(b"No effusion.")
    (d / "b.txt").write_bytes(b"ok \xe9\x00 ZQXJ")
    frame, rejects, _ = read_reports(d)
    assert (_pairs(frame), _codes(rejects)) == ([("a", "No effusion.")], [("b", "RL109")])
    assert rejects[0].reason == (
        "file is not valid utf-8: first invalid byte at offset 3; "
        "pass --encoding if the files have another encoding"
    )


@pytest.mark.parametrize(
    ("codec", "expected", "note"),
    [
        ("utf-8-sig", "utf-8-sig", "UTF-8 byte-order mark"),
        ("utf-16", "utf-16", "UTF-16 LE byte-order mark"),
        ("utf-16-be-bom", "utf-16", "UTF-16 BE byte-order mark"),
        ("utf-32", "utf-32", "UTF-32 LE byte-order mark"),
        ("utf-32-be-bom", "utf-32", "UTF-32 BE byte-order mark"),
        ("utf-16-le", "utf-16-le", "NUL bytes in the pattern of UTF-16 LE"),
        ("utf-16-be", "utf-16-be", "NUL bytes in the pattern of UTF-16 BE"),
    ],
)
def test_boms_and_utf16_without_bom_are_detected(
    tmp_path: Path, codec: str, expected: str, note: str
) -> None:
    text = "report_id,report\na,Café: no effusion.\nb,Normal.\n"
    if codec.endswith("-be-bom"):
        base = codec[: -len("-be-bom")]
        data = (codecs.BOM_UTF16_BE if base == "utf-16" else codecs.BOM_UTF32_BE) + text.encode(base + "-be")
    else:
        data = text.encode(codec)
    p = tmp_path / "r.csv"
    p.write_bytes(data)
    frame, rejects, src = read_reports(p)
    assert src.encoding == expected
    assert src.notes == [f"reading r.csv as {expected} ({note})"]
    assert rejects == []
    assert _pairs(frame) == [("a", "Café: no effusion."), ("b", "Normal.")]


def test_utf16_jsonl_and_txt_files(tmp_path: Path) -> None:
    jl = tmp_path / "r.jsonl"
    jl.write_bytes('{"report_id": "a", "report": "No effusion."}\n'.encode("utf-16"))
    assert _pairs(read_reports(jl)[0]) == [("a", "No effusion.")]
    d = tmp_path / "dir"
    d.mkdir()
    (d / "a.txt").write_bytes("Normal heart size.".encode("utf-16"))
    (d / "b.txt").write_bytes("No effusion.".encode("utf-8-sig"))
    assert _pairs(read_reports(d)[0]) == [("a", "Normal heart size."), ("b", "No effusion.")]


def test_explicit_encoding(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_bytes("report_id,report\na,Café: no effusion.\n".encode("latin-1"))
    assert _codes(read_reports(p)[1]) == [("a", "RL113")]
    frame, rejects, src = read_reports(p, encoding="latin-1")
    assert (src.encoding, rejects, _pairs(frame)) == ("iso8859-1", [], [("a", "Café: no effusion.")])
    p16 = tmp_path / "r16.csv"
    p16.write_bytes("report_id,report\na,Normal.\n".encode("utf-16-le"))
    frame, _, src = read_reports(p16, encoding="UTF-16LE")
    assert (src.encoding, src.notes, _pairs(frame)) == ("utf-16-le", [], [("a", "Normal.")])
    with pytest.raises(InputOptionError) as err:
        ReportSource(p, encoding="no-such-codec")
    assert (
        str(err.value) == "[RL119] unknown encoding 'no-such-codec' (pass a Python codec name such as utf-8)"
    )


def test_a_header_that_cannot_be_decoded_names_the_encoding(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_bytes(b"report_id,r\xe9port\na,Normal.\n")
    with pytest.raises(EncodingError) as err:
        ReportSource(p)
    assert isinstance(err.value, InputFormatError)
    assert (
        str(err.value)
        == "[RL118] r.csv: the header line is not valid utf-8 (pass --encoding with the file's encoding)"
    )


def test_sniff_encoding_defaults_to_utf8() -> None:
    assert sniff_encoding(b"report_id,report\na,\x00NUL once\n") == ("utf-8", "default")
    assert sniff_encoding(b"") == ("utf-8", "default")
    assert sniff_encoding("ab".encode("utf-32-le")) == ("utf-32-le", "NUL bytes in the pattern of UTF-32 LE")


def test_json_surrogate_escapes_are_rejected(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"report_id": "a", "report": "\\udc80 Normal."}\n{"report_id": "b", "report": "Normal."}\n')
    frame, rejects, _ = read_reports(p)
    assert _pairs(frame) == [("b", "Normal.")]
    assert _codes(rejects) == [("a", "RL116")]


# ------------------------------------------------------------------ control characters
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "txtdir"])
def test_a_nul_never_cuts_the_report(tmp_path: Path, fmt: str) -> None:
    text = "No effusion.\x00 Small left pneumothorax.\x0cIMPRESSION: \x85Pneumothorax\ufffe."
    if fmt == "txtdir":
        path = tmp_path / "dir"
        path.mkdir()
        (path / "a.txt").write_text(text, encoding="utf-8")
    else:
        path = tmp_path / f"r.{fmt}"
        df = pd.DataFrame({"report_id": ["a"], "report": [text]})
        if fmt == "csv":
            path.write_bytes(b'report_id,report\na,"' + text.encode("utf-8") + b'"\n')
        elif fmt == "jsonl":
            df.to_json(path, orient="records", lines=True)
        else:
            df.to_parquet(path)
    chunks = list(ReportSource(path).chunks())
    assert len(chunks) == 1 and chunks[0].rejects == []
    out = chunks[0].frame["report"].tolist()
    assert out == ["No effusion.  Small left pneumothorax.\nIMPRESSION: \nPneumothorax ."]
    assert len(out[0]) == len(text)  # replaced, not deleted: offsets stay those of the source
    assert chunks[0].control_chars == 4


def test_clean_controls_keeps_tab_newline_and_carriage_return() -> None:
    assert inputs.clean_controls("a\tb\r\nc") == ("a\tb\r\nc", 0)
    assert inputs.clean_controls("a\x00\x07\x1b\x7f\x9fb\x0b") == ("a     b\n", 6)


# ------------------------------------------------------------------ content check
@pytest.mark.parametrize(
    "text", ["123", "4.5", "x", "X.", "--", "...", "1 2 3", "\x01\x02\x03", "7 x 4", "_ _", "#"]
)
def test_texts_with_no_alphabetic_word_are_rejected(text: str) -> None:
    keep, rejects = validate_records(["r"], [text], [2], set())
    assert keep == []
    assert _codes(rejects) == [("r", "RL112")]


@pytest.mark.parametrize(
    "text", ["Normal.", "No acute disease.", "NAD", "WNL", "Neg.", "正常", "Négatif", "OK 1"]
)
def test_terse_real_reports_pass_the_content_check(text: str) -> None:
    seen: set[str] = set()
    keep, rejects = validate_records(["r"], [text], [2], seen)
    assert (keep, rejects, seen) == ([0], [], {"r"})


def test_content_check_in_files_and_reasons(tmp_path: Path) -> None:
    p = _csv(tmp_path, 'report_id,report\na,123\nb,4.5\nc,x\nd,"\x01\x02"\ne,Normal.\n')
    frame, rejects, _ = read_reports(p)
    assert _pairs(frame) == [("e", "Normal.")]
    assert _codes(rejects) == [("a", "RL112"), ("b", "RL112"), ("c", "RL112"), ("d", "RL112")]
    assert (
        rejects[0].reason
        == "report text has no alphabetic word of 2+ letters (nothing that could be a report)"
    )
    assert (
        rejects[3].reason
        == "report text holds only control characters and spaces (nothing that could be a report)"
    )


def test_prepare_records_returns_cleaned_texts_and_rejects_surrogates() -> None:
    out = prepare_records(
        ["a", "b", "c"], ["No\x00 effusion.", "bad \udc80 text", "Normal."], [1, 2, 3], set()
    )
    assert out.keep == [0, 2]
    assert out.texts == ["No  effusion.", "Normal."]
    assert out.offset_maps == [None, None]
    assert out.control_chars == 1
    assert _codes(out.rejects) == [("b", "RL116")]
    assert out.rejects[0].reason == "report text holds an unpaired surrogate (invalid Unicode) at character 4"


def test_dataframe_labeling_rejects_content_free_text(rule_nlp) -> None:
    from reportlab_nlp.labeler import label_dataframe

    df = pd.DataFrame(
        {"report_id": ["a", "b", "c", "d", "e"], "report": ["123", "4.5", "x", "\x01\x02", "Normal."]}
    )
    run = label_dataframe(df)
    assert run.labels["report_id"].tolist() == ["e"]
    assert [(r.record_id, r.code) for r in run.rejects] == [
        ("a", "RL112"),
        ("b", "RL112"),
        ("c", "RL112"),
        ("d", "RL112"),
    ]


def test_label_archive_reads_past_a_nul_and_rejects_content_free_text(tmp_path: Path, rule_nlp) -> None:
    import csv

    from reportlab_nlp.labeler import label_archive

    p = tmp_path / "r.csv"
    p.write_bytes(b"report_id,report\na,No effusion.\x00 Large right pneumothorax.\nb,123\nc,Normal.\n")
    summary = label_archive(p, tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        rows = {r["report_id"]: r for r in csv.DictReader(fh)}
    assert sorted(rows) == ["a", "c"]
    assert (rows["a"]["Pneumothorax"], rows["a"]["Pleural Effusion"], rows["a"]["No Finding"]) == (
        "1.0",
        "0.0",
        "",
    )
    assert rows["c"]["No Finding"] == "1.0"
    assert (summary.rows_in, summary.rows_out, summary.rejects) == (3, 2, 1)


# ------------------------------------------------------------------ random damage
_PIECES = [
    b"report_id",
    b"report",
    b",",
    b"\t",
    b'"',
    b'""',
    b"\n",
    b"\r\n",
    b"\r",
    b"a",
    b"ZQXJ effusion",
    b"\x00",
    b"\xe9",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"{",
    b"}",
    b":",
    b"\\udc80",
    b"<br/>",
    b"{\\rtf1 ",
    b"\\par ",
    b"123",
    b" ",
    b"\x85",
    b"\xc3\xa9",
    b"[",
    b"]",
    b"&amp;",
    b"<p>",
]


@pytest.mark.parametrize("ext", ["csv", "tsv", "jsonl", "txt"])
def test_random_bytes_never_raise_uncoded_errors(tmp_path: Path, ext: str) -> None:
    import random

    from reportlab_nlp.errors import ReportLabError

    rng = random.Random(ext)
    readable = 0
    for n in range(150):
        body = b"".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 60)))
        if ext != "txt" and rng.random() < 0.7:
            body = {"csv": b"report_id,report\n", "tsv": b"report_id\treport\n"}.get(
                ext, b'{"report_id": "a", "report": "No effusion"}\n'
            ) + body
        if rng.random() < 0.1:
            body = body.decode("utf-8", "replace").encode(rng.choice(["utf-16", "utf-16-le", "utf-32"]))
        if ext == "txt":
            path = tmp_path / f"d{n}"
            path.mkdir()
            (path / "x.txt").write_bytes(body)
        else:
            path = tmp_path / f"f{n}.{ext}"
            path.write_bytes(body)
        try:
            src = ReportSource(path, strip_markup=rng.choice(["none", "auto", "html", "rtf"]))
            chunks = list(src.chunks(rng.randint(1, 5)))
        except ReportLabError:
            continue
        readable += 1
        for ch in chunks:
            assert len(ch.offset_maps) == len(ch.frame)
            for rid, text in zip(ch.frame[src.id_column], ch.frame[src.text_column]):
                (str(rid) + text).encode("utf-8")  # writable: no undecodable byte got through
            made_up = [r for r in ch.rejects if r.code in ("RL113", "RL114", "RL115", "RL116")]
            assert _no_text_leaks(made_up)  # ids the reader names itself never hold text
            assert all((r.record_id + r.reason).encode("utf-8") for r in ch.rejects)
    assert readable > 50
