"""The demo's resident satisfaction surveys, 2021–2025 (synthetic, labelled as such).

Driven through the services the demo's people use: the province (``province_admin``)
loads the questionnaire and opens each round's survey; the survey company's exports are
imported as the interviewers' import does (``record_responses``, all rows checked); the
province closes and weights the surveys of the closed rounds (2021–2024); 2025's stays
open with its responses, for the province to weight.

The synthetic answers: every county gets responses in proportion to its population,
with women, younger and older residents over-represented (so weighting has work to do)
and some sex x age cells left under quota; a county's ratings of a dimension follow,
in part, how its adopted values of that dimension rank among counties (the demo's weak
dimensions show up as lower satisfaction); a few speeders, straight-liners and exact
duplicates are planted, and flagged by the same rules as real ones.

Size: ``RESPONSES_PER_CITY`` (1,500, as the issue asks) a city a year, about 83,000
answers in all, drawn for all respondents at once and stored by the import service's
one prepared insert; 20.5 s CPU for the stage (docs/survey.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.conf import settings

from citycheck.accounts.models import User
from citycheck.collection.models import Round, RoundStatus, Source, Value
from citycheck.core.context import acting
from citycheck.indicators.models import Direction
from citycheck.places.models import Place, PlaceLevel

from . import services
from .models import Channel
from .weighting import weight_survey

RESPONSES_PER_CITY = 1500
# Answers of 南昌市 entered by the demo's interviewer, as telephone interviews, per round.
INTERVIEWED_CITY, INTERVIEWS = "360100", 5
SEED = 20211
# Sample shares by cell, deliberately unlike the census (women and the young answer more).
SEX_SHARE = {"male": 0.42, "female": 0.58}
AGE_SHARE = {"18_29": 0.30, "30_39": 0.26, "40_49": 0.20, "50_59": 0.14, "60_plus": 0.10}


def _dimension_standing(round_: Round) -> pd.DataFrame:
    """County x dimension: the mean percentile rank (0–1, higher = better) of the county's
    adopted values of the dimension's indicators, direction-aware; 0.5 where unknown."""
    rows = pd.DataFrame.from_records(
        Value.objects.filter(
            round=round_,
            source=Source.ADOPTED,
            value__isnull=False,
            place__level=PlaceLevel.COUNTY,
        ).values_list(
            "place__code",
            "indicator__code",
            "indicator__dimension__code",
            "indicator__direction",
            "value",
        ),
        columns=["county", "indicator", "dimension", "direction", "value"],
    )
    if rows.empty:
        return pd.DataFrame()
    rows["rank"] = rows.groupby("indicator")["value"].rank(pct=True)
    rows.loc[rows["direction"] == Direction.LOWER, "rank"] = 1 - rows["rank"]
    return rows.groupby(["county", "dimension"])["rank"].mean().unstack()


def _pick(rng, shares: dict, size: int) -> np.ndarray:
    return rng.choice(list(shares), size=size, p=list(shares.values()))


def _synthetic_rows(survey, year: int, rng) -> list[dict]:
    """The year's synthetic export (one dict of text answers per respondent), drawn for
    all respondents at once."""
    questionnaire = survey.questionnaire
    likert = [i for i in questionnaire.items if i["type"] == "likert"]
    counties = services.counties_of(survey)
    population = services.census()["population"].reindex(list(counties)).fillna(1e5)
    standing = _dimension_standing(survey.round)
    by_city: dict[str, list[str]] = {}
    for code, place in counties.items():
        by_city.setdefault(place.parent.code, []).append(code)
    places, moods = [], []
    for _city, codes in sorted(by_city.items()):
        shares = population[codes] / population[codes].sum()
        allotted = np.maximum(2, np.round(shares * RESPONSES_PER_CITY)).astype(int)
        for county, count in zip(codes, allotted, strict=True):
            places += [county] * count
            moods += [rng.normal(0, 0.25)] * count
    size = len(places)
    frame = pd.DataFrame({"place": places})
    frame["reference"] = (
        f"demo-{year}-" + frame["place"] + "-" + frame.groupby("place").cumcount().astype(str)
    )
    frame["sex"] = _pick(rng, SEX_SHARE, size)
    frame["age_band"] = _pick(rng, AGE_SHARE, size)
    frame["residence_years"] = _pick(
        rng, {"under_1": 0.1, "1_5": 0.2, "5_10": 0.25, "over_10": 0.45}, size
    )
    frame["tenure"] = _pick(rng, {"owned": 0.62, "rented": 0.3, "other": 0.08}, size)
    frame["tr_mode"] = _pick(
        rng, {"walk": 0.18, "bike": 0.27, "bus_metro": 0.2, "car": 0.3, "other": 0.05}, size
    )
    frame["in_cost_share"] = _pick(
        rng, {"none": 0.3, "under_30": 0.4, "30_50": 0.2, "over_50": 0.1}, size
    )
    frame["seconds"] = rng.uniform(150, 420, size).astype(int).astype(str)
    # a rating follows, in part, how the county's adopted values of its dimension rank
    known = (
        standing.reindex(index=places, columns=[i["dimension"] for i in likert]).to_numpy(float)
        if not standing.empty
        else np.full((size, len(likert)), np.nan)
    )
    centre = 3.5 + np.asarray(moods)[:, None] + np.nan_to_num(1.6 * (known - 0.5))
    ratings = np.clip(np.round(rng.normal(centre, 0.9)), 1, 5).astype(int).astype(str)
    frame = frame.join(pd.DataFrame(ratings, columns=[i["code"] for i in likert]))
    # most respondents of a county with a street list say their street
    frame["street"] = ""
    street_county = pd.Series(  # street code → its county's code
        {code: street.county.code for code, street in services.streets_of(counties).items()},
        dtype=object,
    )
    for county, own in street_county.groupby(street_county):
        chosen = (frame["place"] == county).to_numpy() & (rng.random(size) < 0.7)
        frame.loc[chosen, "street"] = rng.choice(own.index.to_numpy(), chosen.sum())
    rows = frame.to_dict("records")
    # A few low-quality answers, flagged by the same rules as real ones.
    for k in range(0, len(rows), 97):
        rows[k]["seconds"] = str(int(rng.uniform(20, 60)))  # speeder
    for k in range(13, len(rows), 151):
        for item in likert:
            rows[k][item["code"]] = "5"  # straight-liner
    for k in range(29, len(rows), 211):
        rows.append(dict(rows[k], reference=f"{rows[k]['reference']}-dup"))  # duplicate
    return rows


def load_surveys(progress=print) -> dict:
    """Questionnaire, one survey per round, synthetic responses; weighting of closed rounds."""
    admin = User.objects.get(username="province_admin")
    interviewer = User.objects.filter(username="interviewer").first()
    rng = np.random.default_rng(SEED)
    counts = {"survey_responses": 0, "survey_scores": 0}
    with acting(admin):
        questionnaire = services.import_questionnaire(
            settings.DATA_DIR / "survey" / "resident-2021.yaml", acting_user=admin
        )
        services.load_streets(settings.DATA_DIR / "survey" / "streets-demo.csv")
        for round_ in Round.objects.filter(is_synthetic=True).order_by("year"):
            progress(f"survey {round_.year} …")
            survey = services.open_survey(
                round_, questionnaire, acting_user=admin, minimum_per_city=400
            )
            rows = _synthetic_rows(survey, round_.year, rng)
            # a few of 南昌市's answers were telephone interviews, entered by the interviewer
            nanchang = {p.code for p in Place.objects.filter(parent__code=INTERVIEWED_CITY)}
            by_phone = (
                [r for r in rows if r["place"] in nanchang][:INTERVIEWS] if interviewer else []
            )
            rows = [r for r in rows if not any(r is p for p in by_phone)]
            for acting_user, channel, part in (
                (interviewer, Channel.INTERVIEW, by_phone),
                (admin, Channel.IMPORT, rows),
            ):
                if not part:
                    continue
                stored, issues = services.record_responses(
                    survey, part, acting_user=acting_user, channel=channel
                )
                if issues:
                    raise RuntimeError("\n".join(map(str, issues[:10])))
                counts["survey_responses"] += stored
            if round_.status != RoundStatus.OPEN:
                services.close_survey(survey, acting_user=admin)
                summary = weight_survey(survey, acting_user=admin)
                counts["survey_scores"] += summary["scores"]
    return counts


DEMO_STAGES = [("survey", load_surveys)]
