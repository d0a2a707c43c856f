"""The quarterly bulletin from the web: drafted as a job, ranked on progress, text
edited, issued with a number as Word and PDF, then immutable; a correction supersedes it."""

import pytest
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.core.jobs import start_job
from citycheck.supervision import bulletins
from citycheck.supervision.models import Bulletin, IssueStatus

pytestmark = pytest.mark.django_db


def test_draft_edit_issue_and_supersede(province, projects, published_release, media_root, admin):
    job = start_job(
        "supervision.bulletin", acting_user=admin, user_id=admin.pk, year=2025, quarter=2
    )
    assert job.status == "succeeded", job.error
    draft = Bulletin.objects.get(pk=job.result["bulletin"])
    assert [r["code"] for r in draft.ranking] == ["360100", "360400"]
    assert draft.ranking[1]["late"] + draft.ranking[1]["stalled"] >= 1
    assert draft.slow == ["360400"] and draft.praised == ["360100"]
    assert "九江市" in draft.text and "南昌市" in draft.text

    bulletins.edit_bulletin(draft, text="经审定的通报正文。", acting_user=admin)
    issued = bulletins.issue_bulletin(draft, acting_user=admin)
    assert issued.status == IssueStatus.ISSUED
    assert issued.number.startswith("赣城检督〔") and issued.number.endswith("1号")
    for fmt in ("docx", "pdf"):
        assert (media_root / issued.files[fmt]).stat().st_size > 1000
    with pytest.raises(bulletins.BulletinError, match="已印发"):
        bulletins.edit_bulletin(issued, text="改", acting_user=admin)
    with pytest.raises(bulletins.BulletinError):
        bulletins.issue_bulletin(issued, acting_user=admin)

    correction = bulletins.draft_bulletin(2025, 2, acting_user=admin, supersedes=issued)
    second = bulletins.issue_bulletin(correction, acting_user=admin)
    issued.refresh_from_db()
    assert issued.status == IssueStatus.SUPERSEDED
    assert second.number.endswith("2号")
    text = "".join(
        p.text for p in bulletins.document(second).sections[0].blocks if hasattr(p, "text")
    )
    assert f"本通报替代{issued.number}" in text


def test_no_published_release_is_refused_in_words(province, admin):
    with pytest.raises(bulletins.BulletinError, match="尚无已发布的评价结果"):
        bulletins.draft_bulletin(2025, 2, acting_user=admin)


def test_pages(client, province, projects, published_release, media_root, admin):
    client.force_login(province.users[Role.CITY_ADMIN])
    assert (
        client.post(reverse("supervision:bulletin_list"), {"year": 2025, "quarter": 2}).status_code
        == 403
    )
    client.force_login(admin)
    response = client.post(reverse("supervision:bulletin_list"), {"year": 2025, "quarter": 2})
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    url = reverse("supervision:bulletin", args=[bulletin.pk])
    assert client.post(url, {"action": "save", "text": ""}).status_code == 400
    client.post(url, {"action": "save", "text": "正文"})
    client.post(url, {"action": "issue"})
    bulletin.refresh_from_db()
    assert bulletin.status == "issued" and bulletin.text == "正文"
    download = client.get(reverse("supervision:bulletin_file", args=[bulletin.pk, "docx"]))
    assert download.status_code == 200
    client.force_login(province.users[Role.CITY_ADMIN])  # issued: cities read it
    assert bulletin.number in client.get(url).content.decode()
