"""Render an evidence sentence as HTML with its mention and trigger spans highlighted (displaCy-style).

Offsets are report character offsets, as in the evidence JSONL; ``sentence_start`` maps them
into the sentence. With PHI spans (``--redact``), each PHI span is replaced by ``[CATEGORY]``
and the highlights around it are kept.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    start: int  # report offsets, end exclusive
    end: int
    kind: str  # "ent" or "trigger"
    label: str = ""


def render_sentence(
    sentence: str, sentence_start: int, marks: Sequence[Mark], phi: Sequence[tuple[int, int, str]] = ()
) -> str:
    """HTML of one sentence; each mark becomes ``<mark class="KIND" data-start data-end>``.

    ``phi`` spans are sentence offsets ``(start, end, category)``.
    """
    n = len(sentence)
    local = [(max(0, m.start - sentence_start), min(n, m.end - sentence_start), m) for m in marks]
    local = [(s, e, m) for s, e, m in local if s < e]
    cuts = {0, n}
    for s, e, _ in local:
        cuts.update((s, e))
    for s, e, _ in phi:
        cuts.update((max(0, s), min(n, e)))
    points = sorted(c for c in cuts if 0 <= c <= n)
    out: list[str] = []
    open_marks: list[tuple[int, int, Mark]] = []
    masked_from = {max(0, s): (min(n, e), c) for s, e, c in phi}
    skip_until = -1
    for a, b in itertools.pairwise(points):
        for item in [x for x in open_marks if x[1] <= a]:
            out.append("</mark>")
            open_marks.remove(item)
        for s, e, m in sorted((x for x in local if x[0] == a), key=lambda x: -(x[1] - x[0])):
            label = f' data-label="{html.escape(m.label)}"' if m.label else ""
            out.append(f'<mark class="{m.kind}" data-start="{m.start}" data-end="{m.end}"{label}>')
            open_marks.append((s, e, m))
        if a in masked_from:
            end, cat = masked_from[a]
            out.append(f'<span class="phi">[{html.escape(cat)}]</span>')
            skip_until = end
        if a >= skip_until:
            out.append(html.escape(sentence[a:b]))
    out.extend("</mark>" for _ in open_marks)
    return "".join(out)
