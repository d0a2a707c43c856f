"""The public portal: published index, place pages, downloads, API — and nothing
unpublished, whatever URL or id is guessed."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from citycheck.assessment import services as assessment
from citycheck.assessment.models import Level
from citycheck.core.choices import Role

COUNTY = "360102"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def test_index_shows_the_published_ranking_without_login(client, published_release):
    response = client.get(reverse("portal:index"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "2024 年度城市健康指数" in text
    first = published_release.results.get(level=Level.INDEX, rank=1)
    assert first.place.name_zh in text and f"{first.score:.2f}" in text
    assert reverse("portal:place", args=[first.place.code]) in text


def test_index_is_cached_per_publication(client, province, published_release, method):
    client.get(reverse("portal:index"))
    # a cached page answers without touching the results
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("citycheck.portal.services.ranking", lambda *a: pytest.fail("not cached"))
        assert client.get(reverse("portal:index")).status_code == 200
    admin = province.users[Role.PROVINCE_ADMIN]
    newer = assessment.run_assessment(province.open_round, method, acting_user=admin)
    assessment.publish_release(newer, acting_user=admin)
    text = client.get(reverse("portal:index")).content.decode()
    assert f"数据版本 #{newer.pk}" in text and f"#{published_release.pk}<" not in text
    assert client.get("/api/portal/rankings/?level=county").json()["release"] == newer.pk


def test_the_cached_index_never_carries_another_visitors_name_or_token(
    client, province, published_release
):
    """Only the ranking is cached: the header (who is logged in) and the CSRF token of the
    page around it are the visitor's own."""
    from django.test import Client

    reviewer = province.users[Role.PROVINCE_REVIEWER]
    logged_in = Client(enforce_csrf_checks=True)
    logged_in.force_login(reviewer)
    first = logged_in.get(reverse("portal:index")).content.decode()
    assert reviewer.username in first or reviewer.get_full_name() in first

    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(reverse("portal:index"))
    text = page.content.decode()
    assert "2024 年度城市健康指数" in text
    assert reviewer.username not in text and "logout" not in text
    # the anonymous visitor's own token works for the language switch on this page
    token = page.cookies["csrftoken"].value
    switched = anonymous.post(
        reverse("set_language"),
        {"language": "en", "next": reverse("portal:index"), "csrfmiddlewaretoken": token},
    )
    assert switched.status_code == 302


def test_place_page_conclusions_downloads_and_method(client, published_release, media_root):
    response = client.get(reverse("portal:place", args=[COUNTY]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "东湖区城市健康指数为" in text
    download = reverse("portal:download", args=[published_release.pk, COUNTY, "html"])
    assert download in text
    report = client.get(download)
    assert report.status_code == 200
    assert "2024年度城市体检报告" in b"".join(report.streaming_content).decode()
    method = client.get(reverse("portal:method")).content.decode()
    assert "测试评价方法" in method and "人均公园绿地面积" in method


def test_api_gives_published_rankings_and_places(client, published_release):
    ranking = client.get("/api/portal/rankings/?year=2024&level=county").json()
    assert ranking["release"] == published_release.pk
    assert [r["rank"] for r in ranking["results"]] == [1, 2, 3, 4]
    place = client.get(f"/api/portal/places/{COUNTY}/").json()
    assert place["place"]["name"] == "东湖区" and place["results"][0]["level"] in (
        "dimension",
        "index",
    )


def test_nothing_unpublished_can_be_reached(client, draft_release, media_root):
    """Only a draft exists: every portal page and API answers 'nothing published' or 404."""
    pk = draft_release.pk
    index = client.get(reverse("portal:index")).content.decode()
    assert "尚无已发布的城市健康指数" in index and "东湖区" not in index
    for url in [
        reverse("portal:index") + "?year=2024",
        reverse("portal:place", args=[COUNTY]),
        reverse("portal:method"),
        *(reverse("portal:download", args=[pk, COUNTY, fmt]) for fmt in ("docx", "pdf", "html")),
        reverse("portal:download", args=[pk, "360000", "pdf"]),
        "/api/portal/rankings/",
        "/api/portal/rankings/?year=2024&level=county",
        f"/api/portal/places/{COUNTY}/",
        # the logged-in pages of reports refuse anonymous visitors too
        reverse("reports:report_download", args=[pk, COUNTY, "pdf"]),
        reverse("reports:dashboard_map", args=[pk, "360100"]),
        f"/api/assessment/results/?release={pk}",
    ]:
        response = client.get(url)
        assert response.status_code in (302, 404) or (
            response.status_code == 200 and response.json()["count"] == 0
        ), url


def test_logged_in_users_below_the_province_do_not_see_drafts(client, province, draft_release):
    client.force_login(province.users[Role.CITY_ADMIN])
    for name, args in [
        ("reports:report", [draft_release.pk, COUNTY]),
        ("reports:report_download", [draft_release.pk, COUNTY, "html"]),
        ("reports:dashboard_map", [draft_release.pk, "360100"]),
        ("reports:archive_download", [draft_release.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    page = client.get(reverse("reports:province_dashboard")).content.decode()
    assert "暂无可查看的评价结果" in page


def test_draft_report_page_is_a_preview_with_editable_readings_for_the_province(
    client, province, draft_release
):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    url = reverse("reports:report", args=[draft_release.pk, COUNTY])
    text = client.get(url).content.decode()
    assert "（草稿，未发布）" in text and 'data-testid="reading-edit"' in text
    response = client.post(
        reverse("reports:reading_edit", args=[draft_release.pk, COUNTY]),
        {"section": "overall", "text": "总体向好。"},
    )
    assert response.status_code == 302
    assert "总体向好。" in client.get(url).content.decode()


def test_place_page_shows_the_renewal_plan_as_the_report_does(client, province, published_release):
    import datetime as dt

    from citycheck.renewal import services as renewal
    from citycheck.renewal.models import ProjectStatus, RenewalProject

    county = province.places["county"]

    def project(year, name, status=ProjectStatus.ADOPTED):
        return RenewalProject.objects.create(
            place=county,
            year=year,
            name=name,
            project_type="drainage_works",
            budget=1000,
            start=dt.date(year, 1, 1),
            end=dt.date(year, 12, 31),
            status=status,
        )

    started = project(2024, "排水管网改造工程")
    renewal.report_progress(started, month=dt.date(2024, 6, 1), percent_complete=40)
    project(2024, "候选改造项目", status=ProjectStatus.CANDIDATE)
    project(2025, "下年度计划项目")
    renewal.report_progress(started, month=dt.date(2025, 3, 1), percent_complete=100)

    page = client.get(reverse("portal:place", args=[COUNTY]) + "?year=2024")
    text = page.content.decode()
    assert "排水管网改造工程" in text and "在建" in text and "40" in text
    assert "候选改造项目" not in text and "下年度计划项目" not in text
    assert [p.project.name for p in page.context["projects"]] == ["排水管网改造工程"]
