"""Charts of the QA report, drawn with matplotlib (Agg) and inlined as SVG: no network at view time."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

COLOURS = {"positive": "#c0392b", "negative": "#2e86c1", "uncertain": "#f39c12", "blank": "#bdc3c7"}


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG sits inside HTML


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text (searchable, small)
    import matplotlib.pyplot as plt

    return plt


def prevalence_chart(prevalence: pd.DataFrame) -> str:
    """Stacked horizontal bars: reports per label and value (1 / 0 / -1 / blank)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(prevalence) + 1.2))
    left = np.zeros(len(prevalence))
    labels = list(prevalence.index)[::-1]
    for col in ("positive", "negative", "uncertain", "blank"):
        vals = prevalence[col].to_numpy()[::-1]
        ax.barh(labels, vals, left=left, color=COLOURS[col], label=col)
        left = left + vals
    ax.set_xlabel("reports")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title("Label values per label")
    return _svg(fig)


def bar_chart(counts: pd.Series, title: str, xlabel: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(1, len(counts)) + 1.2))
    ax.barh([str(i) for i in counts.index][::-1], counts.to_numpy()[::-1], color="#5d6d7e")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _svg(fig)


def heatmap(co: pd.DataFrame) -> str:
    """Co-occurrence of positive labels (reports positive for both), counts in the cells."""
    plt = _plt()
    n = len(co)
    fig, ax = plt.subplots(figsize=(0.55 * n + 3, 0.5 * n + 2))
    im = ax.imshow(co.to_numpy(), cmap="Reds")
    ax.set_xticks(range(n), labels=co.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels=co.index, fontsize=8)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(co.iat[i, j])), ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.7)
    ax.set_title("Positive co-occurrence (reports)")
    return _svg(fig)
