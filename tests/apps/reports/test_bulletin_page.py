"""Issue 10 item 7f: the quarterly bulletin (季度通报) has a page for province users, which
writes the same file as ``citycheck report --bulletin``."""

from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.urls import reverse

from citycheck.core.choices import Role

pytestmark = pytest.mark.django_db

NAME = "江西省2025年第2季度城市更新工作通报"


def ask(client, **query):
    return client.get(reverse("reports:bulletin"), query)


def test_province_user_downloads_the_bulletin_of_a_quarter(client, province, published_release):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    reports_page = client.get(reverse("reports:report_list")).content.decode()
    assert reverse("reports:bulletin") in reports_page
    form_page = ask(client).content.decode()
    assert 'data-testid="bulletin-form"' in form_page
    assert f"2024 年度评价结果 #{published_release.pk}（2025 年项目进展）" in form_page

    response = ask(client, release=published_release.pk, quarter=2, format="docx")
    assert response.status_code == 200
    assert quote(f"{NAME}.docx") in response["Content-Disposition"]
    assert b"".join(response.streaming_content)[:2] == b"PK"  # a Word file

    html = ask(client, release=published_release.pk, quarter=2, format="html")
    assert "2025年第2季度城市更新工作通报" in b"".join(html.streaming_content).decode()


def test_bad_choices_are_named_and_nothing_is_sent(client, province, published_release):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    response = ask(client, release=published_release.pk, quarter=5, format="pdf")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "季度" in page and "5" in page and 'class="error"' in page


def test_a_draft_release_is_not_offered(client, province, draft_release):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    page = ask(client).content.decode()
    assert "尚无已发布的评价结果" in page
    response = ask(client, release=draft_release.pk, quarter=1, format="pdf")
    assert response["Content-Type"].startswith("text/html")


def test_city_users_are_refused_in_a_sentence(client, province, published_release):
    client.force_login(province.users[Role.CITY_ADMIN])
    response = ask(client, release=published_release.pk, quarter=2, format="pdf")
    assert response.status_code == 403
    assert "季度通报只对省级用户开放" in response.content.decode()
    assert (
        'data-testid="bulletin-link"'
        not in client.get(reverse("reports:report_list")).content.decode()
    )


def test_the_command_writes_the_same_file(province, published_release, tmp_path):
    call_command(
        "report", "--round", "2024", "--bulletin", "2", "--format", "html", "--out", tmp_path
    )
    assert (tmp_path / f"{NAME}.html").exists()
