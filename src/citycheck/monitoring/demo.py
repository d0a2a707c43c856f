"""The demo's monitoring between rounds (synthetic): two years of monthly observations for
the 11 cities (and 南昌市's counties), a few drifting series, the fake 12345 platform pulled
through its connector, and warnings taken through their life cycle by the demo's people —
so the dashboard shows warnings open, acknowledged, handled, closed, overdue and escalated.

The months run up to the last complete month before the day the demo is loaded. The
province issues an ingest token to the city operation platform (一网统管), whose batches go
through the same ingest service the API uses; the rules are evaluated as of three months
ago and again today, with the overdue warnings escalated in between. The 12345 platform's
last month is left as a file in its drop folder: the worker's periodic run
(``monitoring.take_file_drops``, on ``make run``) takes it and raises 宜春市's new
environment warning.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.utils import timezone

from citycheck.accounts.models import User
from citycheck.places.models import Place, PlaceLevel

from . import drops, fake_hotline, services
from .connectors import Hotline12345Connector
from .loading import load_monitoring
from .models import EarlyWarning, Feed, MonitoringIndicator, WarningStatus

MONTHS = 24
NANCHANG, NANCHANGXIAN = "360100", "360121"
# Drifting series: (indicator, place) → yearly drift as a share of the base, or a jump.
HOUSING_RISING = (NANCHANG, NANCHANGXIAN, "361100")  # 12345 housing appeals up 60 % a year
ENVIRONMENT_SURGE = "360900"  # 宜春市: environment appeals doubled in the dropped month


def _months(today: dt.date) -> list[dt.date]:
    year, month = today.year, today.month
    out = []
    for _ in range(MONTHS):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(dt.date(year, month, 1))
    return sorted(out)


def _series(rng, code: str, place: str, count: int) -> np.ndarray:
    """Synthetic monthly values; a few places drift (see the module docstring)."""
    t = np.arange(count)
    noise = rng.normal(0, 1, count)
    if code == "good_air_days_share":
        base = 88 + noise * 1.5
        if place == "360400":  # 九江市: air worsening steadily
            base = base - 0.55 * t
        return np.clip(base, 40, 100).round(1)
    if code == "waterlogging_points":
        base = np.maximum(0, 4 + noise * 1.5).round()
        if place == NANCHANGXIAN:  # a storm in the last quarter
            base[-3:] = [16, 22, 19]
        return base
    if code == "congestion_index":
        base = 1.35 + noise * 0.03
        if place == NANCHANG:  # worsening: past the band at the end
            base = base + 0.022 * t
        return base.round(2)
    if code == "average_commute_minutes":
        base = 33 + noise * 0.8
        if place == "360700":  # 赣州市
            base = base + 0.45 * t
        return base.round(1)
    raise KeyError(code)


def _quarters(months: list[dt.date]) -> list[dt.date]:
    return sorted({dt.date(m.year, (m.month - 1) // 3 * 3 + 1, 1) for m in months})


def load_monitoring_demo(progress=print) -> dict:
    """Monitoring files, observations, connector pull, evaluation and life cycle."""
    people = {
        u.username: u
        for u in User.objects.filter(
            username__in=["province_admin", "nanchang_housing", "nanchangxian_admin", "admin360400"]
        )
    }
    admin = people["province_admin"]
    progress("monitoring indicators and rules …")
    load_monitoring(acting_user=admin)
    services._Lookups.clear()
    today = timezone.localdate()
    months = _months(today)
    cities = list(
        Place.objects.filter(level=PlaceLevel.CITY, active=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    counties = list(
        Place.objects.filter(parent__code=NANCHANG, active=True)
        .order_by("code")
        .values_list("code", flat=True)
    )

    progress("observations from the city operation platform (token) …")
    operation = Feed.objects.get(code="city_operation")
    token, _key = services.create_token(
        "城市运行管理服务平台（演示）",
        feed=operation,
        place=Place.objects.get(code="360000"),
        acting_user=admin,
    )
    rng = np.random.default_rng(2026)
    indicators = {i.code: i for i in MonitoringIndicator.objects.all()}
    batches: dict[str, list[dict]] = {}
    for code in ("waterlogging_points", "congestion_index", "average_commute_minutes"):
        places = cities + (counties if code == "waterlogging_points" else [])
        for place in places:
            values = _series(rng, code, place, len(months))
            for month, value in zip(months, values, strict=True):
                batches.setdefault(f"{month:%Y-%m}", []).append(
                    {"place": place, "indicator": code, "period": f"{month:%Y-%m}", "value": value}
                )
    accepted = 0
    for month, rows in sorted(batches.items()):
        accepted += _ingest(rows, operation, token, f"ops-{month}", admin).accepted

    progress("good-air days (ecology platform) and vacant space (CIM) …")
    ecology = Feed.objects.get(code="ecology_platform")
    rows = [
        {"place": place, "indicator": "good_air_days_share", "period": f"{m:%Y-%m}", "value": v}
        for place in cities
        for m, v in zip(months, _series(rng, "good_air_days_share", place, MONTHS), strict=True)
    ]
    accepted += _ingest(rows, ecology, None, "ecology-demo", admin).accepted
    quarters = _quarters(months)
    vacant = []
    for place in cities:
        base = 40 + rng.normal(0, 2)
        growth = 0.09 if place == "361100" else 0.0  # 上饶市: vacancy growing
        for number, quarter in enumerate(quarters):
            value = base * (1 + growth) ** number + rng.normal(0, 0.5)
            label = f"{quarter.year}-Q{(quarter.month - 1) // 3 + 1}"
            vacant.append(
                {
                    "place": place,
                    "indicator": "vacant_commercial_space",
                    "period": label,
                    "value": round(value, 1),
                }
            )
    accepted += _ingest(vacant, Feed.objects.get(code="cim"), None, "cim-demo", admin).accepted

    progress("12345 hotline through its connector (fake platform), its last month dropped …")
    hotline = Feed.objects.get(code="hotline_12345")
    hotline.url = "http://hotline-12345.demo.invalid"  # in memory only: the demo's fake
    connector = Hotline12345Connector(
        hotline, transport=fake_hotline.transport(cities + counties, rising=HOUSING_RISING)
    )
    connector.months_back = MONTHS - 1
    accepted += connector.pull(today=months[-1], acting_user=admin)["accepted"]
    # The last complete month comes as the platform's file in the feed's drop folder, left
    # for the worker's periodic run (`make run`), with 宜春市's environment appeals doubled.
    dropped = fake_hotline.export(
        drops.drop_folder(hotline),
        f"{months[-1]:%Y-%m}",
        cities + counties,
        rising=HOUSING_RISING,
        surge=(ENVIRONMENT_SURGE,),
    )

    progress("warnings: evaluated three months ago, escalated, handled, evaluated today …")
    earlier = months[-3] + dt.timedelta(days=40)  # in the month after months[-3]
    raised_before = services.evaluate(earlier, acting_user=admin)["raised"]
    _life_cycle(people)
    services.escalate_overdue(earlier + dt.timedelta(days=20), acting_user=admin)
    services.escalate_overdue(today, acting_user=admin)
    # The province publishes the warnings raised so far; those raised today stay internal.
    published = services.publish(
        list(EarlyWarning.objects.values_list("pk", flat=True)),
        acting_user=people["province_admin"],
    )
    raised_now = services.evaluate(today, acting_user=admin)["raised"]
    counts = {
        status: EarlyWarning.objects.filter(status=status).count()
        for status in WarningStatus.values
    }
    return {
        "observations": accepted,
        "warnings raised": raised_before + raised_now,
        "warnings escalated": EarlyWarning.objects.filter(escalations__gt=0).count(),
        "warnings published": published,
        **{f"warnings {k}": v for k, v in counts.items()},
        "monitoring indicators": len(indicators),
        "file dropped for the worker": str(dropped),
    }


def _ingest(rows, feed, token, batch_id, admin):
    result = services.ingest(
        rows,
        feed=feed,
        token=token,
        scope=token.place if token else None,
        batch_id=batch_id,
        acting_user=admin,
    )
    if result.refused:
        raise RuntimeError(f"demo data refused: {result.refused[:3]}")
    return result


def _life_cycle(people) -> None:
    """The demo's people act on the first warnings: 南昌市's housing department handles its
    warning and the province closes it out; 南昌县 acknowledges its flood warning (it
    stays overdue and escalates); 九江市 handles its air warning, waiting for the
    province's close-out."""

    def first(**where):
        return EarlyWarning.objects.filter(**where).order_by("pk").first()

    housing = first(place__code=NANCHANG, rule__code="housing_complaints_rising")
    if housing is not None:
        services.acknowledge(housing, acting_user=people["nanchang_housing"])
        services.handle(
            housing,
            acting_user=people["nanchang_housing"],
            measures="演示：约谈物业企业 12 家，开展老旧小区维修专项整治。",
        )
        services.close_out(
            housing, acting_user=people["province_admin"], note="演示：已核实，同意销号。"
        )
    flood = first(place__code=NANCHANGXIAN, rule__code="waterlogging_many")
    if flood is not None:
        services.acknowledge(flood, acting_user=people["nanchangxian_admin"])
    air = first(place__code="360400")
    if air is not None and "admin360400" in people:
        services.acknowledge(air, acting_user=people["admin360400"])
        services.handle(
            air,
            acting_user=people["admin360400"],
            measures="演示：启动重污染天气应急响应，加强工地扬尘管控。",
        )


# `citycheck demo` runs this after the collection and reports stages (app order).
DEMO_STAGES = [("monitoring", load_monitoring_demo)]
