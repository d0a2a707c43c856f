"""The interviewer (访问员): a survey company's staff, assigned places, entering telephone
or face-to-face interviews and importing external tools' exports for those places only.

In the small province the interviewer is assigned 东湖区 (360102) and 西湖区 (360103);
濂溪区 (360402) is a place of the survey outside its assignment.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from citycheck.core import access
from citycheck.core.choices import Action, Role
from citycheck.survey import services
from citycheck.survey.models import Channel, Response

from .conftest import answers_row

ASSIGNED, OTHER = "360102", "360402"


def row(county, **extra):
    return answers_row(county, "male", "30_39", lambda item: 4, **extra)


def csv_upload(rows) -> SimpleUploadedFile:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(r.get(h, "")) for h in header) for r in rows]
    return SimpleUploadedFile("export.csv", ("\n".join(lines) + "\n").encode(), "text/csv")


@pytest.fixture
def interviewer(surveyed):
    return surveyed.users[Role.INTERVIEWER]


def test_the_role_may_interview_and_nothing_else(interviewer):
    assert access.may(interviewer, Action.INTERVIEW)
    for action in (Action.VIEW, Action.CHANGE, Action.APPROVE, Action.PUBLISH, Action.MANAGE):
        assert not access.may(interviewer, action)
    assert set(access.reach(interviewer).values_list("code", flat=True)) == {"360102", "360103"}


def test_interviewer_enters_an_interview_for_an_assigned_place(surveyed, interviewer, client):
    client.force_login(interviewer)
    assert client.get(reverse("survey:list")).status_code == 200
    detail = client.get(reverse("survey:detail", args=[surveyed.survey.pk]))
    assert detail.status_code == 200 and detail.context["may_enter"]
    url = reverse("survey:interview", args=[surveyed.survey.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, row(ASSIGNED))
    assert response.status_code == 302
    stored = Response.objects.get()
    assert (stored.place.code, stored.channel, stored.entered_by) == (
        ASSIGNED,
        Channel.INTERVIEW,
        interviewer,
    )


def test_interviewer_is_refused_other_places_with_a_clear_message(surveyed, interviewer, client):
    client.force_login(interviewer)
    url = reverse("survey:interview", args=[surveyed.survey.pk])
    response = client.post(url, row(OTHER))
    assert response.status_code == 400
    assert "不在您负责的地区范围内" in response.content.decode()
    assert not Response.objects.exists()


def test_interviewer_imports_only_its_places(surveyed, interviewer, client):
    client.force_login(interviewer)
    url = reverse("survey:import", args=[surveyed.survey.pk])
    mixed = [row(ASSIGNED, reference="a1"), row(OTHER, reference="a2")]
    page = client.post(url, {"file": csv_upload(mixed), "dry_run": "0"})
    assert page.status_code == 400
    text = page.content.decode()
    assert "不在您负责的地区范围内" in text and "濂溪区" in text
    assert not Response.objects.exists()  # all or nothing
    own = [row(ASSIGNED, reference="b1"), row("360103", reference="b2")]
    page = client.post(url, {"file": csv_upload(own), "dry_run": "0"})
    assert page.status_code == 200
    assert set(Response.objects.values_list("place__code", flat=True)) == {"360102", "360103"}
    assert set(Response.objects.values_list("channel", flat=True)) == {Channel.IMPORT}


def test_the_service_refuses_rows_outside_the_assignment(surveyed, interviewer):
    stored, issues = services.record_responses(
        surveyed.survey, [row(OTHER)], acting_user=interviewer, channel=Channel.INTERVIEW
    )
    assert stored == 0 and [(i.row, i.column) for i in issues] == [(2, "place")]
    stored, issues = services.record_responses(
        surveyed.survey, [row(OTHER)], acting_user=surveyed.admin, channel=Channel.INTERVIEW
    )
    assert stored == 1 and not issues  # the province enters for every place


@pytest.mark.parametrize(
    "role", [Role.EVALUATOR, Role.COUNTY_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_REVIEWER]
)
def test_other_roles_may_not_enter_interviews(surveyed, client, role):
    client.force_login(surveyed.users[role])
    for name in ("survey:interview", "survey:import"):
        assert client.get(reverse(name, args=[surveyed.survey.pk])).status_code == 403
    with pytest.raises(services.PermissionDenied):
        services.record_responses(
            surveyed.survey, [row(ASSIGNED)], acting_user=surveyed.users[role]
        )


def test_an_interviewer_without_places_in_the_round_is_refused(surveyed, interviewer, client):
    interviewer.assigned_places.clear()
    client.force_login(interviewer)
    for name in ("survey:interview", "survey:import", "survey:detail"):
        assert client.get(reverse(name, args=[surveyed.survey.pk])).status_code == 403


def test_interviewer_sees_no_other_apps_data(surveyed, interviewer, client):
    client.force_login(interviewer)
    round_ = surveyed.open_round
    assert client.get(reverse("collection:round", args=[round_.pk])).status_code == 404
    value = surveyed.value(round_, "county")
    assert client.get(reverse("collection:value", args=[value.pk])).status_code == 404
    assert client.get(f"/api/collection/values/{value.pk}/").status_code == 404
    # the survey's management stays the province's
    services.record_responses(surveyed.survey, [row(ASSIGNED)], acting_user=interviewer)
    survey = surveyed.survey.pk
    assert client.post(reverse("survey:weight", args=[survey])).status_code == 403
    assert client.post(reverse("survey:close", args=[survey])).status_code == 403
    override = reverse("survey:override", args=[survey, Response.objects.get().pk])
    assert client.post(override, {"counted": "1", "reason": "x"}).status_code == 403


def test_the_demo_records_a_few_interviews_as_the_interviewer(small_province, monkeypatch):
    from citycheck.collection.models import Round
    from citycheck.survey import demo
    from citycheck.survey.demo import INTERVIEWS, load_surveys

    monkeypatch.setattr(demo, "RESPONSES_PER_CITY", 60)  # the demo's 1,500 are not needed here
    Round.objects.filter(pk=small_province.open_round.pk).update(is_synthetic=True)
    load_surveys(progress=lambda *a: None)
    interviews = Response.objects.filter(channel=Channel.INTERVIEW)
    assert interviews.count() == INTERVIEWS * Round.objects.filter(is_synthetic=True).count()
    assert {r.entered_by.username for r in interviews} == {"interviewer"}
    assert {r.place.parent.code for r in interviews} == {"360100"}
    assert Response.objects.filter(channel=Channel.IMPORT).exists()
    assert Response.objects.exclude(street="").exists()  # 东湖区/西湖区 answers name streets
