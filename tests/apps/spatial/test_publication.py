"""The life-circle figures in the city report and, once the round is published, on the
portal; never before."""

from django.contrib.auth.models import AnonymousUser
from django.test import Client

from citycheck.collection.models import Round, RoundStatus
from citycheck.spatial import services
from citycheck.spatial.views import report_context


def test_report_section_and_portal_follow_publication(province, dataset, city_user):
    analysis = services.run_analysis(dataset, acting_user=city_user)
    city = province.places["city"]
    assert report_context(city_user, city, province.open_round) is None  # not accepted yet
    services.accept_analysis(analysis, acting_user=city_user)
    section = report_context(city_user, city, province.open_round)
    assert section["analysis"] == analysis
    assert {row["area"] for row in section["table"]["rows"]} == {"360102", "360103"}
    # The map shows the type worst covered at 1,000 m.
    worst = min(
        (r for r in analysis.results.filter(level="city", band=1000)), key=lambda r: r.share
    ).facility_type
    assert section["map"]["type"] == worst

    public = Client()
    assert report_context(AnonymousUser(), city, province.open_round) is None
    assert public.get(f"/portal/life-circle/{analysis.pk}/").status_code == 404
    assert "暂无已发布的生活圈分析" in public.get("/portal/life-circle/").content.decode()

    Round.objects.filter(pk=province.open_round.pk).update(status=RoundStatus.PUBLISHED)
    page = public.get(f"/portal/life-circle/{analysis.pk}/").content.decode()
    assert "life-circle-report-map" in page and "东湖区" in page and "合成数据" in page
    assert (
        f"/portal/life-circle/{analysis.pk}/" in public.get("/portal/life-circle/").content.decode()
    )
