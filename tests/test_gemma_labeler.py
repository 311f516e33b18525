"""Decoder labelers: a tiny random Gemma-3 (2 layers, hidden 32) as the encoder of train -> label -> hybrid.

The checkpoint is built from a config with a byte-level tokenizer made from the fixture text
(``build_tiny_gemma`` in ``tests/support/tiny_models.py``); nothing is downloaded.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from support.tiny_models import build_tiny_gemma  # noqa: E402
from test_model import CARDIO, EFFUSION, FILLER, LABELS, build_world  # noqa: E402

from reportlab_nlp.errors import ModelError  # noqa: E402
from reportlab_nlp.model.inference import Predictor  # noqa: E402
from reportlab_nlp.model.labeling import label_archive_with_model, merge_hybrid  # noqa: E402
from reportlab_nlp.model.modeling import (  # noqa: E402
    LabelerSpec,
    load_labeler,
    new_labeler,
    read_spec,
    save_labeler,
)
from reportlab_nlp.model.training import train_model  # noqa: E402
from reportlab_nlp.model.windows import encode_reports, pad_batch  # noqa: E402
from reportlab_nlp.outputs import read_label_table  # noqa: E402


@pytest.fixture(scope="module")
def gworld(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("gemma"), 120, 1, "G")
    corpus = w["texts"] + list(CARDIO.values()) + list(EFFUSION.values()) + FILLER
    w["gemma"] = build_tiny_gemma(w["dir"] / "gemma", corpus)
    return w


@pytest.fixture(scope="module")
def gtrained(gworld):
    out = gworld["dir"] / "gemma_labeler"
    report = train_model(
        gworld["dir"] / "reports.csv",
        gworld["dir"] / "weak.csv",
        out,
        encoder=gworld["gemma"],
        taxonomy=gworld["taxonomy"],
        epochs=12,
        batch_size=8,
        lr=1e-2,
        head_lr=1e-2,
        max_length=32,
        window_overlap=8,
        val_fraction=0.2,
        patience=12,
        seed=3,
        device="cpu",
        threads=1,
        show_progress=False,
        augment_sentences=False,
        lora_r=8,
    )
    return out, report


def test_tiny_gemma_checkpoint_is_a_gemma3_decoder(gworld):
    cfg = json.loads((gworld["gemma"] / "config.json").read_text())
    assert cfg["architectures"] == ["Gemma3ForCausalLM"] and cfg["model_type"] == "gemma3_text"
    assert (cfg["num_hidden_layers"], cfg["hidden_size"]) == (2, 32)


def test_decoder_windows_are_bos_content_eos_and_pooling_shapes(gworld, tmp_path):
    for pooling in ("last", "attention"):
        spec = LabelerSpec(label_names=LABELS, max_length=32, window_overlap=8, pooling=pooling)
        model, tok = new_labeler(gworld["gemma"], spec, seed=0, lora_r=4)
        assert spec.architecture == "decoder" and spec.lora == {
            "r": 4,
            "alpha": 8,
            "dropout": 0.05,
            "target_modules": "all-linear",
        }
        enc = encode_reports(tok, gworld["texts"][:3], spec)
        assert [w[0] for w in enc.windows] == [tok.bos_token_id] * len(enc.windows)
        assert [w[-1] for w in enc.windows] == [tok.eos_token_id] * len(enc.windows)
        ids, mask = pad_batch(enc.windows, tok.pad_token_id)
        model.eval()
        with torch.inference_mode():
            logits = model(torch.from_numpy(ids), torch.from_numpy(mask))
        assert tuple(logits.shape) == (len(enc.windows), 3, 4)
    # "last" pooling reads the last real token: padding after it changes nothing
    spec = LabelerSpec(label_names=LABELS, max_length=32, window_overlap=8, pooling="last")
    model, tok = new_labeler(gworld["gemma"], spec, seed=0, lora_r=0)
    model.eval()
    w = encode_reports(tok, gworld["texts"][:1], spec).windows
    a_ids, a_mask = pad_batch(w, tok.pad_token_id, multiple_of=1)
    b_ids, b_mask = pad_batch(w, tok.pad_token_id, multiple_of=16)
    assert b_ids.shape[1] > a_ids.shape[1]
    with torch.inference_mode():
        a = model(torch.from_numpy(a_ids), torch.from_numpy(a_mask))
        b = model(torch.from_numpy(b_ids), torch.from_numpy(b_mask))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_only_adapters_and_heads_train_with_lora(gworld):
    spec = LabelerSpec(label_names=LABELS, max_length=32, window_overlap=8)
    model, _ = new_labeler(gworld["gemma"], spec, seed=0, lora_r=4)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("heads.") for n in trainable)
    targets = {n.split(".lora_")[0].rsplit(".", 1)[-1] for n in trainable if "lora_A" in n}
    assert targets == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


def test_lora_labeler_saves_adapter_heads_schema_and_base_pointer(gworld, gtrained):
    out, report = gtrained
    names = {p.name for p in out.iterdir()}
    assert {"adapter", "heads.safetensors", "label_schema.json", "tokenizer.json"} <= names
    assert "model.safetensors" not in names and "config.json" not in names  # no copy of the base weights
    assert {p.name for p in (out / "adapter").iterdir()} >= {
        "adapter_config.json",
        "adapter_model.safetensors",
    }
    schema = json.loads((out / "label_schema.json").read_text())
    assert schema["architecture"] == "decoder" and schema["format_version"] == 2
    assert schema["base_model"] == str(gworld["gemma"].resolve())
    assert schema["lora"] == {"r": 8, "alpha": 16, "dropout": 0.05, "target_modules": "all-linear"}
    assert schema["label_names"] == LABELS
    assert report["architecture"] == "decoder" and report["lora"]["r"] == 8
    assert "+ LoRA r=8" in (out / "training_report.md").read_text()


def test_saved_adapter_round_trips_exactly(gworld, tmp_path):
    spec = LabelerSpec(
        label_names=LABELS,
        no_finding="No Finding",
        finding_labels=LABELS[1:],
        max_length=32,
        window_overlap=8,
    )
    model, tok = new_labeler(gworld["gemma"], spec, seed=5, lora_r=4)
    with torch.no_grad():  # give the (zero-initialised) B matrices values, so the adapter matters
        g = torch.Generator().manual_seed(1)
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    model.eval()
    save_labeler(model, tok, tmp_path / "m")
    loaded, tok2, spec2 = load_labeler(tmp_path / "m")
    merged, _, _ = load_labeler(tmp_path / "m", merge_adapter=True)
    assert spec2 == read_spec(tmp_path / "m") and spec2.lora == spec.lora
    enc = encode_reports(tok2, gworld["texts"][:4], spec2)
    ids, mask = pad_batch(enc.windows, tok2.pad_token_id)
    args = (torch.from_numpy(ids), torch.from_numpy(mask))
    with torch.inference_mode():
        a, b, c = model(*args), loaded(*args), merged(*args)
        base_only, _ = new_labeler(
            gworld["gemma"],
            LabelerSpec(label_names=LABELS, max_length=32, window_overlap=8),
            seed=5,
            lora_r=0,
        )
        base_only.heads.load_state_dict(model.heads.state_dict())
        d = base_only.eval()(*args)
    assert tuple(a.shape) == (len(enc.windows), 3, 4)
    assert torch.equal(a, b)
    torch.testing.assert_close(a, c, atol=1e-4, rtol=1e-4)  # the adapter folded into the base
    assert not torch.allclose(a, d, atol=1e-3)  # ... and it is not the base alone


def test_missing_base_checkpoint_is_a_coded_error(gtrained, tmp_path):
    out, _ = gtrained
    moved = tmp_path / "moved"
    moved.mkdir()
    for p in out.iterdir():
        if p.is_file():
            (moved / p.name).write_bytes(p.read_bytes())
    (moved / "adapter").mkdir()
    for p in (out / "adapter").iterdir():
        (moved / "adapter" / p.name).write_bytes(p.read_bytes())
    schema = json.loads((moved / "label_schema.json").read_text())
    schema["base_model"] = str(tmp_path / "nowhere")
    (moved / "label_schema.json").write_text(json.dumps(schema))
    with pytest.raises(ModelError) as err:
        load_labeler(moved)
    assert err.value.code == "RL420" and "base checkpoint" in err.value.message


def test_gemma_labeler_learns_and_labels_an_archive(gworld, gtrained, tmp_path):
    out, report = gtrained
    assert report["validation_macro_f1"] >= 0.8, report["validation"]
    pred = Predictor(out, device="cpu", threads=1)
    assert pred.precision == "fp32"  # decoders are not exported to ONNX by default
    probs, _ = pred.predict(gworld["texts"])
    assert probs.shape == (120, 3, 4)
    gold = np.array([[[None, 1.0, 0.0, -1.0].index(r[n]) for n in LABELS] for r in gworld["rows"]])
    assert (probs.argmax(-1) == gold).mean() >= 0.85
    ids, texts = gworld["ids"][:12], gworld["texts"][:12]
    inp = tmp_path / "in.csv"
    pd.DataFrame({"report_id": ids, "report": texts}).to_csv(inp, index=False)
    s = label_archive_with_model(
        inp, tmp_path / "m.csv", model_dir=out, engine="model", device="cpu", show_progress=False
    )
    assert (s["rows_in"], s["rows_out"], s["rejects"]) == (12, 12, 0)
    got, _ = read_label_table(tmp_path / "m.csv", LABELS)
    assert got.index.tolist() == ids
    from reportlab_nlp.model.modeling import class_to_value

    expected = np.vectorize(lambda c: np.nan if class_to_value(c) is None else class_to_value(c))(
        probs[:12].argmax(-1)
    ).astype(float)
    np.testing.assert_array_equal(got[LABELS].to_numpy(float), expected)


class _FakeResult:
    def __init__(self, labels, mentions):
        self.labels, self.mentions = labels, mentions


def test_gemma_labeler_in_hybrid(gworld, gtrained, tmp_path, monkeypatch):
    import reportlab_nlp.labeler as labeler_mod

    out, _ = gtrained
    monkeypatch.setattr(
        labeler_mod,
        "label_texts",
        lambda texts, taxonomy="chexpert", *, ids=None, evidence=True, **kw: [
            _FakeResult({"No Finding": None, "Cardiomegaly": 1.0, "Pleural Effusion": None}, [])
            for _ in texts
        ],
    )
    ids, texts = gworld["ids"][:10], gworld["texts"][:10]
    inp = tmp_path / "in.csv"
    pd.DataFrame({"report_id": ids, "report": texts}).to_csv(inp, index=False)
    s = label_archive_with_model(
        inp,
        tmp_path / "h.csv",
        model_dir=out,
        engine="hybrid",
        review_path=tmp_path / "r.csv",
        device="cpu",
        show_progress=False,
    )
    hybrid, _ = read_label_table(tmp_path / "h.csv", LABELS)
    probs, _ = Predictor(out, device="cpu", threads=1).predict(texts)
    spec = read_spec(out)
    from reportlab_nlp.model.modeling import class_to_value

    for i, rid in enumerate(ids):
        mv = {n: class_to_value(probs[i, j].argmax()) for j, n in enumerate(LABELS)}
        mp = {n: float(probs[i, j].max()) for j, n in enumerate(LABELS)}
        final, _ = merge_hybrid(
            {"No Finding": None, "Cardiomegaly": 1.0, "Pleural Effusion": None}, mv, mp, spec
        )
        row = [np.nan if final[n] is None else final[n] for n in LABELS]
        np.testing.assert_array_equal(hybrid.loc[rid, LABELS].to_numpy(float), np.array(row, dtype=float))
    assert s["rows_out"] == 10 and (hybrid["Cardiomegaly"] == 1.0).all()


def test_lora_resume_and_gold_stage_keep_adapters_and_heads(gworld, tmp_path):
    kw = dict(
        encoder=gworld["gemma"],
        taxonomy=gworld["taxonomy"],
        epochs=2,
        batch_size=16,
        lr=5e-3,
        max_length=32,
        window_overlap=8,
        val_fraction=0.2,
        patience=5,
        seed=11,
        device="cpu",
        threads=1,
        show_progress=False,
        augment_sentences=False,
        lora_r=4,
    )
    reports, labels = gworld["dir"] / "reports.csv", gworld["dir"] / "weak.csv"
    full = train_model(reports, labels, tmp_path / "full", **kw)

    class Crash(Exception):
        pass

    def crash_after_first(stage, epoch):
        if epoch == 1:
            raise Crash()

    with pytest.raises(Crash):
        train_model(reports, labels, tmp_path / "resumed", on_epoch_end=crash_after_first, **kw)
    from safetensors.torch import load_file

    ckpt = load_file(str(tmp_path / "resumed" / "checkpoints" / "last" / "model.safetensors"))
    assert ckpt and all(
        "lora_" in k or k.startswith("heads.") for k in ckpt
    )  # no base weights in the checkpoint
    resumed = train_model(reports, labels, tmp_path / "resumed", resume=True, **kw)
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in full["history"]]
    a, _, _ = load_labeler(tmp_path / "full")
    b, _, _ = load_labeler(tmp_path / "resumed")
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(va, vb), k
    # a gold stage continues from the best weak adapter + heads
    from test_model import write_table

    write_table(tmp_path / "gold.csv", gworld["ids"][:30], gworld["rows"][:30])
    rep = train_model(
        reports,
        labels,
        tmp_path / "gold",
        finetune_gold=tmp_path / "gold.csv",
        finetune_epochs=1,
        **{**kw, "epochs": 1},
    )
    assert [h["stage"] for h in rep["history"]] == ["weak", "gold"] and rep["selected_on"] == "gold"
    assert read_spec(tmp_path / "gold").lora == {
        "r": 4,
        "alpha": 8,
        "dropout": 0.05,
        "target_modules": "all-linear",
    }
