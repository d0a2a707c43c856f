"""The public form (no login) and its refusals, the poster, the staff pages."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.survey.models import Flag, Response, SurveyLink
from citycheck.survey.services import close_survey

from .conftest import enter, synthetic_rows


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    cache.clear()


def form_answers(page: str, county="360102") -> dict:
    """A complete, varied set of answers for the form in ``page``."""
    data = {"form_key": re.search(r'name="form_key" value="([^"]+)"', page).group(1)}
    likert = sorted(set(re.findall(r'name="([a-z_]+)" value="5"', page)))
    for number, code in enumerate(likert):
        data[code] = str(1 + number % 5)
    data.update(
        place=county,
        sex="female",
        age_band="30_39",
        residence_years="over_10",
        tenure="rented",
        tr_mode="walk",
        in_cost_share="over_50",
        comment="请联系我 13912345678",
    )
    return data


def link_url(province, city="360100"):
    link = SurveyLink.objects.get(survey=province.survey, place__code=city)
    return reverse("survey:public_form", args=[link.token])


def test_a_resident_answers_without_login_and_cannot_replay(surveyed, client, settings):
    url = link_url(surveyed)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "东湖区" in text and "濂溪区" not in text  # only the city's counties
    data = form_answers(text)
    done = client.post(url, data)
    assert done.status_code == 200 and 'data-testid="survey-thanks"' in done.content.decode()
    response = Response.objects.get()
    assert response.place.code == "360102" and response.sex == "female"
    assert "13912345678" not in str(response.answers) and "*" * 11 in response.answers["comment"]
    assert Flag.SPEEDER in response.flags  # answered within a second
    replay = client.post(url, data)
    assert replay.status_code == 409 and Response.objects.count() == 1
    # the same browser again: stored, but flagged as a repeat from the device
    again = form_answers(client.get(url).content.decode())
    again["sex"] = "male"
    assert client.post(url, again).status_code == 200
    assert Flag.DEVICE in Response.objects.order_by("pk").last().flags


def test_refusals_are_clear_pages(surveyed, client, settings):
    assert client.get("/survey/r/forged-token/").status_code == 404
    url = link_url(surveyed)
    data = form_answers(client.get(url).content.decode())
    forged = dict(data, form_key=data["form_key"][:-3] + "abc")
    page = client.post(url, forged)
    assert page.status_code == 400 and "survey-invalid_form" in page.content.decode()
    missing = dict(data)
    del missing["sex"]
    page = client.post(url, missing)
    assert page.status_code == 400 and "form-errors" in page.content.decode()
    settings.CITYCHECK_SURVEY_POSTS_PER_MINUTE = 2
    codes = [client.post(url, missing).status_code for _ in range(3)]
    assert codes[-1] == 429
    assert "survey-too_many" in client.post(url, data).content.decode()
    close_survey(surveyed.survey, acting_user=surveyed.admin)
    assert client.get(url).status_code == 410
    assert Response.objects.count() == 0


def test_poster_has_an_inline_qr_code(surveyed, client):
    client.force_login(surveyed.users[Role.CITY_ADMIN])
    page = client.get(reverse("survey:poster", args=[surveyed.survey.pk, "360100"]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "<svg" in text and link_url(surveyed) in text


def test_progress_board_follows_reach(surveyed, client):
    enter(surveyed, synthetic_rows(["360102", "360402"], 12))
    client.force_login(surveyed.users[Role.COUNTY_ADMIN])
    page = client.get(reverse("survey:detail", args=[surveyed.survey.pk])).content.decode()
    assert "东湖区" in page and "濂溪区" not in page and "西湖区" not in page
    client.force_login(surveyed.users[Role.PROVINCE_ADMIN])
    page = client.get(reverse("survey:detail", args=[surveyed.survey.pk])).content.decode()
    assert "濂溪区" in page


def test_province_weights_as_a_job_and_sees_intervals(surveyed, client):
    enter(surveyed, synthetic_rows(["360102", "360103", "360402", "360403"], 30))
    client.force_login(surveyed.users[Role.CITY_ADMIN])
    assert client.post(reverse("survey:weight", args=[surveyed.survey.pk])).status_code == 403
    client.force_login(surveyed.admin)
    job = client.post(reverse("survey:weight", args=[surveyed.survey.pk]))
    assert job.status_code == 302
    page = client.get(reverse("survey:scores", args=[surveyed.survey.pk])).content.decode()
    assert 'data-place="360100"' in page and re.search(r"\(\d+\.\d–\d+\.\d\)", page)


def test_import_page_reports_rows_and_columns(surveyed, client):
    client.force_login(surveyed.admin)
    header = "place,sex,age_band,eco_parks\n"
    upload = pytest.importorskip("django.core.files.uploadedfile").SimpleUploadedFile(
        "interviews.csv", (header + "999999,male,18_29,9\n").encode(), "text/csv"
    )
    page = client.post(
        reverse("survey:import", args=[surveyed.survey.pk]), {"file": upload, "dry_run": "1"}
    )
    assert page.status_code == 400
    text = page.content.decode()
    assert "import-issues" in text and "999999" in text and "eco_parks" in text
    assert not Response.objects.exists()
    client.force_login(surveyed.users[Role.PUBLIC])
    assert client.get(reverse("survey:import", args=[surveyed.survey.pk])).status_code == 403


def test_open_page_refuses_bad_input_and_opens_for_the_province(small_province, client):
    from citycheck.survey.models import Questionnaire, Survey
    from citycheck.survey.services import import_questionnaire

    from .conftest import QUESTIONNAIRE

    admin = small_province.users[Role.PROVINCE_ADMIN]
    import_questionnaire(QUESTIONNAIRE, acting_user=admin)
    client.force_login(admin)
    url = reverse("survey:open")
    assert client.post(url, {"round": "abc", "questionnaire": "1"}).status_code == 302
    assert not Survey.objects.exists()
    questionnaire = Questionnaire.objects.get()
    client.post(url, {"round": small_province.open_round.pk, "questionnaire": questionnaire.pk})
    assert Survey.objects.get().is_open
    client.force_login(small_province.users[Role.CITY_ADMIN])
    client.post(
        url, {"round": small_province.published_round.pk, "questionnaire": questionnaire.pk}
    )
    assert Survey.objects.count() == 1  # a city may not open a survey
