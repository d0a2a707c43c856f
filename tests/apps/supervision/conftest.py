"""The assessment tests' small province (rounds 2023 published, 2024 closed with a
published release), with 2025 renewal projects reporting monthly: 南昌市 on schedule,
九江市's county behind."""

import datetime as dt

import pytest

from citycheck.core.choices import Role
from citycheck.renewal.models import ProjectStatus, RenewalProject
from citycheck.renewal.services import report_progress
from tests.apps.assessment.conftest import method, province  # noqa: F401
from tests.apps.reports.conftest import draft_release, media_root, published_release  # noqa: F401


@pytest.fixture
def projects(province):  # noqa: F811
    admin = province.users[Role.PROVINCE_ADMIN]
    made = {}
    for label, name, pace in (("city", "南昌市口袋公园", 1.0), ("other_county", "濂溪区排水", 0.3)):
        project = RenewalProject.objects.create(
            place=province.places[label],
            year=2025,
            name=name,
            project_type="parks_and_greenways",
            budget=1000,
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 10, 31),
            status=ProjectStatus.ADOPTED,
        )
        for month in range(1, 7):
            report_progress(
                project,
                month=dt.date(2025, month, 1),
                percent_complete=round(min(100, pace * 10 * month), 1),
                acting_user=admin,
            )
        made[label] = project
    return made


@pytest.fixture
def admin(province):  # noqa: F811
    return province.users[Role.PROVINCE_ADMIN]
