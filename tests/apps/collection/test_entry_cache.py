"""The entry page's kept parts (the indicators a user is shown, the form's rows) follow
every change they depend on: the next page after the change shows it."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from citycheck.collection import services, workflow
from citycheck.collection.models import RoundStatus, Source, Submission, SubmissionStatus

COUNTY = "360102"


@pytest.fixture
def page_cache(settings):
    settings.CITYCHECK_PAGE_CACHE_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def entry_page(client, province, user, code=COUNTY):
    client.force_login(province.users[user])
    submission = services.submission_for(province.round, province.places[code], Source.SELF_CHECK)
    response = client.get(reverse("collection:submission", args=[submission.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_indicator_given_to_the_department_shows_on_its_next_page(client, province, page_cache):
    schools = province.indicators["schools"]
    assert f'name="value-{schools.pk}"' not in entry_page(client, province, "housing")
    services.assign_department(
        province.round,
        schools,
        province.departments["housing"],
        acting_user=province.users["province"],
    )
    assert f'name="value-{schools.pk}"' in entry_page(client, province, "housing")


def test_a_new_indicator_of_the_system_shows_on_the_next_page(client, province, page_cache):
    before = entry_page(client, province, "county")
    added = province.indicators["schools"]
    added.pk, added._state.adding = None, True
    added.code, added.name_zh, added.order = "libraries", "公共图书馆数量", 9
    added.save()
    assert f'name="value-{added.pk}"' not in before
    assert f'name="value-{added.pk}"' in entry_page(client, province, "county")


def test_closing_the_round_makes_the_next_page_read_only(client, province, page_cache):
    schools = province.indicators["schools"].pk
    assert 'data-testid="save-draft"' in entry_page(client, province, "county")
    services.set_round_status(
        province.round, RoundStatus.CLOSED, acting_user=province.users["province"]
    )
    page = entry_page(client, province, "county")
    assert 'data-testid="save-draft"' not in page
    assert f'name="value-{schools}" value="" inputmode="decimal" size="10"' in page
    assert page.split(f'name="value-{schools}"')[1].split(">")[0].endswith(" readonly")


def test_comments_evidence_and_revision_decisions_show_on_the_next_page(
    client, province, page_cache
):
    county, city = province.users["county"], province.users["city"]
    submission = services.submission_for(province.round, province.places[COUNTY], Source.SELF_CHECK)
    Submission.objects.filter(pk=submission.pk).update(status=SubmissionStatus.CITY_APPROVED)
    assert "暂无意见" in entry_page(client, province, "county")
    services.add_comment(submission, "请核对绿地率。", acting_user=city)
    services.attach_evidence(submission, "note.pdf", b"%PDF-1.4\n%%EOF\n", acting_user=county)
    page = entry_page(client, province, "county")
    assert "请核对绿地率。" in page and "note.pdf" in page
    revision = workflow.request_revision(submission, acting_user=county, reason="统计口径调整")
    assert "待审批" in entry_page(client, province, "county")
    workflow.decide_revision(revision, grant=False, acting_user=city, note="口径无误")
    assert "已驳回" in entry_page(client, province, "county")


def test_a_countys_save_shows_in_the_citys_rollup_on_the_next_page(
    client, province, page_cache, settings
):
    settings.CITYCHECK_PEER_CACHE_SECONDS = 60  # the roll-up kept too
    users = province.users
    services.save_values(
        province.round, province.entries(COUNTY, {"schools": 40.0}), acting_user=users["county"]
    )

    def rollup_cell():
        page = entry_page(client, province, "city", code="360100")
        return page.split('data-testid="rollup-schools"')[1].split("</td>")[0]

    assert "40" in rollup_cell()
    services.save_values(
        province.round, province.entries("360103", {"schools": 15.0}), acting_user=users["sibling"]
    )
    assert "55" in rollup_cell()
