"""Issue 10 item 7c: a returned submission's page opens with the reviewer's latest
comment, above the form, and names workflow steps in the reader's language."""

import pytest
from django.conf import settings
from django.urls import reverse

from citycheck.collection import services, workflow

pytestmark = pytest.mark.django_db

COUNTY = "360102"


def returned_twice(province, client):
    """东湖区 submits, 南昌市 returns it, it resubmits and is returned again."""
    users = province.users
    services.save_values(province.round, province.entries(COUNTY), acting_user=users["county"])
    submission = province.submission(COUNTY)
    client.force_login(users["city"])
    for comment in ("学校数量请核实", "绿地率请附测绘成果"):
        workflow.submit_submission(submission, acting_user=users["county"])
        client.post(
            reverse("collection:submission_step", args=[submission.pk, "return"]),
            {"comment": comment},
        )
    return submission


def test_filler_sees_the_latest_return_comment_first(province, client):
    submission = returned_twice(province, client)
    client.force_login(province.users["county"])
    page = client.get(reverse("collection:submission", args=[submission.pk])).content.decode()

    notice = page.find('data-testid="return-reason"')
    assert 0 < notice < page.find('data-testid="actions"') < page.find("指标填报")
    notice_html = page[notice : page.find("</div>", notice)]
    assert "绿地率请附测绘成果" in notice_html and "学校数量请核实" not in notice_html
    assert "退回了本数据" in notice_html
    thread = page[page.find('data-testid="comments"') :]
    assert "· 退回修改" in thread and "· returned" not in thread


def test_english_reader_sees_step_names_in_english(province, client):
    submission = returned_twice(province, client)
    client.force_login(province.users["county"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("collection:submission", args=[submission.pk])).content.decode()
    assert "returned this data on" in page
    assert "· Return for revision" in page and "· returned" not in page


def test_no_notice_once_resubmitted(province, client):
    submission = returned_twice(province, client)
    workflow.submit_submission(submission, acting_user=province.users["county"])
    client.force_login(province.users["county"])
    page = client.get(reverse("collection:submission", args=[submission.pk])).content.decode()
    assert 'data-testid="return-reason"' not in page
