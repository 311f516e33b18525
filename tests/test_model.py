"""Transformer labeler: windows, pooling, save/load, quantisation, training, resume, labeling.

Everything runs on CPU with a tiny BERT built from a config and a WordPiece tokenizer trained
in-process on the fixture text; nothing is downloaded and nothing outside the repo is read.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from support.tiny_models import build_tiny_encoder  # noqa: E402

from reportlab_nlp.errors import GoldTableError, ModelError  # noqa: E402
from reportlab_nlp.model.inference import Predictor  # noqa: E402
from reportlab_nlp.model.modeling import LabelerSpec, load_labeler, new_labeler, read_spec, save_labeler  # noqa: E402
from reportlab_nlp.model.training import class_weights, train_model  # noqa: E402
from reportlab_nlp.model.windows import (  # noqa: E402
    encode_reports,
    length_buckets,
    pad_batch,
    pool_windows_np,
    pool_windows_torch,
    split_windows,
)

LABELS = ["No Finding", "Cardiomegaly", "Pleural Effusion"]

CARDIO = {
    1.0: "The heart is enlarged.",
    0.0: "Heart size is normal.",
    -1.0: "Possible cardiomegaly.",
    None: "",
}
EFFUSION = {
    1.0: "Small left pleural effusion.",
    0.0: "No pleural effusion.",
    -1.0: "Questionable effusion at the base.",
    None: "",
}
FILLER = [
    "Lungs are clear.",
    "Bony structures are intact.",
    "Mediastinal contour is unremarkable.",
    "Comparison with prior study.",
]


def make_reports(n: int, seed: int = 0) -> tuple[list[str], list[dict]]:
    rng = random.Random(seed)
    texts, rows = [], []
    for _ in range(n):
        c = rng.choice([1.0, 0.0, -1.0, None])
        e = rng.choice([1.0, 0.0, -1.0, None])
        parts = [CARDIO[c], EFFUSION[e], *rng.sample(FILLER, 2)]
        rng.shuffle(parts)
        texts.append("FINDINGS: " + " ".join(p for p in parts if p))
        nf = None if c in (1.0, -1.0) or e in (1.0, -1.0) else 1.0
        rows.append({"No Finding": nf, "Cardiomegaly": c, "Pleural Effusion": e})
    return texts, rows


def write_table(path: Path, ids, rows) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["report_id", *LABELS])
        for rid, r in zip(ids, rows):
            w.writerow([rid, *("" if r[n] is None else r[n] for n in LABELS)])


def build_world(d: Path, n: int, seed: int, prefix: str) -> dict:
    """A tiny taxonomy, ``n`` synthetic reports with weak labels, and a tiny encoder, under ``d``."""
    (d / "obs.yml").write_text("{}\n")
    (d / "tiny.yml").write_text(
        f"name: tiny\nobservations_file: {d / 'obs.yml'}\nno_finding: No Finding\nlabels:\n"
        "  - {name: No Finding, counts_as_finding: false}\n"
        "  - {name: Cardiomegaly, observations: [cardiomegaly]}\n"
        "  - {name: Pleural Effusion, observations: [pleural_effusion]}\n"
    )
    texts, rows = make_reports(n, seed=seed)
    ids = [f"{prefix}{i}" for i in range(len(texts))]
    pd.DataFrame({"report_id": ids, "report": texts}).to_csv(d / "reports.csv", index=False)
    write_table(d / "weak.csv", ids, rows)
    corpus = texts + list(CARDIO.values()) + list(EFFUSION.values()) + FILLER
    enc_dir = build_tiny_encoder(d / "encoder", corpus, max_positions=64)
    return {
        "dir": d,
        "ids": ids,
        "texts": texts,
        "rows": rows,
        "encoder": enc_dir,
        "taxonomy": str(d / "tiny.yml"),
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("model"), 120, 1, "R")


@pytest.fixture(scope="module")
def trained(world):
    out = world["dir"] / "trained"
    report = train_model(
        world["dir"] / "reports.csv",
        world["dir"] / "weak.csv",
        out,
        encoder=world["encoder"],
        taxonomy=world["taxonomy"],
        epochs=16,
        batch_size=8,
        lr=3e-3,
        head_lr=5e-3,
        max_length=32,
        window_overlap=8,
        val_fraction=0.2,
        patience=4,
        seed=3,
        device="cpu",
        threads=1,
        show_progress=False,
        augment_sentences=False,
    )
    return out, report


# -- windows and pooling ----------------------------------------------------------------
def test_split_windows_covers_every_token_with_overlap():
    assert split_windows(list(range(10)), 4, 1) == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert split_windows(list(range(11)), 4, 1) == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9], [7, 8, 9, 10]]
    assert split_windows([1, 2, 3], 4, 1) == [[1, 2, 3]]


def test_pool_windows_takes_least_blank_window_per_label():
    # report 0 has windows 0,1 ; report 1 has window 2
    probs = np.array(
        [
            [[0.9, 0.05, 0.05, 0.0], [0.1, 0.0, 0.9, 0.0]],
            [[0.2, 0.7, 0.1, 0.0], [0.6, 0.4, 0.0, 0.0]],
            [[0.5, 0.5, 0.0, 0.0], [0.3, 0.0, 0.0, 0.7]],
        ],
        dtype=np.float32,
    )
    pooled = pool_windows_np(probs, np.array([0, 0, 1]), 2)
    np.testing.assert_allclose(pooled[0, 0], probs[1, 0])  # label 0: window 1 mentions it
    np.testing.assert_allclose(pooled[0, 1], probs[0, 1])  # label 1: window 0 mentions it
    np.testing.assert_allclose(pooled[1], probs[2])


def test_torch_pooling_matches_numpy_pooling():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 3, 4, generator=g)
    owner = np.array([0, 0, 0, 1, 2, 2, 3])
    pooled_t = torch.softmax(pool_windows_torch(logits, torch.from_numpy(owner), 4), -1).numpy()
    pooled_n = pool_windows_np(torch.softmax(logits, -1).numpy(), owner, 4)
    np.testing.assert_allclose(pooled_t, pooled_n, rtol=1e-6)


def test_length_buckets_pad_each_batch_to_its_own_longest_row():
    lengths = np.array([5, 30, 7, 29, 6, 31])
    batches = length_buckets(lengths, 2)
    assert [sorted(lengths[b].tolist()) for b in batches] == [[30, 31], [7, 29], [5, 6]]
    ids, mask = pad_batch([[1] * 5, [1] * 6], pad_id=0, multiple_of=8)
    assert ids.shape == (2, 8) and mask.sum() == 11
    assert length_buckets(lengths, 4, max_tokens=64)[0].tolist() == [5, 1]  # 2 rows x 31 tokens fit in 64


def test_long_report_is_windowed_and_pooled_not_truncated(world, trained):
    out, _ = trained
    pred = Predictor(out, device="cpu", precision="fp32", threads=1)
    long_text = " ".join(world["texts"][:6])  # far beyond the 32-token window
    enc = pred.encode([long_text])
    n_tok = int(enc.n_tokens[0])
    assert n_tok > 3 * 30 and enc.windows_per_report[0] > 3
    # every content token of the text the model reads (the FINDINGS body) is in some window
    from reportlab_nlp.model.scope import model_inputs

    read = model_inputs([long_text], pred.spec.input_scope, pred.spec.section_rules)[0]
    assert read == long_text[len("FINDINGS: ") :]
    content = pred.tokenizer(read, add_special_tokens=False)["input_ids"]
    covered = [t for w in enc.windows for t in w[1:-1]]
    assert set(range(n_tok)) and covered[: len(enc.windows[0]) - 2] == content[: len(enc.windows[0]) - 2]
    assert covered[-(len(enc.windows[-1]) - 2) :] == content[-(len(enc.windows[-1]) - 2) :]
    pooled = pred.predict_encoded(enc)
    # same as classifying each window on its own and pooling
    per_window = []
    for w in enc.windows:
        ids, mask = pad_batch([w], pred.pad_id)
        with torch.inference_mode():
            per_window.append(
                torch.softmax(pred.model(torch.from_numpy(ids), torch.from_numpy(mask)), -1).numpy()[0]
            )
    expected = pool_windows_np(np.stack(per_window), np.zeros(len(enc.windows), dtype=np.int64), 1)
    np.testing.assert_allclose(pooled, expected, atol=1e-5)
    assert pred.stats["windowed_reports"] == 1


# -- save / load ------------------------------------------------------------------------------
def test_save_load_round_trip(world, tmp_path):
    spec = LabelerSpec(
        label_names=LABELS,
        no_finding="No Finding",
        finding_labels=LABELS[1:],
        max_length=32,
        window_overlap=8,
    )
    model, tok = new_labeler(world["encoder"], spec, seed=5)
    model.eval()
    save_labeler(model, tok, tmp_path / "m")
    names = {p.name for p in (tmp_path / "m").iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "heads.safetensors",
        "label_schema.json",
        "tokenizer.json",
    } <= names
    schema = json.loads((tmp_path / "m" / "label_schema.json").read_text())
    assert schema["label_names"] == LABELS and schema["value_classes"] == [None, 1.0, 0.0, -1.0]
    loaded, tok2, spec2 = load_labeler(tmp_path / "m")
    assert spec2 == read_spec(tmp_path / "m") and spec2.label_names == LABELS and spec2.max_length == 32
    enc = encode_reports(tok2, world["texts"][:4], spec2)
    ids, mask = pad_batch(enc.windows, 0)
    with torch.inference_mode():
        a = model(torch.from_numpy(ids), torch.from_numpy(mask))
        b = loaded(torch.from_numpy(ids), torch.from_numpy(mask))
    assert torch.equal(a, b)
    assert tok2(world["texts"][0])["input_ids"] == tok(world["texts"][0])["input_ids"]


def test_training_saves_its_config_with_the_model(world, trained):
    from reportlab_nlp.model.train_config import TrainConfig, load_train_config

    out, _ = trained
    assert load_train_config(out) == TrainConfig(
        encoder=str(world["encoder"]),
        taxonomy=str(world["taxonomy"]),
        epochs=16,
        batch_size=8,
        lr=3e-3,
        head_lr=5e-3,
        max_length=32,
        window_overlap=8,
        val_fraction=0.2,
        patience=4,
        seed=3,
        device="cpu",
        threads=1,
        augment_sentences=False,
    )


def test_load_rejects_foreign_value_encoding(world, tmp_path, trained):
    out, _ = trained
    bad = tmp_path / "bad"
    bad.mkdir()
    schema = json.loads((out / "label_schema.json").read_text())
    schema["value_classes"] = [None, 1.0, 0.0, 2.0]
    (bad / "label_schema.json").write_text(json.dumps(schema))
    with pytest.raises(ModelError, match="value classes"):
        read_spec(bad)
    with pytest.raises(ModelError, match="not a trained labeler"):
        read_spec(world["encoder"])


# -- quantisation / ONNX ---------------------------------------------------------------------
def test_int8_and_onnx_agree_with_fp32(world, trained):
    out, _ = trained
    texts = world["texts"][:60]
    ref, _ = Predictor(out, device="cpu", precision="fp32", threads=1).predict(texts)
    onnx, _ = Predictor(out, device="cpu", precision="onnx", threads=1).predict(texts)
    np.testing.assert_allclose(onnx, ref, atol=1e-4)
    # a different batch composition (other padded lengths) gives the same ONNX result
    onnx_b1, _ = Predictor(out, device="cpu", precision="onnx", batch_size=1, threads=1).predict(texts[:5])
    np.testing.assert_allclose(onnx_b1, ref[:5], atol=1e-4)
    for prec in ("int8", "onnx-int8"):
        q, _ = Predictor(out, device="cpu", precision=prec, threads=1).predict(texts)
        agree = (q.argmax(-1) == ref.argmax(-1)).mean()
        assert agree >= 0.95, (prec, agree)
        assert np.abs(q - ref).max() < 0.15, prec


def test_cpu_only_precisions_are_refused_for_unknown_names(trained):
    out, _ = trained
    with pytest.raises(ModelError, match="unknown precision"):
        Predictor(out, device="cpu", precision="int4")
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="no CUDA GPU"):
            Predictor(out, device="cuda")


# -- training -------------------------------------------------------------------------------
def test_training_learns_the_weak_labels_and_writes_report(world, trained):
    out, report = trained
    assert (
        report["reports_used"] == 120 and report["train_reports"] == 96 and report["validation_reports"] == 24
    )
    assert report["labels"] == LABELS
    saved = json.loads((out / "training_report.json").read_text())
    assert set(saved["validation"]) == set(LABELS)
    assert "| Cardiomegaly |" in (out / "training_report.md").read_text()
    assert report["validation_macro_f1"] >= 0.9, report["validation"]
    probs, _ = Predictor(out, device="cpu", precision="fp32", threads=1).predict(world["texts"])
    gold = np.array([[[None, 1.0, 0.0, -1.0].index(r[n]) for n in LABELS] for r in world["rows"]])
    assert (probs.argmax(-1) == gold).mean() >= 0.9


def test_class_weights_favour_rare_classes():
    t = np.array([[0], [0], [0], [0], [0], [0], [1], [2]])
    w = class_weights(t)
    assert w[0, 1] == pytest.approx(np.sqrt(8 / 4)) and w[0, 0] == pytest.approx(np.sqrt(8 / 24))
    assert w[0, 3] == 1.0  # unseen class


def test_resume_continues_bit_for_bit(world, tmp_path):
    kw = dict(
        encoder=world["encoder"],
        taxonomy=world["taxonomy"],
        epochs=3,
        batch_size=16,
        lr=1e-3,
        max_length=32,
        window_overlap=8,
        val_fraction=0.2,
        patience=5,
        seed=11,
        device="cpu",
        threads=1,
        show_progress=False,
        augment_sentences=False,
    )
    reports, labels = world["dir"] / "reports.csv", world["dir"] / "weak.csv"
    full = train_model(reports, labels, tmp_path / "full", **kw)

    class Crash(Exception):
        pass

    def crash_after_first(stage, epoch):
        if epoch == 1:
            raise Crash()

    with pytest.raises(Crash):
        train_model(reports, labels, tmp_path / "resumed", on_epoch_end=crash_after_first, **kw)
    assert (tmp_path / "resumed" / "checkpoints" / "last" / "state.pt").exists()
    resumed = train_model(reports, labels, tmp_path / "resumed", resume=True, **kw)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3]
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in full["history"]]
    a, _, _ = load_labeler(tmp_path / "full")
    b, _, _ = load_labeler(tmp_path / "resumed")
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(va, vb), k
    with pytest.raises(ModelError, match="no checkpoint"):
        train_model(reports, labels, tmp_path / "fresh", resume=True, **kw)


def test_finetune_gold_second_stage(world, tmp_path):
    gold_ids = world["ids"][:30]
    write_table(tmp_path / "gold.csv", gold_ids, world["rows"][:30])
    rep = train_model(
        world["dir"] / "reports.csv",
        world["dir"] / "weak.csv",
        tmp_path / "m",
        encoder=world["encoder"],
        taxonomy=world["taxonomy"],
        epochs=1,
        finetune_gold=tmp_path / "gold.csv",
        finetune_epochs=2,
        batch_size=16,
        max_length=32,
        window_overlap=8,
        device="cpu",
        threads=1,
        show_progress=False,
        augment_sentences=False,
    )
    assert [h["stage"] for h in rep["history"]] == ["weak", "gold", "gold"]
    assert rep["finetune_gold"]["reports"] == 30 and rep["selected_on"] == "gold"
    write_table(tmp_path / "nogold.csv", ["X1"], world["rows"][:1])
    with pytest.raises(GoldTableError):
        train_model(
            world["dir"] / "reports.csv",
            world["dir"] / "weak.csv",
            tmp_path / "m2",
            encoder=world["encoder"],
            taxonomy=world["taxonomy"],
            epochs=1,
            finetune_gold=tmp_path / "nogold.csv",
            batch_size=16,
            max_length=32,
            window_overlap=8,
            device="cpu",
            threads=1,
            show_progress=False,
            augment_sentences=False,
        )


# -- sentence augmentation ----------------------------------------------------------------
def test_sentence_examples_are_rule_labeled_distinct_sentences_of_labeled_sections():
    from reportlab_nlp.model.augment import sentence_examples

    ids, texts, table = sentence_examples(
        ["a", "b"],
        [
            "INDICATION: r/o pneumonia\nFINDINGS: Small left pleural effusion. Heart size is "
            "normal.\nIMPRESSION: Small left pleural effusion.",
            "FINDINGS: No pneumothorax.",
        ],
        "chexpert",
        ["No Finding", "Cardiomegaly", "Pleural Effusion", "Pneumothorax", "Pneumonia"],
    )
    # the indication, the headers and the repeated impression sentence are not examples
    assert texts == ["Small left pleural effusion.", "Heart size is normal.", "No pneumothorax."]
    assert ids == ["a#s3", "a#s4", "b#s1"]
    rows = {
        rid: {k: (None if v != v else v) for k, v in row.items()}
        for rid, row in table.to_dict(orient="index").items()
    }
    assert rows["a#s3"] == {
        "No Finding": None,
        "Cardiomegaly": None,
        "Pleural Effusion": 1.0,
        "Pneumothorax": None,
        "Pneumonia": None,
    }
    assert rows["a#s4"] == {
        "No Finding": 1.0,
        "Cardiomegaly": 0.0,
        "Pleural Effusion": None,
        "Pneumothorax": None,
        "Pneumonia": None,
    }
    assert rows["b#s1"] == {
        "No Finding": 1.0,
        "Cardiomegaly": None,
        "Pleural Effusion": None,
        "Pneumothorax": 0.0,
        "Pneumonia": None,
    }


def test_rare_class_repeats_lift_rare_cells_to_the_minimum():
    from reportlab_nlp.model.augment import rare_class_repeats

    # label 0: one positive (class 1) and 301 negatives (class 2); label 1: two negatives
    t = np.array([[1, 0], [0, 2], [0, 2], [2, 0]] + [[2, 0]] * 300)
    reps = rare_class_repeats(t, min_count=4, max_repeat=10)
    assert reps[:5].tolist() == [4, 2, 2, 1, 1] and reps.sum() == 4 + 2 + 2 + 301
    assert rare_class_repeats(t, min_count=40, max_repeat=10)[:3].tolist() == [10, 10, 10]


def test_training_with_sentence_augmentation_reports_the_extra_examples(world, tmp_path):
    from reportlab_nlp.model.augment import rare_class_repeats, sentence_examples
    from reportlab_nlp.model.training import _split, targets_from_table

    labels = ["No Finding", "Cardiomegaly", "Pleural Effusion"]
    report = train_model(
        world["dir"] / "reports.csv",
        world["dir"] / "weak.csv",
        tmp_path / "aug",
        encoder=world["encoder"],
        taxonomy="chexpert",
        epochs=1,
        batch_size=8,
        lr=3e-3,
        head_lr=5e-3,
        max_length=32,
        window_overlap=8,
        val_fraction=0.2,
        patience=4,
        seed=3,
        device="cpu",
        threads=1,
        show_progress=False,
        augment_sentences=True,
        oversample_rare=100,
        augment_swaps=0,
    )
    # the distinct sentences of the 96 training reports, rare classes repeated
    train_idx, _ = _split(len(world["ids"]), 0.2, 3)
    s_ids, _s_texts, s_table = sentence_examples(
        [world["ids"][i] for i in train_idx], [world["texts"][i] for i in train_idx], "chexpert", labels
    )
    assert 0 < len(s_ids) < len(train_idx) * 4
    expected = int(rare_class_repeats(targets_from_table(s_table, labels, s_ids), min_count=100).sum())
    assert (
        report["sentence_examples"] == len(s_ids)
        and report["oversampled_repeats"] == expected - len(s_ids) > 0
    )


def test_training_with_mention_swaps_reports_them(world, tmp_path):
    from reportlab_nlp.model.augment import sentence_examples, swap_examples
    from reportlab_nlp.model.training import _split

    labels = ["No Finding", "Cardiomegaly", "Pleural Effusion"]
    kw = dict(
        encoder=world["encoder"],
        taxonomy="chexpert",
        epochs=1,
        batch_size=8,
        lr=3e-3,
        head_lr=5e-3,
        max_length=32,
        window_overlap=8,
        val_fraction=0.2,
        patience=4,
        seed=3,
        device="cpu",
        threads=1,
        show_progress=False,
    )
    # swaps are made from the rule-labeled sentences: without sentences there are none
    off = train_model(
        world["dir"] / "reports.csv",
        world["dir"] / "weak.csv",
        tmp_path / "off",
        augment_sentences=False,
        augment_swaps=50,
        **kw,
    )
    assert off["swap_examples"] == 0 and off["sentence_examples"] == 0
    report = train_model(
        world["dir"] / "reports.csv",
        world["dir"] / "weak.csv",
        tmp_path / "swap",
        augment_sentences=True,
        augment_swaps=60,
        **kw,
    )
    train_idx, _ = _split(len(world["ids"]), 0.2, 3)
    s_ids, s_texts, _ = sentence_examples(
        [world["ids"][i] for i in train_idx], [world["texts"][i] for i in train_idx], "chexpert", labels
    )
    x_ids, _x_texts, _x_table, made = swap_examples(s_ids, s_texts, "chexpert", labels, min_count=60, seed=3)
    assert report["swap_examples"] == len(x_ids) > 0
    assert report["sentence_examples"] == len(s_ids) and report["oversampled_repeats"] == 0
    assert report["train_examples"] == report["train_reports"] + len(s_ids) + len(x_ids)
    assert report["swap_examples_per_value"] == made and sum(made.values()) == len(x_ids)
    assert report["input_scope"] == "labeled_sections"
