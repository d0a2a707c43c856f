"""Workflow steps of the evaluation: run an assessment into a release, publish it, compare
two releases, export one. The only module that writes assessment data.

Every write takes a keyword-only ``acting_user``, checks it through
:mod:`citycheck.core.access`, runs in one transaction and records its event.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import citycheck
from citycheck.collection.models import Round, RoundStatus
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.language import localized
from citycheck.core.models import record_event
from citycheck.engine import standards as engine_standards
from citycheck.places.models import Place, PlaceLevel

from . import labels
from .compute import LEAVING_NOTES, AssessmentError, compute, plain
from .inputs import collect_inputs, scope_of
from .methods import MethodSpec, choice_name, load_method, parse_method
from .models import Level, Release, ReleaseStatus, Result

Report = Callable[[float, str], None]


class PublishError(ValueError):
    """A release that must not be published; ``problems`` lists why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(_("不能发布：") + "；".join(problems[:5]))


@cache
def code_version() -> str:
    """``citycheck.__version__`` plus the git commit of the code, when it is a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=settings.REPO_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{citycheck.__version__}+{commit}" if commit else citycheck.__version__


def check_may_assess(round_: Round, user) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may run and publish the round's index."""
    if user is None:
        return  # a command run by the operator without --as-user
    access.check_place(user, scope_of(round_), Action.PUBLISH)


def run_assessment(
    round_: Round,
    spec: MethodSpec | None = None,
    *,
    acting_user,
    job=None,
    report: Report | None = None,
) -> Release:
    """Compute the index for ``round_`` with ``spec`` and freeze it as a draft release.

    Raises :class:`~citycheck.assessment.methods.MethodError` for a bad specification and
    :class:`~citycheck.assessment.compute.AssessmentError` when the data do not allow the
    method; nothing is written then.
    """
    check_may_assess(round_, acting_user)
    spec = spec or load_method()
    report = report or (lambda progress, message: None)
    report(1, _("读取采信值"))
    inputs = collect_inputs(round_, spec)
    computation = compute(inputs, spec, report=report)
    bad = (
        computation.results[["value", "score"]]
        .map(lambda v: isinstance(v, float) and math.isinf(v))
        .any(axis=None)
    )
    if bad:
        raise AssessmentError(_("计算结果含无穷大值"))
    provisional = {
        "round_open": inputs.round_status == RoundStatus.OPEN,
        "pending_places": list(inputs.pending_places),
    }
    report(96, _("保存结果"))
    with transaction.atomic():
        release = Release.objects.create(
            round=round_,
            scope=Place.objects.get(code=inputs.scope_code),
            method_code=spec.code,
            method_version=spec.version,
            method_text=spec.text,
            code_version=code_version(),
            input_digest=inputs.digest(spec),
            job=job,
            created_by=acting_user,
            provisional=provisional["round_open"] or bool(provisional["pending_places"]),
            details=plain(
                {
                    **computation.details,
                    "provisional": provisional,
                    "inputs": _input_snapshot(inputs, spec),
                }
            ),
        )
        place_ids = inputs.places["pk"]
        Result.objects.bulk_create(
            Result(
                release=release,
                place_id=int(place_ids[row["place"]]),
                **{k: _db_value(v) for k, v in row.items() if k != "place"},
            )
            for row in computation.results.to_dict("records")
        )
        record_event(
            release,
            "assessed",
            acting_user=acting_user,
            data={"digest": release.input_digest, "results": len(computation.results)},
        )
    report(100, _("完成"))
    return release


def _db_value(value):
    """A result cell as stored: NaN and missing become NULL, numpy scalars plain Python."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _input_snapshot(inputs, spec: MethodSpec) -> dict:
    """Everything the release was computed from, frozen with it (the diff view and the
    bundle read it): adopted values, standards, city classes, the places, the indicator
    system (code, version, indicators with dimension, direction, type and unit;
    dimensions) and, for previous-year imputation, earlier rounds' values."""
    values = inputs.values.stack(future_stack=True).dropna().rename("value").reset_index()
    snapshot = {
        "values": {f"{p}|{i}": float(v) for p, i, v in values.itertuples(index=False)},
        "standards": {
            f"{indicator}|{city_class}": [
                row["comparison"],
                row["value"],
                _db_value(row["value_high"]),
                row["warning_band"],
            ]
            for (indicator, city_class), row in inputs.standards.iterrows()
        },
        "city_classes": inputs.places["city_class"].to_dict(),
        "places": inputs.places.drop(columns=["pk", "city_class"]).to_dict("index"),
        "system": inputs.system,
        "indicators": inputs.indicators.to_dict("index"),
        "dimensions": inputs.dimensions.to_dict("index"),
    }
    if spec.steps["impute"]["method"] == "previous_year":
        history = inputs.history["value"].reset_index()
        snapshot["history"] = {
            f"{p}|{i}|{y}": v for p, i, y, v in history.itertuples(index=False) if v == v
        }
    return snapshot


def provisional_reasons(release: Release) -> list[str]:
    """Why ``release`` is provisional, in words (empty when it is not)."""
    if not release.provisional:
        return []
    found = release.details.get("provisional", {})
    reasons = []
    if found.get("round_open"):
        reasons.append(
            _("%(year)d 年体检轮次仍在填报中，本结果为暂定结果，轮次截止后方可发布。")
            % {"year": release.round.year}
        )
    pending = found.get("pending_places", [])
    if pending:
        names = dict(Place.objects.filter(code__in=pending).values_list("code", "name_zh"))
        reasons.append(
            _("%(count)d 个地区的数据尚未经省级采纳：%(places)s")
            % {
                "count": len(pending),
                "places": _("、").join(names.get(code, code) for code in pending[:20])
                + ("…" if len(pending) > 20 else ""),
            }
        )
    return reasons


@dataclass
class LevelDecisions:
    """What a release's run did with missing data at one place level, named for people:
    ``imputations`` (place, indicator, value, method), ``screened_out`` (place,
    availability as a share) and ``left_out`` (indicator or dimension, reason)."""

    level: str
    level_name: str
    imputations: list[dict]
    screened_out: list[dict]
    left_out: list[dict]


def data_decisions(release: Release) -> list[LevelDecisions]:
    """Per place level: the values imputed, the places screened out of the ranking and the
    indicators that left the index, with the reason (from the release's details)."""
    levels = release.details.get("levels", {})
    codes = {
        item["place"] for details in levels.values() for item in details.get("imputations", [])
    } | {code for details in levels.values() for code in details.get("screened_out", [])}
    places = {
        code: localized(zh, en)
        for code, zh, en in Place.objects.filter(code__in=codes).values_list(
            "code", "name_zh", "name_en"
        )
    }
    system = release.round.system
    names = {**labels.dimension_names(system), **labels.indicator_names(system)}
    decisions = []
    for level, details in levels.items():
        availability = details.get("availability", {})
        decisions.append(
            LevelDecisions(
                level=level,
                level_name=str(PlaceLevel(level).label),
                imputations=[
                    {
                        "place": places.get(item["place"], item["place"]),
                        "indicator": names.get(item["indicator"], item["indicator"]),
                        "value": item["value"],
                        "method": choice_name("impute", item["method"]),
                    }
                    for item in details.get("imputations", [])
                ],
                screened_out=[
                    {"place": places.get(code, code), "availability": availability.get(code)}
                    for code in details.get("screened_out", [])
                ],
                left_out=[
                    {"name": names.get(code, code), "reason": str(LEAVING_NOTES[reason])}
                    for code, reason in details.get("left_out", {}).items()
                ],
            )
        )
    return decisions


def release_problems(release: Release) -> list[str]:
    """Why ``release`` may not be published (empty when it may): a round still open, or
    missing or non-finite numbers where a published number is due."""
    problems = []
    if release.round.status == RoundStatus.OPEN:
        problems.append(
            _("%(year)d 年体检轮次仍在填报中：暂定结果须待轮次截止后才能发布。")
            % {"year": release.round.year}
        )
    ranked = release.results.filter(level__in=[Level.INDEX, Level.DIMENSION])
    if not ranked.exists():
        problems.append(_("没有指数结果"))
    missing = ranked.filter(score__isnull=True) | ranked.filter(rank__isnull=True)
    for row in missing.select_related("place")[:5]:
        problems.append(
            _("%(place)s 的 %(name)s 缺少得分或排名")
            % {"place": row.place.name_zh, "name": row.name_zh}
        )
    for row in release.results.select_related("place").iterator():
        bad = row.bad_numbers()
        if bad:
            problems.append(
                _("%(place)s 的 %(name)s 的 %(fields)s 不是有限数值")
                % {"place": row.place.name_zh, "name": row.name_zh, "fields": ", ".join(bad)}
            )
    return problems


@transaction.atomic
def publish_release(release: Release, *, acting_user) -> Release:
    """Make ``release`` public; an earlier published release of the round is superseded."""
    if (
        acting_user is not None
        and not Release.objects.restrict(acting_user, Action.PUBLISH).filter(pk=release.pk).exists()
    ):
        raise PermissionDenied(_("无权发布该评价结果。"))
    if release.status != ReleaseStatus.DRAFT:
        raise PublishError([_("该版本已发布或已被替代")])
    problems = release_problems(release)
    if problems:
        raise PublishError(problems)
    earlier = Release.objects.filter(round=release.round, status=ReleaseStatus.PUBLISHED)
    for previous in earlier:
        previous.status = ReleaseStatus.SUPERSEDED
        previous.save(update_fields=["status", "last_updated"])
        record_event(
            previous,
            "superseded",
            acting_user=acting_user,
            note=_("被 #%(pk)d 替代") % {"pk": release.pk},
        )
    release.status = ReleaseStatus.PUBLISHED
    release.published_at = timezone.now()
    release.save(update_fields=["status", "published_at", "last_updated"])
    record_event(release, "published", acting_user=acting_user)
    return release


# --- diff -------------------------------------------------------------------------------


@dataclass
class ReleaseDiff:
    """What changed from release ``a`` to ``b`` and why.

    ``method`` lists changed method fields (path, before, after); ``inputs`` changed
    adopted values, standards and city classes; ``results`` changed results (place, level,
    code, score and rank before/after, and the reasons found for the change).
    """

    a: Release
    b: Release
    method: list[tuple[str, object, object]] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.method or self.inputs or self.results)


def _flatten(content, prefix="") -> dict:
    if isinstance(content, dict):
        flat = {}
        for key, value in content.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: content}


# Kinds of input a release snapshots (see ``_input_snapshot``), by name.
INPUT_KINDS = {
    "values": gettext_lazy("采信值"),
    "standards": gettext_lazy("标准值"),
    "city_classes": gettext_lazy("城市规模等级"),
}


class _InputNames:
    """Names for the keys of an input snapshot (``place|indicator``, ``indicator|city
    class``, ``place``) and readable before/after texts, from both releases' systems."""

    def __init__(self, a: Release, b: Release, place_codes):
        self.indicators = {
            **labels.indicator_names(a.round.system),
            **labels.indicator_names(b.round.system),
        }
        self.places = {
            code: localized(zh, en)
            for code, zh, en in Place.objects.filter(code__in=place_codes).values_list(
                "code", "name_zh", "name_en"
            )
        }

    def indicator(self, code: str) -> str:
        return self.indicators.get(code, code)

    def place(self, code: str) -> str:
        return self.places.get(code, code)

    def of(self, kind: str, key: str, before, after) -> dict:
        """``kind_name``, ``name``, ``before_text`` and ``after_text`` of a changed input."""
        if kind == "values":
            place, indicator = key.split("|", 1)
            name = f"{self.place(place)} · {self.indicator(indicator)}"
            texts = [_number_text(v) for v in (before, after)]
        elif kind == "standards":
            indicator, city_class = key.split("|", 1)
            scope = labels.city_class_name(city_class) if city_class else _("各规模等级")
            name = f"{self.indicator(indicator)} · {scope}"
            texts = [_standard_text(v) for v in (before, after)]
        else:
            name = self.place(key)
            texts = [labels.city_class_name(v) if v is not None else "—" for v in (before, after)]
        return {
            "kind_name": str(INPUT_KINDS[kind]),
            "name": name,
            "before_text": texts[0],
            "after_text": texts[1],
        }

    def changed_item(self, kind: str, key: str) -> str:
        """What changed for a place, as a reason names it: the indicator or the class."""
        return self.indicator(key.split("|", 1)[1]) if kind == "values" else _("城市规模等级")


def _number_text(value) -> str:
    return "—" if value is None else f"{value:.6g}"


def _standard_text(standard) -> str:
    """A snapshot standard ``[comparison, value, value_high, warning_band]`` as text."""
    if standard is None:
        return "—"
    comparison, value, value_high, band = standard
    return engine_standards.describe(comparison, value, value_high) + (
        _("（预警带 %(band)s）") % {"band": _number_text(band)} if band else ""
    )


def diff_releases(a: Release, b: Release, *, tolerance: float = 1e-9) -> ReleaseDiff:
    """Compare two releases: method, inputs, and every result's score and rank."""
    diff = ReleaseDiff(a=a, b=b)
    method_a = _flatten(parse_method(a.method_text).content)
    method_b = _flatten(parse_method(b.method_text).content)
    for path in sorted(set(method_a) | set(method_b)):
        if method_a.get(path) != method_b.get(path):
            diff.method.append((path, method_a.get(path), method_b.get(path)))

    snap_a, snap_b = a.details.get("inputs", {}), b.details.get("inputs", {})
    names = _InputNames(
        a,
        b,
        {
            key.split("|")[0]
            for snapshot in (snap_a, snap_b)
            for kind in ("values", "city_classes")
            for key in snapshot.get(kind, {})
        },
    )
    changed_places: dict[str, list[str]] = {}
    for kind in INPUT_KINDS:
        before, after = snap_a.get(kind, {}), snap_b.get(kind, {})
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                diff.inputs.append(
                    {
                        "kind": kind,
                        "key": key,
                        "before": before.get(key),
                        "after": after.get(key),
                        **names.of(kind, key, before.get(key), after.get(key)),
                    }
                )
                if kind != "standards":
                    place = key.split("|")[0]
                    changed_places.setdefault(place, []).append(names.changed_item(kind, key))

    columns = ["place__code", "place__name_zh", "level", "code", "name_zh", "score", "rank"]
    frame_a = pd.DataFrame(list(a.results.values_list(*columns)), columns=columns)
    frame_b = pd.DataFrame(list(b.results.values_list(*columns)), columns=columns)
    keys = ["place__code", "level", "code"]
    merged = frame_a.merge(frame_b, on=keys, how="outer", suffixes=("_a", "_b"))
    score_changed = ~((merged["score_a"] - merged["score_b"]).abs() <= tolerance) & ~(
        merged["score_a"].isna() & merged["score_b"].isna()
    )
    rank_changed = merged["rank_a"].fillna(-1) != merged["rank_b"].fillna(-1)
    standards_changed = any(item["kind"] == "standards" for item in diff.inputs)
    for row in merged[score_changed | rank_changed].itertuples(index=False):
        place = row.place__code
        reasons = []
        if diff.method:
            reasons.append(_("评价方法变更：") + ", ".join(p for p, _a, _b in diff.method[:3]))
        if place in changed_places:
            reasons.append(_("本地区输入变更：") + _("、").join(changed_places[place][:3]))
        elif changed_places:
            reasons.append(_("其他地区输入变更（影响标准化与排名）"))
        if standards_changed:
            reasons.append(_("标准值变更"))
        if not reasons:
            reasons.append(
                _("程序版本不同：%(a)s → %(b)s") % {"a": a.code_version, "b": b.code_version}
            )
        diff.results.append(
            {
                "place": place,
                "place_name": row.place__name_zh_a
                if isinstance(row.place__name_zh_a, str)
                else row.place__name_zh_b,
                "level": row.level,
                "level_name": str(Level(row.level).label),
                "code": row.code,
                "name": row.name_zh_a if isinstance(row.name_zh_a, str) else row.name_zh_b,
                "score_a": _db_value(row.score_a),
                "score_b": _db_value(row.score_b),
                "rank_a": _db_value(row.rank_a),
                "rank_b": _db_value(row.rank_b),
                "reasons": reasons,
            }
        )
    level_order = {Level.INDEX: 0, Level.DIMENSION: 1, Level.INDICATOR: 2}
    diff.results.sort(key=lambda r: (level_order.get(r["level"], 3), r["code"], r["place"]))
    return diff


# --- export -----------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "place_code",
    "place_name",
    "level",
    "code",
    "name",
    "value",
    "score",
    "rank",
    "rank_low",
    "rank_high",
    "peer_group",
    "peer_rank",
    "meets_standard",
    "warning",
    "bottom_line_failed",
    "obstacle_degree",
]


def export_release_csv(release: Release, path: str | Path, *, user=None, exact=False) -> int:
    """Write one row per place and level of ``release`` (restricted to what ``user`` may
    see when given); return the number of rows. Numbers have 6 significant digits, or
    every digit (Python's shortest round-trip form) with ``exact``."""
    number = _exact_number if exact else _csv_number
    results = release.results.all()
    if user is not None:
        results = results.restrict(user)
    rows = results.select_related("place").order_by("level", "code", "rank", "place__code")
    count = 0
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows.iterator():
            writer.writerow(
                [
                    row.place.code,
                    row.place.name_zh,
                    row.level,
                    row.code,
                    row.name_zh,
                    number(row.value),
                    number(row.score),
                    row.rank or "",
                    row.rank_low or "",
                    row.rank_high or "",
                    row.peer_group,
                    row.peer_rank or "",
                    "" if row.meets_standard is None else int(row.meets_standard),
                    row.warning,
                    int(row.bottom_line_failed),
                    number(row.obstacle_degree),
                ]
            )
            count += 1
    return count


def _exact_number(value) -> str:
    return "" if value is None else repr(value)


def _csv_number(value) -> str:
    return "" if value is None else f"{value:.6g}"


BUNDLE_FORMAT = 1
# How the Monte Carlo draws are made and summarised (docs/assessment.md, "Recompute a release").
DRAW_ORDER = (
    "numpy.random.default_rng(random_state): uniform(1 - weight_spread, 1 + weight_spread, "
    "size=(n_nodes, draws)) with nodes in the order of manifest tree less the codes the "
    "level left out; "
    "integers(n_normalisations, size=draws); integers(n_dimension_choices, size=draws); "
    "integers(n_index_choices, size=draws); draw 0 = the published model"
)
QUANTILE_RULE = (
    "ranks 1 = best, ties share the best rank; q05, q95 = numpy.quantile (linear, R type 7); "
    "rank_low = min(floor(q05), published rank), rank_high = max(ceil(q95), published rank)"
)


def export_release_bundle(release: Release, directory: str | Path) -> dict:
    """Write everything needed to recompute ``release`` into ``directory`` and return
    the manifest: ``values.csv``, ``history.csv`` (previous-year imputation only),
    ``places.csv``, ``indicators.csv``, ``dimensions.csv``, ``standards.csv``,
    ``method.yaml``, ``results.csv`` and ``manifest.json`` (docs/assessment.md)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    snapshot = release.details.get("inputs", {})
    if "indicators" not in snapshot:
        raise PublishError([_("该版本计算时未冻结指标体系，无法导出可复算的数据包")])
    tables = {
        "values.csv": (
            ["place", "indicator", "value"],
            [[*key.split("|"), repr(value)] for key, value in snapshot["values"].items()],
        ),
        "places.csv": (
            ["place", "name_zh", "level", "parent", "city_class"],
            [
                [
                    code,
                    row["name_zh"],
                    row["level"],
                    row["parent_code"],
                    snapshot["city_classes"].get(code, ""),
                ]
                for code, row in snapshot["places"].items()
            ],
        ),
        "indicators.csv": (
            ["indicator", "name_zh", "dimension", "direction", "type", "unit"],
            [
                [code, row["name_zh"], row["dimension"], row["direction"], row["type"], row["unit"]]
                for code, row in snapshot["indicators"].items()
            ],
        ),
        "dimensions.csv": (
            ["dimension", "name_zh", "order"],
            [[code, row["name_zh"], row["order"]] for code, row in snapshot["dimensions"].items()],
        ),
        "standards.csv": (
            ["indicator", "city_class", "comparison", "value", "value_high", "warning_band"],
            [
                [*key.split("|"), *("" if v is None else v for v in row)]
                for key, row in snapshot["standards"].items()
            ],
        ),
    }
    if "history" in snapshot:
        tables["history.csv"] = (
            ["place", "indicator", "year", "value"],
            [[*key.split("|"), repr(value)] for key, value in snapshot["history"].items()],
        )
    for name, (header, rows) in tables.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    (folder / "method.yaml").write_text(release.method_text, encoding="utf-8")
    export_release_csv(release, folder / "results.csv", exact=True)
    files = sorted([*tables, "method.yaml", "results.csv"])
    spec = parse_method(release.method_text)
    manifest = plain(
        {
            "format": BUNDLE_FORMAT,
            "release": release.pk,
            "round": {"year": release.round.year, "kind": release.round.kind},
            "scope": release.scope.code,
            "status": release.status,
            "provisional": release.provisional,
            "system": snapshot["system"],
            "method": {
                "code": release.method_code,
                "version": release.method_version,
                "sha256": spec.digest(),
            },
            "code_version": release.code_version,
            "input_digest": release.input_digest,
            "tree": [*snapshot["indicators"], *snapshot["dimensions"]],
            "uncertainty": {
                **spec.content["uncertainty"],
                "draw_order": DRAW_ORDER,
                "quantile_rule": QUANTILE_RULE,
            },
            "levels": {
                level: {
                    key: details.get(key)
                    for key in ("ranked", "screened_out", "imputations", "left_out", "consistency")
                }
                for level, details in release.details.get("levels", {}).items()
            },
            "files": {name: _sha256(folder / name) for name in files},
        }
    )
    with open(folder / "manifest.json", "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2, allow_nan=False)
    return manifest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start_assessment(round_: Round, spec: MethodSpec, *, acting_user):
    """Check permission and the method, then run the assessment as a background job."""
    from citycheck.core.jobs import start_job

    check_may_assess(round_, acting_user)
    collect_inputs(round_, spec)  # a wrong indicator code fails here, before the job starts
    return start_job(
        "assessment.run",
        acting_user=acting_user,
        round_id=round_.pk,
        method_text=spec.text,
        method_source=spec.source,
    )
