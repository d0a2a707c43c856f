"""Pages of publication for logged-in users: reports of a release (web page, downloads,
reading edits, the archive of all reports as a background job) and the dashboards.

Releases are read through ``access.restrict``: published ones by everybody, drafts by
those who may publish them (who then see a 草稿 preview). Anything out of reach is 404.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.core import access, cached_json
from citycheck.places.models import Place, PlaceLevel, in_shown_province

from . import dashboard, parts, services
from . import render as renderers
from .forms import BulletinForm
from .life_circle_section import LifeCircleSection

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}


def visible_release(user, pk: int) -> Release:
    return get_object_or_404(
        access.restrict(Release.objects.select_related("round", "scope"), user), pk=pk
    )


def release_place(release: Release, code: str) -> Place | None:
    """The place ``code`` of ``release`` (None for the provincial summary); 404 otherwise."""
    if code == parts.summary_subject(release).code:
        return None
    return get_object_or_404(
        Place, code=code, pk__in=Result.objects.filter(release=release).values("place")
    )


def content_disposition(name: str, fallback: str, *, as_attachment: bool) -> str:
    """A Content-Disposition naming the file ``name`` (RFC 6266 with an RFC 5987
    ``filename*`` in UTF-8) and, for clients that read only ``filename``, the ASCII
    ``fallback``."""
    disposition = "attachment" if as_attachment else "inline"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def send_report(release: Release, place: Place | None, fmt: str, *, preview: bool):
    """A report file as a download, named by its Chinese title (南昌市2024年度城市体检报告.pdf):
    cached for published releases, fresh for previews."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    if not preview:
        path = services.report_file(release, place, fmt)
        response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES[fmt])
    else:
        with tempfile.TemporaryDirectory() as folder:
            (path,) = services.render_report(release, place, [fmt], folder, preview=True)
            data = Path(path).read_bytes()
        response = FileResponse(iter([data]), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition(
        f"{parts.download_name(release, place)}.{fmt}",
        f"{services.file_stem(release, place)}.{fmt}",
        as_attachment=fmt != "html",
    )
    return response


@login_required
def report_list(request):
    """The releases the user may see, each with its places' reports."""
    releases = list(
        access.restrict(Release.objects.select_related("round"), request.user).order_by(
            "-round__year", "-pk"
        )[:20]
    )
    release = None
    if releases:
        wanted = request.GET.get("release")
        release = next((r for r in releases if str(r.pk) == wanted), releases[0])
    places = list(services.report_places(release)) if release else []
    archive = services.archive_path(release) if release else None
    return render(
        request,
        "reports/report_list.html",
        {
            "releases": releases,
            "release": release,
            "summary": parts.summary_subject(release) if release else None,
            "places": places,
            "archive_ready": bool(archive and archive.exists()),
            "formats": services.FORMATS,
            "may_bulletin": may_bulletin(request.user),
        },
    )


def may_bulletin(user) -> bool:
    """Province users issue the quarterly bulletin."""
    return user.is_superuser or bool(user.place_id and user.place.level == PlaceLevel.PROVINCE)


@login_required
def bulletin(request):
    """The quarterly bulletin (季度通报) for province users: choose a published release and
    a quarter, download the file the ``citycheck report --bulletin`` command writes."""
    user = request.user
    if not may_bulletin(user):
        raise PermissionDenied(_("季度通报只对省级用户开放。"))
    releases = access.restrict(Release.objects.select_related("round"), user).filter(
        status=ReleaseStatus.PUBLISHED
    )
    form = BulletinForm(request.GET if "quarter" in request.GET else None, releases=releases)
    if form.is_valid():
        release, quarter, fmt = (form.cleaned_data[k] for k in ("release", "quarter", "format"))
        with tempfile.TemporaryDirectory() as folder:
            (path,) = services.render_bulletin(release, quarter, [fmt], folder)
            data, name = path.read_bytes(), path.name
        response = FileResponse(iter([data]), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = content_disposition(
            name,
            f"{release.round.year + 1}-q{quarter}-bulletin.{fmt}",
            as_attachment=fmt != "html",
        )
        return response
    return render(request, "reports/bulletin.html", {"form": form})


def life_circle_section(user, place, round_):
    """The accepted life-circle analysis of the report's place (the spatial app's include)."""
    from citycheck.spatial.views import report_context

    return report_context(user, place, round_)


@login_required
def report_view(request, pk: int, code: str):
    """A report as a web page; readings editable on drafts for those who may publish."""
    release = visible_release(request.user, pk)
    place = release_place(release, code)
    try:
        document = services.build(release, place, preview=True)
    except services.ReportError as exc:
        raise Http404(str(exc)) from exc
    life_circle = life_circle_section(request.user, place, release.round)
    if life_circle:  # shown interactively below instead of the files' static section
        document.sections = [s for s in document.sections if not isinstance(s, LifeCircleSection)]
    may_edit = (
        place is not None
        and release.status == ReleaseStatus.DRAFT
        and Release.objects.restrict(request.user, "publish").filter(pk=release.pk).exists()
    )
    return render(
        request,
        "reports/report.html",
        {
            **renderers.document_context(document),
            "release": release,
            "place": place,
            "code": code,
            "may_edit": may_edit,
            "readings": [
                block
                for section in document.sections
                for part in (section, *section.subsections)
                for block in part.blocks
                if getattr(block, "reading_key", "")
            ],
            "formats": services.FORMATS,
            "life_circle": life_circle,
        },
    )


@login_required
def report_download(request, pk: int, code: str, fmt: str):
    release = visible_release(request.user, pk)
    place = release_place(release, code)
    return send_report(release, place, fmt, preview=release.status == ReleaseStatus.DRAFT)


@login_required
@require_POST
def reading_edit(request, pk: int, code: str):
    release = visible_release(request.user, pk)
    place = release_place(release, code)
    if place is None:
        raise Http404
    try:
        services.save_reading(
            release,
            place,
            request.POST.get("section", ""),
            request.POST.get("text", ""),
            acting_user=request.user,
        )
        messages.success(request, _("报告解读已保存。"))
    except (services.ReportError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect("reports:report", pk=release.pk, code=code)


@login_required
@require_POST
def archive_start(request, pk: int):
    """Render every report of the release in the background; show the job's progress."""
    release = visible_release(request.user, pk)
    formats = request.POST.getlist("format") or ["docx", "pdf"]
    try:
        job = services.start_render_all(release, formats, acting_user=request.user)
    except (services.ReportError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('reports:report_list')}?release={release.pk}")
    return redirect("job", pk=job.pk)


@login_required
def archive_download(request, pk: int):
    release = visible_release(request.user, pk)
    path = services.archive_path(release)
    if not path.exists():
        raise Http404(_("报告压缩包尚未生成。"))
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


# --- dashboards -----------------------------------------------------------------------


def _dashboard_release(request) -> Release | None:
    # In a national instance, one province's releases (the user's, or ?province=CODE).
    releases = in_shown_province(
        access.restrict(Release.objects.select_related("round"), request.user),
        request.user,
        request.GET.get("province", ""),
    ).defer("details")
    wanted = request.GET.get("release")
    if wanted:
        return get_object_or_404(releases, pk=wanted) if wanted.isdigit() else None
    return (
        releases.filter(status=ReleaseStatus.PUBLISHED).order_by("-round__year", "-pk").first()
        or releases.order_by("-round__year", "-pk").first()
    )


@login_required
def province_dashboard(request):
    """Map by index with drill-down, ranking bars, warning-light matrix and trends."""
    release = _dashboard_release(request)
    context = {"release": release}
    if release is not None:
        top = parts.summary_subject(release)

        def numbers() -> dict:
            level = dashboard.top_level(release)
            return {
                "level": level,
                # The map is fetched (cached, compressed), not inlined in the page.
                "map_top": top.code,
                "map_url": reverse("reports:dashboard_map", args=[release.pk, "CODE"]),
                "ranking": dashboard.ranking(release, level),
                "matrix": dashboard.warning_matrix(release, level),
                "trend": dashboard.trends(release, level, user=request.user),
                "place_url": reverse("reports:city_dashboard", args=["CODE"])
                + f"?release={release.pk}",
            }

        if release.status == ReleaseStatus.PUBLISHED:
            # The same for every reader of a published release (its trend runs over the
            # published releases of its method, which are in the key).
            published = Release.objects.filter(
                method_code=release.method_code, status=ReleaseStatus.PUBLISHED
            ).values_list("pk", flat=True)
            stamp = "-".join(str(pk) for pk in published)
            key = (
                f"province-dashboard:{release.pk}:{release.last_updated.timestamp()}"
                f":{get_language()}:{stamp}"
            )
            data = cache.get_or_set(key, numbers, 600)
        else:
            data = numbers()
        context.update(
            level_name=_("设区市") if data["level"] == "city" else _("县（市、区）"),
            top=top,
            data={k: v for k, v in data.items() if k != "level"},
        )
    return render(request, "reports/dashboard.html", context)


@login_required
def dashboard_map(request, pk: int, code: str):
    """The children of place ``code`` coloured by index (the drill-down of the map)."""
    release = visible_release(request.user, pk)
    parent = get_object_or_404(Place, code=code)
    published = release.status == ReleaseStatus.PUBLISHED
    return cached_json.json_response(
        request,
        f"dashboard-map:{release.pk}:{release.last_updated.timestamp()}:{parent.pk}"
        if published
        else None,
        lambda: dashboard.map_features(release, parent),
    )


@login_required
def city_dashboard(request, code: str):
    """A city's radar, scorecard, problems and projects."""
    release = _dashboard_release(request)
    if release is None:
        raise Http404
    place = get_object_or_404(
        Place,
        code=code,
        pk__in=Result.objects.filter(release=release, level=Level.INDEX).values("place"),
    )
    panel = dashboard.place_panel(release, place)
    return render(
        request,
        "reports/city_dashboard.html",
        {"release": release, "place": place, **panel, "data": {"radar": panel["radar"]}},
    )
