"""The read-only life-circle API: analyses in reach with parameters, digest and
acceptance, their area results filtered by level, facility type and band; the public sees
only accepted analyses of published rounds."""

from rest_framework.test import APIClient

from citycheck.collection.models import Round, RoundStatus
from citycheck.spatial import services


def rows(answer):
    assert answer.status_code == 200, answer.content
    data = answer.json()
    return data["results"] if isinstance(data, dict) and "results" in data else data


def test_analyses_and_results_follow_reach_and_publication(province, dataset, city_user):
    analysis = services.run_analysis(dataset, acting_user=city_user)
    client = APIClient()
    client.force_authenticate(city_user)

    (listed,) = rows(client.get("/api/spatial/analyses/"))
    assert listed["id"] == analysis.pk and listed["digest"] == analysis.digest
    assert listed["place"] == "360100" and listed["accepted"] is None
    assert listed["parameters"] == analysis.parameters and listed["format"] == "synthetic"
    detail = client.get(f"/api/spatial/analyses/{analysis.pk}/").json()
    assert detail["summary"] == analysis.summary
    assert rows(client.get("/api/spatial/analyses/", {"accepted": "true"})) == []

    county = rows(
        client.get(
            "/api/spatial/results/",
            {"analysis": analysis.pk, "level": "county", "facility_type": "kindergarten"},
        )
    )
    assert {r["area"] for r in county} == {"360102", "360103"}
    assert {r["level"] for r in county} == {"county"}
    at_1000 = rows(
        client.get(
            "/api/spatial/results/",
            {
                "analysis": analysis.pk,
                "level": "city",
                "band": 1000,
                "facility_type": "kindergarten",
            },
        )
    )
    (expected,) = analysis.results.filter(level="city", band=1000, facility_type="kindergarten")
    assert [(r["area"], r["share"], r["population"]) for r in at_1000] == [
        (expected.area, expected.share, expected.population)
    ]
    assert client.get("/api/spatial/results/", {"level": "planet"}).status_code == 400

    # The public: nothing before acceptance and publication.
    public = APIClient()
    assert rows(public.get("/api/spatial/analyses/")) == []
    assert rows(public.get("/api/spatial/results/")) == []
    assert public.get(f"/api/spatial/analyses/{analysis.pk}/").status_code == 404
    services.accept_analysis(analysis, acting_user=city_user)
    assert rows(public.get("/api/spatial/analyses/")) == []
    Round.objects.filter(pk=province.open_round.pk).update(status=RoundStatus.PUBLISHED)
    (public_row,) = rows(public.get("/api/spatial/analyses/", {"accepted": "true"}))
    assert public_row["accepted"] is not None
    assert len(rows(public.get("/api/spatial/results/", {"level": "county"}))) == len(
        analysis.results.filter(level="county")
    )
    # Reading only.
    assert client.post("/api/spatial/analyses/", {}).status_code == 405
