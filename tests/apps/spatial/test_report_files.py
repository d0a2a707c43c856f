"""The life-circle section in the city report files (Word, HTML): the county table of the
accepted analysis with the figures of the report page, and the gap map as an image; a
sentence instead when no analysis of the place was accepted."""

import docx
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from citycheck.core.choices import Role
from citycheck.reports import services as reports
from citycheck.reports.content import city_report
from citycheck.spatial import services, synthetic
from citycheck.spatial.geodata import load_facility_types
from citycheck.spatial.models import Analysis
from citycheck.spatial.views import results_table
from citycheck.testing import docx_text
from tests.apps.assessment.conftest import method, province  # noqa: F401  (fixtures)
from tests.apps.reports.conftest import draft_release, published_release  # noqa: F401

TITLE = "15分钟生活圈"


def accepted_analysis(province):  # noqa: F811
    county = province.places["county"]  # the counties have results in the release
    user = province.users[Role.CITY_ADMIN]
    data = synthetic.nanchang(side=12, types=load_facility_types())
    data.homes["county"] = county.code
    dataset = services.save_dataset(
        province.open_round,
        county,
        data,
        name="合成南昌",
        format="synthetic",
        acting_user=None,
    )
    analysis = services.run_analysis(dataset, acting_user=None)
    # The round is closed in these fixtures: accepted as the page would have before.
    Analysis.objects.filter(pk=analysis.pk).update(accepted=timezone.now(), accepted_by=user)
    analysis.refresh_from_db()
    return analysis


def test_city_report_files_hold_the_life_circle_section(
    province,  # noqa: F811
    published_release,  # noqa: F811
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    analysis = accepted_analysis(province)
    county = province.places["county"]
    document = city_report(published_release, county)
    section = next(s for s in document.sections if s.title == TITLE)
    (figure,) = [b for b in section.blocks if getattr(b, "kind", "") == "gap_map"]
    (table,) = [b for b in section.blocks if hasattr(b, "rows")]

    # The same figures as the report page's table.
    rows = results_table(analysis)["rows"]
    assert len(table.rows) == len(rows) > 0
    first = rows[0]
    expected = [first["area_name"], str(first["label"]), f"{first['population']:.0f}"]
    expected += [
        "—" if s is None else f"{round(s * 100):d}%" for s in [*first["cells"], first["radius"]]
    ]
    assert table.rows[0] == expected
    assert {r[0] for r in table.rows} == {"东湖区"}
    assert figure.data["homes"] and figure.data["bands"] == [300, 500, 1000]

    docx_path, html_path = reports.render_report(
        published_release, county, ["docx", "html"], tmp_path
    )
    html = html_path.read_text()
    for text in (docx_text(docx_path), html):
        assert TITLE in text and "各县（市、区）15分钟生活圈设施覆盖率" in text
        assert "东湖区" in text and expected[-2] in text and expected[2] in text
        assert analysis.digest[:12] in text
    assert "步行可达缺口分布" in html and html.count("data:image/png;base64,") >= 3
    # The report page shows the interactive map and table instead, once.
    client = Client()
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    page = client.get(reverse("reports:report", args=[published_release.pk, county.code]))
    text = page.content.decode()
    assert "life-circle-report-map" in text and "各县（市、区）15分钟生活圈设施覆盖率" not in text
    word = docx.Document(str(docx_path))
    images = [r for r in word.part.rels.values() if "image" in r.reltype]
    assert len(images) >= 3  # radar, trend and the gap map at least


def test_without_an_accepted_analysis_the_section_says_so(
    province,  # noqa: F811
    published_release,  # noqa: F811
):
    county = province.places["county"]
    document = city_report(published_release, county)
    section = next(s for s in document.sections if s.title == TITLE)
    (paragraph,) = section.blocks
    assert "未采用" in paragraph.text
    assert not [b for b in section.blocks if getattr(b, "kind", "") == "gap_map"]
