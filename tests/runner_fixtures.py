"""Builders shared by the runner tests: a synthetic archive and a tiny trained labeler."""

from __future__ import annotations

import csv
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "reports.csv"


NAMES = ("John Carter", "Maria Lopez", "Wei Chen", "Anna Novak", "Samuel Okafor")
SIGNATURES = (
    "Dictated by Dr. {name} on {month:02d}/{day:02d}/2019.",
    "Results discussed with Dr. {name} by phone at 617-555-{phone:04d} on {month:02d}/{day:02d}/2020.",
    "Electronically signed: {name}, MD, {month:02d}/{day:02d}/2018.",
)


def synthetic_archive(path: Path, n: int) -> Path:
    """``n`` reports: ``examples/reports.csv`` repeated, each copy under a new id (``syn-000001`` ...).

    Every third report gets a made-up signature line (a name, a date, sometimes a phone number) so
    that de-identification has something to find; the examples themselves are already scrubbed.
    """
    with open(EXAMPLES, encoding="utf-8", newline="") as fh:
        texts = [row["report"] for row in csv.DictReader(fh)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["report_id", "report"])
        for i in range(n):
            text = texts[i % len(texts)]
            if i % 3 == 0 and text.strip():
                sig = SIGNATURES[(i // 3) % len(SIGNATURES)].format(
                    name=NAMES[i % len(NAMES)], month=1 + i % 12, day=1 + i % 28, phone=i % 10000
                )
                text = f"{text}\n{sig}"
            w.writerow([f"syn-{i + 1:06d}", text])
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
