"""Label names and label-value encoding, loaded once from ``rules/``.

``LABEL_SCHEMA`` holds the CheXpert value encoding (1 positive, 0 negative, -1 uncertain,
blank not mentioned) and the assertion statuses. :func:`load_taxonomy` reads a taxonomy
file (``chexpert``, ``nih14`` or a user's YAML path) into a :class:`Taxonomy` whose
``labels`` are the output columns in canonical order.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import RulesError
from .resources import data_path, load_yaml, resolve


@dataclass(frozen=True)
class LabelSchema:
    """Value encoding of label cells and the assertion vocabulary."""

    values: Mapping[str, float | None]  # value name -> encoded cell value
    assertions: tuple[str, ...]
    assertion_values: Mapping[str, str]  # assertion -> value name
    precedence: tuple[str, ...]  # value names, strongest first

    @property
    def POSITIVE(self) -> float:
        return self.values["positive"]  # type: ignore[return-value]

    @property
    def NEGATIVE(self) -> float:
        return self.values["negative"]  # type: ignore[return-value]

    @property
    def UNCERTAIN(self) -> float:
        return self.values["uncertain"]  # type: ignore[return-value]

    @property
    def BLANK(self) -> float | None:
        return self.values["not_mentioned"]

    def value_of_assertion(self, assertion: str) -> float | None:
        try:
            return self.values[self.assertion_values[assertion]]
        except KeyError:
            raise RulesError(
                f"unknown assertion status {assertion!r}; expected one of {', '.join(self.assertions)}"
            ) from None

    def rank(self, value: float | None) -> int:
        """Precedence rank of a cell value (0 strongest); blank ranks last."""
        for i, name in enumerate(self.precedence):
            if value is not None and self.values[name] == value:
                return i
        return len(self.precedence)

    def combine(self, values: Iterable[float | None]) -> float | None:
        """Aggregate several mention values of one label by precedence."""
        best: float | None = None
        best_rank = len(self.precedence)
        for v in values:
            r = self.rank(v)
            if r < best_rank:
                best, best_rank = v, r
        return best

    def is_blank(self, value: Any) -> bool:
        return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""

    def parse_cell(self, value: Any) -> float | None:
        """Read a table cell back into the encoding; raise ValueError if it is not one."""
        if self.is_blank(value):
            return None
        v = float(value)
        allowed = {x for x in self.values.values() if x is not None}
        if v not in allowed:
            raise ValueError(f"label value {value!r} is not one of {sorted(allowed)} or blank")
        return v

    @property
    def value_classes(self) -> tuple[float | None, ...]:
        """Cell values in the transformer head's class order: blank, positive, negative, uncertain."""
        return (self.BLANK, self.POSITIVE, self.NEGATIVE, self.UNCERTAIN)


@functools.cache
def load_label_schema() -> LabelSchema:
    raw = load_yaml(data_path("rules", "labels.yml"))
    try:
        schema = LabelSchema(
            values=dict(raw["values"]),
            assertions=tuple(raw["assertions"]),
            assertion_values=dict(raw["assertion_values"]),
            precedence=tuple(raw["precedence"]),
        )
    except (KeyError, TypeError) as err:
        raise RulesError(f"rules/labels.yml is missing {err}") from None
    for a in schema.assertions:
        if schema.assertion_values.get(a) not in schema.values:
            raise RulesError(f"rules/labels.yml: assertion {a!r} maps to an unknown value")
    return schema


LABEL_SCHEMA = load_label_schema()


@dataclass(frozen=True)
class TaxonomyLabel:
    name: str
    observations: tuple[str, ...] = ()
    counts_as_finding: bool = True  # False for Support Devices: does not block No Finding
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """Output labels (canonical column order) and which observations feed each."""

    name: str
    labels: tuple[TaxonomyLabel, ...]
    no_finding: str | None
    path: Path
    observations_file: Path
    description: str = ""
    _by_obs: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def label_names(self) -> list[str]:
        return [l.name for l in self.labels]

    def labels_for(self, observation: str) -> tuple[str, ...]:
        """Taxonomy labels an observation feeds (empty: a finding outside the taxonomy)."""
        return self._by_obs.get(observation, ())

    def label(self, name: str) -> TaxonomyLabel:
        for l in self.labels:
            if l.name == name:
                return l
        raise KeyError(name)

    def column_aliases(self) -> dict[str, str]:
        """Alternative gold-table column names -> canonical label name."""
        out: dict[str, str] = {}
        for l in self.labels:
            for a in l.aliases:
                out[a] = l.name
        return out


BUILTIN_TAXONOMIES = ("chexpert", "nih14")


def taxonomy_path(name_or_path: str | Path) -> Path:
    if str(name_or_path) in BUILTIN_TAXONOMIES:
        return data_path("rules", "taxonomies", f"{name_or_path}.yml")
    p = Path(name_or_path)
    if p.exists():
        return p
    raise RulesError(
        f"taxonomy {str(name_or_path)!r} is neither a built-in ({', '.join(BUILTIN_TAXONOMIES)}) nor an "
        "existing file"
    )


@functools.lru_cache(maxsize=32)
def load_taxonomy(name_or_path: str | Path = "chexpert") -> Taxonomy:
    path = taxonomy_path(name_or_path)
    raw = load_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), list):
        raise RulesError(f"taxonomy {path} needs a top-level 'labels' list")
    labels: list[TaxonomyLabel] = []
    seen: set[str] = set()
    for i, item in enumerate(raw["labels"]):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not item.get("name"):
            raise RulesError(f"taxonomy {path}: label #{i + 1} needs a 'name'")
        name = str(item["name"])
        if name in seen:
            raise RulesError(f"taxonomy {path}: label {name!r} is listed twice")
        seen.add(name)
        labels.append(
            TaxonomyLabel(
                name=name,
                observations=tuple(item.get("observations") or ()),
                counts_as_finding=bool(item.get("counts_as_finding", True)),
                aliases=tuple(item.get("aliases") or ()),
            )
        )
    no_finding = raw.get("no_finding")
    if no_finding is not None and no_finding not in seen:
        raise RulesError(f"taxonomy {path}: no_finding label {no_finding!r} is not among its labels")
    obs_file = raw.get("observations_file", "observations.yml")
    obs_path = Path(obs_file) if Path(obs_file).is_absolute() else (path.parent / obs_file)
    if not obs_path.exists():
        obs_path = resolve("rules", obs_file)
    by_obs: dict[str, list[str]] = {}
    for l in labels:
        for o in l.observations:
            by_obs.setdefault(o, []).append(l.name)
    return Taxonomy(
        name=str(raw.get("name") or path.stem),
        labels=tuple(labels),
        no_finding=no_finding,
        path=path,
        observations_file=obs_path,
        description=str(raw.get("description", "")),
        _by_obs={k: tuple(v) for k, v in by_obs.items()},
    )


def empty_row(label_names: Sequence[str]) -> dict[str, float | None]:
    return dict.fromkeys(label_names, LABEL_SCHEMA.BLANK)
