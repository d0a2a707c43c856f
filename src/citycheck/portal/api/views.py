"""Public API of the portal: the published index per year and a place's published
results. Open to anonymous callers; reads published releases only."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from citycheck.assessment.models import Level, Result
from citycheck.places.models import Place

from .. import services
from .serializers import PortalPlaceSerializer, PortalRankingSerializer

YEAR = OpenApiParameter("year", int, description="Round year (default: the latest published)")
PROVINCE = OpenApiParameter(
    "province", str, description="A national instance's province (division code)"
)
NO_RELEASE = OpenApiResponse(description="No published release for this year (or no such place).")


def _release(request, province=None):
    year = request.query_params.get("year", "")
    release = services.release_for_year(
        int(year) if year.isdigit() else None,
        province or services.chosen_province(request.query_params.get("province", "")),
    )
    if release is None:
        raise NotFound("no published release for this year")
    return release


def _release_fields(release) -> dict:
    return {
        "release": release.pk,
        "year": release.round.year,
        "method": f"{release.method_code} v{release.method_version}",
        "input_digest": release.input_digest,
        "published_at": release.published_at,
    }


class RankingView(APIView):
    """``GET ?year=&level=city|county``: the published ranking."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={200: PortalRankingSerializer, 404: NO_RELEASE},
        parameters=[YEAR, PROVINCE, OpenApiParameter("level", str, enum=["city", "county"])],
    )
    def get(self, request):
        release = _release(request)
        level = request.query_params.get("level", "city")
        return Response(
            {
                **_release_fields(release),
                "level": level,
                "results": [
                    {
                        "code": r.place.code,
                        "name": r.place.name_zh,
                        "score": r.score,
                        "rank": r.rank,
                        "rank_low": r.rank_low,
                        "rank_high": r.rank_high,
                    }
                    for r in services.ranking(release, level)
                ],
            }
        )


class PlaceView(APIView):
    """``GET places/<code>/?year=``: the place's published index and dimension scores."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: PortalPlaceSerializer, 404: NO_RELEASE}, parameters=[YEAR])
    def get(self, request, code):
        place = get_object_or_404(Place, code=code)
        # The latest publication of the place's own province (a national instance has several).
        release = _release(request, place.province())
        rows = (
            Result.objects.published()
            .filter(release=release, place=place, level__in=[Level.INDEX, Level.DIMENSION])
            .order_by("level", "code")
        )
        if not rows:
            raise NotFound("no published result for this place")
        return Response(
            {
                **_release_fields(release),
                "place": {"code": place.code, "name": place.name_zh},
                "results": [
                    {
                        "level": r.level,
                        "code": r.code,
                        "name": r.name_zh,
                        "score": r.score,
                        "rank": r.rank,
                    }
                    for r in rows
                ],
            }
        )
