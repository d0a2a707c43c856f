"""The public portal (no login): the published city health index and ranking per year,
each place's page, downloadable reports and the method.

Only published releases are read (``services``); a draft's id, a place outside a
release or an unknown format all answer 404. The body of the index page is cached per
language and published release, so a new publication shows at once.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language

from citycheck.assessment.models import Level, Result
from citycheck.places.models import Place
from citycheck.reports import content, parts
from citycheck.reports import services as report_services
from citycheck.reports.views import send_report

from . import services

INDEX_CACHE_SECONDS = 600


def _year(request) -> int | None:
    year = request.GET.get("year", "")
    return int(year) if year.isdigit() else None


def index(request):
    """The published index and ranking of a year (the latest by default); in a national
    instance, of the province ``?province=CODE``, and without one the list of provinces."""
    year = _year(request)
    province = services.chosen_province(request.GET.get("province", ""))
    if province is None and Place.objects.nation() is not None:
        return render(
            request, "portal/national.html", {"provinces": services.provinces_with_releases()}
        )
    release_id = services.release_id_for_year(year, province)
    if year is not None and release_id is None:
        raise Http404
    # Only the body is cached: the page around it carries the visitor's name and CSRF token.
    key = f"portal:index:{get_language()}:{province.code if province else ''}:{release_id or 0}"
    body = cache.get(key)
    if body is None:
        body = _index_body(year, province)
        cache.set(key, body, INDEX_CACHE_SECONDS)
    return render(request, "portal/index.html", body)


def _index_body(year: int | None, province: Place | None) -> dict:
    """The ranking part of the index page, rendered without the request (nothing personal)."""
    release = services.release_for_year(year, province)
    context = {"release": release, "years": _years(province), "province": province}
    if release is not None:
        cities = services.ranking(release, "city")
        counties = services.ranking(release, "county")
        context.update(
            cities=cities,
            counties=counties,
            data={
                "ranking": [
                    {"code": r.place.code, "name": r.place.name_zh, "score": round(r.score, 2)}
                    for r in cities or counties
                ],
                "place_url": reverse("portal:place", args=["CODE"]),
            },
        )
    return {
        "year": release.round.year if release is not None else None,
        "round": release.round if release is not None else None,
        "content": render_to_string("portal/_index_content.html", context),
    }


def _years(province: Place | None) -> list[int]:
    return sorted(
        set(services.current_releases(province).values_list("round__year", flat=True)),
        reverse=True,
    )


def place(request, code: str):
    """A place's published conclusions, problems being treated, renewal plan, reports."""
    year = _year(request)
    releases = services.current_releases().filter(
        pk__in=Result.objects.published()
        .filter(place__code=code, level=Level.INDEX)
        .values("release")
    )
    if year is not None:
        releases = releases.filter(round__year=year)
    release = releases.first()
    if release is None:
        raise Http404
    place = get_object_or_404(Place, code=code)
    page = services.place_page(release, place)
    means = content.peer_means(release, place, page["index"])
    return render(
        request,
        "portal/place.html",
        {
            "release": release,
            "place": place,
            **page,
            "formats": report_services.FORMATS,
            "data": {
                "radar": {
                    "indicators": [{"name": r.name_zh, "max": 100} for r in page["dimensions"]],
                    "place": [round(r.score or 0, 2) for r in page["dimensions"]],
                    "peers": [round(means.get(r.code, 0), 2) for r in page["dimensions"]],
                }
            },
        },
    )


def method(request):
    """How the index is computed: the method of the latest publication (of the province
    ``?province=CODE`` in a national instance)."""
    province = services.chosen_province(request.GET.get("province", ""))
    release = services.release_for_year(_year(request), province)
    if release is None:
        raise Http404
    section = content.method_section(release)
    return render(request, "portal/method.html", {"release": release, "section": section})


def download(request, pk: int, code: str, fmt: str):
    """A report of a published release (never a draft: 404 whatever the id)."""
    release = services.public_release(pk)
    if release is None or fmt not in report_services.FORMATS:
        raise Http404
    summary = parts.summary_subject(release)
    if code == summary.code:
        return send_report(release, None, fmt, preview=False)
    place = get_object_or_404(
        Place,
        code=code,
        pk__in=Result.objects.published().filter(release=release).values("place"),
    )
    return send_report(release, place, fmt, preview=False)
