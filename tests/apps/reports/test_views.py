"""Report pages and dashboards for logged-in users."""

import gzip
import json

from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.indicators.models import Dimension

COUNTY = "360102"


def page_data(response) -> dict:
    """The numbers the page hands to its charts (its ``dashboard-data`` JSON block)."""
    assert 'id="dashboard-data"' in response.content.decode()
    return response.context["data"]


def test_province_dashboard_ranks_maps_and_lights(client, province, published_release):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    data = page_data(client.get(reverse("reports:province_dashboard")))
    assert [r["code"] for r in data["ranking"]] == ["360102", "360103", "360402", "360403"]
    # the map is fetched, not inlined: compressed, cached and revalidated by its ETag
    assert "map" not in data
    top = client.get(data["map_url"].replace("CODE", data["map_top"]), HTTP_ACCEPT_ENCODING="gzip")
    assert top["Content-Encoding"] == "gzip" and top["ETag"]
    features = json.loads(gzip.decompress(top.content))["features"]
    assert {f["properties"]["code"] for f in features} == {"360100", "360400"}
    again = client.get(
        data["map_url"].replace("CODE", data["map_top"]), HTTP_IF_NONE_MATCH=top["ETag"]
    )
    assert again.status_code == 304
    assert data["matrix"]["dimensions"] == ["生态宜居", "安全韧性"]
    assert len(data["matrix"]["cells"]) == 4 * 2
    assert data["trend"]["years"] == [2024]
    # drill-down: the counties of 南昌市 with their index
    features = client.get(
        reverse("reports:dashboard_map", args=[published_release.pk, "360100"])
    ).json()["features"]
    values = {f["properties"]["code"]: f["properties"]["value"] for f in features}
    assert set(values) == {"360102", "360103"} and values["360102"] > values["360103"]


def test_city_dashboard_and_report_pages(client, province, published_release):
    client.force_login(province.users[Role.CITY_ADMIN])
    response = client.get(reverse("reports:city_dashboard", args=[COUNTY]))
    assert response.status_code == 200
    assert len(page_data(response)["radar"]["place"]) == 2
    listing = client.get(reverse("reports:report_list")).content.decode()
    assert reverse("reports:report", args=[published_release.pk, COUNTY]) in listing
    page = client.get(reverse("reports:report", args=[published_release.pk, COUNTY]))
    assert "一、城市概况" in page.content.decode() and 'data-testid="reading-edit"' not in (
        page.content.decode()
    )


def test_anonymous_visitors_are_sent_to_login(client, published_release):
    for name, args in [
        ("reports:report_list", []),
        ("reports:province_dashboard", []),
        ("reports:report", [published_release.pk, COUNTY]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_city_dashboard_scorecard_names_dimensions_and_writes_standards(
    client, province, published_release
):
    Dimension.objects.filter(code="livable").update(name_en="Ecology and liveability")
    client.force_login(province.users[Role.CITY_ADMIN])
    page = client.get(reverse("reports:city_dashboard", args=[COUNTY])).content.decode()
    scorecard = page[page.index('class="scorecard"') :]
    assert "<td>生态宜居</td><td>人均公园绿地面积</td>" in scorecard
    assert "<td>安全韧性</td>" in scorecard
    assert "<td>livable</td>" not in scorecard and "<td>safe</td>" not in scorecard
    assert "<td>≥ 12</td>" in scorecard and "<td>≤ 0</td>" in scorecard
    assert "&gt;=" not in scorecard and "&lt;=" not in scorecard
    client.cookies["django_language"] = "en"
    response = client.get(reverse("reports:city_dashboard", args=[COUNTY]))
    scorecard = response.content.decode()
    assert "<td>Ecology and liveability</td>" in scorecard
    assert response.context["data"]["radar"]["indicators"][0]["name"] == ("Ecology and liveability")
