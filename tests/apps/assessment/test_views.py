"""Pages and API of the evaluation step: who sees which release, and what the pages show."""

import pytest
from django.urls import reverse

from citycheck.assessment import services
from citycheck.assessment.methods import parse_method
from citycheck.assessment.models import Level, Release, ReleaseStatus
from citycheck.core.choices import Role
from citycheck.core.models import Job

from .conftest import METHOD


@pytest.fixture
def draft(province, method):
    return services.run_assessment(
        province.open_round, method, acting_user=province.users[Role.PROVINCE_ADMIN]
    )


@pytest.fixture
def published(province, method):
    release = services.run_assessment(
        province.open_round, method, acting_user=province.users[Role.PROVINCE_ADMIN]
    )
    return services.publish_release(release, acting_user=province.users[Role.PROVINCE_ADMIN])


def urls_of(release, code="360102"):
    return [
        reverse("assessment:release", args=[release.pk]),
        reverse("assessment:release_map", args=[release.pk]),
        reverse("assessment:release_place", args=[release.pk, code]),
        reverse("assessment:release_export", args=[release.pk]),
        reverse("assessment:release_diff") + f"?a={release.pk}&b={release.pk}",
        f"/api/assessment/releases/{release.pk}/",
        f"/api/assessment/results/?release={release.pk}",
    ]


@pytest.mark.parametrize(
    "role",
    [None, Role.PUBLIC, Role.CITY_ADMIN, Role.COUNTY_ADMIN, Role.PROVINCE_REVIEWER, Role.EVALUATOR],
)
def test_a_draft_is_hidden_from_all_but_the_publishers(client, province, draft, role):
    if role:
        client.force_login(province.users[role])
    for url in urls_of(draft):
        response = client.get(url)
        if url.startswith("/api/assessment/results/"):
            assert response.json()["count"] == 0, url
        else:
            assert response.status_code == 404, url
    listing = client.get(reverse("assessment:release_list"))
    assert f"#{draft.pk}" not in listing.content.decode()
    assert client.get("/api/assessment/releases/").json()["count"] == 0


def test_the_province_sees_and_publishes_a_draft(client, province, draft):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    page = client.get(reverse("assessment:release", args=[draft.pk])).content.decode()
    assert "发布" in page and "东湖区" in page
    response = client.post(reverse("assessment:release_publish", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ReleaseStatus.PUBLISHED


def test_a_city_cannot_publish(client, province, draft):
    client.force_login(province.users[Role.CITY_ADMIN])
    assert client.post(reverse("assessment:release_publish", args=[draft.pk])).status_code == 404
    assert client.post(f"/api/assessment/releases/{draft.pk}/publish/").status_code == 404
    draft.refresh_from_db()
    assert draft.status == ReleaseStatus.DRAFT


def test_everybody_sees_a_published_release(client, province, published):
    for url in urls_of(published):
        response = client.get(url)
        assert response.status_code == 200, url
    ranking = client.get(reverse("assessment:release", args=[published.pk])).content.decode()
    assert "1–1" in ranking or "1–2" in ranking  # the rank interval of the best county
    map_url = reverse("assessment:release_map", args=[published.pk])
    assert map_url in ranking  # the map is fetched, not inlined
    assert client.get(map_url).json()["type"] == "FeatureCollection"
    results = client.get(f"/api/assessment/results/?release={published.pk}&level=index")
    ranks = {r["place"]: r["rank"] for r in results.json()["results"]}
    assert ranks == {"360102": 1, "360103": 2, "360402": 3, "360403": 4}


def test_the_place_page_has_radar_scorecard_peers_and_obstacles(client, province, published):
    response = client.get(reverse("assessment:release_place", args=[published.pk, "360402"]))
    page = response.content.decode()
    radar = response.context["radar"]
    assert [d["name"] for d in radar["indicators"]] == ["生态宜居", "安全韧性"]
    assert len(radar["place"]) == len(radar["peers"]) == 2
    assert 'id="radar-data"' in page and "warning-dot red" in page  # green_space 9 < 12 − 2
    assert "主要障碍指标" in page and "同类地区比较" in page
    assert response.context["trend"]["years"] == [2024]


def test_diff_page_and_api_explain_a_change(client, province, method, published):
    arithmetic = parse_method(METHOD.replace("index: geometric", "index: arithmetic"))
    other = services.run_assessment(
        province.open_round, arithmetic, acting_user=province.users[Role.PROVINCE_ADMIN]
    )
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    page = client.get(reverse("assessment:release_diff") + f"?a={published.pk}&b={other.pk}")
    assert "steps.aggregate.index" in page.content.decode()
    api = client.get(f"/api/assessment/releases/{published.pk}/diff/?other={other.pk}").json()
    assert api["method"] == [
        {"field": "steps.aggregate.index", "before": "geometric", "after": "arithmetic"}
    ]


def test_the_run_form_offers_the_method_files_and_refuses_others(client, province):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    listing = client.get(reverse("assessment:release_list")).content.decode()
    assert "<option>jiangxi-index-v1.yaml</option>" in listing
    # the province's current method is the one chosen unless the user picks another
    assert "<option selected>jiangxi-index-v2.yaml</option>" in listing
    response = client.post(
        reverse("assessment:release_run"), {"round": province.open_round.pk, "method": "nope.yaml"}
    )
    assert response.status_code == 302 and Job.objects.count() == 0


def test_job_pages_poll_until_done(client, province, method):
    from citycheck.core.jobs import start_job

    user = province.users[Role.PROVINCE_ADMIN]
    job = start_job(
        "assessment.run", acting_user=user, round_id=province.open_round.pk, method_text=method.text
    )
    client.force_login(user)
    page = client.get(reverse("job", args=[job.pk])).content.decode()
    assert "100%" in page and "hx-get" not in page  # done: no more polling
    release = Release.objects.get(pk=job.result["release"])
    assert reverse("assessment:release", args=[release.pk]) in page
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, progress=40)
    partial = client.get(reverse("job_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in partial and 'value="40"' in partial
    assert client.get(f"/api/assessment/jobs/{job.pk}/").json()["progress"] == 40
    client.force_login(province.users[Role.CITY_ADMIN])
    assert client.get(reverse("job", args=[job.pk])).status_code == 404
    assert client.get(f"/api/assessment/jobs/{job.pk}/").status_code == 404


def test_run_through_the_api(client, province):
    client.force_login(province.users[Role.CITY_ADMIN])
    payload = {"round": province.open_round.pk, "method": "jiangxi-index-v1.yaml"}
    assert client.post("/api/assessment/releases/run/", payload).status_code == 404
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    response = client.post("/api/assessment/releases/run/", {**payload, "method": "x.yaml"})
    assert response.status_code == 400 and "method" in response.json()
    # the shipped method names indicators the small province lacks: refused before any job
    response = client.post("/api/assessment/releases/run/", payload)
    assert response.status_code == 400 and "jiangxi-index-v1.yaml" in response.json()["method"]
    assert Job.objects.count() == 0


def test_export_lists_every_place_and_level(client, province, published):
    response = client.get(reverse("assessment:release_export", args=[published.pk]))
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("place_code,place_name,level,code")
    assert len(lines) == 1 + published.results.count()
    assert published.results.filter(level=Level.INDEX).count() == 4
