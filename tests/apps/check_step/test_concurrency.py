"""Optimistic concurrency: two people editing the same form never silently overwrite."""

import pytest

from citycheck.collection import services, workflow
from citycheck.collection.models import SubmissionStatus, Value

pytestmark = pytest.mark.django_db

COUNTY = "360102"


def test_second_save_with_an_old_version_is_refused_with_the_other_change(province):
    users = province.users
    services.save_values(
        province.round,
        province.entries(COUNTY, {"schools": 40.0}, read_version=0),
        acting_user=users["county"],
    )
    # Both read version 1; the department filler of another indicator is not involved.
    services.save_values(
        province.round,
        province.entries(COUNTY, {"schools": 42.0}, read_version=1),
        acting_user=users["county"],
    )
    with pytest.raises(services.StaleValueError) as stale:
        services.save_values(
            province.round,
            province.entries(COUNTY, {"schools": 45.0}, read_version=1),
            acting_user=users["city"],
        )
    conflict = stale.value.conflicts[0]
    assert (
        conflict["indicator"],
        conflict["user"],
        conflict["value"],
        conflict["stored"],
        conflict["read"],
    ) == ("schools", "county", 42.0, 2, 1)
    assert "county" in stale.value.message and "42" in stale.value.message
    assert Value.objects.get(indicator__code="schools").value == 42.0


def test_a_stale_entry_refuses_the_whole_form(province):
    users = province.users
    services.save_values(
        province.round, province.entries(COUNTY, {"schools": 40.0}), acting_user=users["county"]
    )
    entries = province.entries(COUNTY, {"green_space_rate": 38.0, "schools": 41.0}, read_version=0)
    with pytest.raises(services.StaleValueError):
        services.save_values(province.round, entries, acting_user=users["county"])
    assert not Value.objects.filter(indicator__code="green_space_rate").exists()


def test_two_creators_of_the_same_new_value(province):
    users = province.users
    services.save_values(
        province.round,
        province.entries(COUNTY, {"schools": 40.0}, read_version=0),
        acting_user=users["county"],
    )
    with pytest.raises(services.StaleValueError):
        services.save_values(
            province.round,
            province.entries(COUNTY, {"schools": 41.0}, read_version=0),
            acting_user=users["city"],
        )


def test_two_reviewers_cannot_both_act(province):
    from .conftest import GOOD_VALUES

    users = province.users
    services.save_values(
        province.round, province.entries(COUNTY, GOOD_VALUES), acting_user=users["county"]
    )
    submission = province.submission(COUNTY)
    workflow.submit_submission(submission, acting_user=users["county"])
    stale_copy = province.submission(COUNTY)
    workflow.approve_submission(submission, acting_user=users["city"])
    with pytest.raises(workflow.WorkflowError):
        workflow.return_submission(stale_copy, acting_user=users["city"], comment="晚了一步")
    assert province.submission(COUNTY).status == SubmissionStatus.CITY_APPROVED
