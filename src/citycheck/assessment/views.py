"""Pages of the evaluation step: releases (ranking, map), a place's results, the diff of
two releases, running an assessment and following its job.

Every read goes through ``access.restrict`` (releases and results through their own
querysets): drafts are seen only by those who may publish them, published releases by
everybody, anonymous visitors included. Objects out of reach answer 404.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Avg
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from citycheck.collection.models import Round
from citycheck.core import access, cached_json
from citycheck.core.choices import Action
from citycheck.places.models import Boundary, Place, PlaceLevel, in_shown_province

from . import labels, services
from .compute import AssessmentError
from .methods import (
    DEFAULT_METHOD_NAME,
    MethodError,
    method_files,
    method_named,
    method_names,
    parse_method,
    value_name,
)
from .models import Level, Release, ReleaseStatus, Result


class RestrictedPublicMixin:
    """Like ``core.views_base.RestrictedQuerysetMixin`` but open to anonymous visitors,
    who get the published rows only."""

    queryset = None

    def get_queryset(self):
        return access.restrict(self.queryset.all(), self.request.user, Action.VIEW)


class ReleaseListView(RestrictedPublicMixin, ListView):
    queryset = Release.objects.select_related("round", "scope")
    paginate_by = 50

    def get_queryset(self):
        # In a national instance, one province's releases (the user's, or ?province=CODE).
        return in_shown_province(
            super().get_queryset(), self.request.user, self.request.GET.get("province", "")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if access.may(self.request.user, Action.PUBLISH):
            context["rounds"] = access.restrict(
                Round.objects.all(), self.request.user, Action.PUBLISH
            )
            context["methods"] = method_files()
            context["default_method"] = DEFAULT_METHOD_NAME
        return context


class ReleaseView(RestrictedPublicMixin, DetailView):
    """The ranking of a release: every ranked place with index, rank interval, peer rank
    and dimension scores, per place level; and the map coloured by index."""

    # ``details`` (weights, screening, the input snapshot) is large: read only when the
    # cached parts of the page are rendered.
    queryset = Release.objects.select_related("round__system", "scope").defer("details")
    template_name = "assessment/release.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        release = self.object
        user = self.request.user
        published = release.status == ReleaseStatus.PUBLISHED
        index_rows = lazy_once(lambda: self._index_rows(release))
        context.update(
            # The ranking tables, the method's names and the data decisions are the same for
            # every reader of a published release: the template caches them under this key
            # (per language; a draft's per user) and computes them only on a miss.
            fragment_key=f"{release.pk}:{release.last_updated.timestamp()}:{release.status}"
            f":{'' if published else user.pk}:{get_language()}",
            tables=lazy_once(lambda: self._tables(release, index_rows())),
            method_names=lazy_once(lambda: method_names(parse_method(release.method_text).content)),
            provisional_reasons=lazy_once(lambda: services.provisional_reasons(release)),
            decisions=lazy_once(lambda: services.data_decisions(release)),
            may_publish=release.status == ReleaseStatus.DRAFT
            and Release.objects.restrict(user, Action.PUBLISH).filter(pk=release.pk).exists(),
            problems=services.release_problems(release)
            if release.status == ReleaseStatus.DRAFT
            else [],
            # The map's GeoJSON is fetched from release_map (cached, compressed).
            has_map=Boundary.objects.filter(
                place__in=Result.objects.restrict(user)
                .filter(release=release, level=Level.INDEX)
                .values("place")
            ).exists(),
            other_releases=in_shown_province(
                access.restrict(Release.objects.select_related("round"), user), user
            )
            .defer("details", "method_text")
            .exclude(pk=release.pk)[:20],
        )
        return context

    def _index_rows(self, release) -> list:
        return list(
            Result.objects.restrict(self.request.user)
            .filter(release=release, level=Level.INDEX)
            .select_related("place")
            .order_by("place__level", "rank", "place__code")
        )

    def _tables(self, release, index_rows) -> dict:
        """``levels``: per place level, the ranked places, each with its dimension scores
        (``dimension_list``); ``dimensions``: the (code, name) of the columns."""
        results = Result.objects.restrict(self.request.user).filter(
            release=release, level=Level.DIMENSION
        )
        dimension_scores = {}
        for place_id, code, score in results.values_list("place_id", "code", "score"):
            dimension_scores.setdefault(place_id, {})[code] = score
        names = labels.dimension_names(release.round.system)
        dimensions = [
            (code, names.get(code, name))
            for code, name in results.values_list("code", "name_zh").distinct().order_by("code")
        ]
        levels = {}
        for row in index_rows:
            row.dimension_list = [
                dimension_scores.get(row.place_id, {}).get(code) for code, _name in dimensions
            ]
            levels.setdefault(row.place.get_level_display(), []).append(row)
        return {"dimensions": dimensions, "levels": levels}


def lazy_once(compute):
    """``compute`` as a callable the template calls on first use only (Django templates
    call callables), its result kept: what a cached fragment holds is never computed."""
    box = []

    def value():
        if not box:
            box.append(compute())
        return box[0]

    return value


def release_map(request, pk: int):
    """The map of a release (GeoJSON of its ranked places with their index): encoded and
    compressed once per published release and language, revalidated by its ETag."""
    release = get_object_or_404(access.restrict(Release.objects.all(), request.user), pk=pk)

    def build():
        index_rows = (
            Result.objects.restrict(request.user)
            .filter(release=release, level=Level.INDEX)
            .select_related("place")
            .order_by("place__level", "rank", "place__code")
        )
        return _map_data(index_rows) or {"type": "FeatureCollection", "features": []}

    published = release.status == ReleaseStatus.PUBLISHED
    return cached_json.json_response(
        request,
        f"release-map:{release.pk}:{release.last_updated.timestamp()}" if published else None,
        build,
    )


def _map_data(index_rows) -> dict | None:
    """GeoJSON features of the ranked places with their index, or None without boundaries."""
    boundaries = {
        b.place_id: b
        for b in Boundary.objects.filter(place__in=[row.place_id for row in index_rows])
    }
    features = [
        {
            "type": "Feature",
            "geometry": boundaries[row.place_id].geojson,
            "properties": {
                "name": row.place.name,
                "code": row.place.code,
                "level": row.place.level,
                "value": round(row.score, 2),
                "rank": row.rank,
            },
        }
        for row in index_rows
        if row.place_id in boundaries
    ]
    return {"type": "FeatureCollection", "features": features} if features else None


def release_place(request, pk: int, code: str):
    """A place's page in a release: radar of its dimensions against its peer group,
    scorecard with 达标 colours, trend over the years, peers and obstacle indicators."""
    release = get_object_or_404(
        access.restrict(Release.objects.select_related("round__system"), request.user), pk=pk
    )
    results = Result.objects.restrict(request.user).filter(release=release)
    place = get_object_or_404(Place, pk__in=results.values("place"), code=code)
    own = results.filter(place=place)
    index = own.filter(level=Level.INDEX).first()
    dimension_rows = list(own.filter(level=Level.DIMENSION).order_by("code"))
    dimension_names = {
        **{row.code: row.name_zh for row in dimension_rows},
        **labels.dimension_names(release.round.system),
    }
    peer_places = (
        results.filter(
            level=Level.INDEX, peer_group=index.peer_group, place__level=place.level
        ).values("place")
        if index
        else []
    )
    peer_means = dict(
        results.filter(level=Level.DIMENSION, place__in=peer_places)
        .values_list("code")
        .annotate(mean=Avg("score"))
    )
    radar = {
        "indicators": [{"name": dimension_names[row.code], "max": 100} for row in dimension_rows],
        "place": [round(row.score, 2) for row in dimension_rows],
        "peers": [round(peer_means.get(row.code, 0), 2) for row in dimension_rows],
    }
    indicator_names = labels.indicator_names(release.round.system)
    scorecard = list(own.filter(level=Level.INDICATOR).order_by("dimension_code", "code"))
    for row in scorecard:
        row.dimension_name = dimension_names.get(row.dimension_code, row.dimension_code)
        row.indicator_name = indicator_names.get(row.code, row.name_zh)
    obstacles = sorted(
        (r for r in scorecard if r.obstacle_degree), key=lambda r: -r.obstacle_degree
    )[:5]
    peers = (
        list(
            results.filter(level=Level.INDEX, place__in=peer_places)
            .select_related("place")
            .order_by("rank")
        )
        if index
        else []
    )
    trend = list(
        Result.objects.restrict(request.user)
        .filter(
            place=place,
            level__in=[Level.INDEX, Level.DIMENSION],
            release__in=_trend_releases(request.user, release),
        )
        .order_by("release__round__year")
        .values_list("release__round__year", "code", "score")
    )
    years = sorted({year for year, _code, _score in trend})
    series = {}
    for year, code, score in trend:
        series.setdefault(code, {})[year] = round(score, 2)
    names = {"index": _("城市健康指数"), **dimension_names}
    trend_data = {
        "years": years,
        "series": [
            {"name": names.get(code, code), "data": [values.get(y) for y in years]}
            for code, values in series.items()
        ],
    }
    return render(
        request,
        "assessment/release_place.html",
        {
            "release": release,
            "place": place,
            "index": index,
            "dimensions": dimension_rows,
            "scorecard": scorecard,
            "obstacles": obstacles,
            "peers": peers,
            "radar": radar,
            "trend": trend_data,
        },
    )


def _trend_releases(user, release) -> list[int]:
    """The releases a trend shows: this one and, for other rounds, the published release
    of the same method."""
    published = (
        access.restrict(Release.objects.all(), user)
        .filter(method_code=release.method_code, status=ReleaseStatus.PUBLISHED)
        .exclude(round=release.round)
    )
    return [*published.values_list("pk", flat=True), release.pk]


def release_diff(request):
    """What changed between releases ``?a=`` and ``?b=``, and why."""
    visible = access.restrict(Release.objects.select_related("round"), request.user)
    try:
        a = get_object_or_404(visible, pk=int(request.GET.get("a", "")))
        b = get_object_or_404(visible, pk=int(request.GET.get("b", "")))
    except ValueError:
        raise Http404(_("请指定要比较的两个版本 a 和 b。")) from None
    diff = services.diff_releases(a, b)
    visible_places = set(
        Result.objects.restrict(request.user)
        .filter(release__in=[a, b])
        .values_list("place__code", flat=True)
    )
    rows = [row for row in diff.results if row["place"] in visible_places]
    method_rows = [
        (path, value_name(path, before), value_name(path, after))
        for path, before, after in diff.method
    ]
    return render(
        request,
        "assessment/release_diff.html",
        {"diff": diff, "rows": rows, "method_rows": method_rows},
    )


def release_export(request, pk: int):
    """The release as CSV: one row per place and level (what the user may see)."""
    release = get_object_or_404(access.restrict(Release.objects.all(), request.user), pk=pk)
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        path = Path(handle.name)
    services.export_release_csv(release, path, user=request.user)
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"release-{release.pk}.csv",
        content_type="text/csv",
    )
    path.unlink()  # the open handle keeps the data until the response is sent
    return response


@login_required
def release_publish(request, pk: int):
    """GET: what publishing will make public, and the confirming button; POST: publish."""
    release = get_object_or_404(access.restrict(Release.objects.all(), request.user), pk=pk)
    if request.method != "POST":
        return _publish_confirmation(request, release)
    try:
        services.publish_release(release, acting_user=request.user)
        messages.success(request, _("评价结果 #%(pk)d 已发布。") % {"pk": release.pk})
    except (services.PublishError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect("assessment:release", pk=release.pk)


def _publish_confirmation(request, release: Release):
    if not Release.objects.restrict(request.user, Action.PUBLISH).filter(pk=release.pk).exists():
        raise PermissionDenied(_("无权发布该评价结果。"))
    results = release.results.all()
    places_by_level = [
        (label, results.filter(level=Level.INDEX, place__level=level).count())
        for level, label in PlaceLevel.choices
    ]
    context = {
        "release": release,
        "round": release.round,
        "places_by_level": [(label, count) for label, count in places_by_level if count],
        "indicator_count": results.filter(level=Level.INDICATOR).values("code").distinct().count(),
        "superseded": Release.objects.filter(
            round=release.round, status=ReleaseStatus.PUBLISHED
        ).first(),
        "problems": services.release_problems(release)
        if release.status == ReleaseStatus.DRAFT
        else [_("该版本已发布或已被替代")],
        "provisional_reasons": services.provisional_reasons(release),
    }
    return render(request, "assessment/release_publish.html", context)


@login_required
@require_POST
def release_run(request):
    """Start the assessment of a round as a background job and show its progress."""
    rounds = access.restrict(Round.objects.all(), request.user, Action.PUBLISH)
    round_ = get_object_or_404(rounds, pk=request.POST.get("round") or 0)
    try:
        job = services.start_assessment(
            round_, method_named(request.POST.get("method", "")), acting_user=request.user
        )
    except (MethodError, AssessmentError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return redirect("assessment:release_list")
    return redirect("job", pk=job.pk)
