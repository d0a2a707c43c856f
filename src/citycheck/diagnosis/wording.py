"""A problem in words, in the page's language, worded when it is shown.

The engine writes a Chinese ``explanation`` when it diagnoses (kept for the API and the
audit trail). Pages show a :func:`title` (the disease) and a :func:`description` (the
evidence, possible causes and the departments to lead) built here from the problem's
stored evidence, so they follow the language switch and never repeat the place, disease
or severity that the page shows beside them. Problems diagnosed before the evidence
carried English names and number formats fall back to the Chinese names and two
decimals.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from citycheck.accounts.models import name_departments
from citycheck.core.language import localized, unit_label
from citycheck.engine.diagnosis import Rules, format_number

# How many flagged indicators a description cites, as the engine's explanation does.
CITED_INDICATORS = 3


def _catalogue():
    from . import services  # services imports the models, which use this module

    return services.catalogue()


def _disease(code: str):
    """The catalogue's disease, or None for one since removed from the catalogue."""
    return next((d for d in _catalogue().diseases if d.code == code), None)


def title(problem) -> str:
    """The disease's name: the catalogue's English name on an English page, else the
    Chinese name stored with the problem."""
    disease = _disease(problem.disease)
    return localized(problem.disease_name, disease.name_en if disease else "")


def description(problem, departments: dict[str, str] | None = None) -> str:
    """What shows the problem, what may cause it and who should lead, without the place,
    disease and severity. ``departments`` (``accounts.models.department_names()``) saves a
    query per problem when wording many."""
    rules = disease.rules if (disease := _disease(problem.disease)) else Rules()
    flagged = [item for item in problem.evidence if item.get("indicator") and item.get("signals")]
    sentences = [_evidence(item, rules, problem.round.year) for item in flagged[:CITED_INDICATORS]]
    sentences += [_satisfaction(item) for item in problem.evidence if "satisfaction" in item]
    causes = (
        _("相关指标%(indicators)s可能是成因。")
        % {"indicators": _("、").join(_cause(item) for item in problem.causes)}
        if problem.causes
        else ""
    )
    return _("%(evidence)s。%(causes)s建议由%(departments)s牵头研究解决。") % {
        "evidence": _("；").join(sentences),
        "causes": causes,
        "departments": _("、").join(name_departments(problem.departments, departments))
        or _("相关部门"),
    }


def recheck_evidence(problem) -> list[dict]:
    """The re-check's evidence items, each with a ``sentence`` in the page's language:
    how the indicator moved since the problem was raised (the stored ``sentence`` is the
    engine's Chinese, kept as the record)."""
    raised = {item["indicator"]: item for item in problem.evidence if item.get("indicator")}
    return [
        {**item, "sentence": _recheck_sentence(item, raised.get(item["indicator"]))}
        for item in problem.recheck_evidence
    ]


def _recheck_sentence(item: dict, raised: dict | None) -> str:
    if raised is None:  # evidence without the indicator's labels: the engine's sentence
        return item["sentence"]
    if item["after"] is None:
        return _("%(indicator)s本轮无数据") % {"indicator": _name(raised)}
    decimals = raised.get("decimals", 2)
    numbers = {
        "indicator": _name(raised),
        "before": format_number(item["before"], decimals),
        "after": format_number(item["after"], decimals),
        "unit": unit_label(raised["unit"]),
    }
    if item["after"] > item["before"]:
        text = _("%(indicator)s由%(before)s升至%(after)s%(unit)s") % numbers
    elif item["after"] < item["before"]:
        text = _("%(indicator)s由%(before)s降至%(after)s%(unit)s") % numbers
    else:
        text = _("%(indicator)s保持%(after)s%(unit)s") % numbers
    notes = []
    if item.get("relative_change"):
        share = format_number(abs(item["relative_change"]) * 100, 1)
        if item["relative_change"] > 0:
            notes.append(_("改善%(share)s%%") % {"share": share})
        else:
            notes.append(_("变差%(share)s%%") % {"share": share})
    if item.get("colour_after") == "green":
        notes.append(_("已达标"))
    if notes:
        text = _("%(change)s（%(notes)s）") % {
            "change": text.rstrip(),
            "notes": _("，").join(notes),
        }
    return text.rstrip()  # English spaces the unit, none without one


def _name(item: dict) -> str:
    return localized(item["name"], item.get("name_en", ""))


def _evidence(item: dict, rules: Rules, year: int) -> str:
    decimals = item.get("decimals", 2)

    def number(value):
        return format_number(value, decimals)

    parts = [
        (
            _("%(indicator)s%(value)s%(unit)s")
            % {
                "indicator": _name(item),
                "value": number(item["value"]),
                "unit": unit_label(item["unit"]),
            }
        ).rstrip()  # English puts a space before the unit, none without one
    ]
    if item.get("gap"):
        if item["comparison"] == ">=":
            text = _("低于标准%(standard)s（差%(gap)s）")
        elif item["comparison"] == "<=":
            text = _("高于标准%(standard)s（超出%(gap)s）")
        else:
            text = _("不在标准区间%(standard)s–%(high)s内（偏离%(gap)s）")
        parts.append(
            text
            % {
                "standard": number(item["standard"]),
                "high": number(item.get("standard_high")),
                "gap": number(item["gap"]),
            }
        )
    if "lowest_quartile" in item["signals"]:
        parts.append(
            _("在同类城市中位于后%(share)s%%（第%(rank)d/%(count)d名）")
            % {
                "share": format_number(100 * rules.lowest_quantile, 0),
                "rank": item["peer_rank"],
                "count": item["peer_count"],
            }
        )
    if "deterioration" in item["signals"]:
        parts.append(_trend(item, rules, year))
    return _("，").join(parts)


def _trend(item: dict, rules: Rules, year: int) -> str:
    """The change over the trend window in the sign of the values: ``trend_change`` is
    measured towards better, so a higher-is-better indicator that got worse went down."""
    numbers = {
        "years": year - item["trend_from"] + 1,
        "change": format_number(abs(item["trend_change"]) * 100, 1),
    }
    direction = item.get("direction")
    if direction == "higher":
        text = _("近%(years)d年下降%(change)s%%") % numbers
    elif direction == "lower":
        text = _("近%(years)d年上升%(change)s%%") % numbers
    else:  # a range indicator, or evidence stored without its direction
        text = _("近%(years)d年变差%(change)s%%") % numbers
    if item["consecutive_declines"] >= rules.consecutive_declines:
        text += _("（连续%(years)d年变差）") % {"years": item["consecutive_declines"]}
    return text


def _satisfaction(item: dict) -> str:
    dimension = _catalogue().dimension_names.get(item["dimension"], item["dimension"])
    return _("居民对%(dimension)s的满意度为%(score)s分，低于%(threshold)s分") % {
        "dimension": dimension,
        "score": format_number(item["satisfaction"], 1),
        "threshold": format_number(item["threshold"], 1),
    }


def _cause(item: dict) -> str:
    if item.get("colour") in ("yellow", "red"):
        note = pgettext("problem cause", "未达标")
    else:
        note = _("同类第%(rank)d/%(count)d名") % {
            "rank": item["peer_rank"],
            "count": item["peer_count"],
        }
    return _("%(indicator)s（%(note)s）") % {"indicator": _name(item), "note": note}
