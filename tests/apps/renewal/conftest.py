"""The diagnosis test province, reused: projects start from its problem list."""

from tests.apps.diagnosis.conftest import province, test_catalogue  # noqa: F401
