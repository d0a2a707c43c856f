"""A published release of the small province (four counties ranked) for the report tests."""

import pytest

from citycheck.assessment import services as assessment
from citycheck.core.choices import Role
from tests.apps.assessment.conftest import method, province  # noqa: F401  (fixtures)


@pytest.fixture
def draft_release(province, method):  # noqa: F811
    return assessment.run_assessment(
        province.open_round, method, acting_user=province.users[Role.PROVINCE_ADMIN]
    )


@pytest.fixture
def published_release(province, draft_release):  # noqa: F811
    assessment.publish_release(draft_release, acting_user=province.users[Role.PROVINCE_ADMIN])
    draft_release.refresh_from_db()
    return draft_release


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
