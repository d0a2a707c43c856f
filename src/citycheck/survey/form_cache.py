"""The public form's link, counties and streets, kept per process while the database says
they are unchanged.

Loading them through the ORM took three queries and ~4 ms of CPU a request, most of it
compiling the queries. :func:`form_objects` asks the database in one written-out query
for a *version* of everything the form shows — the link (active or not), its survey
(status, questionnaire), the questionnaire, the round, the city, and the city's counties
in the round and their streets (for each set: how many, the sum of their ids and their
latest change, so an insert, a deletion or an edit changes it) — and loads the objects
again only when it changed. Closing the survey or the link, or any change of the
questionnaire, shows on the very next request. The two sets cost most of the query (on
PostgreSQL ~0.8 ms of the server's CPU against ~0.25 ms without them): a caller may
accept them up to ``sets_seconds`` old (the lean path does, ``front.SETS_SECONDS``), as
street and county lists change only when an administrator loads them.
"""

from __future__ import annotations

import time
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
    version: tuple  # the link's and its survey's part, then the sets' part
    sets_asked: float  # when the sets' part was read (time.monotonic())


def _state_sql(*, sets: bool) -> str:
    counties = (
        f"FROM {Place._meta.db_table} county "
        f"JOIN {Round.places.through._meta.db_table} member ON member.place_id = county.id "
        "WHERE member.round_id = s.round_id AND county.parent_id = l.place_id "
        f"AND county.level = '{PlaceLevel.COUNTY.value}'"
    )
    streets = (
        f"FROM {Street._meta.db_table} street "
        f"WHERE street.county_id IN (SELECT county.id {counties})"
    )
    versions = ", ".join(
        f"(SELECT COUNT(*) || ':' || SUM({alias}.id) || ':' || MAX({alias}.last_updated) {source})"
        for alias, source in (("county", counties), ("street", streets))
    )
    return (
        "SELECT l.id, l.active, s.status, l.last_updated, s.last_updated, q.id, q.digest, "
        f"q.last_updated, r.last_updated, c.last_updated{', ' + versions if sets else ''} "
        f"FROM {SurveyLink._meta.db_table} l "
        f"JOIN {Survey._meta.db_table} s ON s.id = l.survey_id "
        f"JOIN {Questionnaire._meta.db_table} q ON q.id = s.questionnaire_id "
        f"JOIN {Round._meta.db_table} r ON r.id = s.round_id "
        f"JOIN {Place._meta.db_table} c ON c.id = l.place_id "
        "WHERE l.token = %s"
    )


# The columns of the link's and survey's part of the version.
LINK_COLUMNS = 10
_SQL: dict[bool, str] = {}
_KEPT: dict[str, FormObjects] = {}


def _version(token: str, *, sets: bool) -> tuple | None:
    if sets not in _SQL:
        _SQL[sets] = _state_sql(sets=sets)
    with connection.cursor() as cursor:
        cursor.execute(_SQL[sets], [token])
        row = cursor.fetchone()
    return None if row is None else tuple(row)


def form_objects(token: str, *, sets_seconds: float = 0.0) -> FormObjects | None:
    """The link of ``token`` with the counties and streets its form offers (as
    ``services.counties_of`` and ``services.streets_of`` give them), or None; the
    counties' and streets' version read at most ``sets_seconds`` ago."""
    kept = _KEPT.get(token)
    now = time.monotonic()
    if kept is not None and now - kept.sets_asked < sets_seconds:
        version = _version(token, sets=False)
        if version is None:
            return None
        version += kept.version[LINK_COLUMNS:]
        asked = kept.sets_asked
    else:
        version, asked = _version(token, sets=True), now
        if version is None:
            return None
    if kept is not None and kept.version == version:
        if asked != kept.sets_asked:
            kept = _KEPT[token] = kept._replace(sets_asked=asked)
        return kept
    link = (
        SurveyLink.objects.filter(token=token)
        .select_related("survey__questionnaire", "survey__round", "place")
        .first()
    )
    if link is None:  # deleted since the version was read
        return None
    counties = services.counties_of(link.survey, link.place)
    objects = FormObjects(link, counties, services.streets_of(counties), version, asked)
    if len(_KEPT) >= LINKS_KEPT:
        _KEPT.clear()
    _KEPT[token] = objects
    return objects
