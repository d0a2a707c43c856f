"""Only users who may publish a release start the heavy job that renders every report of
it (issue 16 item 2): the public, a county and a city are refused and no job is queued."""

import pytest
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.core.models import Job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.PUBLIC, Role.COUNTY_ADMIN, Role.CITY_ADMIN])
def test_only_publishers_start_the_archive_of_every_report(
    client,
    province,
    published_release,
    media_root,
    role,
):
    client.force_login(province.users[role])
    response = client.post(
        reverse("reports:archive_start", args=[published_release.pk]), {"format": "html"}
    )
    assert response.status_code in (302, 403, 404)
    assert not Job.objects.exists()
