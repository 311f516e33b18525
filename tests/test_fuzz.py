"""Property-based fuzzing of every reader and command with Hypothesis.

Invariants, whatever the bytes: no traceback (only coded ``ReportLabError``s); rows in = rows out +
rejects; no report text in stderr or in error messages; every output parses. Records carry a
marker word so that a leak of report text into stderr is seen.

The fast profile runs in the normal suite; ``pytest --long tests/test_fuzz.py`` runs the long one
(``conftest.py``: 10,000 examples for each reader target, 2,000 for each command target).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reportlab_nlp.cli import app
from reportlab_nlp.errors import ReportLabError
from reportlab_nlp.inputs import ReportSource

MARKER = "Qzxmarker"
SENTENCES = [
    "No pneumothorax.",
    "Small left pleural effusion.",
    "Heart size is normal.",
    "Mild cardiomegaly.",
    "Lungs are clear.",
    "Possible right lower lobe pneumonia.",
    "IMPRESSION: No acute disease.",
    "FINDINGS:\nPatchy opacity.",
    "Dr. Smith called on 3/4/2019.",
    "<br/>No edema<br>",
    "{\\rtf1 No effusion\\par}",
]
NASTY = [
    "",
    " ",
    "\x00",
    "\x01\x02",
    "\r\n",
    "\n",
    '"',
    '""',
    ",",
    "\t",
    "\ufeff",
    "\ufffe",
    "\u2028",
    "é",
    "漢字",
    "\ud7ff",
    "123",
    "4.5",
    "x",
    "\\",
    "'",
    "<",
    "&amp;",
    "\x85",
]

FORMATS = ["csv", "tsv", "jsonl", "parquet", "txtdir"]
HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings_fast = settings(deadline=None, suppress_health_check=HEALTH)  # reader targets: the profile's count
# command targets run the whole CLI: a fifth of the profile's count (2,000 in the long profile)
settings_cmd = settings(
    deadline=None, suppress_health_check=HEALTH, max_examples=max(10, settings.default.max_examples // 5)
)


def _text() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(SENTENCES), st.sampled_from(NASTY), st.text(max_size=12))
    return st.lists(piece, max_size=6).map(lambda parts: " ".join(parts))


@st.composite
def records(draw) -> list[tuple[str, str]]:
    n = draw(st.integers(min_value=0, max_value=12))
    ids = draw(
        st.lists(
            st.one_of(st.sampled_from(["a", "b", "1", "01", ""]), st.text(max_size=6)), min_size=n, max_size=n
        )
    )
    texts = draw(st.lists(_text(), min_size=n, max_size=n))
    huge = draw(st.booleans()) and n > 0
    out = [(i, f"{MARKER} {t}" if t else t) for i, t in zip(ids, texts)]
    if huge:
        out[0] = (out[0][0], f"{MARKER} " + "No effusion. " * 20_000)  # 260,000 characters
    return out


def write_archive(folder: Path, fmt: str, recs: list[tuple[str, str]], encoding: str) -> Path:
    if fmt == "txtdir":
        d = folder / "notes"
        d.mkdir()
        for k, (rid, text) in enumerate(recs):
            name = "".join(c for c in rid if c.isalnum()) or f"r{k}"
            (d / f"{name}-{k}.txt").write_bytes(text.encode(encoding, errors="surrogatepass"))
        return d
    path = folder / f"in.{fmt}"
    if fmt == "parquet":
        clean = [(i, t.encode("utf-8", "replace").decode("utf-8")) for i, t in recs]
        pd.DataFrame(clean, columns=["report_id", "report"]).to_parquet(path)
        return path
    if fmt == "jsonl":
        body = "".join(json.dumps({"report_id": i, "report": t}) + "\n" for i, t in recs)
    else:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        w.writerow(["report_id", "report"])
        w.writerows(recs)
        body = buf.getvalue()
    path.write_bytes(body.encode(encoding, errors="surrogatepass"))
    return path


def corrupt(data: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    for pos, chunk in edits:
        if data:
            p = pos % (len(data) + 1)
            data = data[:p] + chunk + data[p + 1 :]
    return data


EDIT = st.tuples(
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from([b'"', b"", b"\n", b",", b"\xff", b"\xc3", b"\x00", b"\r", b"\t", b'""']),
)


def read_all(src: ReportSource) -> tuple[int, int, list[str]]:
    good, bad, ids = 0, 0, []
    for chunk in src.chunks(5):
        good += len(chunk.frame)
        bad += len(chunk.rejects)
        ids += [str(x) for x in chunk.frame[src.id_column].tolist()] if len(chunk.frame) else []
        for r in chunk.rejects:
            assert MARKER not in r.reason
        if len(chunk.frame):
            for t in chunk.frame[src.text_column].tolist():
                assert isinstance(t, str) and t.strip()
    return good, bad, ids


# ------------------------------------------------------------------ readers
@settings_fast
@given(recs=records(), fmt=st.sampled_from(FORMATS))
def test_readers_account_for_every_well_formed_record(tmp_path_factory, recs, fmt):
    folder = tmp_path_factory.mktemp("fz")
    path = write_archive(folder, fmt, recs, "utf-8")
    try:
        src = ReportSource(path)
        good, bad, ids = read_all(src)
    except ReportLabError as err:  # a whole file fails only when there is nothing to read
        assert MARKER not in str(err)
        assert not recs, str(err)
        return
    assert good + bad == len(recs)
    assert len(set(ids)) == len(ids)


@settings_fast
@given(
    recs=records(),
    fmt=st.sampled_from(["csv", "tsv", "jsonl", "txtdir"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]),
    edits=st.lists(EDIT, max_size=4),
)
def test_readers_never_crash_on_damaged_bytes(tmp_path_factory, recs, fmt, encoding, edits):
    folder = tmp_path_factory.mktemp("fz")
    try:
        path = write_archive(folder, fmt, recs, encoding)
    except UnicodeEncodeError:
        assume(False)
    if path.is_file():
        path.write_bytes(corrupt(path.read_bytes(), edits))
    try:
        src = ReportSource(path)
        read_all(src)
    except ReportLabError as err:
        assert MARKER not in str(err)


# ------------------------------------------------------------------ commands
def _invoke(args: list[str]):
    res = CliRunner().invoke(app, args)
    assert res.exit_code in (0, 2), (res.exit_code, repr(res.exception))
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"uncaught {type(res.exception).__name__}")
    assert "Traceback" not in res.output
    assert MARKER not in res.output and MARKER not in (res.stderr or "")
    return res


def _rows(path: Path) -> int:
    if not path.exists():
        return 0
    if path.suffix == ".parquet":
        return len(pd.read_parquet(path))
    if path.suffix == ".jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return len(
        pd.read_csv(path, dtype=str, keep_default_na=False, sep="\t" if path.suffix == ".tsv" else ",")
    )


@settings_cmd
@given(
    recs=records(),
    fmt=st.sampled_from(FORMATS),
    edits=st.lists(EDIT, max_size=2),
    out_fmt=st.sampled_from(["csv", "parquet", "tsv"]),
)
def test_label_command_keeps_its_accounts(tmp_path_factory, rule_nlp, recs, fmt, edits, out_fmt):
    folder = tmp_path_factory.mktemp("fz")
    path = write_archive(folder, fmt, recs, "utf-8")
    if path.is_file() and fmt != "parquet":
        path.write_bytes(corrupt(path.read_bytes(), edits))
    out = folder / f"labels.{out_fmt}"
    res = _invoke(
        [
            "label",
            str(path),
            "-o",
            str(out),
            "--evidence",
            str(folder / "ev.jsonl"),
            "--no-link",
            "--chunk-size",
            "4",
            "-q",
        ]
    )
    if res.exit_code == 2:
        assert not out.exists()
        return
    rejects = _rows(folder / "labels.rejects.csv")
    labels = _rows(out)
    _rows(folder / "ev.jsonl")
    if not edits or fmt in ("parquet", "txtdir"):
        assert labels + rejects == len(recs)


@settings_cmd
@given(
    recs=records(),
    fmt=st.sampled_from(FORMATS),
    mode=st.sampled_from(["mask", "surrogate", "tag"]),
    edits=st.lists(EDIT, max_size=2),
)
def test_deid_command_keeps_its_accounts(tmp_path_factory, recs, fmt, mode, edits):
    folder = tmp_path_factory.mktemp("fz")
    path = write_archive(folder, fmt, recs, "utf-8")
    if path.is_file() and fmt != "parquet":
        path.write_bytes(corrupt(path.read_bytes(), edits))
    out = folder / "released.csv"
    res = _invoke(
        [
            "deid",
            str(path),
            "-o",
            str(out),
            "--mode",
            mode,
            "--spans",
            str(folder / "spans.csv"),
            "--chunk-size",
            "4",
        ]
    )
    if res.exit_code == 2:
        assert not out.exists()
        return
    rejects = _rows(folder / "released.rejects.csv")
    _rows(folder / "spans.csv")
    if mode != "tag" and (not edits or fmt in ("parquet", "txtdir")):
        assert _rows(out) + rejects == len(recs)


@settings_cmd
@given(
    rows=st.lists(
        st.tuples(
            st.text(max_size=5),
            _text(),
            st.one_of(st.integers(-3, 40), st.text(max_size=3)),
            st.one_of(st.integers(-3, 60), st.text(max_size=3)),
        ),
        max_size=8,
    ),
    edits=st.lists(EDIT, max_size=2),
)
def test_assertion_command_keeps_its_accounts(tmp_path_factory, rule_nlp, rows, edits):
    folder = tmp_path_factory.mktemp("fz")
    path = folder / "targets.csv"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "text", "start", "end"])
    w.writerows([(i, f"{MARKER} {t}", s, e) for i, t, s, e in rows])
    path.write_bytes(corrupt(buf.getvalue().encode("utf-8", "surrogatepass"), edits))
    out = folder / "assertions.csv"
    res = _invoke(["assertion", str(path), "-o", str(out)])
    if res.exit_code == 2:
        assert not out.exists()
        return
    if not edits:
        assert _rows(out) + _rows(folder / "assertions.rejects.csv") == len(rows)


@pytest.mark.parametrize("garbage", [b"", b"\x00\x00\x00", b"\xff\xfe\x00", b"report_id,report\n", b"\n\n\n"])
def test_label_on_empty_or_garbage_files_is_a_coded_error_or_an_empty_table(tmp_path, garbage):
    path = tmp_path / "in.csv"
    path.write_bytes(garbage)
    res = _invoke(["label", str(path), "-o", str(tmp_path / "o.csv"), "-q"])
    assert res.exit_code in (0, 2)
