"""The disease catalogue of the diagnosis (诊断): urban diseases (城市病), their trigger and
cause indicators, rule thresholds and points, and the phrases explanations are built from.

:func:`load_catalogue` reads and checks ``data/diagnosis/diseases.yaml``; the rules are
applied by :func:`citycheck.engine.diagnosis.diagnose`. See ``docs/engine/diagnosis.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ._validation import DataError, ParameterError

__all__ = [
    "SEVERITY_LEVELS",
    "SIGNALS",
    "Disease",
    "DiseaseCatalogue",
    "Rules",
    "load_catalogue",
]

#: Signals a rule can raise, in the order they are reported.
SIGNALS: tuple[str, ...] = (
    "bottom_line_failure",
    "red_warning",
    "lowest_quartile",
    "deterioration",
    "dissatisfaction",
)

#: Severity levels from the worst; a catalogue may name a subset.
SEVERITY_LEVELS: tuple[str, ...] = ("severe", "moderate", "mild")


@dataclass(frozen=True)
class Rules:
    """Thresholds and points of a disease's rules (catalogue ``defaults`` + its ``rules``)."""

    points: Mapping[str, int] = field(
        default_factory=lambda: {
            "bottom_line_failure": 3,
            "red_warning": 2,
            "lowest_quartile": 1,
            "deterioration": 1,
            "dissatisfaction": 1,
        }
    )
    trigger_points: int = 2
    severity: tuple[tuple[str, int], ...] = (("severe", 5), ("moderate", 3), ("mild", 2))
    lowest_quantile: float = 0.25
    min_peers: int = 4
    decline_threshold: float = 0.05
    consecutive_declines: int = 2
    decline_step_min: float = 0.01
    dissatisfaction_below: float = 60.0


@dataclass(frozen=True)
class Disease:
    """One urban disease of the catalogue."""

    code: str
    name_zh: str
    name_en: str
    dimension: str
    indicators: tuple[str, ...]
    cause_indicators: tuple[str, ...]
    rules: Rules
    template: str


@dataclass(frozen=True)
class DiseaseCatalogue:
    """The diseases, the trend window and the phrases explanations are built from."""

    diseases: tuple[Disease, ...]
    trend_years: int
    severity_names: Mapping[str, str]
    signal_names: Mapping[str, str]
    phrases: Mapping[str, str]
    dimension_names: Mapping[str, str] = field(default_factory=dict)

    def get(self, code: str) -> Disease:
        """The disease with ``code``; :class:`ParameterError` if there is none."""
        for disease in self.diseases:
            if disease.code == code:
                return disease
        raise ParameterError("code", "a disease code of the catalogue", code)

    @property
    def indicator_codes(self) -> set[str]:
        """Every indicator code a disease refers to (triggers and causes)."""
        return {c for d in self.diseases for c in (*d.indicators, *d.cause_indicators)}


_PHRASE_KEYS = (
    "below_standard",
    "above_standard",
    "outside_range",
    "lowest_quartile",
    "decrease",
    "increase",
    "streak",
    "dissatisfaction",
    "causes",
    "cause_short",
    "cause_low",
    "indicator_separator",
)
_DISEASE_KEYS = {
    "code",
    "name_zh",
    "name_en",
    "dimension",
    "indicators",
    "cause_indicators",
    "rules",
    "template",
}


def load_catalogue(path: str | Path) -> DiseaseCatalogue:
    """Read and check a disease catalogue YAML file.

    Parameters
    ----------
    path : str or Path
        A file with top-level ``trend_years``, ``defaults`` (rule thresholds),
        ``severity_names``, ``signal_names``, ``phrases``, optional ``dimension_names``
        and ``diseases`` (a list; see ``docs/engine/diagnosis.md``).

    Returns
    -------
    DiseaseCatalogue

    Raises
    ------
    DataError
        Naming the file, the disease and the field that is missing or wrong.

    Examples
    --------
    >>> from pathlib import Path
    >>> catalogue = load_catalogue(Path("data/diagnosis/diseases.yaml"))
    >>> catalogue.get("lack_of_green_space").name_zh
    '绿地不足'
    """
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict) or not isinstance(document.get("diseases"), list):
        raise DataError(f"{path}: a mapping with a `diseases` list is required")
    defaults = _rules_from(document.get("defaults") or {}, Rules(), where=f"{path}: defaults")
    phrases = document.get("phrases") or {}
    missing_phrases = [k for k in _PHRASE_KEYS if k not in phrases]
    if missing_phrases:
        raise DataError(f"{path}: phrases: missing {missing_phrases[0]!r}")
    diseases, seen = [], set()
    for number, entry in enumerate(document["diseases"], start=1):
        where = f"{path}: disease {number} ({entry.get('code', '?') if isinstance(entry, dict) else '?'})"
        if not isinstance(entry, dict):
            raise DataError(f"{where}: must be a mapping")
        unknown = set(entry) - _DISEASE_KEYS
        if unknown:
            raise DataError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        for key in ("code", "name_zh", "name_en", "dimension", "indicators", "template"):
            if not entry.get(key):
                raise DataError(f"{where}: field {key!r} is required")
        if entry["code"] in seen:
            raise DataError(f"{where}: field 'code' duplicates an earlier disease")
        seen.add(entry["code"])
        for key in ("indicators", "cause_indicators"):
            codes = entry.get(key) or []
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise DataError(f"{where}: field {key!r} must be a list of indicator codes")
        diseases.append(
            Disease(
                code=entry["code"],
                name_zh=entry["name_zh"],
                name_en=entry["name_en"],
                dimension=entry["dimension"],
                indicators=tuple(entry["indicators"]),
                cause_indicators=tuple(entry.get("cause_indicators") or ()),
                rules=_rules_from(entry.get("rules") or {}, defaults, where=f"{where}: rules"),
                template=entry["template"],
            )
        )
    trend_years = document.get("trend_years", 3)
    if not isinstance(trend_years, int) or trend_years < 2:
        raise DataError(f"{path}: trend_years must be an integer >= 2; got {trend_years!r}")
    return DiseaseCatalogue(
        diseases=tuple(diseases),
        trend_years=trend_years,
        severity_names=dict(document.get("severity_names") or {}),
        signal_names=dict(document.get("signal_names") or {}),
        phrases=dict(phrases),
        dimension_names=dict(document.get("dimension_names") or {}),
    )


def _rules_from(entry: Mapping[str, Any], base: Rules, *, where: str) -> Rules:
    if not isinstance(entry, Mapping):
        raise DataError(f"{where}: must be a mapping")
    known = set(Rules.__dataclass_fields__)
    unknown = set(entry) - known
    if unknown:
        raise DataError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    changes: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "points":
            bad = [s for s in value if s not in SIGNALS]
            if bad:
                raise DataError(f"{where}: points: unknown signal {bad[0]!r}")
            changes[key] = {**base.points, **value}
        elif key == "severity":
            levels = tuple((str(level), int(points)) for level, points in value.items())
            if any(level not in SEVERITY_LEVELS for level, _ in levels):
                raise DataError(f"{where}: severity: levels must be among {SEVERITY_LEVELS}")
            changes[key] = tuple(sorted(levels, key=lambda item: -item[1]))
        elif not isinstance(value, int | float) or isinstance(value, bool):
            raise DataError(f"{where}: {key} must be a number; got {value!r}")
        else:
            changes[key] = type(getattr(base, key))(value)
    return replace(base, **changes)
