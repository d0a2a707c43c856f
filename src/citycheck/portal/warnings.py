"""The public list of monitoring warnings (监测预警公开): only warnings the province has
published (``EarlyWarning.objects.published()``), by place, with their level, indicator,
period and current status — never the measures, evidence, notes or who handled them."""

from django.db.models import Q
from django.shortcuts import render

from citycheck.monitoring.models import EarlyWarning, Level, WarningStatus, period_label


def warning_list(request):
    warnings = (
        EarlyWarning.objects.published()
        .select_related("place", "indicator")
        .order_by("place__path", "-period", "pk")
    )
    place = request.GET.get("place", "").strip()[:60]
    level = request.GET.get("level", "")
    status = request.GET.get("status", "")
    if place:
        warnings = warnings.filter(
            Q(place__name_zh__icontains=place)
            | Q(place__code__startswith=place)
            | Q(place__parent__name_zh__icontains=place)
        )
    if level in Level.values:
        warnings = warnings.filter(level=level)
    if status in WarningStatus.values:
        warnings = warnings.filter(status=status)
    groups: list[tuple] = []
    for warning in warnings[:500]:
        row = {
            "level": warning.level,
            "level_label": warning.get_level_display(),
            "indicator": warning.indicator.name,
            "unit": warning.indicator.unit,
            "period": period_label(warning.indicator.frequency, warning.period),
            "status": warning.get_status_display(),
        }
        if groups and groups[-1][0] == warning.place:
            groups[-1][1].append(row)
        else:
            groups.append((warning.place, [row]))
    return render(
        request,
        "portal/warnings.html",
        {
            "groups": groups,
            "levels": Level.choices,
            "statuses": WarningStatus.choices,
            "query": {"place": place, "level": level, "status": status},
        },
    )
