"""Method specifications: which index steps and choices an assessment uses (YAML, versioned).

A specification is a YAML file under ``data/methods/`` (see ``jiangxi-index-v2.yaml`` and
``docs/assessment.md``). :func:`load_method` reads and checks it, filling defaults;
:func:`check_against_system` checks the indicator and dimension codes it names against the
round's indicator system. Every error is a :class:`MethodError` naming the file and the
field (``steps.normalise.method``), never a traceback.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citycheck.engine.index import AGGREGATIONS, OBJECTIVE_WEIGHTINGS, WEIGHTINGS

DEFAULT_METHOD_NAME = "jiangxi-index-v2.yaml"


def methods_dir() -> Path:
    """The folder of the method files offered to users (``CITYCHECK_METHODS_DIR``)."""
    return Path(settings.CITYCHECK_METHODS_DIR)


def method_files() -> list[str]:
    """The method files users may choose, by file name."""
    return sorted(path.name for path in methods_dir().glob("*.yaml"))


class MethodError(ValueError):
    """A method specification that cannot be used; ``source`` and ``field`` say where."""

    def __init__(self, message: str, *, field: str = "", source: str = ""):
        self.message, self.field, self.source = message, field, source
        where = ": ".join(part for part in (source, field) if part)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class MethodSpec:
    """A checked method specification: the file text and its parsed, defaulted content."""

    text: str
    content: dict
    source: str = ""

    @property
    def code(self) -> str:
        return self.content["code"]

    @property
    def version(self) -> int:
        return self.content["version"]

    @property
    def steps(self) -> dict:
        return self.content["steps"]

    def digest(self) -> str:
        """SHA-256 of the parsed content (comments and layout do not change it)."""
        canonical = json.dumps(self.content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


# --- field checkers: each returns the checked value or raises MethodError at ``field`` ----


def _choice(*allowed: str) -> Callable:
    def check(value, field):
        if value not in allowed:
            raise MethodError(
                _("未知取值 %(value)r；可选：%(allowed)s")
                % {"value": value, "allowed": ", ".join(allowed)},
                field=field,
            )
        return value

    return check


def _number(low: float | None = None, high: float | None = None, *, integer=False) -> Callable:
    def check(value, field):
        kind_ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if (
            isinstance(value, bool)
            or not kind_ok
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            bounds = f"[{'' if low is None else low}, {'' if high is None else high}]"
            kind = _("整数") if integer else _("数值")
            raise MethodError(
                _("应为%(kind)s，范围 %(bounds)s；实际为 %(value)r")
                % {"kind": kind, "bounds": bounds, "value": value},
                field=field,
            )
        return value

    return check


def _text(value, field):
    if not isinstance(value, str) or not value.strip():
        raise MethodError(_("应为非空文本；实际为 %(value)r") % {"value": value}, field=field)
    return value


def _list_of(check_item: Callable, *, min_length: int = 0) -> Callable:
    def check(value, field):
        if not isinstance(value, list) or len(value) < min_length:
            raise MethodError(
                _("应为至少 %(n)d 项的列表；实际为 %(value)r") % {"n": min_length, "value": value},
                field=field,
            )
        return [check_item(item, f"{field}[{i}]") for i, item in enumerate(value)]

    return check


def _mapping_of_numbers(value, field):
    if not isinstance(value, dict):
        raise MethodError(
            _("应为“代码: 数值”的映射；实际为 %(value)r") % {"value": value}, field=field
        )
    return {code: _number(0)(weight, f"{field}.{code}") for code, weight in value.items()}


def _matrix(value, field):
    rows = _list_of(_list_of(_number(0)), min_length=1)(value, field)
    if any(len(row) != len(rows) for row in rows):
        raise MethodError(_("判断矩阵应为方阵"), field=field)
    return rows


PLACE_LEVELS = ("city", "county")
NORMALISATIONS = ("minmax", "zscore", "distance_to_target", "rank", "percentile_rank")

# section → field → (checker, default); a default of ``...`` marks a required field.
WEIGHTING_FIELDS = {
    "method": (_choice(*WEIGHTINGS, "product", "linear"), "equal"),
    "of": (_list_of(_choice(*WEIGHTINGS), min_length=2), None),
    "coefficients": (_list_of(_number(0)), None),
    "expert": (_mapping_of_numbers, None),
    "ahp_variant": (_choice("eigenvector", "geometric"), "eigenvector"),
    "order": (_list_of(_text, min_length=2), None),
    "pairwise": (_matrix, None),
}
STEP_FIELDS = {
    "impute": {"method": (_choice("none", "mean", "group_mean", "previous_year"), "group_mean")},
    "screen": {
        "min_availability": (_number(0, 1), 2 / 3),
        "basis": (_choice("values", "imputed"), "values"),
    },
    "treat": {
        "method": (_choice("none", "winsorise", "winsorise_then_log"), "winsorise_then_log"),
        "winmax": (_number(1, integer=True), 5),
        "skew_threshold": (_number(0), 2.0),
        "kurtosis_threshold": (_number(0), 3.5),
        "if_constant": (_choice("untreated", "drop"), "untreated"),
    },
    "normalise": {
        "method": (_choice(*NORMALISATIONS), "minmax"),
        "low": (_number(), 1.0),
        "high": (_number(), 100.0),
    },
    "weights": {"indicators": (dict, {}), "dimensions": (dict, {})},
    "aggregate": {
        "dimension": (_choice(*AGGREGATIONS), "arithmetic"),
        "index": (_choice(*AGGREGATIONS), "arithmetic"),
        "topsis_normalisation": (_choice("vector", "minmax"), "vector"),
    },
}
SECTION_FIELDS = {
    "indicators": {"exclude": (_list_of(_text), [])},
    "uncertainty": {
        "draws": (_number(10, 100_000, integer=True), 1000),
        "random_state": (_number(0, integer=True), 0),
        "weight_spread": (_number(0, 0.99), 0.25),
        "normalisation": (
            _list_of(_choice("minmax", "percentile_rank", "zscore", "rank"), min_length=1),
            ["minmax"],
        ),
        "aggregation": (_list_of(_choice("arithmetic", "geometric"), min_length=1), ["arithmetic"]),
    },
    "coherence": {
        "min_alpha": (_number(0, 1), 0.6),
        "min_correlation": (_number(-1, 1), 0.3),
    },
}
TOP_FIELDS = {
    "code": (_text, ...),
    "version": (_number(1, integer=True), ...),
    "name_zh": (_text, ...),
    "description": (str, ""),
    "place_levels": (_list_of(_choice(*PLACE_LEVELS), min_length=1), ["county"]),
    "peer_groups": (_choice("city_class", "none"), "city_class"),
}


# --- names of the choices, for pages and reports -------------------------------------

# field → choice → name; ``weights`` names the single methods a combination is made of.
CHOICE_NAMES = {
    "normalise": {
        "minmax": gettext_lazy("极差标准化"),
        "zscore": gettext_lazy("Z 分数标准化"),
        "distance_to_target": gettext_lazy("目标距离法"),
        "rank": gettext_lazy("排序法"),
        "percentile_rank": gettext_lazy("百分位排名"),
    },
    "weights": {
        "equal": gettext_lazy("等权"),
        "expert": gettext_lazy("专家赋权"),
        "entropy": gettext_lazy("熵值法"),
        "critic": gettext_lazy("CRITIC 法"),
        "ahp": gettext_lazy("层次分析法"),
        "product": gettext_lazy("乘积组合"),
        "linear": gettext_lazy("线性组合"),
    },
    "aggregate": {
        "arithmetic": gettext_lazy("加权算术平均"),
        "geometric": gettext_lazy("加权几何平均"),
        "topsis": gettext_lazy("TOPSIS 法"),
    },
    "impute": {
        "none": gettext_lazy("不插补"),
        "mean": gettext_lazy("均值插补"),
        "group_mean": gettext_lazy("同类组均值插补"),
        "previous_year": gettext_lazy("上年值插补"),
    },
    "treat": {
        "none": gettext_lazy("不处理"),
        "winsorise": gettext_lazy("缩尾处理"),
        "winsorise_then_log": gettext_lazy("缩尾或对数变换"),
    },
}


def choice_name(field: str, value) -> str:
    """The name of a method choice (``choice_name("normalise", "minmax")`` → 极差标准化);
    the value itself when it has none, “—” when it is missing."""
    if value is None:
        return "—"
    return str(CHOICE_NAMES.get(field, {}).get(value, value))


def weighting_name(weighting: dict) -> str:
    """A weighting by name: a single method, or the methods a product or linear
    combination is made of (专家赋权 × 熵值法（乘积组合）)."""
    method = weighting.get("method", "equal")
    if method not in ("product", "linear"):
        return choice_name("weights", method)
    parts = [choice_name("weights", part) for part in weighting.get("of") or []]
    if method == "product":
        return _("%(parts)s（乘积组合）") % {"parts": " × ".join(parts)}
    return _("%(parts)s（线性组合）") % {"parts": " + ".join(parts)}


# Sections of a specification whose values are named by another field's choices.
_NAMED_LIKE = {"normalisation": "normalise", "aggregation": "aggregate"}


def value_name(path: str, value):
    """A value of the specification at ``path`` (``steps.aggregate.index``) by name when
    it is a named choice, a list of them joined; anything else as written."""
    parts = path.split(".")
    in_steps = parts[0] == "steps" and len(parts) > 2
    field = parts[1] if in_steps else _NAMED_LIKE.get(parts[-1], "")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(choice_name(field, v) for v in value)
    return choice_name(field, value) if isinstance(value, str) else value


def method_names(content: dict) -> dict[str, str]:
    """The steps of a method specification (``MethodSpec.content``) by name:
    ``normalise, indicator_weights, dimension_weights, dimension_aggregation,
    index_aggregation``."""
    steps = content.get("steps", {})
    weights = steps.get("weights", {})
    aggregate = steps.get("aggregate", {})
    return {
        "normalise": choice_name("normalise", steps.get("normalise", {}).get("method")),
        "indicator_weights": weighting_name(weights.get("indicators", {})),
        "dimension_weights": weighting_name(weights.get("dimensions", {})),
        "dimension_aggregation": choice_name("aggregate", aggregate.get("dimension")),
        "index_aggregation": choice_name("aggregate", aggregate.get("index")),
    }


def _check_section(content: Any, fields: dict, field: str) -> dict:
    """Check a mapping against ``fields``: unknown keys refused, defaults filled."""
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise MethodError(
            _("应为映射（键: 值）；实际为 %(value)r") % {"value": content}, field=field
        )
    unknown = sorted(set(content) - set(fields))
    if unknown:
        raise MethodError(
            _("未知的项 %(name)r；可用：%(allowed)s")
            % {"name": unknown[0], "allowed": ", ".join(fields)},
            field=f"{field}.{unknown[0]}" if field else unknown[0],
        )
    checked = {}
    for name, (check, default) in fields.items():
        path = f"{field}.{name}" if field else name
        if name not in content or content[name] is None:
            if default is ...:
                raise MethodError(_("缺少必填项"), field=path)
            checked[name] = copy.deepcopy(default)
        elif isinstance(check, type):
            if not isinstance(content[name], check):
                raise MethodError(_("类型不符：%(value)r") % {"value": content[name]}, field=path)
            checked[name] = content[name]
        else:
            checked[name] = check(content[name], path)
    return checked


def _check_weighting(content: dict, field: str) -> dict:
    checked = _check_section(content, WEIGHTING_FIELDS, field)
    parts = checked["of"] if checked["method"] in ("product", "linear") else [checked["method"]]
    objective = [part for part in parts if part in OBJECTIVE_WEIGHTINGS]
    if field.endswith(".dimensions") and objective:
        raise MethodError(
            _(
                "%(method)s 依据指标数据赋权，只能用于指标层；维度及以上请用等权、专家赋权或层次分析法"
            )
            % {"method": objective[0]},
            field=f"{field}.of"
            if checked["method"] in ("product", "linear")
            else f"{field}.method",
        )
    if checked["method"] in ("product", "linear") and not checked["of"]:
        raise MethodError(_("组合赋权须列出参与组合的方法"), field=f"{field}.of")
    if checked["method"] == "linear" and len(checked["coefficients"] or []) != len(parts):
        raise MethodError(_("线性组合须为每种方法给出一个系数"), field=f"{field}.coefficients")
    if "expert" in parts and not checked["expert"]:
        raise MethodError(_("专家赋权须给出各项权重"), field=f"{field}.expert")
    if "ahp" in parts and not (checked["order"] and checked["pairwise"]):
        raise MethodError(_("层次分析法须给出 order 和 pairwise"), field=f"{field}.pairwise")
    if "ahp" in parts and len(checked["order"]) != len(checked["pairwise"]):
        raise MethodError(_("判断矩阵的阶数应等于 order 的项数"), field=f"{field}.pairwise")
    return checked


def parse_method(text: str, *, source: str = "") -> MethodSpec:
    """Check a method specification given as YAML text; errors name ``source`` and the field."""
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _("第 %(line)d 行") % {"line": mark.line + 1} if mark else ""
        raise MethodError(
            _("不是有效的 YAML：%(error)s") % {"error": exc}, field=where, source=source
        ) from exc
    try:
        if not isinstance(content, dict):
            raise MethodError(_("方法说明应为 YAML 映射"))
        sections = {**{name: (dict, {}) for name in SECTION_FIELDS}, "steps": (dict, {})}
        checked = _check_section(content, {**TOP_FIELDS, **sections}, "")
        for name, fields in SECTION_FIELDS.items():
            checked[name] = _check_section(checked[name], fields, name)
        steps = _check_section(
            checked["steps"], {name: (dict, {}) for name in STEP_FIELDS}, "steps"
        )
        for name, fields in STEP_FIELDS.items():
            steps[name] = _check_section(steps[name], fields, f"steps.{name}")
        for level in ("indicators", "dimensions"):
            steps["weights"][level] = _check_weighting(
                steps["weights"][level], f"steps.weights.{level}"
            )
        normalise = steps["normalise"]
        if not normalise["low"] < normalise["high"]:
            raise MethodError(_("low 应小于 high"), field="steps.normalise")
        checked["steps"] = steps
    except MethodError as exc:
        raise MethodError(exc.message, field=exc.field, source=source) from None
    return MethodSpec(text=text, content=checked, source=source)


def method_named(name: str) -> MethodSpec:
    """The checked method file ``name`` of :func:`method_files`; an unknown name is a
    :class:`MethodError` naming it."""
    if name not in method_files():
        raise MethodError(_("未知的评价方法文件：%(name)s") % {"name": name}, field="method")
    return load_method(methods_dir() / name)


def load_method(path: str | Path | None = None) -> MethodSpec:
    """Read and check the method specification at ``path`` (default: the province's)."""
    path = Path(path) if path is not None else methods_dir() / DEFAULT_METHOD_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MethodError(
            _("无法读取文件：%(error)s") % {"error": exc.strerror}, source=str(path)
        ) from exc
    return parse_method(text, source=path.name)


def check_against_system(
    spec: MethodSpec, indicator_codes: Iterable[str], dimension_codes: Iterable[str]
) -> None:
    """Raise :class:`MethodError` if the specification names an indicator or dimension that
    the indicator system does not have."""
    indicators, dimensions = set(indicator_codes), set(dimension_codes)
    weights = spec.steps["weights"]
    named = [
        (f"indicators.exclude[{i}]", code, indicators)
        for i, code in enumerate(spec.content["indicators"]["exclude"])
    ]
    for level, known in (("indicators", indicators), ("dimensions", dimensions)):
        field = f"steps.weights.{level}"
        named += [
            (f"{field}.expert.{code}", code, known) for code in weights[level]["expert"] or {}
        ]
        named += [
            (f"{field}.order[{i}]", code, known)
            for i, code in enumerate(weights[level]["order"] or [])
        ]
    for field, code, known in named:
        if code not in known:
            kind = _("指标") if known is indicators else _("维度")
            raise MethodError(
                _("指标体系中没有%(kind)s %(code)r") % {"kind": kind, "code": code},
                field=field,
                source=spec.source,
            )
