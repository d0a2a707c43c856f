"""The completeness board: who has submitted, been returned, approved, or is overdue.

:func:`completeness_board` answers with frames (no template logic): per place, rolled up
to every ancestor (city, province), per department and per dimension. It is a handful of
aggregate queries (counts grouped in SQL) and pandas on a few thousand rows, so a
national round (3,000 places × 70 indicators) stays well inside a page's budget.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count
from django.utils import timezone

from citycheck.core.choices import Action

from .models import Round, Source, Submission, SubmissionStatus, Value
from .services import responsible_departments

STATUS_COLUMNS = [s.value for s in SubmissionStatus]
OPEN_STATUSES = (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)


@dataclass
class Board:
    """``places``: one row per place (status, filled, expected, share, overdue).
    ``rollup``: one row per ancestor place: how many places under it are in each status,
    overdue, and the share of values filled. ``departments`` and ``dimensions``: values
    filled against values owed."""

    places: pd.DataFrame
    rollup: pd.DataFrame
    departments: pd.DataFrame
    dimensions: pd.DataFrame


def completeness_board(
    round_: Round, *, acting_user, source: str = Source.SELF_CHECK, today: dt.date | None = None
) -> Board:
    """The board of ``round_`` as ``acting_user`` may see it (its reach only)."""
    today = today or timezone.localdate()
    places = pd.DataFrame.from_records(
        round_.places.restrict(acting_user, Action.VIEW).values_list(
            "pk", "code", "name_zh", "level", "path"
        ),
        columns=["place_id", "code", "name", "level", "path"],
    )
    # Access is decided once, by ``restrict`` on the round's places; the counts below are
    # limited to those places, without a list of ids when the user sees the whole round.
    visible = places["place_id"].tolist()
    whole_round = len(visible) == round_.places.count()

    def scoped(queryset):
        return queryset if whole_round else queryset.filter(place_id__in=visible)

    status = dict(
        scoped(
            Submission.objects.filter(round=round_, source=source, department__isnull=True)
        ).values_list("place_id", "status")
    )
    values = scoped(Value.objects.filter(round=round_, source=source, value__isnull=False))
    filled_by_place = dict(
        values.values("place_id").annotate(n=Count("id")).values_list("place_id", "n")
    )
    filled_by_indicator = dict(
        values.values("indicator_id").annotate(n=Count("id")).values_list("indicator_id", "n")
    )
    indicators = pd.DataFrame.from_records(
        round_.system.all_indicators().values_list(
            "pk", "dimension__code", "dimension__name_zh", "dimension__order"
        ),
        columns=["indicator_id", "dimension", "dimension_name", "order"],
    )
    owed = len(indicators)

    places["status"] = places["place_id"].map(
        lambda place_id: status.get(place_id, SubmissionStatus.DRAFT)
    )
    places["filled"] = places["place_id"].map(filled_by_place).fillna(0).astype(int)
    places["expected"] = owed
    places["share"] = places["filled"] / owed if owed else 1.0
    late = round_.deadline is not None and today > round_.deadline
    places["overdue"] = late & places["status"].isin(OPEN_STATUSES)

    # Every place counts toward each of its ancestors (the materialised path).
    ancestors = places.assign(ancestor=places["path"].str.strip("/").str.split("/")).explode(
        "ancestor"
    )
    ancestors = ancestors[ancestors["ancestor"] != ancestors["code"]]
    counts = pd.crosstab(ancestors["ancestor"], ancestors["status"]).reindex(
        columns=STATUS_COLUMNS, fill_value=0
    )
    grouped = ancestors.groupby("ancestor")
    rollup = counts.assign(
        places=grouped.size(),
        overdue=grouped["overdue"].sum().astype(int),
        filled=grouped["filled"].sum(),
        expected=grouped["expected"].sum(),
    )
    rollup["share"] = rollup["filled"] / rollup["expected"].where(rollup["expected"] > 0)
    rollup = rollup.rename_axis("code").reset_index()
    rollup.columns.name = None

    n_places = len(places)
    indicators["filled"] = indicators["indicator_id"].map(filled_by_indicator).fillna(0).astype(int)
    indicators["department_id"] = indicators["indicator_id"].map(responsible_departments(round_))
    dimensions = (
        indicators.groupby(["order", "dimension", "dimension_name"], as_index=False)
        .agg(indicators=("indicator_id", "size"), filled=("filled", "sum"))
        .drop(columns="order")
    )
    dimensions["expected"] = dimensions["indicators"] * n_places
    dimensions["share"] = dimensions["filled"] / dimensions["expected"].where(
        dimensions["expected"] > 0
    )
    departments = indicators.groupby("department_id", dropna=False, as_index=False).agg(
        indicators=("indicator_id", "size"), filled=("filled", "sum")
    )
    departments["expected"] = departments["indicators"] * n_places
    departments["share"] = departments["filled"] / departments["expected"].where(
        departments["expected"] > 0
    )
    department_status = scoped(
        Submission.objects.filter(round=round_, source=source, department__isnull=False)
    ).values_list("department_id", "status")
    status_counts = pd.DataFrame.from_records(
        list(department_status), columns=["department_id", "status"]
    )
    if not status_counts.empty:
        table = pd.crosstab(status_counts["department_id"], status_counts["status"]).reindex(
            columns=STATUS_COLUMNS, fill_value=0
        )
        departments = departments.merge(
            table, left_on="department_id", right_index=True, how="left"
        )
    departments = departments.reindex(
        columns=[*departments.columns, *[c for c in STATUS_COLUMNS if c not in departments.columns]]
    )
    departments[STATUS_COLUMNS] = departments[STATUS_COLUMNS].fillna(0).astype(int)
    return Board(
        places=places.drop(columns=["path"]).sort_values("code").reset_index(drop=True),
        rollup=rollup,
        departments=departments,
        dimensions=dimensions,
    )
