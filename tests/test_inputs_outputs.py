"""Reading report archives (``reportlab_nlp.inputs``) and writing tables (``reportlab_nlp.outputs``).

Every fixture archive is written here, in ``tmp_path``; no pipeline is needed.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from reportlab_nlp.errors import ColumnError, GoldTableError, InputFormatError
from reportlab_nlp.inputs import Reject, ReportSource, read_reports
from reportlab_nlp.outputs import TableWriter, label_frame, read_label_table
from reportlab_nlp.schema import load_taxonomy

CHEXPERT = load_taxonomy("chexpert").label_names


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _rejects(rejects: list[Reject]) -> list[tuple[str, str]]:
    return [(r.record_id, r.code) for r in rejects]


def _total_in(src: ReportSource, size: int) -> tuple[int, int, int]:
    good = bad = n_in = 0
    for ch in src.chunks(size):
        good += len(ch.frame)
        bad += len(ch.rejects)
        n_in += ch.n_in
    return good, bad, n_in


# ------------------------------------------------------------------ formats
def test_csv_default_columns(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "reports.csv",
        'report_id,report,site\nr1,"FINDINGS: No effusion.",a\nr2,"IMPRESSION: Clear, no pneumothorax.",b\n',
    )
    frame, rejects, src = read_reports(p)
    assert src.format == "csv"
    assert (src.id_column, src.text_column) == ("report_id", "report")
    assert src.notes == []
    assert rejects == []
    assert frame["report_id"].tolist() == ["r1", "r2"]
    assert frame["report"].tolist() == ["FINDINGS: No effusion.", "IMPRESSION: Clear, no pneumothorax."]
    assert frame["site"].tolist() == ["a", "b"]  # other input columns are kept


def test_tsv(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "reports.tsv", "report_id\treport\nt1\tSmall effusion, left.\nt2\tNo pneumothorax.\n"
    )
    frame, rejects, src = read_reports(p)
    assert src.format == "tsv"
    assert rejects == []
    assert frame["report_id"].tolist() == ["t1", "t2"]
    assert frame["report"].tolist() == ["Small effusion, left.", "No pneumothorax."]


def test_jsonl_with_malformed_and_non_object_lines(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "reports.jsonl",
        '{"report_id": "j1", "report": "No effusion."}\n'
        "{not json at all\n"
        "\n"
        '{"report_id": "j2", "report": "Cardiomegaly."}\n'
        "[1, 2]\n"
        '{"report": "a report without id"}\n',
    )
    frame, rejects, src = read_reports(p)
    assert src.format == "jsonl"
    assert frame["report_id"].tolist() == ["j1", "j2"]
    assert frame["report"].tolist() == ["No effusion.", "Cardiomegaly."]
    # line numbers are 1-based file lines; the blank line 3 is skipped, not rejected
    assert _rejects(rejects) == [("<line 2>", "RL108"), ("<line 5>", "RL108"), ("<line 6>", "RL103")]
    assert rejects[0].reason.startswith("line is not valid JSON")
    assert rejects[1].reason == "line is not a JSON object"


def test_parquet_with_auto_detected_columns_and_int_ids(tmp_path: Path) -> None:
    p = tmp_path / "reports.parquet"
    pd.DataFrame({"id": [10, 11, 12], "text": ["No effusion.", None, "Small pneumothorax."]}).to_parquet(p)
    frame, rejects, src = read_reports(p)
    assert src.format == "parquet"
    assert (src.id_column, src.text_column) == ("id", "text")
    assert frame["id"].tolist() == ["10", "12"]  # ids come out as strings
    assert frame["text"].tolist() == ["No effusion.", "Small pneumothorax."]
    assert _rejects(rejects) == [("11", "RL105")]


def test_directory_of_txt_files(tmp_path: Path) -> None:
    d = tmp_path / "reports"
    d.mkdir()
    _write(d / "study_b.txt", "FINDINGS: Small left pleural effusion.\n")
    _write(d / "study_a.txt", "IMPRESSION: No acute process.\n")
    _write(d / "empty.txt", "   \n")
    _write(d / "notes.md", "not a report")
    (d / "latin1.txt").write_bytes(b"caf\xe9 effusion")
    frame, rejects, src = read_reports(d)
    assert src.format == "txtdir"
    assert (src.id_column, src.text_column) == ("report_id", "report")
    assert frame["report_id"].tolist() == ["study_a", "study_b"]  # id = file stem, sorted
    assert frame["report"].tolist() == [
        "IMPRESSION: No acute process.\n",
        "FINDINGS: Small left pleural effusion.\n",
    ]
    assert sorted(_rejects(rejects)) == [("empty", "RL107"), ("latin1", "RL109")]


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    p = _write(tmp_path / "reports.xlsx", "x")
    with pytest.raises(InputFormatError) as err:
        ReportSource(p)
    assert str(err.value).startswith("[RL100] cannot tell the format of reports.xlsx")
    with pytest.raises(InputFormatError) as err:
        ReportSource(tmp_path / "absent.csv")
    assert err.value.code == "RL100"
    assert "does not exist" in str(err.value)


# ------------------------------------------------------------------ columns
def test_auto_detection_of_id_and_text_columns_leaves_notes(tmp_path: Path) -> None:
    p = _write(tmp_path / "r.csv", "id,text\na,No effusion.\n")
    src = ReportSource(p)
    assert (src.id_column, src.text_column) == ("id", "text")
    assert src.notes == [
        "using column 'id' as the report id (no 'report_id' column; pass --id-column to choose another)",
        "using column 'text' as the report text (no 'report' column; pass --text-column to choose another)",
    ]


def test_explicit_columns_need_no_note(tmp_path: Path) -> None:
    p = _write(tmp_path / "r.csv", "accession,findings_text,text\na,No effusion.,other\n")
    src = ReportSource(p, id_column="accession", text_column="findings_text")
    assert (src.id_column, src.text_column) == ("accession", "findings_text")
    assert src.notes == []
    frame, _, _ = read_reports(p, "accession", "findings_text")
    assert frame["findings_text"].tolist() == ["No effusion."]


def test_missing_id_column_lists_the_columns(tmp_path: Path) -> None:
    p = _write(tmp_path / "r.csv", "report_id,report,site\na,No effusion.,x\n")
    with pytest.raises(ColumnError) as err:
        ReportSource(p, id_column="study")
    assert err.value.code == "RL101"
    assert str(err.value) == "[RL101] r.csv has no id column 'study'; columns are: report_id, report, site"


def test_no_recognisable_text_column(tmp_path: Path) -> None:
    p = _write(tmp_path / "r.csv", "report_id,blob\na,No effusion.\n")
    with pytest.raises(ColumnError) as err:
        ReportSource(p)
    msg = str(err.value)
    assert msg.startswith("[RL101] r.csv has no text column")
    assert msg.endswith("columns are: report_id, blob (pass --text-column)")


# ------------------------------------------------------------------ record validation
def test_empty_missing_and_duplicate_records_become_rejects(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "r.csv",
        "report_id,report\n"
        "a,No effusion.\n"  # line 2
        'b,"   "\n'  # line 3: blank text
        "c,\n"  # line 4: empty text
        "a,Duplicate id.\n"  # line 5
        ",Text without an id.\n"  # line 6
        "d,Small pneumothorax.\n",  # line 7
    )
    frame, rejects, _ = read_reports(p)
    assert frame["report_id"].tolist() == ["a", "d"]
    assert _rejects(rejects) == [("b", "RL107"), ("c", "RL107"), ("a", "RL104"), ("<row 6>", "RL103")]
    assert [r.reason for r in rejects] == [
        "report text is empty",
        "report text is empty",
        "duplicate record id",
        "missing record id",
    ]


def test_jsonl_missing_and_non_string_text(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "r.jsonl",
        '{"report_id": "a"}\n{"report_id": "b", "report": 42}\n'
        '{"report_id": "c", "report": null}\n{"report_id": "d", "report": "ok"}\n',
    )
    frame, rejects, _ = read_reports(p)
    assert frame["report_id"].tolist() == ["d"]
    assert _rejects(rejects) == [("a", "RL105"), ("b", "RL106"), ("c", "RL105")]
    assert rejects[1].reason == "report text is a int, not a string"


def test_reject_reasons_never_contain_report_text(tmp_path: Path) -> None:
    marker = "ZQXJ-UNIQUE-MARKER"
    p = _write(
        tmp_path / "r.jsonl",
        f'{{"report_id": "a", "report": "{marker} one"}}\n'
        f'{{"report_id": "a", "report": "{marker} two"}}\n{{broken {marker}\n',
    )
    _, rejects, _ = read_reports(p)
    assert len(rejects) == 2
    assert all(marker not in r.reason and marker not in r.record_id for r in rejects)


# ------------------------------------------------------------------ chunking
def test_csv_chunk_sizes_add_up(tmp_path: Path) -> None:
    rows = "".join(f"r{i},Report number {i}.\n" for i in range(10)) + "r10,\n"
    p = _write(tmp_path / "r.csv", "report_id,report\n" + rows)
    src = ReportSource(p)
    sizes = [(len(ch.frame), len(ch.rejects)) for ch in src.chunks(4)]
    assert sizes == [(4, 0), (4, 0), (2, 1)]
    assert _total_in(src, 4) == (10, 1, 11)
    assert _total_in(src, 100) == (10, 1, 11)


def test_jsonl_chunks_count_rejects_towards_the_size(tmp_path: Path) -> None:
    lines = [
        '{"report_id": "a", "report": "No effusion."}',
        "nope",
        '{"report_id": "b", "report": "Normal."}',
        "[]",
        '{"report_id": "c", "report": "Clear lungs."}',
    ]
    p = _write(tmp_path / "r.jsonl", "\n".join(lines) + "\n")
    src = ReportSource(p)
    chunks = list(src.chunks(2))
    assert [ch.n_in for ch in chunks] == [2, 2, 1]
    assert _total_in(src, 2) == (3, 2, 5)


def test_duplicate_ids_are_caught_across_chunks(tmp_path: Path) -> None:
    p = _write(tmp_path / "r.csv", "report_id,report\na,Normal.\nb,No effusion.\na,Clear.\n")
    src = ReportSource(p)
    chunks = list(src.chunks(2))
    assert [c.frame["report_id"].tolist() for c in chunks] == [["a", "b"], []]
    assert _rejects(chunks[1].rejects) == [("a", "RL104")]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet", "txtdir"])
def test_rows_in_equals_rows_out_plus_rejects(tmp_path: Path, fmt: str) -> None:
    records = [
        ("a", "No effusion."),
        ("b", ""),
        ("c", "Cardiomegaly."),
        ("d", "   "),
        ("e", "Small pneumothorax."),
    ]
    if fmt == "txtdir":
        path = tmp_path / "dir"
        path.mkdir()
        for rid, text in records:
            _write(path / f"{rid}.txt", text)
    else:
        path = tmp_path / f"r.{fmt}"
        df = pd.DataFrame(records, columns=["report_id", "report"])
        if fmt == "csv":
            df.to_csv(path, index=False)
        elif fmt == "tsv":
            df.to_csv(path, index=False, sep="\t")
        elif fmt == "jsonl":
            df.to_json(path, orient="records", lines=True)
        else:
            df.to_parquet(path)
    src = ReportSource(path)
    good, bad, n_in = _total_in(src, 2)
    assert (good, bad, n_in) == (3, 2, 5)
    frame, rejects, _ = read_reports(path)
    assert frame["report_id"].tolist() == ["a", "c", "e"]
    assert sorted(r.record_id for r in rejects) == ["b", "d"]
    assert {r.code for r in rejects} == {"RL107"}


# ------------------------------------------------------------------ writing tables
def _label_rows() -> list[dict]:
    return [
        {"No Finding": 1.0, "Cardiomegaly": 0.0, "Support Devices": 1.0},
        {"Pleural Effusion": 1.0, "Pneumonia": -1.0, "Cardiomegaly": None},
        {},
    ]


def test_label_frame_column_order_and_cells() -> None:
    frame = label_frame("study", ["s1", "s2", "s3"], _label_rows(), CHEXPERT)
    assert list(frame.columns) == ["study", *CHEXPERT]
    assert list(frame.columns) == [
        "study",
        "No Finding",
        "Enlarged Cardiomediastinum",
        "Cardiomegaly",
        "Lung Lesion",
        "Lung Opacity",
        "Edema",
        "Consolidation",
        "Pneumonia",
        "Atelectasis",
        "Pneumothorax",
        "Pleural Effusion",
        "Pleural Other",
        "Fracture",
        "Support Devices",
    ]
    assert frame["study"].tolist() == ["s1", "s2", "s3"]
    assert frame.loc[0, "No Finding"] == 1.0
    assert frame.loc[0, "Cardiomegaly"] == 0.0
    assert frame.loc[1, "Pneumonia"] == -1.0
    assert math.isnan(frame.loc[1, "Cardiomegaly"])
    assert frame.iloc[2, 1:].isna().all()
    assert all(frame[c].dtype == "float64" for c in CHEXPERT)


@pytest.mark.parametrize("ext", ["csv", "parquet", "tsv"])
def test_table_writer_round_trip_with_blanks(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"labels.{ext}"
    rows = _label_rows()
    with TableWriter(path, columns=["report_id", *CHEXPERT], float_columns=CHEXPERT) as w:
        w.write(label_frame("report_id", ["s1", "s2"], rows[:2], CHEXPERT))  # two chunks
        w.write(label_frame("report_id", ["s3"], rows[2:], CHEXPERT))
    assert w.rows == 3
    back, id_col = read_label_table(path, CHEXPERT)
    assert id_col == "report_id"
    assert back.index.tolist() == ["s1", "s2", "s3"]
    assert list(back.columns) == CHEXPERT
    expected = label_frame("report_id", ["s1", "s2", "s3"], rows, CHEXPERT).set_index("report_id")
    pd.testing.assert_frame_equal(back, expected, check_index_type=False)


def test_csv_blank_cells_are_empty_and_parquet_blanks_are_null(tmp_path: Path) -> None:
    cols = ["report_id", "Cardiomegaly", "Pneumonia"]
    frame = label_frame("report_id", ["s1"], [{"Cardiomegaly": 1.0}], ["Cardiomegaly", "Pneumonia"])
    with TableWriter(tmp_path / "t.csv", columns=cols, float_columns=cols[1:]) as w:
        w.write(frame)
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == "report_id,Cardiomegaly,Pneumonia\ns1,1.0,\n"
    with TableWriter(tmp_path / "t.parquet", columns=cols, float_columns=cols[1:]) as w:
        w.write(frame)
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "t.parquet")
    assert table.column_names == cols
    assert table.to_pylist() == [{"report_id": "s1", "Cardiomegaly": 1.0, "Pneumonia": None}]


def test_table_writer_without_rows_still_writes_the_header(tmp_path: Path) -> None:
    with TableWriter(tmp_path / "e.csv", columns=["report_id", "Edema"], float_columns=["Edema"]):
        pass
    assert (tmp_path / "e.csv").read_text(encoding="utf-8") == "report_id,Edema\n"
    with TableWriter(tmp_path / "e.parquet", columns=["report_id", "Edema"], float_columns=["Edema"]):
        pass
    back = pd.read_parquet(tmp_path / "e.parquet")
    assert list(back.columns) == ["report_id", "Edema"]
    assert len(back) == 0


# ------------------------------------------------------------------ reading label tables
def test_read_label_table_accepts_the_encodings(tmp_path: Path) -> None:
    p = _write(tmp_path / "gold.csv", "study,Cardiomegaly,Edema,unrelated\n7,1,-1,x\n8,0.0,,y\n9,,1.0,z\n")
    frame, id_col = read_label_table(p, CHEXPERT)
    assert id_col == "study"
    assert frame.index.tolist() == ["7", "8", "9"]
    assert list(frame.columns) == ["Cardiomegaly", "Edema"]  # only taxonomy labels, canonical order
    assert frame["Cardiomegaly"].tolist()[:2] == [1.0, 0.0]
    assert math.isnan(frame.loc["9", "Cardiomegaly"])
    assert frame.loc["7", "Edema"] == -1.0
    assert math.isnan(frame.loc["8", "Edema"])
    assert frame.loc["9", "Edema"] == 1.0


def test_read_label_table_rejects_a_bad_cell_naming_row_and_column(tmp_path: Path) -> None:
    p = _write(tmp_path / "gold.csv", "report_id,Cardiomegaly,Edema\na,1,0\nb,0,2\n")
    with pytest.raises(GoldTableError) as err:
        read_label_table(p, CHEXPERT)
    assert err.value.code == "RL500"
    assert (
        str(err.value)
        == "[RL500] label table gold.csv: row 3, column 'Edema' holds a value that is not 1, 0, -1 or blank"
    )


def test_read_label_table_rejects_text_cells_and_duplicate_ids(tmp_path: Path) -> None:
    p = _write(tmp_path / "g.csv", "report_id,Edema\na,yes\n")
    with pytest.raises(GoldTableError, match=r"row 2, column 'Edema'"):
        read_label_table(p, CHEXPERT)
    p = _write(tmp_path / "d.csv", "report_id,Edema\na,1\na,0\n")
    with pytest.raises(GoldTableError, match=r"id 'a' appears more than once"):
        read_label_table(p, CHEXPERT)


def test_read_label_table_aliases(tmp_path: Path) -> None:
    p = _write(tmp_path / "g.csv", "report_id,normal,Edema\na,1,\n")
    tax = load_taxonomy("chexpert")
    frame, _ = read_label_table(p, CHEXPERT, aliases=tax.column_aliases())
    assert list(frame.columns) == ["No Finding", "Edema"]
    assert frame.loc["a", "No Finding"] == 1.0
