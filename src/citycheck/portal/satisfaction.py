"""The public page of published satisfaction scores (满意度调查结果): the cities and the
province of the rounds the province has published, by dimension, with their 95 %
intervals. Only ``Score.objects.published()`` is read (the survey of a published round)."""

from django.shortcuts import render

from citycheck.places.models import PlaceLevel
from citycheck.survey.models import Kind, Score

from .services import chosen_province


def satisfaction(request):
    from citycheck.survey.views import dimension_names

    published = Score.objects.published().filter(
        place__level__in=[PlaceLevel.PROVINCE, PlaceLevel.CITY],
        kind__in=[Kind.DIMENSION, Kind.OVERALL],
    )
    # A national instance's province: ``?province=CODE``.
    province = chosen_province(request.GET.get("province", ""))
    if province is not None:
        published = published.filter(place__path__startswith=province.path)
    years = sorted(set(published.values_list("survey__round__year", flat=True)), reverse=True)
    chosen = request.GET.get("year", "")
    year = (
        int(chosen) if chosen.isdigit() and int(chosen) in years else (years[0] if years else None)
    )
    rows = published.filter(survey__round__year=year).select_related("place", "survey__round")
    table: dict[str, dict] = {}
    for score in rows.order_by("place__path"):
        place = table.setdefault(score.place.code, {"place": score.place, "cells": {}})
        place["cells"]["overall" if score.kind == Kind.OVERALL else score.code] = score
    names = dimension_names()
    columns = sorted({code for p in table.values() for code in p["cells"] if code != "overall"})
    return render(
        request,
        "portal/satisfaction.html",
        {
            "year": year,
            "years": years,
            "round": rows[0].survey.round if rows else None,
            "columns": [(code, names.get(code, code)) for code in columns],
            "places": [
                {
                    "place": p["place"],
                    "overall": p["cells"].get("overall"),
                    "row": [p["cells"].get(code) for code in columns],
                }
                for p in table.values()
            ],
        },
    )
