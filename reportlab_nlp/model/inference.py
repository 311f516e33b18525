"""The inference engine: length-bucketed batches on GPU or CPU, and the CPU fast paths.

Precisions / engines (``precision=``):

* ``fp32``       -- PyTorch, float32 (any device).
* ``bf16``/``fp16`` -- PyTorch with autocast on CUDA (``auto`` on a GPU picks bf16 where supported).
* ``int8``       -- PyTorch dynamic int8 quantisation of every ``nn.Linear`` (CPU).
* ``onnx``       -- ONNX Runtime, float32 graph exported with ``torch.onnx.export(dynamo=True)`` (CPU).
* ``onnx-int8``  -- the same graph with ONNX Runtime dynamic int8 weight quantisation (CPU).

``auto`` on CPU is :data:`DEFAULT_CPU_PRECISION` for encoders and fp32 for decoders (overridable
with the environment variable
``REPORTLAB_NLP_PRECISION``). ONNX files are exported once and cached in ``<model>/onnx/``
(or a temporary folder when the model directory is read-only).

Every batch holds windows of similar length padded only to its own longest row; all work runs
under ``torch.inference_mode``; CPU threads are capped to the free cores.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .device import cap_threads, resolve_device
from .modeling import load_labeler, special_token_ids
from .scope import reader
from .windows import EncodedReports, encode_reports, length_buckets, pad_batch, pool_windows_np

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8", "onnx", "onnx-int8")
DEFAULT_CPU_PRECISION = "onnx-int8"
DEFAULT_DECODER_CPU_PRECISION = "fp32"
ENV_PRECISION = "REPORTLAB_NLP_PRECISION"
CPU_MAX_BATCH_TOKENS = 2048  # padded tokens per CPU batch (batch rows x longest row)


def quantize_int8(model):
    """Dynamic int8 quantisation of the Linear layers (weights int8, activations quantised on the fly)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notice
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _weights_key(model_dir: Path) -> str:
    """Short key of the saved weights (size + mtime), so a stale ONNX export is never reused."""
    import hashlib

    h = hashlib.sha1()
    files = (
        "model.safetensors",
        "heads.safetensors",
        "label_schema.json",
        "adapter/adapter_model.safetensors",
    )
    for name in files:
        try:
            st = (model_dir / name).stat()
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
        except OSError:
            h.update(f"{name}:-;".encode())
    return h.hexdigest()[:12]


def _onnx_cache_dir(model_dir: Path) -> Path:
    d = model_dir / "onnx"
    try:
        d.mkdir(exist_ok=True)
        probe = d / ".write-test"
        probe.write_text("")
        probe.unlink()
        return d
    except OSError:
        d = Path(tempfile.gettempdir()) / "reportlab_nlp_onnx" / str(abs(hash(str(model_dir.resolve()))))
        d.mkdir(parents=True, exist_ok=True)
        return d


class _quiet_logs:
    """Silence the exporter's / quantiser's own log lines (root and torch loggers) for a moment."""

    NAMES = ("", "torch", "torch.onnx", "torch.export", "onnxscript", "onnxruntime")

    def __enter__(self):
        self.saved = [(n, logging.getLogger(n).level) for n in self.NAMES]
        for n in self.NAMES:
            logging.getLogger(n).setLevel(logging.ERROR)

    def __exit__(self, *exc):
        for n, level in self.saved:
            logging.getLogger(n).setLevel(level)


def export_onnx(model, path: Path, opset: int = 18) -> Path:
    """Export the labeler (input_ids, attention_mask -> logits) with the dynamo exporter.

    Batch and sequence length are dynamic. (The legacy TorchScript exporter bakes in shapes it
    did not trace, which gives wrong results at other lengths.)
    """
    import torch
    from torch.export import Dim

    model = model.eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    batch, seq = Dim("batch", min=1, max=4096), Dim("seq", min=2, max=int(model.spec.max_length) + 8)
    tmp = path.with_suffix(".tmp.onnx")
    with warnings.catch_warnings(), _quiet_logs():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                model,
                (ids, mask),
                str(tmp),
                dynamo=True,
                opset_version=opset,
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
                external_data=False,
                verbose=False,
            )
        except Exception as err:  # the exporter raises many types
            raise ModelError(
                f"ONNX export failed ({type(err).__name__}); use --precision int8 or fp32"
            ) from None
    os.replace(tmp, path)
    return path


def quantize_onnx(src: Path, dst: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dst.with_suffix(".tmp.onnx")
    with warnings.catch_warnings(), _quiet_logs():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8)
    os.replace(tmp, dst)
    return dst


class Predictor:
    """Class probabilities for reports from a saved labeler.

    >>> p = Predictor("model/", device="cpu", precision="int8")          # doctest: +SKIP
    >>> probs, enc = p.predict(["No pleural effusion."])                  # doctest: +SKIP
    >>> probs.shape  # reports x labels x (blank, positive, negative, uncertain)   # doctest: +SKIP
    (1, 14, 4)
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        device: str = "auto",
        precision: str = "auto",
        batch_size: int = 64,
        threads: int | None = None,
        max_tokens: int | None = None,
        model=None,
        tokenizer=None,
    ):
        import torch

        if batch_size < 1:
            raise ModelError("--batch-size must be at least 1")
        self.device = resolve_device(device)
        precision = (precision or "auto").lower()
        decoder = False
        if model is None and model_dir is not None:
            from .modeling import read_spec

            decoder = read_spec(model_dir).architecture == "decoder"
        elif model is not None:
            decoder = model.spec.architecture == "decoder"
        if precision == "auto":
            if self.device.startswith("cuda"):
                precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            else:
                # decoders are not exported to ONNX by default: fp32 PyTorch on CPU
                default = DEFAULT_DECODER_CPU_PRECISION if decoder else DEFAULT_CPU_PRECISION
                precision = os.environ.get(ENV_PRECISION, default).lower()
        if precision not in PRECISIONS:
            raise ModelError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
        if self.device.startswith("cuda") and precision in ("int8", "onnx", "onnx-int8"):
            raise ModelError(f"precision {precision} is a CPU path; on CUDA use bf16, fp16 or fp32")
        if not self.device.startswith("cuda") and precision in ("bf16", "fp16"):
            precision = "fp32"  # autocast to half precision is a GPU path; CPU stays exact
        self.precision = precision
        self.batch_size = int(batch_size)
        self.threads = cap_threads(threads) if not self.device.startswith("cuda") else torch.get_num_threads()
        if model is None:
            if model_dir is None:
                raise ModelError("a model directory is needed")
            # a LoRA adapter is folded into its base (no extra matmuls); bf16 decoder weights on a GPU
            half = self.device.startswith("cuda") and precision == "bf16"
            model, tokenizer, spec = load_labeler(
                model_dir, merge_adapter=True, dtype="bf16" if half else None
            )
        else:
            spec = model.spec
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.spec = spec
        self.tokenizer = tokenizer
        self.label_names = list(spec.label_names)
        self._scope = reader(spec.input_scope, spec.section_rules)  # compiled once per predictor
        _, _, self.pad_id = special_token_ids(tokenizer)
        if max_tokens is None:
            # CPU throughput peaks when a batch's activations stay cache-sized (measured on MiniLM:
            # 16 x ~120 tokens beat 64 x ~120 by 1.3-2.4x), so CPU batches are also capped in tokens
            max_tokens = (
                self.batch_size * spec.max_length if self.device.startswith("cuda") else CPU_MAX_BATCH_TOKENS
            )
        self.max_tokens = max_tokens
        self._session = None
        model = model.eval()
        if precision in ("onnx", "onnx-int8"):
            self._session = self._onnx_session(model, precision)
            self.model = None
        elif precision == "int8":
            self.model = quantize_int8(model.cpu())
        else:
            self.model = model.to(self.device)
        self.stats = {"reports": 0, "windows": 0, "windowed_reports": 0, "batches": 0, "seconds": 0.0}

    # -- engines ----------------------------------------------------------------------
    def _onnx_session(self, model, precision: str):
        import onnxruntime as ort

        if self.model_dir is not None:
            cache = _onnx_cache_dir(self.model_dir)
        else:
            cache = Path(tempfile.mkdtemp(prefix="reportlab_nlp_onnx_"))
        key = _weights_key(self.model_dir) if self.model_dir is not None else "mem"
        fp32 = cache / f"labeler-{key}.onnx"
        if not fp32.exists():
            log.info("exporting the labeler to ONNX (once) in %s", cache)
            export_onnx(model.cpu(), fp32)
        path = fp32
        if precision == "onnx-int8":
            path = cache / f"labeler-{key}.int8.onnx"
            if not path.exists():
                quantize_onnx(fp32, path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])

    def _run_batch(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Softmax class probabilities [B, L, 4] for one padded batch."""
        if self._session is not None:
            logits = self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
            logits = logits - logits.max(-1, keepdims=True)
            e = np.exp(logits)
            return (e / e.sum(-1, keepdims=True)).astype(np.float32)
        import torch

        cuda = self.device.startswith("cuda")
        t_ids = torch.from_numpy(ids)
        t_mask = torch.from_numpy(mask)
        if cuda:
            t_ids = t_ids.pin_memory().to(self.device, non_blocking=True)
            t_mask = t_mask.pin_memory().to(self.device, non_blocking=True)
        if cuda and self.precision in ("bf16", "fp16"):
            dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
            with torch.autocast("cuda", dtype=dtype):
                logits = self.model(t_ids, t_mask)
        else:
            logits = self.model(t_ids, t_mask)
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()

    # -- public ---------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> EncodedReports:
        """Tokenise the part of each report the model reads (its input scope) into windows."""
        scope = self._scope
        return encode_reports(
            self.tokenizer,
            list(texts) if scope is None else [scope.labeled_text(t) for t in texts],
            self.spec,
        )

    def predict_encoded(self, enc: EncodedReports) -> np.ndarray:
        """Pooled class probabilities [n_reports, n_labels, 4] for pre-tokenised reports."""
        import torch

        n_labels = len(self.label_names)
        if enc.n_reports == 0:
            return np.zeros((0, n_labels, 4), dtype=np.float32)
        t0 = time.perf_counter()
        win_probs = np.zeros((len(enc.windows), n_labels, 4), dtype=np.float32)
        lengths = enc.lengths()
        with torch.inference_mode():
            for batch in length_buckets(lengths, self.batch_size, max_tokens=self.max_tokens):
                ids, mask = pad_batch([enc.windows[i] for i in batch], self.pad_id)
                win_probs[batch] = self._run_batch(ids, mask)
                self.stats["batches"] += 1
        probs = (
            win_probs
            if len(enc.windows) == enc.n_reports
            else pool_windows_np(win_probs, enc.owner, enc.n_reports)
        )
        self.stats["reports"] += enc.n_reports
        self.stats["windows"] += len(enc.windows)
        self.stats["windowed_reports"] += enc.windowed_reports
        self.stats["seconds"] += time.perf_counter() - t0
        return probs

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, EncodedReports]:
        enc = self.encode(texts)
        return self.predict_encoded(enc), enc


def probs_to_values(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax class index and its probability per (report, label)."""
    cls = probs.argmax(-1)
    return cls, np.take_along_axis(probs, cls[..., None], -1)[..., 0]
