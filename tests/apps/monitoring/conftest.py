import pytest

from citycheck.monitoring.testing import build_monitoring_province


@pytest.fixture
def province(db):
    return build_monitoring_province()
