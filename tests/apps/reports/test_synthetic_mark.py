"""Issue 10 item 9: a report of a synthetic round says 演示数据（合成） on its cover and in the
header of its pages (Word, PDF, HTML); a report of real data does not."""

import io

import docx
import pytest
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.reports import render, services

pytestmark = pytest.mark.django_db

COUNTY = "360102"
LABEL = "演示数据（合成）"


def synthetic(release, value: bool):
    release.round.is_synthetic = value
    release.round.save(update_fields=["is_synthetic"])


def download(client, province, release, fmt):
    client.force_login(province.users[Role.CITY_ADMIN])
    response = client.get(reverse("reports:report_download", args=[release.pk, COUNTY, fmt]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_word_report_of_a_synthetic_round_is_marked_on_cover_and_header(
    client, province, published_release, media_root
):
    synthetic(published_release, True)
    word = docx.Document(io.BytesIO(download(client, province, published_release, "docx")))
    cover = [p.text for p in word.paragraphs[:20]]
    assert LABEL in cover
    assert "由演示数据生成器产生，不是真实统计数据。" in cover
    assert all(
        LABEL in "".join(p.text for p in section.header.paragraphs) for section in word.sections
    )


def test_html_and_pdf_of_a_synthetic_round_are_marked(
    client, province, published_release, media_root
):
    synthetic(published_release, True)
    page = download(client, province, published_release, "html").decode()
    cover = page[page.find('class="title-page"') : page.find("</section>")]
    assert LABEL in cover
    # the PDF is this page printed: the label runs in the top margin of every page
    assert f'@top-center {{ content: "{LABEL}"' in page
    document = services.build_for_file(published_release, province.places["county"])
    assert f'@top-center {{ content: "{LABEL}"' in render.render_html(document, pdf=True)


def test_a_report_of_real_data_is_not_marked(client, province, published_release, media_root):
    synthetic(published_release, False)
    word = docx.Document(io.BytesIO(download(client, province, published_release, "docx")))
    assert LABEL not in "\n".join(p.text for p in word.paragraphs)
    assert LABEL not in "".join(p.text for p in word.sections[0].header.paragraphs)
    assert LABEL not in download(client, province, published_release, "html").decode()
