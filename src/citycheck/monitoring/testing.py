"""Test data for monitoring: the test province's places, the departments the monitoring
files name, the monitoring files loaded, one user per role and a helper to feed series."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from citycheck.accounts.models import Department, User
from citycheck.places.models import Place
from citycheck.testing import build_departments, build_places, build_users

from . import services
from .loading import load_monitoring
from .models import Feed

DEPARTMENTS = {
    "housing": "住房城乡建设部门",
    "ecology_environment": "生态环境部门",
    "transport": "交通运输部门",
}


@dataclass
class MonitoringProvince:
    places: dict[str, Place]
    departments: dict[str, Department]
    users: dict[str, User]

    def feed(self, code: str) -> Feed:
        return Feed.objects.get(code=code)


def build_monitoring_province() -> MonitoringProvince:
    """The test province (``citycheck.testing.PLACES``) with monitoring loaded and
    ``citycheck.testing.build_users``' users (department filler: housing, at 南昌市)."""
    places = build_places()
    departments = build_departments(DEPARTMENTS)
    users = build_users(places, departments)
    load_monitoring()
    services._Lookups.clear()
    return MonitoringProvince(places, departments, users)


def months(first: dt.date, count: int) -> list[str]:
    """``count`` months from ``first`` written as the API writes them (2025-03)."""
    year, month = first.year, first.month
    out = []
    for _ in range(count):
        out.append(f"{year}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def series_rows(place: str, indicator: str, values, first: dt.date) -> list[dict]:
    return [
        {"place": place, "indicator": indicator, "period": period, "value": value}
        for period, value in zip(months(first, len(values)), values, strict=True)
    ]
