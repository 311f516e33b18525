"""``report``: the self-contained HTML QA report, checked as data and in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from reportlab_nlp.cli import app
from reportlab_nlp.report import Mark, build_report_data, render_html, render_sentence
from reportlab_nlp.schema import load_taxonomy

LABELS = list(load_taxonomy("chexpert").label_names)

# (report id, section, sentence start, sentence, label, assertion, mention, trigger)
MENTIONS = [
    (
        "a1",
        "findings",
        10,
        "Small left pleural effusion.",
        "Pleural Effusion",
        "present",
        "pleural effusion",
        None,
    ),
    ("a1", "impression", 60, "No pneumothorax.", "Pneumothorax", "absent", "pneumothorax", "No"),
    (
        "a2",
        "findings",
        0,
        "Possible right lower lobe pneumonia on 03/04/2019.",
        "Pneumonia",
        "possible",
        "pneumonia",
        "Possible",
    ),
    ("a2", "findings", 52, "The heart is enlarged.", "Cardiomegaly", "present", "heart is enlarged", None),
    (
        "a3",
        "impression",
        5,
        "Cardiomegaly with small effusion.",
        "Cardiomegaly",
        "present",
        "Cardiomegaly",
        None,
    ),
    (
        "a3",
        "impression",
        5,
        "Cardiomegaly with small effusion.",
        "Pleural Effusion",
        "present",
        "effusion",
        None,
    ),
]


def _records():
    out = []
    for rid, section, s0, sentence, label, assertion, mention, trigger in MENTIONS:
        i = sentence.index(mention)
        rec = {
            "report_id": rid,
            "label": label,
            "assertion": assertion,
            "section": section,
            "sentence": sentence,
            "sentence_start": s0,
            "start": s0 + i,
            "end": s0 + i + len(mention),
            "text": mention,
            "trigger": trigger,
            "trigger_start": None,
            "trigger_end": None,
        }
        if trigger:
            j = sentence.index(trigger)
            rec.update(trigger_start=s0 + j, trigger_end=s0 + j + len(trigger))
        out.append(rec)
    return out


@pytest.fixture()
def inputs(tmp_path):
    rows = [
        {"report_id": "a1", "Pleural Effusion": "1.0", "Pneumothorax": "0.0"},
        {"report_id": "a2", "Pneumonia": "-1.0", "Cardiomegaly": "1.0"},
        {"report_id": "a3", "Cardiomegaly": "1.0", "Pleural Effusion": "1.0"},
        {"report_id": "a4", "No Finding": "1.0"},
    ]
    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        [{"report_id": r["report_id"], **{lab: r.get(lab, "") for lab in LABELS}} for r in rows]
    ).to_csv(labels, index=False)
    evidence = tmp_path / "mentions.jsonl"
    evidence.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    review = tmp_path / "review.csv"
    review.write_text(
        "report_id,label,rule_value,model_value,model_probability,final_value\n"
        "a2,Pneumonia,-1.0,1.0,0.7,-1.0\na3,Edema,,1.0,0.6,\na1,Pneumonia,,1.0,0.55,\n"
    )
    rejects = tmp_path / "labels.rejects.csv"
    rejects.write_text("report_id,code,reason\nx1,RL107,empty report\nx2,RL107,empty report\nx3,RL104,bad\n")
    return labels, evidence, review, rejects


def test_report_data_is_exact(inputs):
    labels, evidence, review, rejects = inputs
    data = build_report_data(labels, evidence, review, rejects, per_label=5)
    assert data.n_reports == 4
    assert data.prevalence.loc["Cardiomegaly"].tolist() == [2, 0, 0, 2]
    assert data.prevalence.loc["Pleural Effusion"].tolist() == [2, 0, 0, 2]
    assert data.prevalence.loc["Pneumonia"].tolist() == [0, 0, 1, 3]
    assert data.cooccurrence.loc["Cardiomegaly", "Pleural Effusion"] == 1
    assert data.cooccurrence.loc["Cardiomegaly", "Cardiomegaly"] == 2
    assert data.rejects_by_code == {"RL104": 1, "RL107": 2}
    assert data.section_patterns.to_dict() == {"findings+impression": 1, "findings": 1, "impression": 1}
    assert [r["report_id"] for r in data.samples["Cardiomegaly"]] == ["a2", "a3"]
    assert data.disagreements.values.tolist() == [
        ["Edema", "", "1.0", 1],
        ["Pneumonia", "", "1.0", 1],
        ["Pneumonia", "-1.0", "1.0", 1],
    ]


def test_render_sentence_marks_offsets_and_masks_phi():
    html = render_sentence(
        "No pneumothorax on 03/04/2019.",
        100,
        [Mark(103, 115, "ent", "Pneumothorax: absent"), Mark(100, 102, "trigger")],
        phi=[(19, 29, "DATE")],
    )
    assert html == (
        '<mark class="trigger" data-start="100" data-end="102">No</mark> '
        '<mark class="ent" data-start="103" data-end="115" data-label="Pneumothorax: absent">'
        'pneumothorax</mark> on <span class="phi">[DATE]</span>.'
    )
    assert (
        render_sentence("a <b> & c", 0, [Mark(2, 5, "ent")])
        == 'a <mark class="ent" data-start="2" data-end="5">&lt;b&gt;</mark> &amp; c'
    )


def test_html_is_self_contained(inputs):
    labels, evidence, review, rejects = inputs
    page = render_html(build_report_data(labels, evidence, review, rejects))
    assert "<script" not in page
    # only in-page references (#id, data: URIs): nothing is fetched when the page is viewed
    assert re.findall(r'(?:src|href)\s*=\s*"(?!#|data:)', page) == []
    assert re.findall(r"url\((?!#)", page) == [] and "@import" not in page
    assert page.count("<svg") == 4  # prevalence, section patterns, rejects, co-occurrence


def test_cli_report_keeps_report_text_out_of_the_console_and_redacts(inputs, tmp_path):
    labels, evidence, review, rejects = inputs
    out = tmp_path / "qa.html"
    res = CliRunner().invoke(
        app,
        [
            "report",
            str(labels),
            "-e",
            str(evidence),
            "-r",
            str(review),
            "--rejects",
            str(rejects),
            "-o",
            str(out),
            "--redact",
            "--per-label",
            "5",
        ],
    )
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert "03/04/2019" not in page and '<span class="phi">[DATE]</span>' in page
    for _, _, _, sentence, *_ in MENTIONS:
        assert sentence.split()[1] not in res.output
    res = CliRunner().invoke(app, ["report", str(labels), "-e", str(labels), "-o", str(labels)])
    assert res.exit_code == 2 and "[RL301]" in res.output


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.mark.skipif(  # CI (.ci/run installs it) never skips: there a missing browser is a failure
    _chromium() is None and os.environ.get("CI") != "true",
    reason="no Chromium installed (apt-get install -y chromium chromium-driver)",
)
def test_report_renders_in_headless_chromium(inputs, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    labels, evidence, review, rejects = inputs
    out = tmp_path / "qa.html"
    res = CliRunner().invoke(
        app,
        [
            "report",
            str(labels),
            "-e",
            str(evidence),
            "-r",
            str(review),
            "--rejects",
            str(rejects),
            "-o",
            str(out),
            "--per-label",
            "5",
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    browser, driver_path = _chromium()
    opts = Options()
    opts.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,1600",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        driver.get(out.as_uri())
        assert driver.title == "reportlab-nlp QA report"
        charts = driver.find_elements(By.CSS_SELECTOR, "div.chart > svg")
        assert len(charts) == 4
        assert all(c.size["width"] > 100 and c.size["height"] > 50 for c in charts)
        expected = {(r["report_id"], r["start"], r["end"]): r["text"] for r in _records()}
        expected.update(
            {
                (r["report_id"], r["trigger_start"], r["trigger_end"]): r["trigger"]
                for r in _records()
                if r["trigger"]
            }
        )
        seen = set()
        for mark in driver.find_elements(By.CSS_SELECTOR, "div.report mark"):
            rid = mark.find_element(By.XPATH, "ancestor::div[@class='report']").get_attribute(
                "data-report-id"
            )
            key = (rid, int(mark.get_attribute("data-start")), int(mark.get_attribute("data-end")))
            text = driver.execute_script("return arguments[0].firstChild.textContent;", mark)
            assert text == expected[key]
            seen.add(key)
        assert seen == set(expected)
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        if os.environ.get("REPORTLAB_SCREENSHOT"):
            shutil.copy(shot, os.environ["REPORTLAB_SCREENSHOT"])
    finally:
        driver.quit()
