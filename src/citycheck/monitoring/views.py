"""Monitoring pages: the dashboard of a place (or the province), the warning list and a
warning's page with its life-cycle actions, and the user's notices and mail preference."""

from __future__ import annotations

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citycheck.assessment.models import Release, ReleaseStatus
from citycheck.collection.models import Source, Value
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.language import localized
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView
from citycheck.engine.monitoring import forecast
from citycheck.places.models import Boundary, Place, PlaceLevel

from . import services
from .forms import CloseForm, HandleForm, PreferenceForm
from .models import (
    EarlyWarning,
    MonitoringIndicator,
    Notification,
    NotificationPreference,
    Observation,
    Rule,
    WarningStatus,
    period_label,
)

HORIZON = 6


def event_labels() -> dict:
    return {
        "raised": _("发出预警"),
        "fired_again": _("再次触发"),
        "acknowledged": _("签收"),
        "handled": _("处置"),
        "closed_out": _("销号"),
        "escalated": _("逾期升级"),
        "published": _("向公众公开"),
    }


def _dashboard_place(request, code):
    user = request.user
    if code:
        return access.get_place(user, code)
    if user.place_id and not user.is_superuser:
        return access.get_place(user, user.place.code)
    top = Place.objects.restrict(user, Action.VIEW).filter(level=PlaceLevel.PROVINCE).first()
    if top is None:
        raise PermissionDenied(_("您的账号没有可查看的地区。"))
    return top


@login_required
def dashboard(request, code: str | None = None):
    """Open and overdue warnings under a place, per department and on a map of its
    children; one indicator's series with its rule limits, a forecast and its interval;
    the latest monitored value of yearly indicators beside the last release."""
    place = _dashboard_place(request, code)
    today = timezone.localdate()
    warnings = EarlyWarning.objects.restrict(request.user).filter(
        place__path__startswith=place.path
    )
    by_status = dict(warnings.values_list("status").annotate(n=Count("pk")).order_by())
    overdue = warnings.overdue(today)
    departments = list(
        warnings.not_closed()
        .values("department__code", "department__name_zh", "department__name_en")
        .annotate(
            open=Count("pk"),
            overdue=Count(
                "pk",
                filter=Q(
                    status__in=[WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED],
                    deadline__lt=today,
                ),
            ),
        )
        .order_by("-open")
    )
    for row in departments:
        row["name"] = localized(row["department__name_zh"], row["department__name_en"])
    children = list(place.children.filter(active=True).order_by("code"))
    open_by_child = {}
    for child in children:
        open_by_child[child.code] = (
            warnings.not_closed().filter(place__path__startswith=child.path).count()
        )
    boundaries = Boundary.objects.filter(place__in=children).select_related("place")
    map_data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": b.geojson,
                "properties": {
                    "name": b.place.name,
                    "code": b.place.code,
                    "value": open_by_child.get(b.place.code, 0),
                },
            }
            for b in boundaries
        ],
    }
    # The series is of the place itself, or of a place under it (``at``): the province
    # has no series of its own, so it shows the child with the most open warnings.
    at = request.GET.get("at", "")
    if at:
        series_place = access.get_place(request.user, at)
        if not series_place.path.startswith(place.path):
            series_place = place
    elif place.level == PlaceLevel.PROVINCE and children:
        series_place = max(children, key=lambda c: open_by_child[c.code])
    else:
        series_place = place
    indicators = [
        i for i in MonitoringIndicator.objects.order_by("code") if series_place.level in i.levels
    ]
    chosen = next(
        (i for i in indicators if i.code == request.GET.get("indicator")),
        indicators[0] if indicators else None,
    )
    series = _series(series_place, chosen) if chosen else None
    context = {
        "place": place,
        "by_status": [(label, by_status.get(value, 0)) for value, label in WarningStatus.choices],
        "overdue": overdue.count(),
        "escalated": warnings.not_closed().filter(escalations__gt=0).count(),
        "departments": departments,
        "children": [(c, open_by_child[c.code]) for c in children],
        "indicators": indicators,
        "chosen": chosen,
        "series_place": series_place,
        "chart": {
            "place_url": reverse("monitoring:place_dashboard", args=["CODE"]),
            "series": series,
            "map": map_data if map_data["features"] else None,
            "departments": {
                "names": [d["name"] for d in departments],
                "open": [d["open"] for d in departments],
                "overdue": [d["overdue"] for d in departments],
            },
        },
        "may_enter": services.entry_places(request.user).exists(),
        "may_tokens": request.user.is_superuser or services.token_places(request.user).exists(),
        "drifts": _drifts(place),
        "recent": warnings.not_closed().select_related("place", "rule", "department")[:10],
    }
    return render(request, "monitoring/dashboard.html", context)


def _series(place, indicator) -> dict | None:
    rows = list(
        Observation.objects.filter(place=place, indicator=indicator)
        .order_by("period")
        .values_list("period", "value")
    )
    if not rows:
        return None
    periods = [period_label(indicator.frequency, p) for p, _v in rows]
    values = [v for _p, v in rows]
    limits = []
    for rule in Rule.objects.filter(indicator=indicator, active=True).order_by("code"):
        if rule.kind in (Rule.Kind.THRESHOLD, Rule.Kind.FORECAST) and rule.threshold is not None:
            limits.append({"name": rule.name, "value": rule.threshold, "level": rule.level})
        if rule.kind == Rule.Kind.BAND:
            limits.append(
                {"name": rule.name, "low": rule.low, "high": rule.high, "level": rule.level}
            )
    result = {
        "name": indicator.name,
        "unit": indicator.unit,
        "periods": periods,
        "values": values,
        "limits": limits,
        "forecast": None,
    }
    window = min(12, len(values))
    if window >= 4:
        ahead = forecast(np.array([values[-window:]]), horizon=HORIZON, coverage=0.9)
        last = rows[-1][0]
        future = []
        year, month = last.year, last.month
        step = {"monthly": 1, "quarterly": 3}.get(indicator.frequency)
        if step:
            for _ in range(HORIZON):
                month += step
                while month > 12:
                    year, month = year + 1, month - 12
                future.append(
                    period_label(indicator.frequency, last.replace(year=year, month=month))
                )
            result["forecast"] = {
                "periods": future,
                "value": [round(float(x), 3) for x in ahead["forecast"][0]],
                "lower": [round(float(x), 3) for x in ahead["lower"][0]],
                "upper": [round(float(x), 3) for x in ahead["upper"][0]],
            }
    return result


def _drifts(place) -> list[dict]:
    """For monitoring indicators that are also yearly indicators: the latest monitored
    value beside the place's adopted value in the last published release."""
    release = (
        Release.objects.filter(status=ReleaseStatus.PUBLISHED)
        .order_by("-round__year", "-pk")
        .first()
    )
    out = []
    for indicator in MonitoringIndicator.objects.exclude(yearly_indicator="").order_by("code"):
        latest = (
            Observation.objects.filter(place=place, indicator=indicator).order_by("-period").first()
        )
        released = None
        if release is not None:
            released = (
                Value.objects.filter(
                    round=release.round,
                    place=place,
                    indicator__code=indicator.yearly_indicator,
                    source=Source.ADOPTED,
                )
                .values_list("value", flat=True)
                .first()
            )
        if latest is None and released is None:
            continue
        out.append(
            {
                "indicator": indicator,
                "latest": latest,
                "latest_period": period_label(indicator.frequency, latest.period) if latest else "",
                "released": released,
                "release_year": release.round.year if release else None,
            }
        )
    return out


class WarningListView(RestrictedListView):
    queryset = EarlyWarning.objects.select_related(
        "place", "rule", "department", "indicator", "escalated_to"
    )
    template_name = "monitoring/earlywarning_list.html"
    paginate_by = 50

    def get_queryset(self):
        queryset = super().get_queryset()
        status = self.request.GET.get("status", "")
        if status in WarningStatus.values:
            queryset = queryset.filter(status=status)
        if self.request.GET.get("overdue") == "1":
            queryset = queryset.overdue()
        code = self.request.GET.get("place", "")
        if code:
            place = Place.objects.filter(code=code).first()
            queryset = (
                queryset.filter(place__path__startswith=place.path) if place else queryset.none()
            )
        return queryset.order_by("-raised", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = WarningStatus.choices
        context["status"] = self.request.GET.get("status", "")
        context["may_publish"] = services.may_publish(self.request.user)
        context["month"] = timezone.localdate().strftime("%Y-%m")
        return context


class WarningView(RestrictedDetailView):
    queryset = EarlyWarning.objects.select_related(
        "place", "rule", "department", "indicator", "escalated_to"
    )
    template_name = "monitoring/earlywarning.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        warning = self.object
        user = self.request.user
        may_change = (
            EarlyWarning.objects.restrict(user, Action.CHANGE).filter(pk=warning.pk).exists()
        )
        context.update(
            may_acknowledge=may_change and warning.status == WarningStatus.OPEN,
            may_handle=may_change
            and warning.status in (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED),
            may_close=services.may_close(user, warning) and warning.status == WarningStatus.HANDLED,
            handle_form=HandleForm(),
            close_form=CloseForm(),
            may_publish=services.may_publish(user) and not warning.published,
            history=warning_history(warning),
            period=period_label(warning.indicator.frequency, warning.period),
        )
        return context


def warning_history(warning):
    from citycheck.core.models import ChangeRecord

    labels = event_labels()
    records = list(
        ChangeRecord.objects.filter(
            content_type__app_label="monitoring",
            content_type__model="earlywarning",
            object_id=str(warning.pk),
            kind=ChangeRecord.Kind.EVENT,
        )
        .select_related("user")
        .order_by("time", "pk")
    )
    for record in records:
        record.label = labels.get(record.event, record.event)
    return records


def _warning_for(request, pk):
    return get_object_or_404(EarlyWarning.objects.restrict(request.user), pk=pk)


@login_required
@require_POST
def warning_step(request, pk: int, step: str):
    warning = _warning_for(request, pk)
    try:
        if step == "acknowledge":
            services.acknowledge(warning, acting_user=request.user)
            messages.success(request, _("已签收。"))
        elif step == "handle":
            form = HandleForm(request.POST, request.FILES)
            if not form.is_valid():
                messages.error(
                    request, " ".join(e for errors in form.errors.values() for e in errors)
                )
                return redirect(reverse("monitoring:warning", args=[pk]))
            services.handle(
                warning,
                acting_user=request.user,
                measures=form.cleaned_data["measures"],
                evidence=form.cleaned_data.get("evidence"),
            )
            messages.success(request, _("已提交处置情况，等待上一级销号。"))
        elif step == "publish":
            if services.publish([warning], acting_user=request.user):
                messages.success(request, _("已向公众公开。"))
        elif step == "close":
            form = CloseForm(request.POST)
            note = form.cleaned_data["note"] if form.is_valid() else ""
            services.close_out(warning, acting_user=request.user, note=note)
            messages.success(request, _("已销号。"))
        else:
            return redirect(reverse("monitoring:warning", args=[pk]))
    except services.MonitoringError as refused:
        messages.error(request, str(refused))
    return redirect(reverse("monitoring:warning", args=[pk]))


@login_required
@require_POST
def publish_month(request):
    """Publish every warning of one month (``month``: 2025-12) in the user's reach."""
    text = request.POST.get("month", "").strip()
    try:
        year, month = (int(part) for part in text.split("-"))
        if not (1 <= month <= 12 and 1900 < year < 3000):
            raise ValueError
    except ValueError:
        messages.error(request, _("请按 2025-12 的格式填写月份。"))
        return redirect(reverse("monitoring:warning_list"))
    count = services.publish_month(year, month, acting_user=request.user)
    messages.success(
        request,
        _("已向公众公开 %(year)d 年 %(month)d 月的 %(count)d 条预警。")
        % {"year": year, "month": month, "count": count},
    )
    return redirect(reverse("monitoring:warning_list"))


@login_required
def notifications(request):
    preference, _created = NotificationPreference.objects.get_or_create(user=request.user)
    if request.method == "POST":
        form = PreferenceForm(request.POST, instance=preference)
        if form.is_valid():
            services.set_preference(request.user, form.cleaned_data["mail"])
            messages.success(request, _("已保存通知设置。"))
            return redirect(reverse("monitoring:notifications"))
    else:
        form = PreferenceForm(instance=preference)
    notices = list(
        Notification.objects.filter(user=request.user).select_related(
            "warning__place", "warning__rule"
        )[:100]
    )
    labels = event_labels()
    for notice in notices:
        notice.label = labels.get(notice.event, notice.event)
    unread = [n.pk for n in notices if n.read is None]
    context = {"notices": notices, "form": form}
    response = render(request, "monitoring/notifications.html", context)
    Notification.objects.filter(pk__in=unread).update(read=timezone.now())
    return response
