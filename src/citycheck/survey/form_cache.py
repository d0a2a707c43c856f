"""The public form's link, counties and streets, kept per process while the database says
they are unchanged.

Loading them through the ORM took three queries and ~4 ms of CPU a request, most of it
compiling the queries. :func:`form_state` asks the database in one precompiled query
for the link's state and a *version* of everything the form shows: the link, its survey
(status, questionnaire), the questionnaire, the round, the city, the city's counties in
the round and their streets (for each set: how many, the sum of their ids and their
latest change, so an insert, a deletion or an edit changes it). :func:`form_objects`
loads the objects again only when that version changed, so closing the survey, loading
a street list or renaming a county shows on the very next request.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db import connection

from citycheck.collection.models import Round
from citycheck.places.models import Place, PlaceLevel

from . import services
from .models import Questionnaire, Street, Survey, SurveyLink

# Links kept; the dict is emptied when it reaches this many (a province has ~10 cities).
LINKS_KEPT = 256


class FormObjects(NamedTuple):
    link: SurveyLink  # with its survey, questionnaire, round and city
    counties: dict[str, Place]
    streets: dict
    version: tuple


def _state_sql() -> str:
    counties = (
        f"FROM {Place._meta.db_table} county "
        f"JOIN {Round.places.through._meta.db_table} member ON member.place_id = county.id "
        "WHERE member.round_id = s.round_id AND county.parent_id = l.place_id "
        "AND county.level = %s"
    )
    streets = (
        f"FROM {Street._meta.db_table} street "
        f"WHERE street.county_id IN (SELECT county.id {counties})"
    )
    sets = ", ".join(
        f"(SELECT {aggregate}({column}) {source})"
        for column, source in (("county", counties), ("street", streets))
        for aggregate, column in (
            ("COUNT", "*"),
            ("SUM", f"{column}.id"),
            ("MAX", f"{column}.last_updated"),
        )
    )
    return (
        "SELECT l.id, l.active, s.status, l.last_updated, s.last_updated, q.id, q.digest, "
        f"q.last_updated, r.last_updated, c.last_updated, {sets} "
        f"FROM {SurveyLink._meta.db_table} l "
        f"JOIN {Survey._meta.db_table} s ON s.id = l.survey_id "
        f"JOIN {Questionnaire._meta.db_table} q ON q.id = s.questionnaire_id "
        f"JOIN {Round._meta.db_table} r ON r.id = s.round_id "
        f"JOIN {Place._meta.db_table} c ON c.id = l.place_id "
        "WHERE l.token = %s"
    )


_STATE_SQL: str | None = None
_KEPT: dict[str, FormObjects] = {}


def form_state(token: str) -> tuple | None:
    """The version of what the form of ``token`` shows (a tuple whose first items are
    the link's id, whether it is active and the survey's status), or None for no link."""
    global _STATE_SQL
    if _STATE_SQL is None:
        _STATE_SQL = _state_sql()
    with connection.cursor() as cursor:
        # Every placeholder but the last (the token) is a county level of a subquery.
        levels = [PlaceLevel.COUNTY.value] * (_STATE_SQL.count("%s") - 1)
        cursor.execute(_STATE_SQL, [*levels, token])
        row = cursor.fetchone()
    return None if row is None else tuple(row)


def form_objects(token: str) -> FormObjects | None:
    """The link of ``token`` with the counties and streets its form offers (as
    ``services.counties_of`` and ``services.streets_of`` give them), or None."""
    version = form_state(token)
    if version is None:
        return None
    kept = _KEPT.get(token)
    if kept is not None and kept.version == version:
        return kept
    link = (
        SurveyLink.objects.filter(token=token)
        .select_related("survey__questionnaire", "survey__round", "place")
        .first()
    )
    if link is None:  # deleted since the state was read
        return None
    counties = services.counties_of(link.survey, link.place)
    objects = FormObjects(link, counties, services.streets_of(counties), version)
    if len(_KEPT) >= LINKS_KEPT:
        _KEPT.clear()
    _KEPT[token] = objects
    return objects
