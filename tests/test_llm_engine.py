"""The prompted labeler (``--engine llm``): prompt data, constrained decoding, validation, retry and rejects.

Stub backends emit scripted answers (bad JSON, wrong labels, invented quotes) to show that no value
is emitted without a schema-valid answer and no evidence that is not in the report. A tiny random
Gemma-3 runs the real transformers ``generate`` path with the grammar end to end on CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from support.tiny_models import build_decoder_tokenizer, build_tiny_gemma  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from reportlab_nlp.cli import app  # noqa: E402
from reportlab_nlp.errors import ModelError  # noqa: E402
from reportlab_nlp.model.llm.answers import Cell, parse_answer  # noqa: E402
from reportlab_nlp.model.llm.engine import Failure, LlmLabeler  # noqa: E402
from reportlab_nlp.model.llm.grammar import AnswerGrammar, TokenTable, make_processor  # noqa: E402
from reportlab_nlp.model.llm.labeling import label_archive_with_llm  # noqa: E402
from reportlab_nlp.model.llm.prompt import PromptError, load_prompt  # noqa: E402
from reportlab_nlp.outputs import read_label_table  # noqa: E402

LABELS = ["No Finding", "Cardiomegaly", "Pleural Effusion"]
REPORTS = {
    "r1": "FINDINGS: The heart is enlarged. No pleural effusion.",
    "r2": "FINDINGS: Heart size is normal. Small left pleural effusion.",
    "r3": "FINDINGS: Lungs are clear.",
    "r4": "FINDINGS: Possible cardiomegaly. Questionable effusion at the base.",
    "r5": "FINDINGS: Heart size is normal.",
    "r6": "FINDINGS: Bony structures are intact.",
}


def answer(**cells) -> str:
    """An answer in the decoder's layout; ``cells`` maps a python name (spaces as _) to (value, quote)."""
    out = {}
    for n in LABELS:
        v, q = cells.get(n.replace(" ", "_"), (None, None))
        out[n] = {"value": v, "evidence": q}
    return json.dumps(out)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("llm")
    (d / "obs.yml").write_text("{}\n")
    (d / "tiny.yml").write_text(
        f"name: tiny\nobservations_file: {d / 'obs.yml'}\nno_finding: No Finding\nlabels:\n"
        "  - {name: No Finding, counts_as_finding: false}\n"
        "  - {name: Cardiomegaly, observations: [cardiomegaly]}\n"
        "  - {name: Pleural Effusion, observations: [pleural_effusion]}\n"
    )
    (d / "prompt.yml").write_text(
        f"name: tiny\ntaxonomy: {d / 'tiny.yml'}\nmax_quote_chars: 40\n"
        "instructions: Label the report.\n"
        "values: {'1': positive, '0': negative, '-1': uncertain, 'null': not mentioned}\n"
        "labels:\n"
        "  - {name: Pleural Effusion, definition: fluid in the pleural space}\n"
        "  - {name: Cardiomegaly, definition: enlarged heart}\n"
        "  - {name: No Finding, definition: nothing abnormal}\n"
        "examples:\n"
        "  - report: 'The heart is enlarged.'\n"
        "    labels: {Cardiomegaly: [1, The heart is enlarged.]}\n"
    )
    corpus = list(REPORTS.values()) + [
        "Label the report.",
        "fluid in the pleural space",
        "enlarged heart",
        "nothing abnormal",
    ]
    gemma = build_tiny_gemma(d / "gemma", corpus)
    return {"dir": d, "prompt": load_prompt(d / "prompt.yml"), "gemma": gemma, "corpus": corpus}


# -- the prompt as data --------------------------------------------------------------------------
def test_default_prompt_covers_chexpert_in_taxonomy_order():
    p = load_prompt()
    assert p.label_names == [
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
    assert p.no_finding == "No Finding" and len(p.examples) == 2
    assert p.examples[1].labels == {
        "Cardiomegaly": (0.0, "Heart size is normal."),
        "Atelectasis": (-1.0, "Possible small right basilar atelectasis."),
    }
    schema = p.json_schema()
    assert schema["required"] == p.label_names and schema["additionalProperties"] is False
    assert schema["properties"]["Edema"]["properties"]["value"] == {"enum": [1, 0, -1, None]}
    msg = p.user_message("FINDINGS: x")
    assert msg.endswith("Report:\nFINDINGS: x\n\nAnswer:")
    assert '"Atelectasis": {"value": -1, "evidence": "Possible small right basilar atelectasis."}' in msg


def test_user_prompt_file_is_put_in_taxonomy_order(tiny):
    p = tiny["prompt"]
    assert p.label_names == LABELS and p.max_quote_chars == 40
    assert p.definitions["Cardiomegaly"] == "enlarged heart"
    assert p.answer_json(p.examples[0].labels) == (
        '{"No Finding": {"value": null, "evidence": null}, '
        '"Cardiomegaly": {"value": 1, "evidence": "The heart is enlarged."}, '
        '"Pleural Effusion": {"value": null, "evidence": null}}'
    )


@pytest.mark.parametrize(
    "body, code, words",
    [
        ("labels: []\n", "RL430", "no list of labels"),
        ("labels:\n  - {name: Pneumothorax}\n", "RL431", "not a label of taxonomy tiny"),
        (
            "labels:\n  - {name: Cardiomegaly}\nexamples:\n  - report: Heart is big.\n"
            "    labels: {Cardiomegaly: [1, The heart is enlarged.]}\n",
            "RL432",
            "not copied from the example report",
        ),
        (
            "labels:\n  - {name: Cardiomegaly}\nexamples:\n  - report: Heart is big.\n"
            "    labels: {Cardiomegaly: [2, Heart is big.]}\n",
            "RL430",
            "is not one of 1, 0, -1, null",
        ),
    ],
)
def test_bad_prompt_files_are_coded_errors(tiny, tmp_path, body, code, words):
    f = tmp_path / "p.yml"
    f.write_text(f"taxonomy: {tiny['dir'] / 'tiny.yml'}\n" + body)
    with pytest.raises(PromptError) as err:
        load_prompt(f)
    assert err.value.code == code and words in err.value.message


# -- constrained decoding ----------------------------------------------------------------------------
def test_grammar_accepts_only_the_answer_layout():
    g = AnswerGrammar(["A", "B"], "The heart is enlarged. No effusion.", max_quote_chars=12)
    ok = '{"A": {"value": 1, "evidence": "heart is"}, "B": {"value": null, "evidence": null}}'
    assert g.is_end(g.feed(g.initial(), ok))
    prefix = '{"A": {"value": 1, "evidence": "'
    assert g.feed(g.initial(), prefix + "heart is big") is None  # not in the report
    assert g.feed(g.initial(), prefix + '"') is None  # empty quote
    assert g.feed(g.initial(), prefix + "The heart is ") is None  # 13 > 12 characters
    assert g.feed(g.initial(), '{"A": {"value": 1, "evidence": null') is None  # a value needs a quote
    assert g.feed(g.initial(), '{"A": {"value": null, "evidence": "') is None  # a blank has none
    assert g.feed(g.initial(), '{"A": {"value": 2') is None
    assert g.feed(g.initial(), '{"B"') is None  # labels in order
    assert sorted(g.candidates(g.feed(g.initial(), '{"A": {"value": '), 4)) == ["-1", "0", "1", "null"]


def test_processor_keeps_random_scores_inside_the_grammar(tiny):
    """Whatever the model scores, the decoded answer is schema-valid and every quote is in the report."""
    tok = build_decoder_tokenizer(tiny["corpus"])
    table = TokenTable(tok)
    eos = tok.eos_token_id
    report = REPORTS["r4"]
    seen_values, quotes = set(), 0
    for seed in range(12):
        g = AnswerGrammar(LABELS, report, max_quote_chars=40)
        proc = make_processor([g], table, [eos])
        ids = torch.tensor([[tok.bos_token_id]])
        gen = torch.Generator().manual_seed(seed)
        for _ in range(600):
            scores = proc(ids, torch.randn(1, len(tok), generator=gen))
            nxt = int(scores.argmax(-1))
            ids = torch.cat([ids, torch.tensor([[nxt]])], 1)
            if nxt == eos:
                break
        out = ids[0, 1:].tolist()
        assert out[-1] == eos
        text = tok.decode(out[:-1])
        ans = parse_answer(text, tiny["prompt"], report)
        assert ans.cells is not None and ans.unverified_quotes == 0, text
        for cell in ans.cells.values():
            seen_values.add(cell.value)
            if cell.value is not None:
                assert cell.evidence and report[cell.start : cell.end] == cell.evidence
                quotes += 1
            else:
                assert cell.evidence is None
    assert seen_values == {None, 1.0, 0.0, -1.0} and quotes > 10


# -- validation of an answer ------------------------------------------------------------------------
def test_parse_answer_accepts_valid_and_verifies_quotes(tiny):
    p, rep = tiny["prompt"], REPORTS["r1"]
    ans = parse_answer(
        answer(Cardiomegaly=(1, "The heart is enlarged."), Pleural_Effusion=(0, "No pleural effusion.")),
        p,
        rep,
    )
    assert ans.cells == {
        "No Finding": Cell(None),
        "Cardiomegaly": Cell(1.0, "The heart is enlarged.", 10, 32),
        "Pleural Effusion": Cell(0.0, "No pleural effusion.", 33, 53),
    }
    # an invented quote is no evidence: the value stays, the quote is dropped and counted
    ans = parse_answer(answer(Cardiomegaly=(1, "Massive cardiomegaly."), Pleural_Effusion=(0, "   ")), p, rep)
    assert (
        ans.cells["Cardiomegaly"] == Cell(1.0)
        and ans.cells["Pleural Effusion"] == Cell(0.0)
        and ans.unverified_quotes == 2
    )
    assert parse_answer("```json\n" + answer() + "\n```", p, rep).cells == {n: Cell(None) for n in LABELS}


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "the answer is empty"),
        ('{"No Finding": {"value": 1', "the answer is not JSON (or is cut short)"),
        ("[1, 0]", "the answer is not a JSON object"),
        (
            json.dumps({"No Finding": {"value": None, "evidence": None}}),
            "label(s) missing: Cardiomegaly, Pleural Effusion",
        ),
        (
            answer()[:-1] + ', "Pneumothorax": {"value": 1, "evidence": null}}',
            "1 key(s) that are not labels of the prompt",
        ),
        (answer(Cardiomegaly=(2, None)), "label 'Cardiomegaly': value is not 1, 0, -1 or null"),
        (answer(Cardiomegaly=("1", None)), "label 'Cardiomegaly': value is not 1, 0, -1 or null"),
        (answer(Cardiomegaly=(True, None)), "label 'Cardiomegaly': value is not 1, 0, -1 or null"),
        (answer(Cardiomegaly=(1, ["The heart"])), "label 'Cardiomegaly': evidence is not a string or null"),
        (
            answer().replace('"Cardiomegaly": {"value": null, "evidence": null}', '"Cardiomegaly": 1'),
            "label 'Cardiomegaly': not an object with exactly 'value' and 'evidence'",
        ),
        ('{"Cardiomegaly": 1, "Cardiomegaly": 0}', "a key is repeated"),
    ],
)
def test_invalid_answers_are_named_without_report_text(tiny, text, problem):
    ans = parse_answer(text, tiny["prompt"], REPORTS["r1"])
    assert ans.cells is None and ans.problem == problem


# -- retry, then reject -------------------------------------------------------------------------
class ScriptedBackend:
    """Answers from a script: report text -> one answer per attempt."""

    name = "stub"

    def __init__(self, script: dict[str, list]):
        self.script = script
        self.calls: list[tuple[int, int]] = []

    def generate(self, reports, attempt):
        self.calls.append((attempt, len(reports)))
        return [self.script[r][min(attempt, len(self.script[r]) - 1)] for r in reports]


def _script():
    R = REPORTS
    return {
        R["r1"]: [
            answer(Cardiomegaly=(1, "The heart is enlarged."), Pleural_Effusion=(0, "No pleural effusion."))
        ],
        R["r2"]: [
            "not json at all",
            answer(
                Cardiomegaly=(0, "Heart size is normal."),
                Pleural_Effusion=(1, "Small left pleural effusion."),
            ),
        ],
        R["r3"]: ['{"No Finding": ', '{"No Finding": {"value": 1, "evidence": "Lungs are clear."}}'],
        R["r4"]: [
            answer(Cardiomegaly=(-1, "Possible cardiomegaly."), Pleural_Effusion=(-1, "Effusion is large."))
        ],
        R["r5"]: [Failure("RL451", "the prompt (9000 tokens) does not fit the model's 8192-token context")],
        R["r6"]: [
            answer(Cardiomegaly=(7, None)),
            answer()[:-1] + ', "Pneumonia": {"value": 1, "evidence": null}}',
        ],
    }


def test_engine_retries_once_then_rejects_and_never_guesses(tiny):
    backend = ScriptedBackend(_script())
    lab = LlmLabeler(backend, tiny["prompt"])
    ids = list(REPORTS)
    results, rejects = lab.label(ids, [REPORTS[i] for i in ids])
    assert backend.calls == [(0, 6), (1, 3)]  # r2, r3, r6 retried once; r5 (too long) not retried
    got = {r.record_id: ({n: c.value for n, c in r.cells.items()}, r.attempts) for r in results}
    assert got == {
        "r1": ({"No Finding": None, "Cardiomegaly": 1.0, "Pleural Effusion": 0.0}, 1),
        "r2": ({"No Finding": None, "Cardiomegaly": 0.0, "Pleural Effusion": 1.0}, 2),
        "r4": ({"No Finding": None, "Cardiomegaly": -1.0, "Pleural Effusion": -1.0}, 1),
    }
    r4 = next(r for r in results if r.record_id == "r4").cells
    assert r4["Cardiomegaly"].evidence == "Possible cardiomegaly." and r4["Pleural Effusion"].evidence is None
    assert [(r.record_id, r.code, r.reason) for r in rejects] == [
        ("r3", "RL450", "no valid answer in 2 attempt(s): label(s) missing: Cardiomegaly, Pleural Effusion"),
        ("r5", "RL451", "the prompt (9000 tokens) does not fit the model's 8192-token context"),
        ("r6", "RL450", "no valid answer in 2 attempt(s): 1 key(s) that are not labels of the prompt"),
    ]
    assert (lab.stats.answers, lab.stats.invalid_answers, lab.stats.retried, lab.stats.unverified_quotes) == (
        8,
        5,
        3,
        1,
    )


def test_archive_with_stub_backend_writes_table_evidence_and_rejects(tiny, tmp_path):
    inp = tmp_path / "in.csv"
    pd.DataFrame({"accession": list(REPORTS) + ["empty"], "body": list(REPORTS.values()) + ["  "]}).to_csv(
        inp, index=False
    )
    out = tmp_path / "labels.csv"
    s = label_archive_with_llm(
        inp,
        out,
        engine="llm",
        prompt=tiny["prompt"],
        backend=ScriptedBackend(_script()),
        evidence_path=tmp_path / "ev.jsonl",
        show_progress=False,
        chunk_size=4,
    )
    assert (s["rows_in"], s["rows_out"], s["rejects"], s["retried"], s["unverified_quotes"]) == (
        7,
        3,
        4,
        3,
        1,
    )
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["accession", *LABELS]
    assert table.to_dict("records") == [
        {"accession": "r1", "No Finding": "", "Cardiomegaly": "1.0", "Pleural Effusion": "0.0"},
        {"accession": "r2", "No Finding": "", "Cardiomegaly": "0.0", "Pleural Effusion": "1.0"},
        {"accession": "r4", "No Finding": "", "Cardiomegaly": "-1.0", "Pleural Effusion": "-1.0"},
    ]
    ev = [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text().splitlines()]
    assert [(e["report_id"], e["label"], e["value"], e["sentence"]) for e in ev] == [
        ("r1", "Cardiomegaly", 1.0, "The heart is enlarged."),
        ("r1", "Pleural Effusion", 0.0, "No pleural effusion."),
        ("r2", "Cardiomegaly", 0.0, "Heart size is normal."),
        ("r2", "Pleural Effusion", 1.0, "Small left pleural effusion."),
        ("r4", "Cardiomegaly", -1.0, "Possible cardiomegaly."),
        ("r4", "Pleural Effusion", -1.0, None),
    ]
    for e in ev:  # every emitted quote is the report's own text at its offsets
        if e["sentence"] is not None:
            assert REPORTS[e["report_id"]][e["start"] : e["end"]] == e["sentence"] and e["source"] == "llm"
    rej = pd.read_csv(tmp_path / "labels.rejects.csv", dtype=str).to_dict("records")
    # per chunk of 4 records: the reader's rejects, then the model's
    assert [(r["accession"], r["code"]) for r in rej] == [
        ("r3", "RL450"),
        ("empty", "RL107"),
        ("r5", "RL451"),
        ("r6", "RL450"),
    ]
    assert not any(t in r["reason"] for r in rej for t in REPORTS.values())


# -- end to end with a tiny Gemma-3 ------------------------------------------------------------------
def _flat_logits_copy(gemma_dir: Path, out_dir: Path) -> Path:
    """A copy of the tiny Gemma whose logits are all exactly 0 (final RMSNorm scale 1 + w = 0).

    Greedy decoding then takes the allowed token with the lowest id at every step, so the
    constrained answer is known exactly: value -1 (the byte "-" sorts first), and a one-character
    quote -- the report's lowest printable character -- closed at once.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(gemma_dir)
    with torch.no_grad():
        model.model.norm.weight.fill_(-1.0)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(gemma_dir).save_pretrained(out_dir)
    return out_dir


def test_llm_engine_end_to_end_with_tiny_gemma(tiny, tmp_path):
    inp = tmp_path / "in.csv"
    pd.DataFrame({"report_id": list(REPORTS)[:4], "report": list(REPORTS.values())[:4]}).to_csv(
        inp, index=False
    )
    out = tmp_path / "llm.csv"
    s = label_archive_with_llm(
        inp,
        out,
        model_dir=tiny["gemma"],
        engine="llm",
        prompt=tiny["dir"] / "prompt.yml",
        backend="transformers",
        device="cpu",
        batch_size=2,
        evidence_path=tmp_path / "ev.jsonl",
        show_progress=False,
    )
    assert (s["rows_in"], s["rows_out"], s["rejects"], s["invalid_answers"], s["backend"]) == (
        4,
        4,
        0,
        0,
        "transformers",
    )
    table, _ = read_label_table(out, LABELS)
    assert table.index.tolist() == list(REPORTS)[:4]
    assert all(v in (1.0, 0.0, -1.0) or v != v for v in table[LABELS].to_numpy().ravel().tolist())
    for line in (tmp_path / "ev.jsonl").read_text().splitlines():
        e = json.loads(line)
        assert REPORTS[e["report_id"]][e["start"] : e["end"]] == e["sentence"]


def test_constrained_tiny_gemma_writes_verified_quotes(tiny, tmp_path):
    from reportlab_nlp.model.llm.backends import TransformersBackend

    flat = _flat_logits_copy(tiny["gemma"], tmp_path / "flat")
    backend = TransformersBackend(flat, tiny["prompt"], device="cpu", batch_size=3, threads=1)
    reports = [REPORTS["r1"], REPORTS["r2"], REPORTS["r3"]]
    texts = backend.generate(reports, 0)
    assert (
        texts
        == [
            '{"No Finding": {"value": -1, "evidence": "."}, "Cardiomegaly": {"value": -1, "evidence": "."}, '
            '"Pleural Effusion": {"value": -1, "evidence": "."}}'
        ]
        * 3
    )
    lab = LlmLabeler(backend, tiny["prompt"])
    results, rejects = lab.label(["a", "b", "c"], reports)
    assert rejects == [] and lab.stats.invalid_answers == 0 and lab.stats.unverified_quotes == 0
    for res, rep in zip(results, reports):
        first_dot = rep.index(".")
        assert res.cells == {n: Cell(-1.0, ".", first_dot, first_dot + 1) for n in LABELS}


def test_cli_engine_llm_and_hybrid_with_a_decoder_checkpoint(tiny, tmp_path, monkeypatch):
    import reportlab_nlp.labeler as labeler_mod

    class _Rules:
        def __init__(self, labels):
            self.labels, self.mentions = labels, []

    monkeypatch.setattr(
        labeler_mod,
        "label_texts",
        lambda texts, taxonomy="chexpert", *, ids=None, evidence=True, **kw: [
            _Rules({"No Finding": None, "Cardiomegaly": 0.0, "Pleural Effusion": None}) for _ in texts
        ],
    )
    inp = tmp_path / "in.csv"
    pd.DataFrame({"report_id": ["a", "b"], "report": [REPORTS["r1"], REPORTS["r2"]]}).to_csv(inp, index=False)
    common = [
        "--model",
        str(tiny["gemma"]),
        "--prompt",
        str(tiny["dir"] / "prompt.yml"),
        "--device",
        "cpu",
        "--quiet",
    ]
    res = CliRunner().invoke(
        app, ["label", str(inp), "-o", str(tmp_path / "l.csv"), "--engine", "llm", *common]
    )
    assert res.exit_code == 0, res.output
    llm, _ = read_label_table(tmp_path / "l.csv", LABELS)
    res = CliRunner().invoke(
        app,
        [
            "label",
            str(inp),
            "-o",
            str(tmp_path / "h.csv"),
            "--engine",
            "hybrid",
            "--review",
            str(tmp_path / "r.csv"),
            *common,
        ],
    )
    assert res.exit_code == 0, res.output
    hybrid, _ = read_label_table(tmp_path / "h.csv", LABELS)
    assert (
        hybrid.index.tolist() == ["a", "b"] and (hybrid["Cardiomegaly"] == 0.0).all()
    )  # the rules' value wins
    assert list(pd.read_csv(tmp_path / "r.csv").columns) == [
        "report_id",
        "label",
        "rule_value",
        "model_value",
        "model_probability",
        "final_value",
    ]
    assert llm.index.tolist() == ["a", "b"]
    res = CliRunner().invoke(
        app, ["label", str(inp), "-o", str(tmp_path / "x.csv"), "--engine", "llm", "--model", str(tmp_path)]
    )
    assert res.exit_code == 2 and "[RL440]" in res.output
    res = CliRunner().invoke(app, ["label", "--help"], terminal_width=200)
    flat = " ".join(res.output.replace("│", " ").split())
    assert "llm (prompted decoder, e.g. MedGemma-4B-it)" in flat and "--prompt" in flat


def test_backend_refuses_an_encoder_checkpoint(tmp_path):
    from support.tiny_models import build_tiny_encoder

    from reportlab_nlp.model.llm.backends import check_generative_dir

    enc = build_tiny_encoder(tmp_path / "bert", ["No pleural effusion."])
    with pytest.raises(ModelError) as err:
        check_generative_dir(enc)
    assert err.value.code == "RL440" and "not a generative" in err.value.message
