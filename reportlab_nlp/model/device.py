"""Device choice and CPU thread caps."""

from __future__ import annotations

import math
import os

from ..errors import ModelError

DEVICES = ("auto", "cpu", "cuda")


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def free_cores() -> int:
    """Cores this process may use that are not already busy (1-minute load average), at least 1."""
    n = usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover
        load = 0.0
    return max(1, min(n, n - math.floor(load)))


def cap_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads to ``threads`` or to the free cores; return the number used."""
    import torch

    n = int(threads) if threads else free_cores()
    n = max(1, min(n, usable_cores()))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; ``cuda`` without a GPU is an error."""
    import torch

    d = (device or "auto").lower()
    if d not in DEVICES and not d.startswith("cuda:"):
        raise ModelError(f"unknown device {device!r}; expected auto, cpu or cuda")
    if d == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if d.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(
            "--device cuda was asked for but no CUDA GPU is visible to torch", hint="use --device cpu or auto"
        )
    return d
