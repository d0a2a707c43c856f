"""Connectors pull observations from other platforms' HTTP APIs on a schedule.

A connector turns what a platform answers into observation rows and hands them to
:func:`citycheck.monitoring.services.ingest` as one batch per period (batch id
``<connector>-<period>``), so pulling a period twice writes nothing twice. A platform that
revises a period already taken is reported (the batch id is refused for other rows), not
silently overwritten.

The one connector here reads a 12345 hotline platform:
``GET {url}/api/v1/appeals/monthly?month=2025-03`` answering
``{"month": "2025-03", "items": [{"region": "360102", "category": "住房", "count": 12}, …]}``.
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from django.utils import timezone

from . import services
from .models import Feed

logger = logging.getLogger(__name__)

# 12345 appeal categories → monitoring indicators.
HOTLINE_CATEGORIES = {
    "住房": "hotline_housing_complaints",
    "生态环境": "hotline_environment_complaints",
    "交通": "hotline_traffic_complaints",
}


class ConnectorError(RuntimeError):
    """The platform could not be read (unreachable, an error status, an unreadable answer)."""


class Connector:
    """Base class: ``periods(feed, today)`` says what to pull, ``fetch(period)`` returns rows."""

    name = ""

    def __init__(self, feed: Feed, *, transport: httpx.BaseTransport | None = None):
        self.feed = feed
        self.client = httpx.Client(base_url=feed.url, timeout=10.0, transport=transport)

    def periods(self, today: dt.date) -> list[str]:
        raise NotImplementedError

    def fetch(self, period: str) -> list[dict]:
        raise NotImplementedError

    def pull(self, *, today: dt.date | None = None, acting_user=None) -> dict:
        """Fetch and ingest each period; returns counts (periods taken before not counted)."""
        today = today or timezone.localdate()
        counts = {"periods": 0, "accepted": 0, "refused": 0, "conflicts": 0}
        for period in self.periods(today):
            rows = self.fetch(period)
            try:
                result = services.ingest(
                    rows,
                    feed=self.feed,
                    batch_id=f"{self.name}-{period}",
                    acting_user=acting_user,
                    today=today,
                )
            except services.MonitoringError:
                counts["conflicts"] += 1
                logger.warning("%s: %s was revised by the platform; not taken", self.name, period)
                continue
            if result.replayed:
                continue  # taken before
            counts["periods"] += 1
            counts["accepted"] += result.accepted
            counts["refused"] += len(result.refused)
            for refusal in result.refused:
                logger.warning("%s %s row %s: %s", self.name, period, refusal.row, refusal.reason)
        Feed.objects.filter(pk=self.feed.pk).update(last_pulled=timezone.now())
        return counts


class Hotline12345Connector(Connector):
    name = "hotline_12345"
    months_back = 3

    def periods(self, today: dt.date) -> list[str]:
        """The last ``months_back`` complete months."""
        months = []
        year, month = today.year, today.month
        for _ in range(self.months_back):
            month -= 1
            if month == 0:
                year, month = year - 1, 12
            months.append(f"{year}-{month:02d}")
        return sorted(months)

    def fetch(self, period: str) -> list[dict]:
        try:
            response = self.client.get("/api/v1/appeals/monthly", params={"month": period})
            response.raise_for_status()
            items = response.json()["items"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as bad:
            raise ConnectorError(f"{self.name}: {period}: {bad}") from bad
        return appeal_rows(items, period)


def appeal_rows(items: list[dict], period: str) -> list[dict]:
    """Observation rows of a month's 12345 appeal counts by region and category (the
    monitored categories only)."""
    rows = []
    for item in items:
        indicator = HOTLINE_CATEGORIES.get(item.get("category"))
        if indicator is None:
            continue  # categories not monitored
        rows.append(
            {
                "place": item.get("region"),
                "indicator": indicator,
                "period": period,
                "value": item.get("count"),
            }
        )
    return rows


CONNECTORS = {Hotline12345Connector.name: Hotline12345Connector}


def pull_due(now: dt.datetime | None = None, *, transport=None) -> dict:
    """Pull every active pulled feed whose interval elapsed."""
    now = now or timezone.now()
    done = {}
    for feed in Feed.objects.filter(kind=Feed.Kind.PULL, active=True).exclude(url=""):
        if feed.last_pulled and feed.last_pulled + dt.timedelta(minutes=feed.every_minutes) > now:
            continue
        connector_class = CONNECTORS.get(feed.connector)
        if connector_class is None:
            continue
        try:
            done[feed.code] = connector_class(feed, transport=transport).pull(
                today=timezone.localdate(now)
            )
        except ConnectorError:
            logger.exception("pulling %s failed", feed.code)
            done[feed.code] = {"error": 1}
    return done
