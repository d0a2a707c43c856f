"""The diagnosis test province, reused: projects start from its problem list; and a
small project library on it."""

import pytest
from django.test import Client

from citycheck.core.choices import Role
from citycheck.diagnosis import services as diagnosis
from citycheck.diagnosis.models import Problem
from citycheck.renewal import services
from citycheck.renewal.models import ProjectStatus
from tests.apps.diagnosis.conftest import province, test_catalogue  # noqa: F401

from .test_services import GOOD_ROW, template


@pytest.fixture
def library(province, tmp_path):  # noqa: F811  (the imported fixture)
    """Two adopted projects in 浔阳区 (a park for the green-space problem, 2025, and a
    drainage project, 2026) and one in 南昌市 without a problem."""
    diagnosis.run_diagnosis(province.open_round)
    green = Problem.objects.get(round=province.open_round, disease="lack_of_green_space")
    rows = [
        [*GOOD_ROW[:-1], str(green.pk)],
        [
            "360403",
            "浔阳区排水管网",
            "drainage_works",
            2026,
            3000,
            "2026-01-01",
            "2026-12-31",
            "",
            116.1,
            29.6,
            "waterlogging:-1",
            "",
            "",
        ],
        [
            "360100",
            "南昌市口袋公园",
            "parks_and_greenways",
            2025,
            800,
            "2025-01-01",
            "2025-10-31",
            "",
            115.9,
            28.7,
            "green_space:0.3",
            "",
            "",
        ],
    ]
    return province, services.import_projects(template(tmp_path / "lib.xlsx", rows))


@pytest.fixture
def candidate(library):
    """浔阳区's park, turned back into a candidate; with the province admin's client."""
    built, (park, _drainage, _nanchang) = library
    park.status = ProjectStatus.CANDIDATE
    park.save()
    admin = Client()
    admin.force_login(built.users[Role.PROVINCE_ADMIN])
    return park, admin, built
