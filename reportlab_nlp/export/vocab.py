"""The export vocabulary from ``rules/export.yml``: views, sexes, policies, presets, splits."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import RulesError
from ..resources import data_path, load_yaml


@dataclass(frozen=True)
class ViewInfo:
    """One canonical view and how CheXpert and MIMIC-CXR write it."""

    name: str
    frontal_lateral: str
    ap_pa: str
    view_position: str


@dataclass(frozen=True)
class SplitInfo:
    name: str
    folder: str
    mimic: str


@dataclass(frozen=True)
class ExportVocab:
    views: Mapping[str, ViewInfo]  # canonical name -> info
    view_aliases: Mapping[str, str]  # upper-cased spelling -> canonical name
    sex_aliases: Mapping[str, str]  # upper-cased spelling -> Male/Female/Unknown
    age_range: tuple[float, float]
    policies: Mapping[str, Mapping[str, Any]]
    blank_actions: tuple[str, ...]
    splits: tuple[SplitInfo, ...]
    presets: Mapping[str, Mapping[str, Any]]
    chexpert_leading: tuple[str, ...]
    chexpert_labels: tuple[str, ...]
    mimic: Mapping[str, Any]


@functools.lru_cache(maxsize=1)
def export_vocab() -> ExportVocab:
    path = data_path("rules", "export.yml")
    raw = load_yaml(path)
    try:
        views = {
            name: ViewInfo(name, str(v["frontal_lateral"]), str(v["ap_pa"] or ""), str(v["view_position"]))
            for name, v in raw["views"].items()
        }
        view_aliases: dict[str, str] = {}
        for name, v in raw["views"].items():
            for alias in [name, *v.get("aliases", [])]:
                view_aliases[str(alias).strip().upper()] = name
        sex_aliases = {name.upper(): name for name in raw["sexes"]}
        for name, aliases in raw["sexes"].items():
            sex_aliases.update({str(a).strip().upper(): name for a in aliases})
        lo, hi = raw["age_range"]
        splits = tuple(SplitInfo(str(s["name"]), str(s["folder"]), str(s["mimic"])) for s in raw["splits"])
        return ExportVocab(
            views,
            view_aliases,
            sex_aliases,
            (float(lo), float(hi)),
            dict(raw["policies"]),
            tuple(raw["blank_actions"]),
            splits,
            dict(raw["presets"]),
            tuple(raw["chexpert"]["leading"]),
            tuple(raw["chexpert"]["labels"]),
            dict(raw["mimic"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise RulesError(f"{path} is malformed ({type(err).__name__}: {err})") from None
