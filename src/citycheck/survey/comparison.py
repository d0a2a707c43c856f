"""Subjective against objective: satisfaction per place and dimension against the
index's dimension score of the round's assessment release.

The two are on different scales, so each is turned into a percentile rank among the
places of the same level (counties with counties, cities with cities) within the
dimension. A place and dimension is

* ``felt``: residents are markedly less satisfied than the index ranks it
  (感受到但指标未反映 — felt but not measured), satisfaction rank at least
  :data:`GAP` below the index rank;
* ``measured``: the index ranks it markedly worse than residents feel it
  (指标反映但居民未感受到 — measured but not felt), the reverse;
* otherwise ``both_high``/``both_low`` (the quadrant against the medians).
"""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext_lazy as _

from citycheck.assessment.models import Level, Release, Result
from citycheck.core.choices import Action

from .models import Kind, Score, Survey

GAP = 0.4
QUADRANTS = {
    "felt": _("感受到但指标未反映"),
    "measured": _("指标反映但居民未感受到"),
    "both_high": _("指标与满意度都较好"),
    "both_low": _("指标与满意度都较差"),
}


def latest_release(survey: Survey, user) -> Release | None:
    """The newest release of the survey's round the user may read."""
    return (
        Release.objects.restrict(user, Action.VIEW)
        .filter(round=survey.round)
        .order_by("-created")
        .first()
    )


def compare(survey: Survey, user, *, release: Release | None = None) -> pd.DataFrame:
    """One row per place and dimension with both figures, their ranks and the quadrant.

    Columns: ``place``, ``name``, ``level``, ``dimension``, ``satisfaction``, ``low``,
    ``high``, ``index_score``, ``satisfaction_rank``, ``index_rank``, ``gap`` (index rank
    minus satisfaction rank), ``quadrant``. Empty when the round has no release the user
    may read or no weighted scores. With ``user`` None (a published report) every place
    is kept and ``release`` must be given.
    """
    release = release or latest_release(survey, user)
    columns = [
        "place",
        "name",
        "level",
        "dimension",
        "satisfaction",
        "low",
        "high",
        "index_score",
        "satisfaction_rank",
        "index_rank",
        "gap",
        "quadrant",
    ]
    if release is None:
        return pd.DataFrame(columns=columns)
    # Ranks are taken among all places of a level, then rows outside the user's reach
    # are dropped: a city sees where its counties stand in the province.
    scores = Score.objects.all() if user is None else Score.objects.restrict(user, Action.VIEW)
    visible = set(
        scores.filter(survey=survey, kind=Kind.DIMENSION).values_list("place__code", flat=True)
    )
    satisfaction = pd.DataFrame.from_records(
        Score.objects.filter(survey=survey, kind=Kind.DIMENSION).values_list(
            "place__code", "place__name_zh", "place__level", "code", "score", "low", "high"
        ),
        columns=["place", "name", "level", "dimension", "satisfaction", "low", "high"],
    )
    index = pd.DataFrame.from_records(
        Result.objects.filter(
            release=release, level=Level.DIMENSION, score__isnull=False
        ).values_list("place__code", "code", "score"),
        columns=["place", "dimension", "index_score"],
    )
    frame = satisfaction.merge(index, on=["place", "dimension"], how="inner")
    if frame.empty:
        return pd.DataFrame(columns=columns)
    groups = frame.groupby(["level", "dimension"])
    frame["satisfaction_rank"] = groups["satisfaction"].rank(pct=True)
    frame["index_rank"] = groups["index_score"].rank(pct=True)
    frame["gap"] = frame["index_rank"] - frame["satisfaction_rank"]
    high_s = frame["satisfaction_rank"] > 0.5
    high_i = frame["index_rank"] > 0.5
    frame["quadrant"] = "both_low"
    frame.loc[high_s & high_i, "quadrant"] = "both_high"
    frame.loc[frame["gap"] >= GAP, "quadrant"] = "felt"
    frame.loc[frame["gap"] <= -GAP, "quadrant"] = "measured"
    frame = frame[frame["place"].isin(visible)]
    return frame[columns].sort_values(["level", "dimension", "place"]).reset_index(drop=True)
