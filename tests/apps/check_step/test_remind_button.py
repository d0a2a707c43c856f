"""Issue 10 item 7e: 催报 from the completeness board, through the service the daily
command uses; a city reminds its own places only, once a day."""

import pytest
from django.core import mail
from django.urls import reverse

from citycheck.collection import services, workflow
from citycheck.collection.models import Reminder, ReminderKind, RoundStatus
from citycheck.core.models import ChangeRecord

pytestmark = pytest.mark.django_db


def board(province):
    return reverse("collection:completeness", args=[province.round.pk])


def remind(client, province, user):
    client.force_login(province.users[user])
    return client.post(
        reverse("collection:completeness_remind", args=[province.round.pk]), follow=True
    )


def test_city_reminds_the_places_under_it_that_owe_data(province, client):
    # 东湖区 has submitted; its sibling counties have not
    services.save_values(
        province.round, province.entries("360102"), acting_user=province.users["county"]
    )
    workflow.submit_submission(province.submission("360102"), acting_user=province.users["county"])
    client.force_login(province.users["city"])
    assert 'data-testid="remind"' in client.get(board(province)).content.decode()

    page = remind(client, province, "city").content.decode()
    sent = Reminder.objects.filter(round=province.round)
    # the places of 南昌市 with people who owe: the city's own data, 西湖区, and the
    # evaluator's third-party data of both counties (东湖区's self-check is submitted)
    assert {(r.place.code, r.user.username) for r in sent} == {
        ("360100", "city"),
        ("360103", "sibling"),
        ("360102", "evaluator"),
        ("360103", "evaluator"),
    }
    assert "已向 3 人发送催报提醒，涉及 3 个未提交的地区" in page
    assert {r.kind for r in sent} == {ReminderKind.OVERDUE}  # the deadline has passed
    assert ["sibling@example.org"] in [m.to for m in mail.outbox]
    assert not {"360400", "360402"} & {r.place.code for r in sent}  # another city's places
    assert ChangeRecord.objects.filter(event="reminded", object_id=str(province.round.pk))

    again = remind(client, province, "city").content.decode()
    assert "没有发送新的提醒" in again
    assert Reminder.objects.filter(round=province.round).count() == 4


def test_province_reminds_everyone_who_owes(province, client):
    remind(client, province, "province")
    places = set(Reminder.objects.values_list("place__code", flat=True))
    assert {"360100", "360103", "360400"} <= places  # the other city too


def test_county_has_no_button_and_is_refused(province, client):
    client.force_login(province.users["county"])
    assert 'data-testid="remind"' not in client.get(board(province)).content.decode()
    page = remind(client, province, "county").content.decode()
    assert "只有省级和市级审核用户可以催报" in page
    assert not Reminder.objects.exists()


def test_closed_round_is_not_reminded(province, client):
    province.round.status = RoundStatus.CLOSED
    province.round.save(update_fields=["status"])
    page = remind(client, province, "city").content.decode()
    assert "体检轮次已截止，不能催报" in page
    assert not Reminder.objects.exists()
