"""The outstanding cases library: a city writes a case with indicators read from the
platform, uploads checked by their bytes and size under names of ours, reviewers score,
a shortlist and a decision; only selected cases (and their files) are public, searchable
on the portal by place, type and year."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from citycheck.core.choices import Role
from citycheck.supervision import cases
from citycheck.supervision.models import CaseStatus

pytestmark = pytest.mark.django_db


def png() -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 60)).save(stream, format="PNG")
    return stream.getvalue()


@pytest.fixture
def case(small_province, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    city = small_province.users[Role.CITY_ADMIN]
    return cases.save_case(
        small_province.places["city"],
        year=2024,
        title="南昌市老旧小区改造",
        case_type="old_compounds",
        summary="改造 12 个小区（合成）。",
        indicators=["green_space"],
        acting_user=city,
    )


def test_indicators_come_from_the_platform(small_province, case):
    (row,) = case.indicators
    adopted = small_province.value(small_province.open_round, "city", source="adopted").value
    assert (row["before_year"], row["after_year"], row["after"]) == (2023, 2024, adopted)
    with pytest.raises(cases.CaseError, match="两个以上年度") as exc:
        cases.save_case(
            small_province.places["city"],
            year=2023,
            title="x",
            case_type="green",
            summary="x",
            indicators=["green_space"],
            acting_user=small_province.users[Role.CITY_ADMIN],
        )
    assert exc.value.field == "indicators"


def test_uploads_are_checked_by_bytes_and_size(small_province, case, settings):
    city = small_province.users[Role.CITY_ADMIN]
    with pytest.raises(cases.CaseError, match="类型不允许"):
        cases.attach_file(
            case, name="photo.png", content=b"MZ\x90\x00 not an image", acting_user=city
        )
    with pytest.raises(cases.CaseError, match="5 MB"):
        cases.attach_file(
            case, name="big.jpg", content=b"\xff\xd8" + b"0" * (5 * 2**20), acting_user=city
        )
    with pytest.raises(cases.CaseError, match="至少上传一张照片"):
        cases.submit_case(case, acting_user=city)
    photo = cases.attach_file(
        case, name="../../etc/改造前 照片.png", content=png(), acting_user=city
    )
    assert photo.file.name.startswith(f"supervision/cases/{case.pk}/") and photo.file.name.endswith(
        ".png"
    )
    assert ".." not in photo.original_name and "/" not in photo.original_name
    document = cases.attach_file(
        case, name="plan.pdf", content=b"%PDF-1.4\n%%EOF", acting_user=city
    )
    assert document.kind == "document"

    client = Client()
    url = reverse("supervision:case_file", args=[case.pk, photo.pk])
    assert client.get(url).status_code == 404  # not public while a draft
    other = Client()
    other.force_login(city)
    assert other.get(url).status_code == 200


def test_selection_publishes_to_the_portal(small_province, case):
    city = small_province.users[Role.CITY_ADMIN]
    reviewer = small_province.users[Role.PROVINCE_REVIEWER]
    cases.attach_file(case, name="a.png", content=png(), acting_user=city)
    with pytest.raises(PermissionDenied):  # a city does not review
        cases.review_case(case, score=90, acting_user=city)
    cases.submit_case(case, acting_user=city)
    with pytest.raises(cases.CaseError, match="0 到 100"):
        cases.review_case(case, score=120, acting_user=reviewer)
    cases.review_case(case, score="92", acting_user=reviewer)
    (listed,) = cases.shortlist(2024, count=3, acting_user=reviewer)
    assert listed.pk == case.pk
    with pytest.raises(cases.CaseError, match="评审意见"):
        cases.decide(listed, selected=True, note="", acting_user=reviewer)
    public = Client()
    assert public.get(reverse("portal:case", args=[case.pk])).status_code == 404
    cases.decide(listed, selected=True, note="成效显著", acting_user=reviewer)
    case.refresh_from_db()
    assert case.status == CaseStatus.SELECTED
    page = public.get(
        reverse("portal:cases"), {"place": "南昌", "type": "old_compounds", "year": "2024"}
    )
    assert "南昌市老旧小区改造" in page.content.decode()
    assert (
        "南昌市老旧小区改造"
        not in public.get(reverse("portal:cases"), {"type": "green"}).content.decode()
    )
    detail = public.get(reverse("portal:case", args=[case.pk])).content.decode()
    photo = case.files.get()
    assert reverse("supervision:case_file", args=[case.pk, photo.pk]) in detail
    assert public.get(reverse("supervision:case_file", args=[case.pk, photo.pk])).status_code == 200


def test_case_pages(client, small_province, case):
    client.force_login(small_province.users[Role.CITY_ADMIN])
    url = reverse("supervision:case", args=[case.pk])
    bad = SimpleUploadedFile("x.png", b"GIF89a not allowed", content_type="image/png")
    response = client.post(url, {"action": "file", "file": bad})
    assert response.status_code == 400 and "类型不允许" in response.content.decode()
    good = SimpleUploadedFile("y.png", png(), content_type="image/png")
    assert client.post(url, {"action": "file", "file": good}).status_code == 302
    assert client.post(url, {"action": "submit"}).status_code == 302
    response = client.post(
        reverse("supervision:case_new"),
        {
            "place": "360100",
            "year": 2024,
            "title": "t",
            "case_type": "green",
            "summary": "s",
            "indicators": "nope",
        },
    )
    assert response.status_code == 400 and "nope" in response.content.decode()
    client.force_login(small_province.users[Role.COUNTY_ADMIN])
    assert client.get(url).status_code == 404
