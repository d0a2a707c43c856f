"""The check-step province (tests/apps/check_step/conftest.py) for the pages and API."""

from tests.apps.check_step.conftest import GOOD_VALUES, province, rules_file  # noqa: F401
