"""Reports -> encoder windows, length-bucketed batches, and window pooling.

A report longer than the encoder window is never truncated: its tokens are split into
overlapping windows (``LabelerSpec.window_tokens`` content tokens each, consecutive windows
sharing ``window_overlap`` tokens), every window is classified, and the window predictions
are pooled back into one prediction per report.

Pooling rule ("max-mention"): for each label, the report takes the class distribution of the
window that is *least* likely to be blank for that label, i.e. the window that most clearly
talks about it. A finding described only in the last window of a long report is therefore
not diluted by the windows that never mention it. The same pooling is used in training (the
loss is computed on the pooled logits) and at inference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .modeling import LabelerSpec, special_token_ids


@dataclass
class EncodedReports:
    """Token windows of a list of reports (ids without padding, special tokens included)."""

    windows: list[list[int]]
    owner: np.ndarray  # report index of each window
    n_reports: int
    n_tokens: np.ndarray  # content tokens per report
    windows_per_report: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def windowed_reports(self) -> int:
        """Reports that needed more than one window."""
        return int((self.windows_per_report > 1).sum())

    def lengths(self) -> np.ndarray:
        return np.fromiter((len(w) for w in self.windows), dtype=np.int64, count=len(self.windows))


def split_windows(token_ids: Sequence[int], window: int, overlap: int) -> list[list[int]]:
    """Split content token ids into windows of at most ``window`` tokens overlapping by ``overlap``.

    Every token lands in at least one window; the last window ends at the last token.
    """
    n = len(token_ids)
    if n <= window:
        return [list(token_ids)]
    step = window - overlap
    starts = list(range(0, n - window, step)) + [n - window]
    return [list(token_ids[s : s + window]) for s in starts]


def encode_reports(tokenizer, texts: Sequence[str], spec: LabelerSpec) -> EncodedReports:
    """Tokenise ``texts`` (fast tokenizer, batch call) and cut them into windows."""
    start, end, _ = special_token_ids(tokenizer)
    if len(texts) == 0:
        return EncodedReports(
            [], np.zeros(0, dtype=np.int64), 0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        )
    enc = tokenizer(
        list(texts),
        add_special_tokens=False,
        truncation=False,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    windows: list[list[int]] = []
    owner: list[int] = []
    per_report = np.zeros(len(texts), dtype=np.int64)
    n_tokens = np.zeros(len(texts), dtype=np.int64)
    W, ov = spec.window_tokens, spec.window_overlap
    for i, ids in enumerate(enc["input_ids"]):
        n_tokens[i] = len(ids)
        parts = split_windows(ids, W, ov)
        per_report[i] = len(parts)
        for part in parts:
            windows.append([start, *part, end])
            owner.append(i)
    return EncodedReports(windows, np.asarray(owner, dtype=np.int64), len(texts), n_tokens, per_report)


def length_buckets(
    lengths: np.ndarray, batch_size: int, *, max_tokens: int | None = None
) -> list[np.ndarray]:
    """Indices grouped into batches of similar length (longest first), so padding is per batch.

    ``max_tokens`` caps ``batch rows * longest row`` (long windows get smaller batches).
    """
    order = np.argsort(-lengths, kind="stable")
    batches: list[np.ndarray] = []
    i = 0
    n = len(order)
    while i < n:
        size = batch_size
        if max_tokens:
            size = max(1, min(batch_size, max_tokens // max(1, int(lengths[order[i]]))))
        batches.append(order[i : i + size])
        i += size
    return batches


def shuffled_buckets(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, pool: int = 50
) -> list[np.ndarray]:
    """Training batches: shuffle, sort within pools of ``pool`` batches by length, shuffle batches."""
    perm = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    chunk = batch_size * pool
    for s in range(0, len(perm), chunk):
        part = perm[s : s + chunk]
        part = part[np.argsort(-lengths[part], kind="stable")]
        batches.extend(part[j : j + batch_size] for j in range(0, len(part), batch_size))
    order = rng.permutation(len(batches))
    return [batches[k] for k in order]


def pad_batch(
    windows: Sequence[Sequence[int]], pad_id: int, multiple_of: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad a batch of windows to its own longest row (rounded up to ``multiple_of``)."""
    longest = max(len(w) for w in windows)
    if multiple_of > 1:
        longest = -(-longest // multiple_of) * multiple_of
    ids = np.full((len(windows), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), longest), dtype=np.int64)
    for r, w in enumerate(windows):
        ids[r, : len(w)] = w
        mask[r, : len(w)] = 1
    return ids, mask


def pool_windows_np(probs: np.ndarray, owner: np.ndarray, n_reports: int) -> np.ndarray:
    """Max-mention pooling of window class probabilities [n_windows, L, C] -> [n_reports, L, C]."""
    n_win, n_labels, n_cls = probs.shape
    out = np.zeros((n_reports, n_labels, n_cls), dtype=probs.dtype)
    best = np.full((n_reports, n_labels), np.inf)
    blank = probs[:, :, 0]
    for w in range(n_win):
        r = owner[w]
        better = blank[w] < best[r]
        if better.any():
            best[r, better] = blank[w, better]
            out[r, better] = probs[w, better]
    return out


def pool_windows_torch(logits, owner, n_reports: int):
    """Differentiable max-mention pooling of window logits [n_windows, L, C] -> [n_reports, L, C].

    Reports with one window take their logits unchanged; for several windows the window with the
    lowest blank probability per label is selected (the gradient flows through that window).
    """
    import torch

    if logits.shape[0] == n_reports:
        return logits
    blank = torch.softmax(logits.float(), dim=-1)[:, :, 0]  # [W, L]
    n_labels = logits.shape[1]
    big = torch.full((n_reports, n_labels), float("inf"), device=logits.device)
    # min blank prob per (report, label)
    mins = big.scatter_reduce(
        0, owner.view(-1, 1).expand(-1, n_labels), blank, reduce="amin", include_self=True
    )
    is_best = blank <= mins[owner]
    # first window reaching the minimum wins
    idx = torch.arange(logits.shape[0], device=logits.device).view(-1, 1).expand(-1, n_labels)
    cand = torch.where(is_best, idx, torch.full_like(idx, logits.shape[0]))
    chosen = torch.full((n_reports, n_labels), logits.shape[0], device=logits.device, dtype=idx.dtype)
    chosen = chosen.scatter_reduce(
        0, owner.view(-1, 1).expand(-1, n_labels), cand, reduce="amin", include_self=True
    )
    lab = torch.arange(n_labels, device=logits.device).view(1, -1).expand(n_reports, -1)
    return logits[chosen, lab]


def window_index(encoded: EncodedReports) -> list[np.ndarray]:
    """For each report, the indices of its windows."""
    starts = np.concatenate([[0], np.cumsum(encoded.windows_per_report)])
    return [np.arange(starts[i], starts[i + 1]) for i in range(encoded.n_reports)]


def gather_reports(
    encoded: EncodedReports, index: list[np.ndarray], reports: np.ndarray
) -> tuple[list[list[int]], np.ndarray]:
    """Windows of ``reports`` (fast path using :func:`window_index`), owners renumbered."""
    wins: list[list[int]] = []
    own: list[int] = []
    for k, r in enumerate(reports):
        for w in index[int(r)]:
            wins.append(encoded.windows[w])
            own.append(k)
    return wins, np.asarray(own, dtype=np.int64)
