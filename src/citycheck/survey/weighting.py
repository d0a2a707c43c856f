"""Weighting a survey and turning its responses into scores and round values.

:func:`weight_survey` (run as the ``survey.weight`` job, or ``citycheck survey weight``):

1. takes the counted responses (no quality flag, or overridden by the province);
2. rakes them (``engine.survey.rake``) to the 2020 census adults of each county by sex
   and by age band — a county missing a sex or an age band in its sample is raked on
   its total for that variable instead, and said so in the summary — then trims at
   ``survey.trim_cap`` times the median weight and rakes again;
3. scores every Likert item (0–100), every dimension (a respondent's mean over the
   dimension's items), the overall score (a respondent's mean over dimensions) and every
   indicator an item measures (a share in % or a score), per county with 95 % Taylor
   intervals, rolled up to cities and the province by census population;
4. stores the weights on the responses and the scores as :class:`~.models.Score` rows
   (item scores of cities and the province; dimension, overall and indicator scores of
   every place),
   and writes indicator figures as the round's ``survey`` values with their provenance
   (questionnaire version, responses, effective n, interval) in the value's note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.collection.models import ChangeChannel, Source
from citycheck.collection.services import ValueEntry, indicators_owed, write_values
from citycheck.core.models import record_event
from citycheck.engine import survey as engine
from citycheck.places.models import Place, PlaceLevel

from .models import Kind, Response, Score, Survey
from .services import AGE_BANDS, SEXES, SurveyError, _check_province, adult_controls, census


def _margins(frame: pd.DataFrame):
    """Margins and controls raking each county separately on sex and on age band."""
    controls_table = adult_controls(sorted(frame["county"].unique()))
    # Raking on both margins is always feasible when every sex x age cell has a
    # respondent; otherwise a county is raked on one margin (age bands if all are
    # present, else sex), or on its total only.
    grouped = frame.groupby("county")
    cells = pd.DataFrame(
        {
            "cells": frame.drop_duplicates(["county", "sex", "age_band"]).groupby("county").size(),
            "sexes": grouped["sex"].nunique(),
            "bands": grouped["age_band"].nunique(),
        }
    )
    both = cells["cells"] == len(SEXES) * len(AGE_BANDS)
    full_age = both | (cells["bands"] == len(AGE_BANDS))
    full_sex = both | (~full_age & (cells["sexes"] == len(SEXES)))
    present = cells
    sex_label = np.where(
        frame["county"].map(full_sex), frame["county"] + "|" + frame["sex"], frame["county"] + "|*"
    )
    age_label = np.where(
        frame["county"].map(full_age),
        frame["county"] + "|" + frame["age_band"],
        frame["county"] + "|*",
    )
    by_sex = controls_table.groupby(["county", "sex"])["population"].sum()
    by_age = controls_table.groupby(["county", "age_band"])["population"].sum()
    totals = controls_table.groupby("county")["population"].sum()
    sex_controls, age_controls = {}, {}
    for county in present.index:
        if full_sex[county]:
            sex_controls.update({f"{county}|{s}": by_sex[(county, s)] for s in SEXES})
        else:
            sex_controls[f"{county}|*"] = totals[county]
        if full_age[county]:
            age_controls.update({f"{county}|{a}": by_age[(county, a)] for a in AGE_BANDS})
        else:
            age_controls[f"{county}|*"] = totals[county]
    collapsed = sorted(set(present.index[~full_sex]) | set(present.index[~full_age]))
    return (
        {"sex": sex_label, "age": age_label},
        {"sex": sex_controls, "age": age_controls},
        collapsed,
    )


def _respondent_values(questionnaire, answers: list[dict]) -> dict[str, pd.DataFrame]:
    """Per respondent: item scores, dimension scores, overall, indicator measures."""
    items = questionnaire.items
    scales = questionnaire.spec["scales"]
    likert = [i for i in items if i["type"] == "likert"]
    item_scores = {}
    for item in likert:
        raw = np.array([a.get(item["code"], np.nan) for a in answers], dtype=float)
        item_scores[item["code"]] = engine.likert_to_score(raw, scales[item["scale"]]["points"])
    item_frame = pd.DataFrame(item_scores)
    dimension_frame = pd.DataFrame(
        {
            dimension: item_frame[[i["code"] for i in likert if i["dimension"] == dimension]].mean(
                axis=1
            )
            for dimension in dict.fromkeys(i["dimension"] for i in likert if i["dimension"])
        }
    )
    overall = pd.DataFrame({"overall": dimension_frame.mean(axis=1)})
    indicator_values = {}
    for item in items:
        measure = item.get("indicator")
        if not measure:
            continue
        if measure["measure"] == "score":
            indicator_values[measure["code"]] = item_frame[item["code"]].to_numpy()
        else:
            chosen = set(measure["options"])
            indicator_values[measure["code"]] = np.array(
                [
                    np.nan if item["code"] not in a else 100.0 * (a[item["code"]] in chosen)
                    for a in answers
                ]
            )
    return {
        Kind.ITEM: item_frame,
        Kind.DIMENSION: dimension_frame,
        Kind.OVERALL: overall,
        Kind.INDICATOR: pd.DataFrame(indicator_values),
    }


def weight_survey(survey: Survey, *, acting_user, progress=None) -> dict:
    """Weight the survey and store its scores and round values; returns a summary."""
    _check_province(acting_user)
    report = progress or (lambda percent, message: None)
    rows = list(
        Response.objects.filter(survey=survey)
        .counted()
        .values_list("pk", "place__code", "sex", "age_band", "answers")
    )
    total = Response.objects.filter(survey=survey).count()
    if len(rows) < 2:
        raise SurveyError(_("有效答卷不足，无法加权。"))
    report(10, _("按普查人口加权"))
    frame = pd.DataFrame.from_records(rows, columns=["pk", "county", "sex", "age_band", "answers"])
    margins, controls, collapsed = _margins(frame)
    try:
        raked = engine.rake(np.ones(len(frame)), margins, controls)
        weights = engine.trim(raked, margins, controls, cap=survey.trim_cap)
    except engine.EngineError as exc:
        raise SurveyError(_("加权失败：%(error)s") % {"error": exc}) from exc
    report(40, _("计算满意度得分"))
    values = _respondent_values(survey.questionnaire, frame["answers"].tolist())
    counties = {p.code: p for p in Place.objects.filter(code__in=frame["county"].unique())}
    parent = {code: place.parent.code for code, place in counties.items()}
    population = census()["population"]
    county_population = {code: float(population[code]) for code in counties}
    city_population = pd.Series(county_population).groupby(parent).sum().to_dict()
    province = Place.objects.filter(level=PlaceLevel.PROVINCE).first()
    results = []
    for kind, table in values.items():
        if table.empty:
            continue
        county_scores = engine.scores(table, weights, frame["county"].to_numpy())
        city_scores = engine.roll_up(county_scores, parent, county_population)
        parts = [county_scores, city_scores]
        if province is not None and not city_scores.empty:
            parts.append(
                engine.roll_up(
                    city_scores, dict.fromkeys(city_population, province.code), city_population
                )
            )
        results.append(pd.concat(parts, ignore_index=True).assign(kind=kind))
    result = pd.concat(results, ignore_index=True)
    # Item scores are kept for cities and the province only: a county's sample is sized
    # for its dimension and overall scores, and 33 items x 100 counties of wide
    # intervals would mostly be noise (they still enter the cities' roll-up).
    result = result[~((result["kind"] == Kind.ITEM) & result["group"].isin(list(counties)))]
    deff = engine.design_effect(weights)
    report(70, _("保存结果"))
    with transaction.atomic():
        _store(survey, frame, weights, result, acting_user)
        written = _write_values(survey, result, acting_user)
        summary = {
            "questionnaire": str(survey.questionnaire.version),
            "responses": total,
            "counted": len(frame),
            "excluded": total - len(frame),
            "deff": round(float(deff["deff"].iloc[0]), 3),
            "effective_n": round(float(deff["effective_n"].iloc[0]), 1),
            "max_weight_ratio": round(float(weights.max() / np.median(weights)), 2),
            "collapsed_counties": collapsed,
            "scores": len(result),
            "warnings": int((result["few_responses"] | result["wide_interval"]).sum()),
            "values_written": written,
        }
        survey.snapshot()
        survey.weighting = summary
        survey.weighted_at = timezone.now()
        survey.save()
        record_event(survey, "weight", acting_user=acting_user, data=summary)
    report(100, _("完成"))
    return summary


def _store(survey, frame, weights, result, acting_user) -> None:
    Response.objects.filter(survey=survey).update(weight=None)
    # One prepared statement executed per row: much faster than bulk_update's CASE.
    table = connection.ops.quote_name(Response._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET weight = %s WHERE id = %s",
            [(float(w), int(pk)) for pk, w in zip(frame["pk"], weights, strict=True)],
        )
    places = {p.code: p for p in Place.objects.filter(code__in=result["group"].unique())}
    Score.objects.filter(survey=survey).delete()

    def clean(x):
        return None if x is None or not np.isfinite(x) else float(x)

    Score.objects.bulk_create(
        [
            Score(
                survey=survey,
                place=places[row.group],
                kind=row.kind,
                code=row.item,
                n=int(row.n),
                effective_n=float(row.effective_n),
                score=float(row.score),
                se=clean(row.se),
                low=clean(row.low),
                high=clean(row.high),
                few_responses=bool(row.few_responses),
                wide_interval=bool(row.wide_interval),
            )
            for row in result.itertuples()
            if row.group in places and np.isfinite(row.score)
        ],
        batch_size=2000,
    )


def _write_values(survey: Survey, result: pd.DataFrame, acting_user) -> int:
    """The round's survey values of the indicators the questionnaire measures."""
    round_ = survey.round
    owed = {i.code: i for i in indicators_owed(round_, source=Source.SURVEY)}
    measured = result[(result["kind"] == Kind.INDICATOR) & result["item"].isin(list(owed))]
    if measured.empty:
        return 0
    taking_part = {p.code: p for p in round_.places.all()}
    entries = []
    for row in measured.itertuples():
        if row.group not in taking_part or not np.isfinite(row.score):
            continue
        indicator = owed[row.item]
        note = _(
            "满意度调查（问卷 %(code)s v%(version)s）：有效答卷 %(n)d 份，有效样本量 %(eff).0f，"
            "95%% 置信区间 %(low).1f–%(high).1f"
        ) % {
            "code": survey.questionnaire.code,
            "version": survey.questionnaire.version,
            "n": row.n,
            "eff": row.effective_n,
            "low": row.low,
            "high": row.high,
        }
        entries.append(
            ValueEntry(
                taking_part[row.group],
                indicator,
                round(
                    float(row.score), indicator.decimals if indicator.decimals is not None else 1
                ),
                note=note,
            )
        )
    if not entries:
        return 0
    _stored, changed = write_values(
        round_,
        Source.SURVEY,
        entries,
        acting_user=acting_user,
        channel=ChangeChannel.BATCH,
        reason=_("满意度调查加权结果"),
    )
    return changed
