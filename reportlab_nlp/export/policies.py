"""Uncertainty policies (``--uncertain``) and the treatment of not-mentioned cells (``--blank-as``).

Label matrices are float32 arrays, images x labels, holding 1 / 0 / -1 and NaN for blank.
A policy maps each label to an action for its uncertain (-1) cells: ``keep``, ``blank``,
``zero`` or ``one``. The named policies live in ``rules/export.yml``; a user's policy is a
YAML file ``{default: zero, labels: {Edema: one}}`` (their sources: docs/export.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import E, ExportError, RulesError
from ..resources import load_yaml
from .vocab import export_vocab

ACTIONS: Mapping[str, float] = {"keep": -1.0, "blank": float("nan"), "zero": 0.0, "one": 1.0}


@dataclass(frozen=True)
class UncertaintyPolicy:
    name: str
    actions: Mapping[str, str]  # label -> action

    def action(self, label: str) -> str:
        return self.actions[label]


def _build(name: str, spec: object, labels: Sequence[str]) -> UncertaintyPolicy:
    if not isinstance(spec, Mapping) or "default" not in spec:
        raise ExportError(f"uncertainty policy {name!r} needs a 'default' action", code=E.RL704)
    overrides = spec.get("labels") or {}
    if not isinstance(overrides, Mapping):
        raise ExportError(
            f"uncertainty policy {name!r}: 'labels' must map label names to actions", code=E.RL704
        )
    unknown = [k for k in overrides if k not in labels]
    if unknown:
        raise ExportError(
            f"uncertainty policy {name!r} names labels outside the taxonomy: {', '.join(map(str, unknown))}",
            code=E.RL704,
        )
    actions = {lab: str(overrides.get(lab, spec["default"])) for lab in labels}
    bad = sorted({a for a in actions.values() if a not in ACTIONS})
    if bad:
        raise ExportError(
            f"uncertainty policy {name!r}: unknown action(s) {', '.join(bad)}; use {', '.join(ACTIONS)}",
            code=E.RL704,
        )
    return UncertaintyPolicy(name, actions)


def load_policy(name_or_path: str, labels: Sequence[str]) -> UncertaintyPolicy:
    """A named policy (keep, ignore, zeros, ones, libauc) or a YAML mapping file."""
    named = export_vocab().policies
    if name_or_path in named:
        return _build(name_or_path, named[name_or_path], labels)
    p = Path(name_or_path)
    if not p.is_file():
        raise ExportError(
            f"--uncertain {name_or_path!r} is neither a policy ({', '.join(named)}) nor a file", code=E.RL704
        )
    try:
        spec = load_yaml(p)
    except RulesError as err:
        raise ExportError(
            f"uncertainty policy file {p.name} cannot be read: {err.message}", code=E.RL704
        ) from None
    return _build(p.name, spec, labels)


def apply_policy(
    matrix: np.ndarray, labels: Sequence[str], policy: UncertaintyPolicy, blank_as: str = "blank"
) -> np.ndarray:
    """A new matrix with uncertain cells replaced per label and blank cells per ``blank_as``."""
    if blank_as not in export_vocab().blank_actions:
        raise ExportError(
            f"--blank-as {blank_as!r}: use {' or '.join(export_vocab().blank_actions)}", code=E.RL704
        )
    out = matrix.astype(np.float32, copy=True)
    blank = np.isnan(out)
    for j, lab in enumerate(labels):
        col = out[:, j]
        col[col == -1.0] = ACTIONS[policy.action(lab)]
    if blank_as == "zero":
        out[blank] = 0.0
    return out
