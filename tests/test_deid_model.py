"""The optional de-id model signal: union with the rules, `deid train`, `deid --model`, bad model dirs.

Tiny random BERT encoders are built from configs (tests/support/tiny_models.py): no downloads.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from reportlab_nlp.cli import app
from reportlab_nlp.deid import Deidentifier, Detector, Span
from reportlab_nlp.deid.detect import CATEGORIES
from reportlab_nlp.deid.model_signal import (
    CONFIG_FILE,
    DeidModelError,
    ModelSignal,
    RulesAndModel,
    bio_labels,
    decode_tags,
    read_config,
    union_spans,
)
from reportlab_nlp.deid.training import (
    Example,
    data_hash,
    gold_pairs,
    read_gold,
    synthetic_examples,
    token_tags,
)
from reportlab_nlp.errors import ArgumentError, GoldTableError

runner = CliRunner()


class StubSignal:
    """A fixed-output model: spans by text, the same object every call."""

    fingerprint = "stub0001"

    def __init__(self, spans_by_text: dict, fail_on: str | None = None):
        self.spans_by_text = spans_by_text
        self.fail_on = fail_on
        self.calls: list[int] = []

    def predict(self, texts):
        self.calls.append(len(texts))
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError("model failure")
        return [list(self.spans_by_text.get(t, [])) for t in texts]


def triples(spans):
    return [(s.start, s.end, s.category) for s in spans]


# ------------------------------------------------------------------------------ the union rule
def test_union_adds_model_only_span_with_model_category():
    text = "Seen on 01/02/2019 by zelvaro."
    rules = [Span(8, 18, "DATE", "date")]
    model = [Span(22, 29, "NAME", "model")]
    assert triples(union_spans(text, rules, model)) == [(8, 18, "DATE"), (22, 29, "NAME")]


def test_union_overlap_with_one_rule_span_merges_extent_and_keeps_rule_category():
    text = "Seen on March 3rd 2019 here."
    rules = [Span(8, 17, "DATE", "date")]  # "March 3rd"
    model = [Span(14, 22, "ID", "model")]  # "3rd 2019"
    out = union_spans(text, rules, model)
    assert triples(out) == [(8, 22, "DATE")]
    assert out[0].rule == "date+model"


def test_union_model_span_bridging_two_rule_spans_keeps_both_and_adds_the_gap():
    text = "Smith John Jones called."
    rules = [Span(0, 5, "NAME", "n1"), Span(11, 16, "NAME", "n2")]
    model = [Span(0, 16, "CITY", "model")]
    assert triples(union_spans(text, rules, model)) == [(0, 5, "NAME"), (6, 10, "CITY"), (11, 16, "NAME")]


def test_union_groups_overlapping_model_spans_take_the_longest_category():
    text = "Lives in Glenbrook Falls now."
    model = [Span(9, 18, "NAME", "model"), Span(9, 24, "CITY", "model")]
    assert triples(union_spans(text, [], model)) == [(9, 24, "CITY")]


def test_union_cuts_pre_redacted_tokens_trims_punctuation_and_drops_times():
    text = "XXXX Zelvaro, at 10:30 today."
    model = [Span(0, 13, "NAME", "model"), Span(17, 22, "TIME", "model")]
    assert triples(union_spans(text, [], model)) == [(5, 12, "NAME")]
    assert triples(union_spans(text, [], model, times=True)) == [(5, 12, "NAME"), (17, 22, "TIME")]


def test_union_without_model_spans_is_the_rules_unchanged():
    rules = [Span(0, 5, "NAME", "n"), Span(8, 18, "DATE", "d")]
    assert union_spans("Smith on 01/02/2019", rules, []) == rules


def test_deidentifier_with_stub_model_masks_what_the_rules_miss():
    text = "Compared with the study of 01/02/2019, zelvaro notes no change."
    assert triples(Detector().detect(text)) == [(27, 37, "DATE")]
    stub = StubSignal({text: [Span(39, 46, "NAME", "model")]})
    d = Deidentifier("mask", model=stub)
    assert isinstance(d.detector, RulesAndModel)
    assert d.model_fingerprint == "stub0001"
    assert d.deidentify(text) == "Compared with the study of [DATE], [NAME] notes no change."


def test_process_frame_batches_the_model_and_rejects_only_the_failing_record():
    texts = ["zelvaro reviewed the films.", "BROKEN", "No acute process."]
    stub = StubSignal({texts[0]: [Span(0, 7, "NAME", "model")]}, fail_on="BROKEN")
    d = Deidentifier("mask", model=stub)
    frame = pd.DataFrame({"id": ["a", "b", "c"], "text": texts})
    res = d.process_frame(frame, "id", "text")
    assert res.frame["id"].tolist() == ["a", "c"]
    assert res.frame["text"].tolist() == ["[NAME] reviewed the films.", "No acute process."]
    assert [(r.record_id, r.code) for r in res.rejects] == [("b", "RL610")]
    assert stub.calls == [3, 1, 1, 1]  # one batch, then record by record after the failure


# ------------------------------------------------------------------------------ tags and gold files
def test_token_tags_and_decode_round_trip():
    labels = bio_labels(["NAME", "DATE"])
    assert labels == ["O", "B-NAME", "I-NAME", "B-DATE", "I-DATE"]
    l2i = {lab: i for i, lab in enumerate(labels)}
    # "Dr Ann Lee on 3/4" as words with sub-word tokens: "Dr" "Ann" "Le" "##e" "on" "3" "/" "4"
    offsets = [(0, 2), (3, 6), (7, 9), (9, 10), (11, 13), (14, 15), (15, 16), (16, 17)]
    word_ids = [0, 1, 2, 2, 3, 4, 5, 6]
    tags = token_tags(offsets, [(3, 10, "NAME"), (14, 17, "DATE")], l2i)
    assert tags == [0, 1, 2, 2, 0, 3, 4, 4]
    assert decode_tags([labels[t] for t in tags], word_ids, offsets) == [(3, 10, "NAME"), (14, 17, "DATE")]
    # I- after O opens a span; a category change splits
    assert decode_tags(["O", "I-NAME", "I-DATE"], [0, 1, 2], [(0, 1), (2, 3), (4, 5)]) == [
        (2, 3, "NAME"),
        (4, 5, "DATE"),
    ]


def write_gold(tmp_path, rows, spans, stem="g"):
    t = tmp_path / f"{stem}_texts.csv"
    s = tmp_path / f"{stem}_spans.csv"
    pd.DataFrame(rows, columns=["id", "text"]).to_csv(t, index=False)
    pd.DataFrame(spans, columns=["id", "start", "end", "category"]).to_csv(s, index=False)
    return t, s


def test_read_gold_maps_aliases_and_keeps_texts_without_spans(tmp_path):
    t, s = write_gold(
        tmp_path,
        [("1", "Ann Lee lives in Boston."), ("2", "No PHI here.")],
        [("1", 0, 7, "NAME"), ("1", 17, 23, "LOCATION")],
    )
    assert gold_pairs([t]) == [(t, s)]
    assert read_gold(t, s) == [
        Example("Ann Lee lives in Boston.", ((0, 7, "NAME"), (17, 23, "CITY"))),
        Example("No PHI here.", ()),
    ]


def test_read_gold_refuses_unknown_category_and_spans_past_the_text(tmp_path):
    t, s = write_gold(tmp_path, [("1", "Ann Lee.")], [("1", 0, 3, "SECRETWORD")])
    with pytest.raises(GoldTableError) as err:
        read_gold(t, s)
    assert err.value.code == "RL623" and "row 2" in str(err.value) and "Ann" not in str(err.value)
    t, s = write_gold(tmp_path, [("1", "Ann Lee.")], [("1", 0, 30, "NAME")], stem="h")
    with pytest.raises(GoldTableError) as err:
        read_gold(t, s)
    assert err.value.code == "RL623" and "'1'" in str(err.value)
    with pytest.raises(ArgumentError):
        gold_pairs([tmp_path / "plain.csv"])


# ------------------------------------------------------------------------------ tiny models
@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    from support.tiny_models import build_tiny_encoder

    corpus = [ex.text for ex in synthetic_examples(12, 3)] + OVERFIT_TEXTS
    return build_tiny_encoder(tmp_path_factory.mktemp("enc") / "tiny", corpus, vocab_size=500)


OVERFIT_NAMES = ["zelvaro", "quintaro", "belmora", "tarvesh"]
PREFIX = "no acute process today. "
OVERFIT_TEXTS = (
    [f"{n} reviewed the films today." for n in OVERFIT_NAMES]
    + [f"{PREFIX}{n} reviewed the films today." for n in OVERFIT_NAMES[::-1]]
    + ["the films were reviewed today.", "no acute process today.", f"{PREFIX}the films were reviewed today."]
)
OVERFIT_SPANS = [(str(i), 0, len(n), "NAME") for i, n in enumerate(OVERFIT_NAMES)] + [
    (str(4 + i), len(PREFIX), len(PREFIX) + len(n), "NAME") for i, n in enumerate(OVERFIT_NAMES[::-1])
]


def test_deid_train_cli_end_to_end_writes_a_loadable_model(tmp_path, tiny_encoder):
    out = tmp_path / "model"
    res = runner.invoke(
        app,
        [
            "deid",
            "train",
            "-o",
            str(out),
            "--encoder",
            str(tiny_encoder),
            "--synthetic",
            "6",
            "--max-steps",
            "2",
            "--batch-size",
            "4",
            "--max-length",
            "64",
            "--window-overlap",
            "16",
            "--seed",
            "5",
        ],
    )
    assert res.exit_code == 0, res.output
    cfg = json.loads((out / CONFIG_FILE).read_text())
    assert cfg["format"] == "reportlab-nlp-deid-model" and cfg["version"] == 1
    assert cfg["labels"] == bio_labels(CATEGORIES)
    assert (cfg["max_length"], cfg["window_overlap"]) == (64, 16)
    assert cfg["training"]["steps"] == 2 and cfg["training"]["synthetic"] == 6
    assert cfg["data_hash"] == data_hash(synthetic_examples(6, 5))
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    assert not (tmp_path / "model.partial").exists()
    signal = ModelSignal.load(out)
    assert len(signal.predict(["Seen by Dr. Smith on 01/02/2019.", ""])) == 2
    # the output exists now: a second run without --overwrite is refused with a code
    again = runner.invoke(app, ["deid", "train", "-o", str(out), "--encoder", str(tiny_encoder)])
    assert again.exit_code == 2 and "[RL624]" in again.output
    # and deid --model uses it; the plain deid command is unchanged
    reports = tmp_path / "r.csv"
    pd.DataFrame({"report_id": ["a", "b"], "report": ["Seen on 01/02/2019.", "No acute process."]}).to_csv(
        reports, index=False
    )
    masked = tmp_path / "m.csv"
    res = runner.invoke(app, ["deid", str(reports), "-o", str(masked), "--model", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(masked)
    assert got["report_id"].tolist() == ["a", "b"]
    assert "01/02/2019" not in got["report"].iloc[0]


@pytest.fixture(scope="module")
def overfit_model(tmp_path_factory, tiny_encoder):
    from reportlab_nlp.deid.training import train_deid_model

    root = tmp_path_factory.mktemp("overfit")
    rows = [(str(i), t) for i, t in enumerate(OVERFIT_TEXTS)]
    t, s = write_gold(root, rows, OVERFIT_SPANS)
    out = root / "model"
    train_deid_model(
        out,
        encoder=tiny_encoder,
        gold=[(t, s)],
        synthetic=0,
        epochs=150,
        batch_size=16,
        lr=3e-3,
        max_length=16,
        window_overlap=4,
        seed=0,
        threads=1,
    )
    return out


def test_overfit_model_finds_a_name_the_rules_miss_in_every_window(overfit_model):
    text = "zelvaro reviewed the films today."
    assert Detector().detect(text) == []
    signal = ModelSignal.load(overfit_model)
    assert triples(signal.predict([text])[0]) == [(0, 7, "NAME")]
    # 6 copies = 42 tokens: windows of 14 tokens overlapping by 4; every copy is found
    long = " ".join([text] * 6)
    starts = [i * (len(text) + 1) for i in range(6)]
    assert triples(signal.predict([long])[0]) == [(b, b + 7, "NAME") for b in starts]
    d = Deidentifier("mask", model=overfit_model)
    assert d.deidentify(text) == "[NAME] reviewed the films today."
    assert d.deidentify("the films were reviewed today.") == "the films were reviewed today."


def test_resume_fingerprint_includes_the_model(tmp_path, overfit_model):
    from reportlab_nlp.deid import deidentify_archive
    from reportlab_nlp.errors import ResumeError

    src = tmp_path / "in.csv"
    pd.DataFrame(
        {"report_id": ["a", "b"], "report": ["zelvaro reviewed the films today.", "No PHI."]}
    ).to_csv(src, index=False)
    out = tmp_path / "out.csv"

    def stop(_n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        deidentify_archive(src, out, chunk_size=1, model=overfit_model, on_chunk=stop)
    with pytest.raises(ResumeError):
        deidentify_archive(src, out, chunk_size=1, resume=True)  # the same run without the model
    deidentify_archive(src, out, chunk_size=1, resume=True, model=overfit_model)
    assert pd.read_csv(out)["report"].tolist() == ["[NAME] reviewed the films today.", "No PHI."]


# ------------------------------------------------------------------------------ bad model dirs
def test_bad_model_dirs_get_coded_errors(tmp_path, overfit_model):
    with pytest.raises(DeidModelError) as err:
        read_config(tmp_path / "missing")
    assert err.value.code == "RL620"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DeidModelError) as err:
        ModelSignal.load(empty)
    assert err.value.code == "RL621"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / CONFIG_FILE).write_text("{not json")
    with pytest.raises(DeidModelError) as err:
        read_config(broken)
    assert err.value.code == "RL621"
    no_weights = tmp_path / "noweights"
    no_weights.mkdir()
    (no_weights / CONFIG_FILE).write_text((overfit_model / CONFIG_FILE).read_text())
    with pytest.raises(DeidModelError) as err:
        Deidentifier("mask", model=no_weights)
    assert err.value.code == "RL622"
    reports = tmp_path / "r.csv"
    pd.DataFrame({"report_id": ["a"], "report": ["Seen on 01/02/2019."]}).to_csv(reports, index=False)
    res = runner.invoke(app, ["deid", str(reports), "-o", str(tmp_path / "o.csv"), "--model", str(empty)])
    assert res.exit_code == 2 and "[RL621]" in res.output
    assert not (tmp_path / "o.csv").exists()
