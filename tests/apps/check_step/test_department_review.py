"""Issue 10 item 7a: who reviews a department's part before the province accepts it.

A city department's part (the housing bureau's indicators of 南昌市) is approved by the
administrator of 南昌市 itself, then accepted by the province; a county department's part
goes through its city like the county's own data. Each step is taken as the person would
take it: a POST to the submission's step, as that user.
"""

import pytest
from django.urls import reverse

from citycheck.collection import services, workflow
from citycheck.collection.models import Source, SubmissionStatus
from citycheck.core.choices import Role
from citycheck.testing import build_user

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db

CITY = "360100"
HOUSING_INDICATORS = ("green_space_rate", "park_green_area_per_capita")


def housing_part(province, code, filler):
    """The housing bureau's part of ``code``, filled and submitted by ``filler``."""
    place = province.places[code]
    submission = services.submission_for(
        province.round, place, Source.SELF_CHECK, province.departments["housing"]
    )
    services.save_values(
        province.round,
        [
            services.ValueEntry(place, province.indicators[k], GOOD_VALUES[k], "", None)
            for k in HOUSING_INDICATORS
        ],
        acting_user=filler,
    )
    workflow.submit_submission(submission, acting_user=filler)
    return submission


def step(client, user, submission, name, comment=""):
    client.force_login(user)
    return client.post(
        reverse("collection:submission_step", args=[submission.pk, name]),
        {"comment": comment},
        follow=True,
    )


def status(submission):
    submission.refresh_from_db()
    return submission.status


def test_city_department_part_is_approved_by_its_city_before_the_province(province, client):
    users = province.users
    filler = build_user("city_housing", Role.DEPARTMENT_FILLER, province.places[CITY])
    filler.department = province.departments["housing"]
    filler.save()
    submission = housing_part(province, CITY, filler)
    assert workflow.needs_city_step(submission)

    # the province cannot take it before the city has looked at it
    step(client, users["reviewer"], submission, "accept")
    assert status(submission) == SubmissionStatus.SUBMITTED
    round_page = reverse("collection:round", args=[province.round.pk])
    client.force_login(users["reviewer"])
    assert submission.place.name_zh not in _awaiting(client.get(round_page))

    # the city's own administrator finds it waiting, and its page offers approve / return
    client.force_login(users["city"])
    assert "南昌市" in _awaiting(client.get(round_page))
    page = client.get(reverse("collection:submission", args=[submission.pk]))
    assert "steps/approve/" in page.content.decode()
    # another city's administrator may not approve it
    step(client, users["other_city"], submission, "approve")
    assert status(submission) == SubmissionStatus.SUBMITTED
    step(client, users["city"], submission, "approve")
    assert status(submission) == SubmissionStatus.CITY_APPROVED

    client.force_login(users["reviewer"])
    assert "南昌市" in _awaiting(client.get(round_page))
    step(client, users["reviewer"], submission, "accept")
    assert status(submission) == SubmissionStatus.ACCEPTED


def test_city_may_return_its_department_part_with_a_comment(province, client):
    filler = build_user("city_housing", Role.DEPARTMENT_FILLER, province.places[CITY])
    filler.department = province.departments["housing"]
    filler.save()
    submission = housing_part(province, CITY, filler)
    step(client, province.users["city"], submission, "return", comment="绿地率请附测绘成果")
    assert status(submission) == SubmissionStatus.RETURNED


def test_city_own_whole_data_still_goes_straight_to_the_province(province):
    whole = services.submission_for(province.round, province.places[CITY], Source.SELF_CHECK)
    assert not workflow.needs_city_step(whole)
    assert not workflow.may_review(province.users["city"], whole, "city")


def test_county_department_part_goes_through_its_city(province, client):
    submission = housing_part(province, "360102", province.users["housing"])
    assert workflow.needs_city_step(submission)
    step(client, province.users["county"], submission, "approve")
    assert status(submission) == SubmissionStatus.SUBMITTED
    step(client, province.users["city"], submission, "approve")
    assert status(submission) == SubmissionStatus.CITY_APPROVED


def _awaiting(response) -> str:
    """The text of the round page's 待我审核 table (empty when there is none)."""
    html = response.content.decode()
    start = html.find('data-testid="awaiting"')
    return "" if start < 0 else html[start : html.find("</table>", start)]
