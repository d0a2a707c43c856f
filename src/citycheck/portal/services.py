"""What the public portal shows: published releases only.

Every read starts from ``Release.objects.published()`` (the queryset method the
assessment app defines for public rows), so a draft release, its results and its
reports cannot be reached by any portal URL or API call, whatever id is guessed.
Problems and projects have no publication flag of their own: the portal shows the
confirmed problems of a round whose release is published, and the adopted renewal
projects up to the round's year with their status at that year's end, exactly as the
published report does (``reports.content.renewal_projects``).
"""

from __future__ import annotations

from django.apps import apps
from django.http import Http404

from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.places.models import Place
from citycheck.reports import content, parts, readings


def current_releases(province: Place | None = None):
    """The current publication of each round, newest round first (without the large
    computation details, which the portal never shows); of ``province``'s places only
    when given (a national instance's province page)."""
    releases = (
        Release.objects.published()
        .filter(status=ReleaseStatus.PUBLISHED)
        .select_related("round")
        .defer("details")
        .order_by("-round__year", "-pk")
    )
    return releases if province is None else releases.filter(scope__path__startswith=province.path)


def chosen_province(code: str) -> Place | None:
    """The province ``?province=CODE`` names (None when no code is given); an unknown code
    answers 404."""
    if not code:
        return None
    province = Place.objects.provinces().filter(code=code).first()
    if province is None:
        raise Http404
    return province


def provinces_with_releases() -> list[dict]:
    """The national page: each province with the year of its latest publication (None
    before its first); a small query per province (31 at most)."""
    return [
        {
            "province": province,
            "year": current_releases(province).values_list("round__year", flat=True).first(),
        }
        for province in Place.objects.provinces()
    ]


def _of_year(year: int | None, province: Place | None):
    releases = current_releases(province)
    return releases if year is None else releases.filter(round__year=year)


def release_for_year(year: int | None, province: Place | None = None) -> Release | None:
    return _of_year(year, province).first()


def release_id_for_year(year: int | None, province: Place | None = None) -> int | None:
    """The id only: what the index page's cache key needs, in one small query."""
    return _of_year(year, province).values_list("pk", flat=True).first()


def public_release(pk: int) -> Release | None:
    """A release by id if it was ever published (superseded ones keep their downloads)."""
    return Release.objects.published().select_related("round").filter(pk=pk).first()


def ranking(release: Release, level: str) -> list[Result]:
    return list(
        Result.objects.published()
        .filter(release=release, level=Level.INDEX, place__level=level)
        .select_related("place")
        .order_by("rank", "place__code")
    )


def place_page(release: Release, place: Place) -> dict:
    """Main conclusions, dimension scores, problems being treated and the renewal plan."""
    results = list(Result.objects.published().filter(release=release, place=place))
    index = next((r for r in results if r.level == Level.INDEX), None)
    dimensions = sorted((r for r in results if r.level == Level.DIMENSION), key=lambda r: r.code)
    edited = {r.section: r.text for r in release.readings.filter(place=place, section="overall")}
    place_level = parts.level_name(place)
    conclusion = edited.get("overall") or readings.overall_reading(
        place.name_zh, index, dimensions, place_level
    )
    problems = []
    if apps.is_installed("citycheck.diagnosis"):
        from citycheck.diagnosis.models import Problem, ProblemStatus

        problems = list(
            Problem.objects.filter(round=release.round, place=place, status=ProblemStatus.CONFIRMED)
            .select_related("round")
            .order_by("-points", "disease")
        )
    # The renewal plan as the published report states it: adopted projects up to the
    # round's year, with their status at that year's end (the report regenerates alike).
    projects = content.renewal_projects(place, release.round.year)
    return {
        "index": index,
        "dimensions": dimensions,
        "conclusion": conclusion,
        "problems": problems,
        "projects": projects,
    }
