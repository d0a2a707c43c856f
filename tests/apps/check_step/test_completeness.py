"""The completeness board and reminders (the roll-up beside a city's own value: test_rollup)."""

import datetime as dt

import pytest
from django.core import mail

from citycheck.collection import reminders, services, workflow
from citycheck.collection.completeness import completeness_board
from citycheck.collection.models import Reminder, ReminderKind

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db

COUNTY = "360102"


def fill_and_submit(province, code, user):
    services.save_values(
        province.round, province.entries(code, GOOD_VALUES), acting_user=province.users[user]
    )
    workflow.submit_submission(province.submission(code), acting_user=province.users[user])


def test_board_by_place_rollup_department_dimension(province):
    fill_and_submit(province, COUNTY, "county")
    services.save_values(
        province.round,
        province.entries("360103", {"schools": 3.0}),
        acting_user=province.users["sibling"],
    )
    board = completeness_board(
        province.round, acting_user=province.users["province"], today=dt.date(2024, 7, 2)
    )
    places = board.places.set_index("code")
    assert places.loc[COUNTY, ["status", "filled", "expected", "overdue"]].tolist() == [
        "submitted",
        6,
        6,
        False,
    ]
    assert places.loc["360103", ["status", "filled", "overdue"]].tolist() == ["draft", 1, True]
    rollup = board.rollup.set_index("code")
    # 南昌市 has five counties: one submitted, four overdue drafts
    assert rollup.loc["360100", ["places", "submitted", "draft", "overdue", "filled"]].tolist() == [
        5,
        1,
        4,
        4,
        7,
    ]
    assert rollup.loc["360000", "places"] == 8
    dimensions = board.dimensions.set_index("dimension")
    assert dimensions.loc["ecology", ["indicators", "filled", "expected"]].tolist() == [2, 2, 16]
    departments = board.departments.set_index("department_id")
    education = province.departments["education"].pk
    assert departments.loc[education, ["indicators", "filled"]].tolist() == [1, 2]


def test_board_is_limited_to_the_users_reach(province):
    board = completeness_board(province.round, acting_user=province.users["city"])
    assert set(board.places["code"]) == {"360100", "360102", "360103", "360104", "360111", "360112"}
    assert completeness_board(province.round, acting_user=province.users["public"]).places.empty


def test_reminders_before_and_after_the_deadline_once_a_day(province):
    fill_and_submit(province, COUNTY, "county")
    before = reminders.send_reminders(dt.date(2024, 6, 27))  # three days before 30 June
    recipients = {(r.user.username, r.place.code) for r in before}
    assert ("sibling", "360103") in recipients and ("county", COUNTY) not in recipients
    assert {r.kind for r in before} == {ReminderKind.BEFORE_DEADLINE}
    assert len(mail.outbox) == len(before) and "填报提醒" in mail.outbox[0].subject
    assert reminders.send_reminders(dt.date(2024, 6, 27)) == []  # idempotent per day
    assert len(mail.outbox) == len(before)
    assert reminders.send_reminders(dt.date(2024, 6, 25)) == []  # nothing due that day
    late = reminders.send_reminders(dt.date(2024, 7, 1))
    assert {r.kind for r in late} == {ReminderKind.OVERDUE} and "逾期 1 天" in late[0].message
    assert Reminder.objects.filter(emailed=True).count() == len(before) + len(late)
    assert set(reminders.unread_reminders(province.users["sibling"])) >= {
        r for r in late if r.user == province.users["sibling"]
    }


def test_evaluator_gets_reminders_for_third_party_data(province):
    created = reminders.send_reminders(dt.date(2024, 6, 29))
    assert {r.place.code for r in created if r.user.username == "evaluator"} == {"360102", "360103"}


def test_every_place_and_department_sees_what_it_owes(province):
    county = services.obligations(province.users["county"])
    assert county[["place", "status", "indicators"]].values.tolist() == [[COUNTY, "draft", 6]]
    assert county["deadline"].tolist() == [dt.date(2024, 6, 30)]
    housing = services.obligations(province.users["housing"])
    assert housing[["place", "department", "indicators"]].values.tolist() == [
        [COUNTY, "housing", 2]
    ]
    city = services.obligations(province.users["city"])
    assert len(city) == 6  # the city itself and its five counties
    evaluator = services.obligations(province.users["evaluator"])
    assert set(evaluator["place"]) == {"360102", "360103"} and set(evaluator["source"]) == {
        "third_party"
    }
    assert services.obligations(province.users["public"]).empty
