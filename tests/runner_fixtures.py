"""Builders shared by the runner tests: a synthetic archive and a tiny trained labeler."""

from __future__ import annotations

import csv
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "reports.csv"


def synthetic_archive(path: Path, n: int) -> Path:
    """``n`` reports: ``examples/reports.csv`` repeated, each copy under a new id (``syn-000001`` ...)."""
    with open(EXAMPLES, encoding="utf-8", newline="") as fh:
        texts = [row["report"] for row in csv.DictReader(fh)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["report_id", "report"])
        for i in range(n):
            w.writerow([f"syn-{i + 1:06d}", texts[i % len(texts)]])
    return path


def tiny_model(folder: Path, n: int) -> tuple[Path, Path]:
    """A labeler trained for one epoch on ``n`` synthetic reports -> (model folder, reports CSV)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_model import build_world

    from reportlab_nlp.model.training import train_model

    folder.mkdir(parents=True, exist_ok=True)
    world = build_world(folder, n, 7, "M")
    out = folder / "model"
    train_model(
        world["dir"] / "reports.csv",
        world["dir"] / "weak.csv",
        out,
        encoder=world["encoder"],
        taxonomy=world["taxonomy"],
        epochs=1,
        batch_size=8,
        max_length=32,
        window_overlap=8,
        val_fraction=0.2,
        seed=3,
        device="cpu",
        threads=1,
        show_progress=False,
        augment_sentences=False,
    )
    return out, world["dir"] / "reports.csv"
