"""The check-step province (tests/apps/check_step/conftest.py) for the security tests."""

from tests.apps.check_step.conftest import GOOD_VALUES, province, rules_file  # noqa: F401
