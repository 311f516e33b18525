"""Bring-your-own-UMLS build on a synthetic RRF fixture, and the `link` / `ontology build` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportlab_nlp.errors import RulesError
from reportlab_nlp.linking import build_from_umls, get_linker, load_concepts

FIXTURE = Path(__file__).parent / "data" / "umls_fixture"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLAB_NLP_CACHE", str(tmp_path / "cache"))


def _by_cui(kb_dir):
    return {c.cui: c for c in load_concepts(kb_dir)}


def test_umls_round_trip_default_filters(tmp_path):
    info = build_from_umls(FIXTURE, tmp_path / "kb")
    kb = _by_cui(tmp_path / "kb")
    # C9999999 has only a suppressed row; nothing French; the malformed line is counted, not fatal
    assert list(kb) == ["C0032227", "C0032326", "C0018800", "C0004057", "C0024109"]
    pe = kb["C0032227"]
    assert pe.name == "Pleural Effusion"
    assert (
        pe.synonyms[:3]
        == ["Pleural effusion disorder", "Fluid in pleural cavity", "pleural effusion"][:2] + pe.synonyms[2:3]
    )
    assert "Effusion pleural obsolete string" not in pe.synonyms and "Épanchement pleural" not in pe.synonyms
    assert pe.semantic_types == ["T046"] and pe.radlex == "RID34539"
    assert (
        "pleural_effusion" in pe.observations and "chexpert:Pleural Effusion" in pe.labels
    )  # merged shipped hints
    assert kb["C0032326"].abbreviations[0] == "PTX"
    assert "Cardiac hypertrophy (suppressed form)" not in kb["C0018800"].synonyms
    assert kb["C0004057"].semantic_types == ["T109", "T121"] and kb["C0004057"].observations == []
    # a concept from a UMLS release is verified by definition
    assert {c.cui_status for c in kb.values()} == {"verified"}
    assert info["stats"]["malformed_rows"] == 1 and info["stats"]["concepts"] == 5
    meta = json.loads((tmp_path / "kb" / "meta.json").read_text())
    assert meta["format"] == "reportlab_nlp-kb" and meta["concepts"] == 5
    assert "C0032227" not in meta["shipped_cuis_missing"] and "C0336630" in meta["shipped_cuis_missing"]
    linker = get_linker(tmp_path / "kb").load()
    assert linker.link("plueral efusion").cui == "C0032227"
    assert linker.link("enlarged heart").cui == "C0018800"
    assert linker.link("PTX").cui == "C0032326"


def test_umls_filters(tmp_path):
    build_from_umls(FIXTURE, tmp_path / "a", semantic_types=["T046", "T047"], merge_shipped=False)
    assert list(_by_cui(tmp_path / "a")) == ["C0032227", "C0032326", "C0018800"]
    assert _by_cui(tmp_path / "a")["C0032227"].observations == []
    build_from_umls(FIXTURE, tmp_path / "b", sources=["MSH"], merge_shipped=False)
    b = _by_cui(tmp_path / "b")
    assert list(b) == ["C0032227", "C0032326", "C0018800", "C0004057", "C0024109"]
    assert all(c.synonyms == [] for c in b.values())
    build_from_umls(FIXTURE, tmp_path / "c", include_suppressed=True, merge_shipped=False)
    c = _by_cui(tmp_path / "c")
    assert "C9999999" in c and "Effusion pleural obsolete string" in c["C0032227"].synonyms
    build_from_umls(FIXTURE, tmp_path / "d", languages=["FRE"], merge_shipped=False)
    assert _by_cui(tmp_path / "d")["C0032227"].name == "Épanchement pleural"
    with pytest.raises(RulesError) as err:
        build_from_umls(FIXTURE, tmp_path / "e", semantic_types=["T999"])
    assert err.value.code == "RL213"
    with pytest.raises(RulesError) as err:
        build_from_umls(tmp_path / "nowhere", tmp_path / "f")
    assert err.value.code == "RL212"


# ---------------------------------------------------------------- CLI


@pytest.fixture()
def cli():
    from reportlab_nlp.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_link_json_shape(cli):
    res = cli("link", "plueral efusion", "PTX", "enlarged cardiac silhouette", "xyzzy", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["phrase"] for r in rows] == ["plueral efusion", "PTX", "enlarged cardiac silhouette", "xyzzy"]
    assert all(list(r) == ["phrase", "cui", "preferred_name", "score", "candidates"] for r in rows)
    assert [(r["cui"], r["preferred_name"]) for r in rows] == [
        ("C0032227", "Pleural effusion"),
        ("C0032326", "Pneumothorax"),
        ("C0018800", "Cardiomegaly"),
        (None, None),
    ]
    assert rows[1]["score"] == 1.0 and rows[2]["score"] == 1.0 and 0.7 <= rows[0]["score"] < 1.0
    assert rows[3]["score"] is None
    for r in rows:
        assert all(list(c) == ["cui", "preferred_name", "score"] for c in r["candidates"])
        assert r["cui"] is None or r["candidates"][0]["cui"] == r["cui"]


def test_cli_link_table_and_errors(cli, tmp_path):
    res = cli("link", "PTX")
    assert res.exit_code == 0 and "C0032326" in res.stdout and "Pneumothorax" in res.stdout
    res = cli("link")
    assert res.exit_code == 2 and "RL001" in res.output
    res = cli("link", "PTX", "--kb", str(tmp_path / "missing"))
    assert res.exit_code == 2 and "RL210" in res.output


def test_cli_ontology_build_then_link_with_kb(cli, tmp_path):
    out = tmp_path / "my_kb"
    res = cli("ontology", "build", "--umls", str(FIXTURE), "-o", str(out), "--tui", "T046", "--tui", "T047")
    assert res.exit_code == 0, res.output
    assert (out / "concepts.jsonl").is_file() and json.loads((out / "meta.json").read_text())["concepts"] == 3
    res = cli("link", "enlarged heart", "lung", "--kb", str(out), "--json")
    rows = json.loads(res.stdout)
    assert [r["cui"] for r in rows] == ["C0018800", None]  # the lung (T023) was filtered out
    res = cli("ontology", "build", "-o", str(tmp_path / "shipped"), "--no-index")
    assert (
        res.exit_code == 0 and len((tmp_path / "shipped" / "concepts.jsonl").read_text().splitlines()) >= 250
    )
